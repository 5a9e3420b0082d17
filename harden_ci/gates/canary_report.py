"""The canary analysis as Markdown (stdout, job summary) and JSON (`--report FILE`)."""

from __future__ import annotations

import datetime
import json
import math
from typing import Any

from harden_ci.gates.canary_analysis import (
    Measure,
    Window,
    canary_cost,
    ms,
    pct,
    promql_string,
    signed_pct,
)
from harden_ci.gates.canary_bake import Analysis

_LABELS = {"error_rate": "error rate", "p95_ms": "p95 latency", "cost_regression": "cost per request"}
_MARK = {"ok": "✅ ok", "breached": "❌ breached", "invalid": "❌ invalid", "inconclusive": "❔ inconclusive",
         "skipped": "— skipped"}
_VERDICT = {"passed": "✅ passed", "failed": "❌ failed", "inconclusive": "❔ inconclusive"}


def headline(analysis: Analysis) -> str:
    what = "live version" if analysis.selectors.live else "canary"
    step = f"{what} step {analysis.step}%" if analysis.step is not None else what
    if analysis.decision == "promote":
        return f"{step}: PROMOTE" if not analysis.selectors.live else f"{step}: HEALTHY"
    return f"{step}: ROLLBACK" + (" (inconclusive: failing safe)" if analysis.inconclusive else "")


def _cells(m: Measure) -> tuple[str, str, str]:
    if m.name == "error_rate":
        return pct(m.canary), pct(m.baseline), f"≤ {pct(m.limit)}"
    if m.name == "p95_ms":
        return ms(m.canary), ms(m.baseline), f"≤ {ms(m.limit)}"
    if m.baseline is None and m.value is not None and m.value == m.canary:
        return canary_cost(m.canary), "—", f"≤ {canary_cost(m.limit)} per request"
    change = f" ({signed_pct(m.value)})" if m.value is not None else ""
    return canary_cost(m.canary) + change, canary_cost(m.baseline), f"≤ +{pct(m.limit)} vs baseline"


def _code(text: str) -> str:
    return "`" + text.replace("`", "'") + "`"


def _when(at: float | None) -> str:
    if at is None:
        return "now"
    return datetime.datetime.fromtimestamp(at, datetime.UTC).strftime("%H:%M:%S")


def _last_measured(analysis: Analysis) -> Window | None:
    return next((w for w in reversed(analysis.windows) if w.measures), None)


def to_markdown(analysis: Analysis) -> str:
    sel = analysis.selectors
    icon = "✅" if analysis.decision == "promote" else "❌"
    title = headline(analysis)
    if sel.live:
        tracks = (f"the live version {_code(sel.track_label + '=' + promql_string(sel.live_track))}"
                  if sel.live_track is not None else "every series of the live version")
    else:
        recorded = f" (recorded before the rollout, @ {sel.baseline_at})" if sel.baseline_at else ""
        tracks = (f"canary {_code(sel.track_label + '=' + promql_string(sel.canary_track))} vs baseline "
                  f"{_code(sel.track_label + '=' + promql_string(sel.baseline_track))}{recorded}")
    lines = [f"### {icon} {title[0].upper()}{title[1:]}", "",
             f"Prometheus {analysis.prometheus}; {len(analysis.windows)} of {analysis.planned} "
             f"window(s) of {sel.window} analysed; {tracks}.", ""]
    last = _last_measured(analysis)
    if last is not None:
        lines += ["| measure (last measured window) | canary | baseline | limit | result |",
                  "|---|---:|---:|---|---|"]
        for m in last.measures:
            canary, baseline, limit = _cells(m)
            note = f" ({m.note})" if m.note and m.status not in ("inconclusive", "invalid") else ""
            lines.append(f"| {_LABELS[m.name]} | {canary} | {baseline} | {limit} | {_MARK[m.status]}{note} |")
        lines.append("")
    lines += ["| window ending | requests | verdict | why |", "|---|---:|---|---|"]
    for w in analysis.windows:
        count = "—" if w.requests is None or math.isnan(w.requests) else f"{w.requests:.0f}"
        why = "; ".join(w.reasons).replace("|", "/")
        lines.append(f"| {_when(w.at)} | {count} | {_VERDICT[w.verdict]} | {why} |")
    if analysis.reasons:
        lines += ["", "Rolled back because:"] + [f"- {r.replace('|', '/')}" for r in analysis.reasons]
    if last is not None:
        lines += ["", "<details><summary>PromQL</summary>", ""]
        for m in last.measures:
            for track, promql in m.queries.items():
                lines.append(f"- {_LABELS[m.name]}, {track}: {_code(promql)}")
        lines += ["", "</details>"]
    return "\n".join(lines) + "\n"


def _number(value: float | None) -> float | str | None:
    if value is None:
        return None
    if math.isnan(value):
        return "NaN"
    return ("Infinity" if value > 0 else "-Infinity") if math.isinf(value) else round(value, 9)


def _measure(m: Measure) -> dict[str, Any]:
    return {"name": m.name, "status": m.status, "canary": _number(m.canary),
            "baseline": _number(m.baseline), "value": _number(m.value), "limit": m.limit,
            "note": m.note, "queries": m.queries}


def to_json(analysis: Analysis) -> str:
    sel = analysis.selectors
    data: dict[str, Any] = {
        "decision": analysis.decision,
        "inconclusive": analysis.inconclusive,
        "reasons": list(analysis.reasons),
        "step": analysis.step,
        "live": sel.live,
        "planned_windows": analysis.planned,
        "prometheus": analysis.prometheus,
        "window": sel.window,
        "baseline_at": sel.baseline_at,
        "rules": analysis.rules.model_dump(mode="json"),
        "windows": [{"at": w.at, "verdict": w.verdict, "requests": _number(w.requests),
                     "reasons": list(w.reasons), "measures": [_measure(m) for m in w.measures]}
                    for w in analysis.windows],
    }
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"
