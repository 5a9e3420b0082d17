"""Canary analysis of one window: query Prometheus, judge each measure, give a verdict.

For the canary track, over one window `w` ending at the round's time:

    requests:          sum(increase(http_requests_total{track="canary"}[w]))
    error rate:        (sum(rate(http_requests_total{track="canary",status=~"5.."}[w])) or vector(0))
                       / sum(rate(http_requests_total{track="canary"}[w]))
    p95 latency (ms):  histogram_quantile(0.95, sum by (le)
                           (rate(http_request_duration_seconds_bucket{track="canary"}[w])))
                       (x 1000 in Python when the histogram is in seconds), checked against
                       the share of requests beyond the highest finite bucket
    cost per request:  sum(rate(COST{track="canary"}[w])) / sum(rate(http_requests_total{…}[w]))

The baseline (the previous version) is read the same way, with `@ BASELINE_AT` after each
range when the rollout's start is known: its own behaviour in the window before the rollout
began, which still exists at the 100% step, when the baseline track serves nothing. The
nightly re-analysis (`live`) reads the live version's series and has no baseline.

The verdict of a window (fail safe):
- fewer than `min_requests` canary requests, or no answer: inconclusive;
- a value Prometheus cannot mean (NaN, negative, -Inf; +Inf but for a p95 above every
  bucket): failed, as is a breach of a limit (error rate, p95, cost against the previous
  version or the absolute `cost_per_request`);
- cost with neither a recorded baseline nor an absolute budget: inconclusive;
- else passed. The bake's rules over many windows are in canary_bake.py.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Literal

from harden_ci.errors import SpecError
from harden_ci.gates.canary_prometheus import Prometheus, PrometheusError
from harden_ci.model.delivery import LABEL_PATTERN, MATCHERS, METRIC_PATTERN, RollbackRules

Status = Literal["ok", "breached", "invalid", "inconclusive", "skipped"]
Verdict = Literal["passed", "failed", "inconclusive"]

_METRIC = re.compile(METRIC_PATTERN)
_LABEL = re.compile(LABEL_PATTERN)
_WINDOW = re.compile(r"^([0-9]+(ms|s|m|h|d|w|y))+$")
EPSILON = 1e-9
"""Float slack: a cost of exactly +10% (0.0022 / 0.002 - 1 = 0.10000000000000009) is not a breach."""
TOP_BUCKET_SHARE = 0.05


def promql_string(value: str) -> str:
    """A PromQL double-quoted string literal."""
    escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'


@dataclass(frozen=True)
class Selectors:
    """Which series are the canary and the baseline (the spec's `delivery.canary.metrics`)."""

    requests_metric: str = "http_requests_total"
    duration_metric: str = "http_request_duration_seconds"  # a histogram; `_bucket` is added
    duration_unit: str = "seconds"  # or "milliseconds": the unit of its `le` bounds
    status_label: str = "status"
    error_status: str = "5.."  # a regex on status_label
    track_label: str = "track"
    canary_track: str = "canary"
    baseline_track: str = "baseline"
    selector: str = ""  # more matchers for both tracks, e.g. `service="api",namespace="prod"`
    window: str = "1m"
    cost_metric: str | None = None
    baseline_at: int | None = None  # epoch seconds: read the baseline in the window ending then
    live: bool = False  # the nightly re-analysis: the live version alone, no baseline
    live_track: str | None = None  # its track value; None: every series `selector` matches

    def validate(self) -> None:
        for option, name in (("--requests-metric", self.requests_metric),
                             ("--duration-metric", self.duration_metric),
                             ("--cost-metric", self.cost_metric or "x")):
            if not _METRIC.match(name):
                raise SpecError(f"`{name}` is not a Prometheus metric name", field=option,
                                hint="letters, digits, `_` and `:`, not starting with a digit")
        for option, name in (("--status-label", self.status_label), ("--track-label", self.track_label)):
            if not _LABEL.match(name):
                raise SpecError(f"`{name}` is not a Prometheus label name", field=option)
        if self.duration_unit not in ("seconds", "milliseconds"):
            raise SpecError(f"`{self.duration_unit}` is not a histogram unit", field="--duration-unit",
                            hint="seconds or milliseconds")
        if not _WINDOW.match(self.window):
            raise SpecError(f"`{self.window}` is not a PromQL duration", field="--window",
                            hint="write it like `1m` or `5m`")
        if self.selector and not MATCHERS.match(self.selector):
            raise SpecError(f"`{self.selector}` is not a list of label matchers", field="--selector",
                            hint='write it like service="api",namespace=~"prod-.*"')
        for option, value in (("--canary-track", self.canary_track),
                              ("--baseline-track", self.baseline_track),
                              ("--live-track", "x" if self.live_track is None else self.live_track)):
            if not value:
                raise SpecError("a track value may not be empty", field=option)

    @property
    def scale(self) -> float:
        """Histogram bounds to milliseconds."""
        return 1000.0 if self.duration_unit == "seconds" else 1.0

    def _matchers(self, track: str | None, *more: str) -> str:
        parts = [f"{self.track_label}={promql_string(track)}"] if track is not None else []
        parts += more
        if self.selector.strip():
            parts.append(self.selector.strip().rstrip(","))
        return "{" + ",".join(parts) + "}"

    def track(self, role: str) -> str | None:
        """The track value of `canary` (the live version when `live`) or `baseline`."""
        if role == "canary":
            return self.live_track if self.live else self.canary_track
        return self.baseline_track

    def _range(self, role: str, metric: str, *more: str) -> str:
        at = f" @ {self.baseline_at}" if role == "baseline" and self.baseline_at is not None else ""
        return f"{metric}{self._matchers(self.track(role), *more)}[{self.window}]{at}"

    def queries(self, role: str) -> dict[str, str]:
        """The PromQL of each measure for `canary` or `baseline`."""
        requests = self._range(role, self.requests_metric)
        errors = self._range(role, self.requests_metric,
                             f"{self.status_label}=~{promql_string(self.error_status)}")
        result = {
            "requests": f"sum(increase({requests}))",
            "error_rate": f"(sum(rate({errors})) or vector(0)) / sum(rate({requests}))",
            "p95_ms": f"histogram_quantile(0.95, sum by (le) "
                      f"(rate({self._range(role, self.duration_metric + '_bucket')})))",
        }
        if self.cost_metric:
            result["cost_regression"] = (f"sum(rate({self._range(role, self.cost_metric)})) "
                                         f"/ sum(rate({requests}))")
        return result

    def beyond_top_bucket(self, role: str) -> str:
        """The share of requests slower than the histogram's highest finite bucket.

        histogram_quantile answers that bucket's bound when the quantile lies beyond it,
        so a canary far slower than every bucket would read as fast as the top bound;
        buckets are cumulative, so the largest finite one counts everything within it."""
        bucket = self.duration_metric + "_bucket"
        return (f"1 - max(sum by (le) (rate({self._range(role, bucket, 'le!=' + promql_string('+Inf'))}))) "
                f"/ sum(rate({self._range(role, bucket, 'le=' + promql_string('+Inf'))}))")


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
class Window:
    """The verdict of one analysis window."""

    verdict: Verdict
    requests: float | None  # the canary's requests in the window
    measures: tuple[Measure, ...]
    reasons: tuple[str, ...]
    at: float | None  # when the window ended (epoch seconds; None: Prometheus's now)


class _Reader:
    """Queries at one instant; a failed query is None plus its message."""

    def __init__(self, prom: Prometheus, at: float | None) -> None:
        self.prom, self.at = prom, at
        self.errors: dict[str, str] = {}

    def __call__(self, promql: str) -> float | None:
        try:
            return self.prom.query(promql, self.at)
        except PrometheusError as exc:
            self.errors[promql] = str(exc)
            return None


def unusable(value: float) -> bool:
    """NaN, negative or -Inf: nothing a rate, a ratio or a latency can honestly be."""
    return math.isnan(value) or value < 0


def _limit(name: str, read: _Reader, sel: Selectors, rules: RollbackRules) -> Measure:
    limit = rules.error_rate if name == "error_rate" else float(rules.p95_ms)
    scale = 1.0 if name == "error_rate" else sel.scale
    c_q, b_q = sel.queries("canary")[name], sel.queries("baseline")[name]
    queries = {"canary": c_q} if sel.live else {"canary": c_q, "baseline": b_q}
    raw, baseline = read(c_q), None if sel.live else read(b_q)
    baseline = None if baseline is None or unusable(baseline) else baseline * scale
    if raw is None:
        why = read.errors.get(c_q, f"no {name} series in the window")
        return Measure(name, None, baseline, None, limit, "inconclusive", why, queries)
    canary = raw * scale
    if unusable(canary) or (name == "error_rate" and math.isinf(canary)):
        return Measure(name, canary, baseline, canary, limit, "invalid",
                       f"Prometheus answered {raw!r}, which no {name} can be", queries)
    note = "above the highest histogram bucket" if math.isinf(canary) else ""
    if name == "p95_ms" and not math.isinf(canary):
        guard = sel.beyond_top_bucket("canary")
        queries["canary beyond the top bucket"] = guard
        share = read(guard)  # no answer: the quantile stands as Prometheus gave it
        if share is not None and not unusable(share) and share > TOP_BUCKET_SHARE + EPSILON:
            note = (f"{pct(share)} of requests are slower than the highest histogram bucket "
                    f"({ms(canary)}), so the p95 is above it")
            canary = math.inf
    status: Status = "breached" if canary > limit + EPSILON else "ok"
    return Measure(name, canary, baseline, canary, limit, status, note, queries)


def _cost(read: _Reader, sel: Selectors, rules: RollbackRules) -> Measure:
    limit = rules.cost_regression
    if not sel.cost_metric:
        return Measure("cost_regression", None, None, None, limit, "skipped", "no cost metric configured")
    c_q, b_q = sel.queries("canary")["cost_regression"], sel.queries("baseline")["cost_regression"]
    queries = {"canary": c_q}
    canary = read(c_q)
    if canary is None:
        why = read.errors.get(c_q, "no cost series in the window")
        return Measure("cost_regression", None, None, None, limit, "inconclusive", why, queries)
    if unusable(canary) or math.isinf(canary):
        return Measure("cost_regression", canary, None, canary, limit, "invalid",
                       f"Prometheus answered {canary!r}, which no cost per request can be", queries)
    budget = rules.cost_per_request
    if budget is not None and canary > budget + EPSILON:
        return Measure("cost_regression", canary, None, canary, budget, "breached",
                       f"over the budget of {canary_cost(budget)} per request", queries)
    baseline = None
    if not sel.live:
        queries["baseline"] = b_q
        queries["baseline requests"] = sel.queries("baseline")["requests"]
        count = read(queries["baseline requests"])
        recorded = count is not None and not unusable(count) and count >= rules.min_requests
        baseline = read(b_q) if recorded else None
        baseline = None if baseline is None or unusable(baseline) or math.isinf(baseline) else baseline
    if baseline is None:
        if budget is None and sel.live:
            return Measure("cost_regression", canary, None, None, limit, "skipped",
                           "the live version has no baseline and no `cost_per_request` budget is set",
                           queries)
        if budget is not None:
            return Measure("cost_regression", canary, None, canary, budget, "ok",
                           "judged against the absolute budget (no recorded baseline)", queries)
        why = (f"the baseline has fewer than {rules.min_requests} requests recorded in its "
               "window and no `cost_per_request` budget is set")
        return Measure("cost_regression", canary, None, None, limit, "inconclusive", why, queries)
    regression = (0.0 if canary == 0 else math.inf) if baseline == 0 else canary / baseline - 1
    status: Status = "breached" if regression > limit + EPSILON else "ok"
    note = "baseline costs nothing" if baseline == 0 and canary else ""
    return Measure("cost_regression", canary, baseline, regression, limit, status, note, queries)


def describe(m: Measure) -> str:
    """One line for a failed or inconclusive measure."""
    if m.status in ("inconclusive", "invalid"):
        return f"{m.status} {m.name}: {m.note}"
    if m.name == "error_rate":
        return f"canary error rate {pct(m.value)} > {pct(m.limit)} (error_rate)"
    if m.name == "p95_ms":
        return f"canary p95 {ms(m.value)} > {ms(m.limit)} (p95_ms)"
    if m.value == m.canary and m.baseline is None:
        return f"canary cost per request {canary_cost(m.value)} > {canary_cost(m.limit)} (cost_per_request)"
    return f"canary cost per request {signed_pct(m.value)} vs baseline > +{pct(m.limit)} (cost_regression)"


def pct(value: float | None) -> str:
    return "—" if value is None else ("∞" if math.isinf(value) else f"{value * 100:.2f}%")


def signed_pct(value: float | None) -> str:
    return "—" if value is None else ("+∞" if math.isinf(value) else f"{value * 100:+.1f}%")


def ms(value: float | None) -> str:
    if value is None:
        return "—"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    return f"{value:.0f} ms"


def canary_cost(value: float | None) -> str:
    return "—" if value is None else f"{value:.6g}"


def analyze_window(prom: Prometheus, sel: Selectors, rules: RollbackRules,
                   at: float | None = None) -> Window:
    """One window, ending at `at` (None: Prometheus's now)."""
    read = _Reader(prom, at)
    count_q = sel.queries("canary")["requests"]
    count = read(count_q)
    if count is not None and (count < 0 or math.isinf(count)):
        return Window("failed", count, (), (f"invalid requests: Prometheus answered {count!r}",), at)
    if count is None or math.isnan(count) or count < rules.min_requests:
        seen = read.errors.get(count_q) or (
            "no requests" if count is None or math.isnan(count) else f"{count:.0f} requests")
        why = f"inconclusive: {seen} in the {sel.window} window, fewer than min_requests {rules.min_requests}"
        return Window("inconclusive", count, (), (why,), at)
    measures = (_limit("error_rate", read, sel, rules), _limit("p95_ms", read, sel, rules),
                _cost(read, sel, rules))
    failed = [m for m in measures if m.status in ("breached", "invalid")]
    unsure = [m for m in measures if m.status == "inconclusive"]
    reasons = tuple(describe(m) for m in failed + unsure)
    verdict: Verdict = "failed" if failed else "inconclusive" if unsure else "passed"
    return Window(verdict, count, measures, reasons, at)
