"""`harden-ci gate canary-analyze` and `flag-set`, against a fake Prometheus.

A fake Prometheus on 127.0.0.1 answers `/api/v1/query` from canned values keyed by the exact
PromQL and records every query and its `time`: the measures of one window, the values no
measure can have, missing answers, the bake's rules over many windows, and the CLI. The real
Prometheus (tests/test_canary_real_prometheus.py) covers the scenarios end to end.
"""

from __future__ import annotations

import http.server
import json
import os
import threading
import urllib.parse
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from helpers import QuietJSONHandler, gate_invoke, gate_process, serving

from harden_ci.errors import SpecError
from harden_ci.gates.canary_analysis import Measure, Selectors, Window, analyze_window
from harden_ci.gates.canary_bake import analyze_over_bake, judge
from harden_ci.gates.canary_flagd import set_fraction
from harden_ci.gates.canary_prometheus import Prometheus
from harden_ci.model.delivery import RollbackRules

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "gates" / "canary"
RULES = RollbackRules(error_rate=0.01, p95_ms=300, cost_regression=0.10)


def _track(track: str) -> dict[str, str]:
    every = f'http_requests_total{{track="{track}"}}[1m]'
    return {
        "requests": f"sum(increase({every}))",
        "error_rate": f'(sum(rate(http_requests_total{{track="{track}",status=~"5.."}}[1m])) or vector(0)) '
                      f"/ sum(rate({every}))",
        "p95_ms": f"histogram_quantile(0.95, sum by (le) "
                  f'(rate(http_request_duration_seconds_bucket{{track="{track}"}}[1m])))',
        "cost_regression": f'sum(rate(llm_cost_usd_total{{track="{track}"}}[1m])) / sum(rate({every}))',
    }


# The default PromQL, written out: what a reviewer reads in the job summary.
PROMQL: dict[str, dict[str, str]] = {
    measure: {track: _track(track)[measure] for track in ("canary", "baseline")}
    for measure in ("requests", "error_rate", "p95_ms", "cost_regression")}
# Sent after the p95 pair: the share of canary requests beyond the highest finite bucket.
P95_GUARD = ('1 - max(sum by (le) (rate(http_request_duration_seconds_bucket'
             '{track="canary",le!="+Inf"}[1m]))) '
             '/ sum(rate(http_request_duration_seconds_bucket{track="canary",le="+Inf"}[1m]))')
SENT_ORDER = [PROMQL["requests"]["canary"],
              *(PROMQL[m][t] for m in ("error_rate", "p95_ms") for t in ("canary", "baseline")),
              P95_GUARD, PROMQL["cost_regression"]["canary"], PROMQL["requests"]["baseline"],
              PROMQL["cost_regression"]["baseline"]]


def healthy() -> dict[str, Any]:
    """PromQL → answer (a number as Prometheus spells it, None for an empty vector)."""
    canned = json.loads((FIXTURES / "healthy.json").read_text("utf-8"))
    return {PROMQL[m][t]: canned[m][t] for m in PROMQL for t in ("canary", "baseline")}


# --- a fake Prometheus -------------------------------------------------------------------------

class _Handler(QuietJSONHandler):
    server: _FakeProm

    def do_GET(self) -> None:
        url = urllib.parse.urlsplit(self.path)
        params = urllib.parse.parse_qs(url.query)
        query = params.get("query", [""])[0]
        with self.server.lock:
            self.server.received.append(query)
            self.server.times.append(params.get("time", [None])[0])
            self.server.auth.append(self.headers.get("Authorization"))
            failures = self.server.fail_first
            self.server.fail_first = max(0, failures - 1)
        if url.path != "/api/v1/query":
            self.send_json(404, {"status": "error", "errorType": "not_found", "error": "no such path"})
        elif failures:
            self.send_json(503, {"status": "error", "errorType": "unavailable", "error": "warming up"})
        elif query not in self.server.answers:
            self.send_json(200, {"status": "success", "data": {"resultType": "vector", "result": []}})
        else:
            answer = self.server.answers[query]
            if isinstance(answer, dict):  # an error answer
                self.send_json(answer["http"],
                           {"status": "error", "errorType": "bad_data", "error": answer["error"]})
                return
            result = [] if answer is None else [{"metric": {}, "value": [1700000000.0, answer]}]
            self.send_json(200, {"status": "success", "data": {"resultType": "vector", "result": result}})



class _FakeProm(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.answers: dict[str, Any] = healthy()
        self.received: list[str] = []
        self.times: list[str | None] = []
        self.auth: list[str | None] = []
        self.fail_first = 0
        self.lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


@pytest.fixture
def prom() -> Iterator[_FakeProm]:
    server = _FakeProm()
    with serving(server, poll_interval=0.05):
        yield server


def _client(server: _FakeProm, **kwargs: Any) -> Prometheus:
    return Prometheus(server.url, timeout_s=5, attempts=1, pause_s=0, **kwargs)


COST = Selectors(cost_metric="llm_cost_usd_total")


def _measure(window: Window, name: str) -> Measure:
    return next(m for m in window.measures if m.name == name)


# --- one window -------------------------------------------------------------------------------

def test_a_healthy_canary_passes_with_the_exact_promql(prom: _FakeProm) -> None:
    client = _client(prom)
    window = analyze_window(client, COST, RULES)
    assert window.verdict == "passed" and window.reasons == () and window.requests == 600
    assert client.sent == SENT_ORDER
    assert prom.received == SENT_ORDER and set(prom.times) == {None}
    values = {m.name: (m.canary, m.baseline, m.status) for m in window.measures}
    assert values["error_rate"] == (0.002, 0.001, "ok")
    assert values["p95_ms"] == (120.0, 110.0, "ok")
    assert _measure(window, "cost_regression").value == pytest.approx(0.05)


@pytest.mark.parametrize("measure, value, words", [
    ("error_rate", "0.05", "canary error rate 5.00% > 1.00% (error_rate)"),
    ("p95_ms", "0.45", "canary p95 450 ms > 300 ms (p95_ms)"),
    ("p95_ms", "+Inf", "canary p95 +Inf > 300 ms (p95_ms)"),
    ("cost_regression", "0.0025", "canary cost per request +25.0% vs baseline > +10.00% (cost_regression)"),
    # Values no measure can have fail, whatever the limit says.
    ("error_rate", "NaN", "invalid error_rate: Prometheus answered nan, which no error_rate can be"),
    ("error_rate", "-0.5", "invalid error_rate: Prometheus answered -0.5, which no error_rate can be"),
    ("error_rate", "+Inf", "invalid error_rate: Prometheus answered inf, which no error_rate can be"),
    ("p95_ms", "-Inf", "invalid p95_ms: Prometheus answered -inf, which no p95_ms can be"),
    ("p95_ms", "NaN", "invalid p95_ms: Prometheus answered nan, which no p95_ms can be"),
    ("cost_regression", "-0.001", "invalid cost_regression: Prometheus answered -0.001, which no "
                                  "cost per request can be"),
])
def test_a_breach_or_an_impossible_value_fails_the_window(prom: _FakeProm, measure: str, value: str,
                                                          words: str) -> None:
    prom.answers[PROMQL[measure]["canary"]] = value
    window = analyze_window(_client(prom), COST, RULES)
    assert window.verdict == "failed" and window.reasons == (words,)


def test_limits_are_inclusive(prom: _FakeProm) -> None:
    prom.answers[PROMQL["error_rate"]["canary"]] = "0.01"
    prom.answers[PROMQL["p95_ms"]["canary"]] = "0.3"
    prom.answers[PROMQL["cost_regression"]["canary"]] = "0.0022"  # exactly +10%
    prom.answers[PROMQL["requests"]["canary"]] = "50"  # exactly min_requests
    assert analyze_window(_client(prom), COST, RULES).verdict == "passed"


@pytest.mark.parametrize("query, answer, words", [
    (PROMQL["requests"]["canary"], None, "inconclusive: no requests in the 1m window"),
    (PROMQL["requests"]["canary"], "NaN", "inconclusive: no requests in the 1m window"),
    (PROMQL["requests"]["canary"], "49", "inconclusive: 49 requests in the 1m window, fewer than "
                                         "min_requests 50"),
    (PROMQL["p95_ms"]["canary"], None, "inconclusive p95_ms: no p95_ms series in the window"),
    (PROMQL["cost_regression"]["canary"], None, "inconclusive cost_regression: no cost series"),
    (PROMQL["requests"]["baseline"], "3", "inconclusive cost_regression: the baseline has fewer than 50"),
    (PROMQL["cost_regression"]["baseline"], None, "inconclusive cost_regression: the baseline has"),
])
def test_missing_data_is_inconclusive(prom: _FakeProm, query: str, answer: Any, words: str) -> None:
    prom.answers[query] = answer
    window = analyze_window(_client(prom), COST, RULES)
    assert window.verdict == "inconclusive"
    assert len(window.reasons) == 1 and window.reasons[0].startswith(words)


@pytest.mark.parametrize("answer", ["-1", "+Inf", "-Inf"])
def test_an_impossible_request_count_fails(prom: _FakeProm, answer: str) -> None:
    prom.answers[PROMQL["requests"]["canary"]] = answer
    window = analyze_window(_client(prom), COST, RULES)
    assert window.verdict == "failed" and window.reasons[0].startswith("invalid requests")


def test_a_breach_wins_over_missing_data(prom: _FakeProm) -> None:
    prom.answers[PROMQL["error_rate"]["canary"]] = "0.5"
    prom.answers[PROMQL["p95_ms"]["canary"]] = None
    window = analyze_window(_client(prom), COST, RULES)
    assert window.verdict == "failed" and len(window.reasons) == 2


def test_prometheus_errors_are_inconclusive_with_the_message(prom: _FakeProm) -> None:
    prom.answers[PROMQL["p95_ms"]["canary"]] = {"http": 400, "error": "parse error at char 5"}
    window = analyze_window(_client(prom), COST, RULES)
    assert window.verdict == "inconclusive"
    assert "HTTP 400 from Prometheus: parse error at char 5" in window.reasons[0]


def test_an_unreachable_prometheus_is_inconclusive() -> None:
    client = Prometheus("http://127.0.0.1:9", timeout_s=2, attempts=2, pause_s=0)
    window = analyze_window(client, Selectors(), RULES)
    assert window.verdict == "inconclusive"
    assert "cannot reach Prometheus at http://127.0.0.1:9" in window.reasons[0]


def test_http_5xx_is_retried_a_bounded_number_of_times(prom: _FakeProm) -> None:
    prom.fail_first = 1
    pauses: list[float] = []
    client = Prometheus(prom.url, timeout_s=5, attempts=2, pause_s=0.5, sleep=pauses.append)
    assert client.query(PROMQL["error_rate"]["canary"]) == 0.002
    assert pauses == [0.5]
    prom.fail_first = 5
    assert analyze_window(client, Selectors(), RULES).verdict == "inconclusive"


def test_the_cost_rule_is_skipped_without_a_cost_metric(prom: _FakeProm) -> None:
    client = _client(prom)
    window = analyze_window(client, Selectors(), RULES)
    assert window.verdict == "passed"
    assert client.sent == SENT_ORDER[:6]
    assert _measure(window, "cost_regression").status == "skipped"


@pytest.mark.parametrize("canary, verdict", [("0", "passed"), ("0.001", "failed")])
def test_a_free_baseline(prom: _FakeProm, canary: str, verdict: str) -> None:
    prom.answers[PROMQL["cost_regression"]["baseline"]] = "0"
    prom.answers[PROMQL["cost_regression"]["canary"]] = canary
    assert analyze_window(_client(prom), COST, RULES).verdict == verdict


def test_an_absolute_cost_budget_judges_without_a_baseline(prom: _FakeProm) -> None:
    prom.answers[PROMQL["cost_regression"]["baseline"]] = None
    budget = RULES.model_copy(update={"cost_per_request": 0.0021})
    window = analyze_window(_client(prom), COST, budget)
    assert window.verdict == "passed"
    assert _measure(window, "cost_regression").note == \
        "judged against the absolute budget (no recorded baseline)"
    tight = RULES.model_copy(update={"cost_per_request": 0.002})
    assert analyze_window(_client(prom), COST, tight).reasons == (
        "canary cost per request 0.0021 > 0.002 (cost_per_request)",)


def test_the_baseline_is_read_before_the_rollout(prom: _FakeProm) -> None:
    client = _client(prom)
    analyze_window(client, Selectors(baseline_at=1_767_225_600), RULES)
    at = "[1m] @ 1767225600"
    assert client.sent[2] == (f'(sum(rate(http_requests_total{{track="baseline",status=~"5.."}}{at})) '
                              f'or vector(0)) / sum(rate(http_requests_total{{track="baseline"}}{at}))')
    assert client.sent[0] == PROMQL["requests"]["canary"]  # the canary is read now


def test_selectors_labels_and_units_are_configurable(prom: _FakeProm) -> None:
    client = _client(prom)
    sel = Selectors(requests_metric="app_requests_total", duration_metric="app_latency_ms",
                    duration_unit="milliseconds", status_label="code", error_status="5..|429",
                    track_label="variant", canary_track="new", baseline_track="stable",
                    selector='service="api",env=~"prod"', window="10m", cost_metric="tokens_cost_total")
    more = ',service="api",env=~"prod"}[10m]'
    prom.answers[f'sum(increase(app_requests_total{{variant="new"{more}))'] = "600"
    p95 = f'histogram_quantile(0.95, sum by (le) (rate(app_latency_ms_bucket{{variant="new"{more})))'
    prom.answers[p95] = "120"
    window = analyze_window(client, sel, RULES)
    assert client.sent[:3] == [
        f'sum(increase(app_requests_total{{variant="new"{more}))',
        f'(sum(rate(app_requests_total{{variant="new",code=~"5..|429"{more})) '
        f'or vector(0)) / sum(rate(app_requests_total{{variant="new"{more}))',
        f'(sum(rate(app_requests_total{{variant="stable",code=~"5..|429"{more})) '
        f'or vector(0)) / sum(rate(app_requests_total{{variant="stable"{more}))',
    ]
    assert _measure(window, "p95_ms").canary == 120.0  # milliseconds are not multiplied
    assert client.sent[6] == (f'sum(rate(tokens_cost_total{{variant="new"{more})) '
                              f'/ sum(rate(app_requests_total{{variant="new"{more}))')


def test_the_live_version_is_read_without_a_track_or_a_baseline(prom: _FakeProm) -> None:
    client = _client(prom)
    analyze_window(client, Selectors(live=True, selector='service="api"', cost_metric="c_total"), RULES)
    assert client.sent[0] == 'sum(increase(http_requests_total{service="api"}[1m]))'
    assert not any("baseline" in q for q in client.sent)
    client.sent.clear()
    analyze_window(client, Selectors(live=True, live_track="stable"), RULES)
    assert client.sent[0] == 'sum(increase(http_requests_total{track="stable"}[1m]))'


@pytest.mark.parametrize("changes, option", [
    ({"requests_metric": "http-requests"}, "--requests-metric"),
    ({"track_label": "__name__"}, "--track-label"),
    ({"window": "5 minutes"}, "--window"),
    ({"selector": 'service="api"}) or vector(1'}, "--selector"),
    ({"cost_metric": "sum(cost)"}, "--cost-metric"),
    ({"duration_unit": "hours"}, "--duration-unit"),
    ({"live_track": ""}, "--live-track"),
])
def test_bad_selectors_are_refused(changes: dict[str, str], option: str) -> None:
    with pytest.raises(SpecError) as caught:
        Selectors(**changes).validate()  # type: ignore[arg-type]
    assert caught.value.field == option


def test_track_values_are_quoted_not_injected(prom: _FakeProm) -> None:
    client = _client(prom)
    analyze_window(client, Selectors(canary_track='x"} or vector(1) #'), RULES)
    assert 'track="x\\"} or vector(1) #"' in client.sent[0]


# --- the bake: many windows, one decision ------------------------------------------------------

def _windows(verdicts: str) -> list[Window]:
    """`p` passed, `f` failed, `i` inconclusive."""
    names = {"p": "passed", "f": "failed", "i": "inconclusive"}
    return [Window(names[v], 600.0, (), (f"window {n}",), None)  # type: ignore[arg-type]
            for n, v in enumerate(verdicts)]


@pytest.mark.parametrize("verdicts, planned, finished, expected", [
    ("pppppfpppp", 10, True, "promote"),  # one blip
    ("ppffpppppp", 10, True, "promote"),  # one blip over two windows
    ("pfpfpf", 10, False, "rollback"),  # a third failure: more than failure_limit 2
    ("pppfff", 10, False, "rollback"),  # three in a row
    ("pfpf", 10, False, None),  # the bake goes on
    ("piiip", 10, False, "rollback inconclusive"),  # more than inconclusive_limit 2
    ("ppiippppp", 10, True, "promote"),
    ("iifff", 6, False, "rollback"),
    ("f", 1, True, "rollback"),  # one window: it decides
    ("i", 1, True, "rollback inconclusive"),
    ("p", 1, True, "promote"),
    ("ff", 2, False, "rollback"),  # a bake of two tolerates one failed window at most
    ("fp", 2, True, "promote"),
])
def test_the_bake_rules(verdicts: str, planned: int, finished: bool, expected: str | None) -> None:
    result = judge(_windows(verdicts), planned, RULES, finished)
    if expected is None:
        assert result is None
        return
    assert result is not None
    decision, inconclusive, reasons = result
    assert f"{decision}{' inconclusive' if inconclusive else ''}" == expected
    assert bool(reasons) == (decision == "rollback")


def test_a_bake_with_no_passed_window_never_promotes() -> None:
    # Within every limit (two failed, two inconclusive of four), and still no evidence of health.
    assert judge(_windows("fiif"), 4, RULES, True) == ("rollback", True, ("no window passed",))


def test_the_bake_queries_each_window_at_its_end_and_waits_only_for_the_future(prom: _FakeProm) -> None:
    now = [10_000.0]
    pauses: list[float] = []

    def sleep(seconds: float) -> None:
        pauses.append(seconds)
        now[0] += seconds

    seen: list[int] = []
    analysis = analyze_over_bake(_client(prom), Selectors(), RULES, 25, 300, 60, start=9_880,
                                 clock=lambda: now[0], sleep=sleep, on_window=lambda n, _: seen.append(n))
    assert analysis.decision == "promote" and analysis.planned == 5 and seen == [1, 2, 3, 4, 5]
    assert pauses == [60.0, 60.0, 60.0]  # windows ending 9940 and 10000 were already over
    assert [w.at for w in analysis.windows] == [9_940, 10_000, 10_060, 10_120, 10_180]
    assert sorted(set(prom.times), key=float) == [f"{t}.000" for t in (9_940, 10_000, 10_060, 10_120, 10_180)]


def test_a_failing_bake_stops_as_soon_as_the_rules_decide(prom: _FakeProm) -> None:
    prom.answers[PROMQL["error_rate"]["canary"]] = "0.2"
    analysis = analyze_over_bake(_client(prom), Selectors(), RULES, 5, 600, 60, start=0)
    assert analysis.decision == "rollback" and len(analysis.windows) == 3
    assert analysis.reasons[0].startswith("3 failed window(s) in a row (consecutive_failures 3)")


@pytest.mark.parametrize("bake, window, words", [(30, 60, "shorter than one window"),
                                                 (10**6, 1, "too many")])
def test_a_bake_that_cannot_be_cut_into_windows_is_refused(bake: int, window: int, words: str) -> None:
    with pytest.raises(SpecError, match=words):
        analyze_over_bake(Prometheus("http://127.0.0.1:9"), Selectors(), RULES, 5, bake, window)


# --- the CLI ----------------------------------------------------------------------------------

RULES_JSON = '{"error_rate": 0.01, "p95_ms": 300, "cost_regression": 0.1}'


def test_cli_promote_writes_the_summary_and_the_report(prom: _FakeProm, tmp_path: Path) -> None:
    step = tmp_path / "step.md"
    result = gate_process(tmp_path, "canary-analyze", "--step", "5", "--report", "canary.json",
                          env={"HARDEN_CI_PROMETHEUS_URL": prom.url,
                               "HARDEN_CI_CANARY_ROLLBACK_ON": RULES_JSON,
                               "HARDEN_CI_CANARY_METRICS": '{"cost_metric": "llm_cost_usd_total"}',
                               "GITHUB_STEP_SUMMARY": str(step), "HARDEN_CI_PROMETHEUS_TOKEN": "s3cret"})
    assert result.returncode == 0, result.stdout + result.stderr
    assert "### ✅ Canary step 5%: PROMOTE" in result.stdout
    assert "| error rate | 0.20% | 0.10% | ≤ 1.00% | ✅ ok |" in step.read_text("utf-8")
    assert "| now | 600 | ✅ passed |  |" in result.stdout
    report = json.loads((tmp_path / "canary.json").read_text("utf-8"))
    assert report["decision"] == "promote" and report["step"] == 5 and report["inconclusive"] is False
    assert report["rules"] == RollbackRules(error_rate=0.01, p95_ms=300, cost_regression=0.1).model_dump()
    p95 = next(m for m in report["windows"][0]["measures"] if m["name"] == "p95_ms")
    assert p95["canary"] == 120.0 and p95["queries"]["canary"] == PROMQL["p95_ms"]["canary"]
    assert PROMQL["cost_regression"]["canary"] in prom.received  # from --metrics
    assert set(prom.auth) == {"Bearer s3cret"}
    assert "s3cret" not in result.stdout + result.stderr


def test_cli_options_override_the_spec_metrics(prom: _FakeProm) -> None:
    gate_invoke("canary-analyze", "--prometheus", prom.url, "--requests-metric", "b_total",
                env={"HARDEN_CI_CANARY_METRICS": '{"requests_metric": "a_total", "canary_track": "new"}'})
    assert prom.received[0] == 'sum(increase(b_total{track="new"}[1m]))'


def test_cli_rollback_and_inconclusive_exit_1(prom: _FakeProm, tmp_path: Path) -> None:
    prom.answers[PROMQL["p95_ms"]["canary"]] = "0.9"
    rolled = gate_process(tmp_path, "canary-analyze", "--prometheus", prom.url, "--report", "r.json")
    assert rolled.returncode == 1
    assert "- canary p95 900 ms > 300 ms (p95_ms)" in rolled.stdout
    assert json.loads((tmp_path / "r.json").read_text("utf-8"))["decision"] == "rollback"
    prom.answers[PROMQL["p95_ms"]["canary"]] = None
    empty = gate_invoke("canary-analyze", "--prometheus", prom.url)
    assert empty.exit_code == 1
    assert "ROLLBACK (inconclusive: failing safe)" in empty.stdout
    assert "- inconclusive p95_ms: no p95_ms series in the window" in empty.stdout


@pytest.mark.parametrize("args, words", [
    (["--prometheus", "ftp://prom"], "not an http(s) URL"),
    (["--prometheus", "https://user:pw@prom.example.com"], "may not carry credentials"),
    (["--prometheus", "http://127.0.0.1:9", "--rollback-on", '{"error_rate": 3}'], "error_rate"),
    (["--prometheus", "http://127.0.0.1:9", "--rollback-on", '{"p95": 300}'], "p95"),
    (["--prometheus", "http://127.0.0.1:9", "--rollback-on", '{"min_requests": 0}'], "min_requests"),
    (["--prometheus", "http://127.0.0.1:9", "--metrics", '{"track_label": "a b"}'], "track_label"),
    (["--prometheus", "http://127.0.0.1:9", "--metrics", "["], "--metrics is not valid"),
    (["--prometheus", "http://127.0.0.1:9", "--selector", "service=api"], "label matchers"),
    (["--prometheus", "http://127.0.0.1:9", "--bake", "ten minutes"], "--bake"),
    (["--prometheus", "http://127.0.0.1:9", "--bake", "30s"], "shorter than one window"),
])
def test_cli_bad_input_exits_2(args: list[str], words: str) -> None:
    result = gate_invoke("canary-analyze", *args)
    assert result.exit_code == 2 and words in result.stderr, result.output


# --- flag-set (flagd) ---------------------------------------------------------------------------

@pytest.fixture
def flags(tmp_path: Path) -> Path:
    path = tmp_path / "flags.json"
    path.write_bytes((FIXTURES / "flags.json").read_bytes())
    return path


def test_flag_set_writes_a_fractional_split(flags: Path) -> None:
    before = json.loads(flags.read_text("utf-8"))
    set_fraction(flags, "new-checkout", 25)
    after = json.loads(flags.read_text("utf-8"))
    assert after["flags"]["new-checkout"]["targeting"] == {"fractional": [["on", 25], ["off", 75]]}
    after["flags"]["new-checkout"].pop("targeting")
    assert after == before  # nothing else changed
    set_fraction(flags, "new-checkout", 100)
    assert json.loads(flags.read_text("utf-8"))["flags"]["new-checkout"]["targeting"] == {
        "fractional": [["on", 100], ["off", 0]]}


def test_flag_set_keeps_the_bucketing_expression(flags: Path) -> None:
    set_fraction(flags, "sticky-by-email", 25, on="new", off="old")
    assert json.loads(flags.read_text("utf-8"))["flags"]["sticky-by-email"]["targeting"] == {
        "fractional": [{"cat": [{"var": "$flagd.flagKey"}, {"var": "email"}]}, ["new", 25], ["old", 75]]}


@pytest.mark.parametrize("flag, percent, variants, words", [
    ("staff-only", 5, ("on", "off"), "will not overwrite"),
    ("missing", 5, ("on", "off"), "flag `missing` is not in"),
    ("new-checkout", 5, ("yes", "off"), "no variant `yes`"),
    ("new-checkout", 101, ("on", "off"), "not a percentage"),
])
def test_flag_set_refuses(flags: Path, flag: str, percent: int, variants: tuple[str, str],
                          words: str) -> None:
    before = flags.read_bytes()
    with pytest.raises(SpecError, match=words):
        set_fraction(flags, flag, percent, *variants)
    assert flags.read_bytes() == before


def test_flag_set_cli(flags: Path) -> None:
    done = gate_process(flags.parent, "flag-set", "--file", "flags.json", "--flag", "new-checkout",
                        "--percent", "5")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "new-checkout: on 5% / off 95% in flags.json"
    refused = gate_invoke("flag-set", "--file", str(flags), "--flag", "staff-only", "--percent", "5")
    assert refused.exit_code == 2 and "will not overwrite" in refused.stderr
    broken = flags.parent / "broken.json"
    broken.write_text("{", "utf-8")
    assert gate_invoke("flag-set", "--file", str(broken), "--flag", "x", "--percent", "5").exit_code == 2


@pytest.mark.parametrize("kind", ["device", "fifo", "deep", "huge"])
def test_flag_set_refuses_what_it_cannot_read_safely_without_hanging(tmp_path: Path,
                                                                    kind: str) -> None:
    """/dev/zero, a FIFO nobody writes, JSON nested beyond the limit, a file over the size
    limit: each a clear exit 2 at once (a FIFO or device would block a plain read forever)."""
    path = tmp_path / "flags.json"
    if kind == "device":
        path.symlink_to("/dev/zero")
    elif kind == "fifo":
        os.mkfifo(path)
    elif kind == "deep":
        path.write_text("[" * 5000 + "]" * 5000, "utf-8")
    else:
        path.write_bytes(b" " * (4 * 1024 * 1024 + 1))
    done = gate_process(tmp_path, "flag-set", "--file", "flags.json", "--flag", "x",
                        "--percent", "5")
    assert done.returncode == 2, done.stderr
    expected = {"device": "not a regular file", "fifo": "not a regular file",
                "deep": "nested deeper than", "huge": "larger than"}[kind]
    assert expected in done.stderr and "Traceback" not in done.stderr


@pytest.mark.parametrize("share, decision", [("0.04", "passed"), ("0.3", "failed")])
def test_a_p95_beyond_the_top_bucket_is_not_read_as_the_top_bound(
        prom: _FakeProm, share: str, decision: str) -> None:
    """histogram_quantile answers the highest finite bound (here 250 ms, under the 300 ms
    limit) when the quantile lies beyond it; over 5% of requests past that bound means the
    p95 is above every bucket, a breach."""
    prom.answers[PROMQL["p95_ms"]["canary"]] = "0.25"
    prom.answers[P95_GUARD] = share
    window = analyze_window(_client(prom), Selectors(cost_metric="llm_cost_usd_total"), RULES)
    assert window.verdict == decision
    p95 = _measure(window, "p95_ms")
    if decision == "failed":
        assert p95.canary == float("inf") and p95.status == "breached"
        assert "30.00% of requests are slower than the highest histogram bucket (250 ms)" in p95.note
    else:
        assert p95.canary == 250.0 and p95.status == "ok"
