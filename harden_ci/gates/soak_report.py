"""Judge a soak from k6's `--summary-export` JSON against the plan's budgets.

The verdict is k6's own threshold evaluation (the `thresholds` map of each metric in the
summary export, where `true` means *crossed*), cross-checked three ways so that nothing
passes by accident: a budget whose metric is missing from the summary fails, an observed
value above its limit fails even if k6 said otherwise, and k6's exit code must agree (99
means a threshold was crossed; any other non-zero code means the run itself failed).
A journey that sent no request at all fails. A budget the spec sets itself must be measured
by at least one journey: an `llm_tool_p95_ms` budget with no request tagged `kind:llm_tool`
anywhere fails (it was never checked); a budget left at its default that no journey uses
(say, no LLM tool calls at all) is reported as "no data" and does not fail. The summary
file must be a regular file whose statistics are finite numbers (exit 2 otherwise: a value
that cannot be compared must not pass a budget).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harden_ci.errors import SpecError
from harden_ci.gates import bounded_input
from harden_ci.gates.soak_budgets import KINDS, TREND_STATS, Check, SoakPlan, format_number
from harden_ci.model.types import format_seconds

K6_EXIT_THRESHOLDS = 99


@dataclass(frozen=True)
class CheckResult:
    check: Check
    observed: float | None  # None: no data
    count: int
    crossed: bool | None  # k6's verdict on this threshold; None when the summary lacks it
    status: str  # ok | broken | no data | missing

    @property
    def failed(self) -> bool:
        if self.status in ("broken", "missing"):
            return True
        # A cold-start budget with no cold request measured was never verified.
        return self.status == "no data" and self.check.budget == "cold_start_ms"

    @property
    def headroom(self) -> float | None:
        """(limit - observed) / limit; negative when the budget broke."""
        if self.observed is None or self.check.limit == 0:
            return None
        return (self.check.limit - self.observed) / self.check.limit


@dataclass(frozen=True)
class Observation:
    journey: str
    kind: str  # api, llm_tool, or cold
    requests: int
    p50_ms: float | None
    p95_ms: float | None
    error_rate: float | None


@dataclass(frozen=True)
class ExtraThreshold:
    """A threshold a journey script set itself: it counts toward the verdict too."""

    metric: str
    expression: str
    crossed: bool


@dataclass(frozen=True)
class SoakReport:
    plan: SoakPlan
    results: tuple[CheckResult, ...]
    observations: tuple[Observation, ...]
    extra: tuple[ExtraThreshold, ...]
    reasons: tuple[str, ...]
    k6_exit_code: int | None

    @property
    def passed(self) -> bool:
        return not self.reasons


NUMERIC_KEYS = frozenset({*TREND_STATS, "value", "rate", "passes", "fails", "count", "thresholds"})


def load_summary(path: Path) -> dict[str, Any]:
    """The `metrics` map of a k6 `--summary-export` file; SpecError (exit 2) when the file is
    not a regular file, too large or too deep, or a statistic is not a finite number."""
    text = bounded_input.read_text(path, "k6 summary")
    try:
        data = bounded_input.loads(text, max_depth=8)
    except ValueError as exc:
        raise SpecError(f"cannot read the k6 summary: {exc}", field=str(path),
                        hint="k6 writes it with `k6 run --summary-export FILE`") from None
    metrics = data.get("metrics") if isinstance(data, dict) else None
    if not isinstance(metrics, dict):
        raise SpecError("not a k6 --summary-export file (no `metrics` object)", field=str(path))
    for name, entry in metrics.items():
        if not isinstance(entry, dict):
            raise SpecError(f"metric {name!r} of the k6 summary is not an object", field=str(path))
        for key, value in entry.items():
            if key == "thresholds":
                if not (isinstance(value, dict) and all(isinstance(v, bool) for v in value.values())):
                    raise SpecError(f"metric {name!r}: `thresholds` must map expressions to "
                                    "true/false", field=str(path))
            elif key in NUMERIC_KEYS and _number(value) is None:
                raise SpecError(f"metric {name!r}: `{key}` is {json.dumps(value)[:40]}, not a finite "
                                "number; a value that cannot be compared must not pass a budget",
                                field=str(path))
    return metrics


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return None
    return float(value)


def _count(entry: dict[str, Any]) -> int:
    if "passes" in entry or "fails" in entry:  # a rate: passes are the true (failed) samples
        return int(_number(entry.get("passes")) or 0) + int(_number(entry.get("fails")) or 0)
    return int(_number(entry.get("count")) or 0)


def _judge(check: Check, metrics: dict[str, Any]) -> CheckResult:
    entry = metrics.get(check.metric)
    if not isinstance(entry, dict):
        return CheckResult(check, None, 0, None, "missing")
    thresholds = entry.get("thresholds")
    crossed = thresholds.get(check.threshold) if isinstance(thresholds, dict) else None
    crossed = crossed if isinstance(crossed, bool) else None
    count = _count(entry)
    observed = _number(entry.get("value" if check.stat == "rate" else check.stat))
    if count == 0 or observed is None:
        return CheckResult(check, None, count, crossed, "broken" if crossed else "no data")
    if crossed is None:
        return CheckResult(check, observed, count, None, "missing")
    broken = crossed or observed > check.limit
    return CheckResult(check, observed, count, crossed, "broken" if broken else "ok")


def _observe(plan: SoakPlan, metrics: dict[str, Any]) -> list[Observation]:
    def entry(name: str) -> dict[str, Any]:
        found = metrics.get(name)
        return found if isinstance(found, dict) else {}

    rows = []
    for journey in plan.journeys:
        j = journey.name
        for kind in KINDS:
            latency = entry(f"http_req_duration{{journey:{j},kind:{kind},phase:steady}}")
            failed = entry(f"http_req_failed{{journey:{j},kind:{kind}}}")
            has_latency = _count(latency) > 0
            rows.append(Observation(
                j, kind, _count(failed),
                _number(latency.get("med")) if has_latency else None,
                _number(latency.get("p(95)")) if has_latency else None,
                _number(failed.get("value")) if _count(failed) else None))
        if plan.cold_iterations:
            cold = entry(f"http_req_duration{{journey:{j},phase:cold}}")
            has = _count(cold) > 0
            rows.append(Observation(j, "cold", _count(cold),
                                    _number(cold.get("med")) if has else None,
                                    _number(cold.get("p(95)")) if has else None, None))
    return rows


def _extra_thresholds(plan: SoakPlan, metrics: dict[str, Any]) -> list[ExtraThreshold]:
    ours = {(c.metric, c.threshold) for c in plan.checks}
    extra = []
    for metric, entry in metrics.items():
        thresholds = entry.get("thresholds") if isinstance(entry, dict) else None
        if not isinstance(thresholds, dict):
            continue
        for expression, crossed in thresholds.items():
            if (metric, expression) not in ours:
                extra.append(ExtraThreshold(metric, str(expression), crossed is not False))
    return extra


def judge(plan: SoakPlan, metrics: dict[str, Any] | None, k6_exit_code: int | None) -> SoakReport:
    """The report for a run; `metrics` None when k6 wrote no summary."""
    reasons: list[str] = []
    if k6_exit_code == -1:
        reasons.append("k6 did not finish in time and was stopped")
    elif k6_exit_code not in (None, 0, K6_EXIT_THRESHOLDS):
        reasons.append(f"k6 failed with exit code {k6_exit_code} (a script error, an abort or bad "
                       "options; see its output above)")
    if metrics is None:
        reasons.append("k6 wrote no summary, so no budget could be checked")
        return SoakReport(plan, (), (), (), tuple(reasons), k6_exit_code)
    results = [_judge(check, metrics) for check in plan.checks]
    observations = _observe(plan, metrics)
    extra = _extra_thresholds(plan, metrics)
    for journey in plan.journeys:
        if sum(o.requests for o in observations if o.journey == journey.name and o.kind in KINDS) == 0:
            reasons.append(f"{journey.name}: the journey sent no request (no data)")
    for r in results:
        c = r.check
        what = f"{c.journey}: {c.budget} ({c.kind})"
        if r.status == "broken":
            seen = _show(r.observed, c.unit) if r.observed is not None else "no value"
            reasons.append(f"{what} broke: {seen} > {_show(c.limit, c.unit)}")
        elif r.status == "missing":
            reasons.append(f"{what}: threshold `{c.threshold}` on `{c.metric}` is missing from the "
                           "k6 summary (was k6 run on the generated wrapper?)")
        elif r.failed:
            reasons.append(f"{what}: no request was measured in the cold phase (no data)")
    for budget, kind in plan.measured():
        same = [r for r in results if r.check.budget == budget and r.check.kind == kind]
        if same and all(r.status == "no data" for r in same):
            reasons.append(f"{budget} ({kind}): the spec sets this budget but no journey sent a "
                           f"request tagged kind:{kind}, so it was never measured (tag those "
                           f"calls with tags: {{kind: '{kind}'}})")
    reasons.extend(f"script threshold `{x.expression}` on `{x.metric}` was crossed"
                   for x in extra if x.crossed)
    if k6_exit_code == K6_EXIT_THRESHOLDS and not reasons:
        reasons.append("k6 exited 99 (thresholds crossed) but its summary shows none crossed")
    return SoakReport(plan, tuple(results), tuple(observations), tuple(extra), tuple(reasons),
                      k6_exit_code)


def _show(value: float | None, unit: str) -> str:
    if value is None:
        return "—"
    if unit == "rate":
        return f"{value * 100:.2f}%"
    if float(value).is_integer() or value >= 100:
        return f"{value:.0f} ms"
    return f"{value:.1f} ms"


def _headroom(result: CheckResult) -> str:
    room = result.headroom
    return "—" if room is None else f"{room * 100:+.0f}%"


_MARK = {"ok": "✅ ok", "broken": "❌ broken", "missing": "❌ missing", "no data": "— no data"}


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def to_markdown(report: SoakReport) -> str:
    plan = report.plan
    verdict = "PASS" if report.passed else "FAIL"
    lines = [f"### Soak: {verdict}",
             "",
             f"{len(plan.journeys)} journey(s) for {format_seconds(plan.duration_s)}: "
             f"{plan.load_line()}."]
    if report.observations:
        lines += ["", "| journey | kind | requests | p50 | p95 | error rate |",
                  "|---|---|---:|---:|---:|---:|"]
        lines += [f"| {o.journey} | {o.kind} | {o.requests} | {_show(o.p50_ms, 'ms')} | "
                  f"{_show(o.p95_ms, 'ms')} | {_show(o.error_rate, 'rate')} |"
                  for o in report.observations]
    if report.results:
        lines += ["", "| journey | budget | kind | limit | observed | headroom | result |",
                  "|---|---|---|---:|---:|---:|---|"]
        for r in report.results:
            c = r.check
            mark = "❌ no data" if r.failed and r.status == "no data" else _MARK[r.status]
            lines.append(f"| {c.journey} | `{c.budget}` | {c.kind} | {_show(c.limit, c.unit)} | "
                         f"{_show(r.observed, c.unit)} | {_headroom(r)} | {mark} |")
    if report.extra:
        lines += ["", "| script threshold | metric | result |", "|---|---|---|"]
        lines += [f"| `{_cell(x.expression)}` | `{_cell(x.metric)}` | "
                  f"{'❌ crossed' if x.crossed else '✅ ok'} |" for x in report.extra]
    if report.reasons:
        lines += ["", "Failed because:"] + [f"- {_cell(reason)}" for reason in report.reasons]
    return "\n".join(lines) + "\n"


def to_json(report: SoakReport) -> str:
    def number(value: float | None) -> float | None:
        return None if value is None else round(value, 6)

    data = {
        "verdict": "pass" if report.passed else "fail",
        "reasons": list(report.reasons),
        "k6_exit_code": report.k6_exit_code,
        "duration_s": report.plan.duration_s,
        "vus": report.plan.vus,
        "cold_iterations": report.plan.cold_iterations,
        "cold_after_idle_s": report.plan.cold_after_idle_s,
        "journeys": [{"name": j.name, "script": j.script, "scenario": j.scenario}
                     for j in report.plan.journeys],
        "checks": [{
            "journey": r.check.journey, "budget": r.check.budget, "kind": r.check.kind,
            "metric": r.check.metric, "threshold": r.check.threshold,
            "limit": r.check.limit, "unit": r.check.unit, "observed": number(r.observed),
            "requests": r.count, "headroom": number(r.headroom), "status": r.status,
            "failed": r.failed, "k6_crossed": r.crossed,
        } for r in report.results],
        "observations": [{
            "journey": o.journey, "kind": o.kind, "requests": o.requests,
            "p50_ms": number(o.p50_ms), "p95_ms": number(o.p95_ms),
            "error_rate": number(o.error_rate),
        } for o in report.observations],
        "script_thresholds": [{"metric": x.metric, "threshold": x.expression, "crossed": x.crossed}
                              for x in report.extra],
    }
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def limits_line(plan: SoakPlan) -> str:
    """One line naming the budgets in force, for logs."""
    b = plan.budgets
    parts = [f"api_p95_ms={b.api_p95_ms}", f"llm_tool_p95_ms={b.llm_tool_p95_ms}",
             f"error_rate={format_number(b.error_rate)}"]
    if b.p50_ms is not None:
        parts.append(f"p50_ms={b.p50_ms}")
    if b.cold_start_ms is not None:
        parts.append(f"cold_start_ms={b.cold_start_ms}")
    return ", ".join(parts)
