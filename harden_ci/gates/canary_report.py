"""The canary analysis as Markdown (stdout, job summary) and JSON (`--report FILE`)."""

from __future__ import annotations

import json
import math
from typing import Any

from harden_ci.gates.canary_analysis import Analysis, Measure, ms, pct, promql_string, signed_pct

_LABELS = {"error_rate": "error rate", "p95_ms": "p95 latency", "cost_regression": "cost per request"}
_MARK = {"ok": "✅ ok", "breached": "❌ breached", "no data": "❌ no data", "skipped": "— skipped"}


def headline(analysis: Analysis) -> str:
    step = f"canary step {analysis.step}%" if analysis.step is not None else "canary"
    if analysis.decision == "promote":
        return f"{step}: PROMOTE"
    return f"{step}: ROLLBACK" + (" (no data: failing safe)" if analysis.no_data else "")


def _cost(value: float | None) -> str:
    return "—" if value is None else f"{value:.6g}"


def _cells(m: Measure) -> tuple[str, str, str]:
    if m.name == "error_rate":
        return pct(m.canary), pct(m.baseline), f"≤ {pct(m.limit)}"
    if m.name == "p95_ms":
        return ms(m.canary), ms(m.baseline), f"≤ {ms(m.limit)}"
    change = f" ({signed_pct(m.value)})" if m.value is not None else ""
    return _cost(m.canary) + change, _cost(m.baseline), f"≤ +{pct(m.limit)} vs baseline"


def _code(text: str) -> str:
    return "`" + text.replace("`", "'") + "`"



def to_markdown(analysis: Analysis) -> str:
    sel = analysis.selectors
    icon = "✅" if analysis.decision == "promote" else "❌"
    rounds = f", {analysis.rounds} round(s) over the bake" if analysis.rounds > 1 else ""
    title = headline(analysis)
    lines = [f"### {icon} {title[0].upper()}{title[1:]}", "",
             f"Prometheus {analysis.prometheus}, window {sel.window}{rounds}; canary "
             f"{_code(sel.track_label + '=' + promql_string(sel.canary_track))} vs baseline "
             f"{_code(sel.track_label + '=' + promql_string(sel.baseline_track))}.", "",
             "| measure | canary | baseline | limit | result |", "|---|---:|---:|---|---|"]
    for m in analysis.measures:
        canary, baseline, limit = _cells(m)
        note = f" ({m.note})" if m.note and m.status != "no data" else ""
        lines.append(f"| {_LABELS[m.name]} | {canary} | {baseline} | {limit} | {_MARK[m.status]}{note} |")
    if analysis.reasons:
        lines += ["", "Rolled back because:"] + [f"- {r.replace('|', '/')}" for r in analysis.reasons]
    lines += ["", "<details><summary>PromQL</summary>", ""]
    for m in analysis.measures:
        for track, promql in m.queries.items():
            lines.append(f"- {_LABELS[m.name]}, {track}: {_code(promql)}")
    lines += ["", "</details>"]
    return "\n".join(lines) + "\n"


def _number(value: float | None) -> float | str | None:
    if value is None:
        return None
    return ("Infinity" if value > 0 else "-Infinity") if math.isinf(value) else round(value, 9)


def to_json(analysis: Analysis) -> str:
    sel = analysis.selectors
    data: dict[str, Any] = {
        "decision": analysis.decision,
        "no_data": analysis.no_data,
        "reasons": list(analysis.reasons),
        "step": analysis.step,
        "rounds": analysis.rounds,
        "prometheus": analysis.prometheus,
        "window": sel.window,
        "rules": analysis.rules.model_dump(mode="json"),
        "measures": [{
            "name": m.name, "status": m.status, "canary": _number(m.canary),
            "baseline": _number(m.baseline), "value": _number(m.value), "limit": m.limit,
            "note": m.note, "queries": m.queries,
        } for m in analysis.measures],
    }
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"
