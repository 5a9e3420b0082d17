"""Canary analysis: query Prometheus for canary and baseline, decide promote or roll back.

Three measures, each queried for the canary track and the baseline track over `window`:

    error rate:        (sum(rate(http_requests_total{track="T",status=~"5.."}[5m])) or vector(0))
                       / sum(rate(http_requests_total{track="T"}[5m]))
    p95 latency (ms):  histogram_quantile(0.95, sum by (le)
                           (rate(http_request_duration_seconds_bucket{track="T"}[5m]))) * 1000
                       checked for the canary against the share of requests beyond the
                       highest finite bucket (over 5%: the p95 is above every bucket)
    cost per request:  sum(rate(COST{track="T"}[5m])) / sum(rate(http_requests_total{track="T"}[5m]))

(`T` is `canary` or `baseline`; every name is an option, and `--selector` adds matchers.
The * 1000 is done in Python: the query returns seconds.)

`or vector(0)` keeps a canary that never failed (so its 5xx series does not exist) from
reading as "no data"; a canary with no requests at all still divides by nothing and is no
data. COST is the spec's `cost_metric`, a counter of money (or tokens x price) spent.

The rules (`delivery.canary.rollback_on`) are absolute for the canary's error rate and p95
(baseline shown for context) and relative for cost: `canary/baseline - 1 > cost_regression`.
Any breach rolls back; otherwise any missing number rolls back too, as "no data" (fail
safe); otherwise promote.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

from harden_ci.errors import SpecError
from harden_ci.gates.canary_prometheus import Prometheus, PrometheusError
from harden_ci.model.delivery import RollbackRules

Status = Literal["ok", "breached", "no data", "skipped"]
Decision = Literal["promote", "rollback"]

_METRIC = re.compile(r"^[A-Za-z_:][A-Za-z0-9_:]*$")
_LABEL = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_WINDOW = re.compile(r"^([0-9]+(ms|s|m|h|d|w|y))+$")
_STRING = r'"(?:[^"\\\n]|\\.)*"'
_MATCHERS = re.compile(rf"^\s*{_LABEL.pattern[1:-1]}\s*(=~|!~|!=|=)\s*{_STRING}\s*"
                       rf"(,\s*{_LABEL.pattern[1:-1]}\s*(=~|!~|!=|=)\s*{_STRING}\s*)*,?\s*$")
MAX_ROUNDS = 10_000
EPSILON = 1e-9
"""Float slack: a cost of exactly +10% (0.0022 / 0.002 - 1 = 0.10000000000000009) is not a breach."""


def promql_string(value: str) -> str:
    """A PromQL double-quoted string literal."""
    escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'


@dataclass(frozen=True)
class Selectors:
    """Which series are the canary and the baseline; every name is an option of the CLI."""

    requests_metric: str = "http_requests_total"
    duration_metric: str = "http_request_duration_seconds"  # a histogram; `_bucket` is added
    status_label: str = "status"
    error_status: str = "5.."  # a regex on status_label
    track_label: str = "track"
    canary_track: str = "canary"
    baseline_track: str = "baseline"
    selector: str = ""  # more matchers for both tracks, e.g. `service="api",namespace="prod"`
    window: str = "5m"
    cost_metric: str | None = None

    def validate(self) -> None:
        for option, name in (("--requests-metric", self.requests_metric),
                             ("--duration-metric", self.duration_metric),
                             ("--cost-metric", self.cost_metric or "x")):
            if not _METRIC.match(name):
                raise SpecError(f"`{name}` is not a Prometheus metric name", field=option,
                                hint="letters, digits, `_` and `:`, not starting with a digit")
        for option, name in (("--status-label", self.status_label), ("--track-label", self.track_label)):
            if not _LABEL.match(name) or name.startswith("__"):
                raise SpecError(f"`{name}` is not a Prometheus label name", field=option)
        if not _WINDOW.match(self.window):
            raise SpecError(f"`{self.window}` is not a PromQL duration", field="--window",
                            hint="write it like `5m` or `1h`")
        if self.selector and not _MATCHERS.match(self.selector):
            raise SpecError(f"`{self.selector}` is not a list of label matchers", field="--selector",
                            hint='write it like service="api",namespace=~"prod-.*"')
        for option, value in (("--canary-track", self.canary_track),
                              ("--baseline-track", self.baseline_track)):
            if not value:
                raise SpecError("a track value may not be empty", field=option)

    def _matchers(self, track: str, *more: str) -> str:
        parts = [f"{self.track_label}={promql_string(track)}", *more]
        if self.selector.strip():
            parts.append(self.selector.strip().rstrip(","))
        return "{" + ",".join(parts) + "}"

    def queries(self, track: str) -> dict[str, str]:
        """The PromQL of each measure for one track."""
        every = self._matchers(track)
        errors = self._matchers(track, f"{self.status_label}=~{promql_string(self.error_status)}")
        requests, w = self.requests_metric, self.window
        result = {
            "error_rate": f"(sum(rate({requests}{errors}[{w}])) or vector(0)) "
                          f"/ sum(rate({requests}{every}[{w}]))",
            "p95_ms": f"histogram_quantile(0.95, sum by (le) "
                      f"(rate({self.duration_metric}_bucket{every}[{w}])))",
        }
        if self.cost_metric:
            result["cost_regression"] = (f"sum(rate({self.cost_metric}{every}[{w}])) "
                                         f"/ sum(rate({requests}{every}[{w}]))")
        return result

    def beyond_top_bucket(self, track: str) -> str:
        """The share of requests slower than the histogram's highest finite bucket.

        histogram_quantile answers that bucket's bound when the quantile lies beyond it,
        so a canary far slower than every bucket would read as fast as the top bound;
        buckets are cumulative, so the largest finite one counts everything within it."""
        finite = self._matchers(track, 'le!="+Inf"')
        total = self._matchers(track, 'le="+Inf"')
        d, w = self.duration_metric, self.window
        return (f"1 - max(sum by (le) (rate({d}_bucket{finite}[{w}]))) "
                f"/ sum(rate({d}_bucket{total}[{w}]))")


@dataclass(frozen=True)
class Measure:
    name: str  # error_rate | p95_ms | cost_regression: the rollback_on field it is held to
    canary: float | None  # error rate (0..1), p95 in ms, or cost per request
    baseline: float | None
    value: float | None  # what the rule judged: the canary's value, or the cost regression
    limit: float
    status: Status
    note: str
    queries: dict[str, str] = field(default_factory=dict)  # track → PromQL


@dataclass(frozen=True)
class Analysis:
    decision: Decision
    no_data: bool
    measures: tuple[Measure, ...]
    reasons: tuple[str, ...]
    step: int | None
    prometheus: str
    selectors: Selectors
    rules: RollbackRules
    rounds: int = 1


def _fetch(prom: Prometheus, promql: str) -> tuple[float | None, str]:
    try:
        return prom.query(promql), ""
    except PrometheusError as exc:
        return None, str(exc)


def _why(track: str, error: str, window: str) -> str:
    return f"{track}: {error}" if error else f"{track}: no data in the last {window}"


def _limit_measure(name: str, prom: Prometheus, sel: Selectors, limit: float, scale: float) -> Measure:
    c_q, b_q = sel.queries(sel.canary_track)[name], sel.queries(sel.baseline_track)[name]
    canary, c_err = _fetch(prom, c_q)
    baseline, _ = _fetch(prom, b_q)
    canary = None if canary is None else canary * scale
    baseline = None if baseline is None else baseline * scale
    queries = {"canary": c_q, "baseline": b_q}
    if canary is None:
        why = _why("canary", c_err, sel.window)
        return Measure(name, None, baseline, None, limit, "no data", why, queries)
    note = "above the highest histogram bucket" if math.isinf(canary) else ""
    if name == "p95_ms" and not math.isinf(canary):
        guard = sel.beyond_top_bucket(sel.canary_track)
        queries["canary beyond the top bucket"] = guard
        share, _ = _fetch(prom, guard)  # no answer: the quantile stands as Prometheus gave it
        if share is not None and share > 0.05 + EPSILON:
            note = (f"{pct(share)} of requests are slower than the highest histogram bucket "
                    f"({ms(canary)}), so the p95 is above it")
            canary = math.inf
    status: Status = "breached" if canary > limit + EPSILON else "ok"
    return Measure(name, canary, baseline, canary, limit, status, note, queries)


def _cost_measure(prom: Prometheus, sel: Selectors, limit: float) -> Measure:
    if not sel.cost_metric:
        return Measure("cost_regression", None, None, None, limit, "skipped", "no cost metric configured")
    c_q = sel.queries(sel.canary_track)["cost_regression"]
    b_q = sel.queries(sel.baseline_track)["cost_regression"]
    canary, c_err = _fetch(prom, c_q)
    baseline, b_err = _fetch(prom, b_q)
    queries = {"canary": c_q, "baseline": b_q}
    if canary is None or baseline is None:
        notes = [_why("canary", c_err, sel.window)] if canary is None else []
        notes += [_why("baseline", b_err, sel.window)] if baseline is None else []
        return Measure("cost_regression", canary, baseline, None, limit, "no data", "; ".join(notes), queries)
    regression = (0.0 if canary == 0 else math.inf) if baseline == 0 else canary / baseline - 1
    status: Status = "breached" if regression > limit + EPSILON else "ok"
    note = "baseline costs nothing" if baseline == 0 and canary else ""
    return Measure("cost_regression", canary, baseline, regression, limit, status, note, queries)


def describe(m: Measure) -> str:
    """One line for a breached or missing measure."""
    if m.status == "no data":
        return f"no data for {m.name}: {m.note}"
    if m.name == "error_rate":
        return f"canary error rate {pct(m.value)} > {pct(m.limit)} (error_rate)"
    if m.name == "p95_ms":
        return f"canary p95 {ms(m.value)} > {ms(m.limit)} (p95_ms)"
    return f"canary cost per request {signed_pct(m.value)} vs baseline > +{pct(m.limit)} (cost_regression)"


def pct(value: float | None) -> str:
    return "—" if value is None else ("∞" if math.isinf(value) else f"{value * 100:.2f}%")


def signed_pct(value: float | None) -> str:
    return "—" if value is None else ("+∞" if math.isinf(value) else f"{value * 100:+.1f}%")


def ms(value: float | None) -> str:
    return "—" if value is None else ("+Inf" if math.isinf(value) else f"{value:.0f} ms")


def analyze(prom: Prometheus, sel: Selectors, rules: RollbackRules, step: int | None = None) -> Analysis:
    """One analysis: query, judge, decide."""
    measures = (
        _limit_measure("error_rate", prom, sel, rules.error_rate, 1.0),
        _limit_measure("p95_ms", prom, sel, float(rules.p95_ms), 1000.0),
        _cost_measure(prom, sel, rules.cost_regression),
    )
    breached = [m for m in measures if m.status == "breached"]
    missing = [m for m in measures if m.status == "no data"]
    reasons = tuple(describe(m) for m in breached + missing)
    if breached:
        return Analysis("rollback", False, measures, reasons, step, prom.base_url, sel, rules)
    if missing:
        return Analysis("rollback", True, measures, reasons, step, prom.base_url, sel, rules)
    return Analysis("promote", False, measures, (), step, prom.base_url, sel, rules)


def analyze_over_bake(prom: Prometheus, sel: Selectors, rules: RollbackRules, step: int | None,
                      bake_s: int, interval_s: int,
                      sleep: Callable[[float], None] | None = None,
                      on_round: Callable[[int, Analysis], None] | None = None) -> Analysis:
    """Analyse every `interval_s` through the bake; a breach rolls back at once, and the last
    round decides. `bake_s` 0 is one analysis now."""
    if bake_s <= 0:
        return analyze(prom, sel, rules, step)
    if interval_s <= 0:
        raise SpecError("the interval must be at least 1s", field="--interval")
    rounds = max(1, bake_s // interval_s)
    if rounds > MAX_ROUNDS:
        raise SpecError(f"{rounds} analysis rounds is too many (at most {MAX_ROUNDS})",
                        field="--interval", hint="use a longer interval")
    pause = sleep or prom.sleep
    result: Analysis | None = None
    for n in range(1, rounds + 1):
        pause(float(interval_s))
        result = analyze(prom, sel, rules, step)
        if on_round is not None:
            on_round(n, result)
        if result.decision == "rollback" and not result.no_data:
            break  # a breach needs no more evidence
    assert result is not None
    return Analysis(result.decision, result.no_data, result.measures, result.reasons, step,
                    result.prometheus, sel, rules, rounds=n)
