"""`harden-ci gate canary-analyze` and `flag-set`.

A fake Prometheus on 127.0.0.1 answers `/api/v1/query` from canned values keyed by the exact
PromQL, and records every query: a healthy canary is promoted; an error spike, a latency
regression and a cost regression each roll back; missing data rolls back as "no data".
"""

from __future__ import annotations

import http.server
import json
import threading
import urllib.parse
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from helpers import gate_invoke, gate_process

from harden_ci.errors import SpecError
from harden_ci.gates import canary_report
from harden_ci.gates.canary_analysis import Selectors, analyze, analyze_over_bake
from harden_ci.gates.canary_flagd import set_fraction
from harden_ci.gates.canary_prometheus import Prometheus
from harden_ci.model.delivery import RollbackRules

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "gates" / "canary"
RULES = RollbackRules(error_rate=0.01, p95_ms=300, cost_regression=0.10)

# The default PromQL, written out: what a reviewer reads in the job summary.
PROMQL: dict[str, dict[str, str]] = {
    "error_rate": {
        track: f'(sum(rate(http_requests_total{{track="{track}",status=~"5.."}}[5m])) or vector(0)) '
               f'/ sum(rate(http_requests_total{{track="{track}"}}[5m]))'
        for track in ("canary", "baseline")},
    "p95_ms": {
        track: f"histogram_quantile(0.95, sum by (le) "
               f'(rate(http_request_duration_seconds_bucket{{track="{track}"}}[5m])))'
        for track in ("canary", "baseline")},
    "cost_regression": {
        track: f'sum(rate(llm_cost_usd_total{{track="{track}"}}[5m])) '
               f'/ sum(rate(http_requests_total{{track="{track}"}}[5m]))'
        for track in ("canary", "baseline")},
}
# Sent after the p95 pair: the share of canary requests beyond the highest finite bucket.
P95_GUARD = ('1 - max(sum by (le) (rate(http_request_duration_seconds_bucket'
             '{track="canary",le!="+Inf"}[5m]))) '
             '/ sum(rate(http_request_duration_seconds_bucket{track="canary",le="+Inf"}[5m]))')
SENT_ORDER = [*(PROMQL[m][t] for m in ("error_rate", "p95_ms") for t in ("canary", "baseline")),
              P95_GUARD, *(PROMQL["cost_regression"][t] for t in ("canary", "baseline"))]


def healthy() -> dict[str, Any]:
    """PromQL → answer (a number as Prometheus spells it, None for an empty vector)."""
    canned = json.loads((FIXTURES / "healthy.json").read_text("utf-8"))
    return {PROMQL[m][t]: canned[m][t] for m in PROMQL for t in ("canary", "baseline")}


# --- a fake Prometheus -------------------------------------------------------------------------

class _Handler(http.server.BaseHTTPRequestHandler):
    server: _FakeProm

    def do_GET(self) -> None:
        url = urllib.parse.urlsplit(self.path)
        query = urllib.parse.parse_qs(url.query).get("query", [""])[0]
        with self.server.lock:
            self.server.received.append(query)
            self.server.auth.append(self.headers.get("Authorization"))
            failures = self.server.fail_first
            self.server.fail_first = max(0, failures - 1)
        if url.path != "/api/v1/query":
            self._send(404, {"status": "error", "errorType": "not_found", "error": "no such path"})
        elif failures:
            self._send(503, {"status": "error", "errorType": "unavailable", "error": "warming up"})
        elif query not in self.server.answers:
            self._send(200, {"status": "success", "data": {"resultType": "vector", "result": []}})
        else:
            answer = self.server.answers[query]
            if isinstance(answer, dict):  # an error answer
                self._send(answer["http"],
                           {"status": "error", "errorType": "bad_data", "error": answer["error"]})
                return
            result = [] if answer is None else [{"metric": {}, "value": [1700000000.0, answer]}]
            self._send(200, {"status": "success", "data": {"resultType": "vector", "result": result}})

    def _send(self, status: int, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        pass


class _FakeProm(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.answers: dict[str, Any] = healthy()
        self.received: list[str] = []
        self.auth: list[str | None] = []
        self.fail_first = 0
        self.lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


@pytest.fixture
def prom() -> Iterator[_FakeProm]:
    server = _FakeProm()
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def _client(server: _FakeProm, **kwargs: Any) -> Prometheus:
    return Prometheus(server.url, timeout_s=5, attempts=1, pause_s=0, **kwargs)


COST = Selectors(cost_metric="llm_cost_usd_total")


# --- the decision ------------------------------------------------------------------------------

def test_a_healthy_canary_is_promoted_with_the_exact_promql(prom: _FakeProm) -> None:
    client = _client(prom)
    analysis = analyze(client, COST, RULES, step=5)
    assert analysis.decision == "promote" and not analysis.no_data and analysis.reasons == ()
    assert client.sent == SENT_ORDER
    assert prom.received == SENT_ORDER
    values = {m.name: (m.canary, m.baseline, m.status) for m in analysis.measures}
    assert values["error_rate"] == (0.002, 0.001, "ok")
    assert values["p95_ms"] == (120.0, 110.0, "ok")
    assert values["cost_regression"][2] == "ok"
    assert next(m for m in analysis.measures if m.name == "cost_regression").value == pytest.approx(0.05)


@pytest.mark.parametrize("measure, value, words", [
    ("error_rate", "0.05", "canary error rate 5.00% > 1.00% (error_rate)"),
    ("p95_ms", "0.45", "canary p95 450 ms > 300 ms (p95_ms)"),
    ("p95_ms", "+Inf", "canary p95 +Inf > 300 ms (p95_ms)"),
    ("cost_regression", "0.0025", "canary cost per request +25.0% vs baseline > +10.00% (cost_regression)"),
])
def test_a_breach_rolls_back_with_the_reason(prom: _FakeProm, measure: str, value: str, words: str) -> None:
    prom.answers[PROMQL[measure]["canary"]] = value
    analysis = analyze(_client(prom), COST, RULES, step=25)
    assert analysis.decision == "rollback" and not analysis.no_data
    assert analysis.reasons == (words,)
    assert canary_report.headline(analysis) == "canary step 25%: ROLLBACK"


def test_limits_are_inclusive(prom: _FakeProm) -> None:
    prom.answers[PROMQL["error_rate"]["canary"]] = "0.01"
    prom.answers[PROMQL["p95_ms"]["canary"]] = "0.3"
    prom.answers[PROMQL["cost_regression"]["canary"]] = "0.0022"  # exactly +10%
    assert analyze(_client(prom), COST, RULES).decision == "promote"


@pytest.mark.parametrize("query, answer", [
    (PROMQL["p95_ms"]["canary"], None),  # empty vector
    (PROMQL["error_rate"]["canary"], "NaN"),  # 0/0: no canary traffic
    (PROMQL["cost_regression"]["baseline"], None),
])
def test_missing_data_fails_safe_as_no_data(prom: _FakeProm, query: str, answer: Any) -> None:
    prom.answers[query] = answer
    analysis = analyze(_client(prom), COST, RULES)
    assert analysis.decision == "rollback" and analysis.no_data
    assert len(analysis.reasons) == 1 and analysis.reasons[0].startswith("no data for ")
    assert "no data in the last 5m" in analysis.reasons[0]
    assert canary_report.headline(analysis) == "canary: ROLLBACK (no data: failing safe)"


def test_a_breach_wins_over_missing_data(prom: _FakeProm) -> None:
    prom.answers[PROMQL["error_rate"]["canary"]] = "0.5"
    prom.answers[PROMQL["p95_ms"]["canary"]] = None
    analysis = analyze(_client(prom), COST, RULES)
    assert analysis.decision == "rollback" and not analysis.no_data and len(analysis.reasons) == 2


def test_prometheus_errors_are_no_data_with_the_message(prom: _FakeProm) -> None:
    prom.answers[PROMQL["p95_ms"]["canary"]] = {"http": 400, "error": "parse error at char 5"}
    analysis = analyze(_client(prom), COST, RULES)
    assert analysis.no_data
    assert "HTTP 400 from Prometheus: parse error at char 5" in analysis.reasons[0]


def test_an_unreachable_prometheus_is_no_data() -> None:
    client = Prometheus("http://127.0.0.1:9", timeout_s=2, attempts=2, pause_s=0)
    analysis = analyze(client, Selectors(), RULES)
    assert analysis.decision == "rollback" and analysis.no_data
    assert "cannot reach Prometheus at http://127.0.0.1:9" in analysis.reasons[0]


def test_http_5xx_is_retried_a_bounded_number_of_times(prom: _FakeProm) -> None:
    prom.fail_first = 1
    pauses: list[float] = []
    client = Prometheus(prom.url, timeout_s=5, attempts=2, pause_s=0.5, sleep=pauses.append)
    assert client.query(PROMQL["error_rate"]["canary"]) == 0.002
    assert pauses == [0.5]
    prom.fail_first = 5
    assert analyze(client, Selectors(), RULES).no_data


def test_the_cost_rule_is_skipped_without_a_cost_metric(prom: _FakeProm) -> None:
    client = _client(prom)
    analysis = analyze(client, Selectors(), RULES)
    assert analysis.decision == "promote"
    assert client.sent == SENT_ORDER[:5]
    assert next(m for m in analysis.measures if m.name == "cost_regression").status == "skipped"


@pytest.mark.parametrize("canary, decision", [("0", "promote"), ("0.001", "rollback")])
def test_a_free_baseline(prom: _FakeProm, canary: str, decision: str) -> None:
    prom.answers[PROMQL["cost_regression"]["baseline"]] = "0"
    prom.answers[PROMQL["cost_regression"]["canary"]] = canary
    assert analyze(_client(prom), COST, RULES).decision == decision


def test_selectors_and_labels_are_configurable(prom: _FakeProm) -> None:
    client = _client(prom)
    sel = Selectors(requests_metric="app_requests_total", duration_metric="app_latency_seconds",
                    status_label="code", error_status="5..|429", track_label="variant",
                    canary_track="new", baseline_track="stable", selector='service="api",env=~"prod"',
                    window="10m", cost_metric="tokens_cost_total")
    analyze(client, sel, RULES)
    assert client.sent[:2] == [
        '(sum(rate(app_requests_total{variant="new",code=~"5..|429",service="api",env=~"prod"}[10m])) '
        'or vector(0)) / sum(rate(app_requests_total{variant="new",service="api",env=~"prod"}[10m]))',
        '(sum(rate(app_requests_total{variant="stable",code=~"5..|429",service="api",env=~"prod"}[10m])) '
        'or vector(0)) / sum(rate(app_requests_total{variant="stable",service="api",env=~"prod"}[10m]))',
    ]
    assert client.sent[2] == ('histogram_quantile(0.95, sum by (le) '
                              '(rate(app_latency_seconds_bucket{variant="new",service="api",env=~"prod"}[10m])))')
    assert client.sent[4] == ('sum(rate(tokens_cost_total{variant="new",service="api",env=~"prod"}[10m])) '
                              '/ sum(rate(app_requests_total{variant="new",service="api",env=~"prod"}[10m]))')


@pytest.mark.parametrize("changes, option", [
    ({"requests_metric": "http-requests"}, "--requests-metric"),
    ({"track_label": "__name__"}, "--track-label"),
    ({"window": "5 minutes"}, "--window"),
    ({"selector": 'service="api"}) or vector(1'}, "--selector"),
    ({"cost_metric": "sum(cost)"}, "--cost-metric"),
])
def test_bad_selectors_are_refused(changes: dict[str, str], option: str) -> None:
    with pytest.raises(SpecError) as caught:
        Selectors(**changes).validate()
    assert caught.value.field == option


def test_track_values_are_quoted_not_injected(prom: _FakeProm) -> None:
    client = _client(prom)
    analyze(client, Selectors(canary_track='x"} or vector(1) #'), RULES)
    assert 'track="x\\"} or vector(1) #"' in client.sent[0]


# --- the bake ---------------------------------------------------------------------------------

def test_a_breach_during_the_bake_rolls_back_at_once(prom: _FakeProm) -> None:
    prom.answers[PROMQL["error_rate"]["canary"]] = "0.2"
    pauses: list[float] = []
    analysis = analyze_over_bake(_client(prom), Selectors(), RULES, 5, 600, 60, sleep=pauses.append)
    assert analysis.decision == "rollback" and analysis.rounds == 1 and pauses == [60.0]


def test_the_last_round_of_the_bake_decides(prom: _FakeProm) -> None:
    prom.answers[PROMQL["p95_ms"]["canary"]] = None  # no data is tolerated until the end
    pauses: list[float] = []
    rounds: list[int] = []
    analysis = analyze_over_bake(_client(prom), Selectors(), RULES, 5, 180, 60, sleep=pauses.append,
                                 on_round=lambda n, _: rounds.append(n))
    assert analysis.no_data and analysis.rounds == 3 and rounds == [1, 2, 3] and pauses == [60.0] * 3
    prom.answers = healthy()
    assert analyze_over_bake(_client(prom), Selectors(), RULES, 5, 120, 60,
                             sleep=lambda _: None).decision == "promote"


# --- the CLI ----------------------------------------------------------------------------------

RULES_JSON = '{"error_rate": 0.01, "p95_ms": 300, "cost_regression": 0.1}'


def test_cli_promote_writes_the_summary_and_the_report(prom: _FakeProm, tmp_path: Path) -> None:
    step = tmp_path / "step.md"
    result = gate_process(tmp_path, "canary-analyze", "--step", "5", "--cost-metric", "llm_cost_usd_total",
                  "--report", "canary.json",
                  env={"HARDEN_CI_PROMETHEUS_URL": prom.url, "HARDEN_CI_CANARY_ROLLBACK_ON": RULES_JSON,
                       "GITHUB_STEP_SUMMARY": str(step), "HARDEN_CI_PROMETHEUS_TOKEN": "s3cret"})
    assert result.returncode == 0, result.stdout + result.stderr
    assert "### ✅ Canary step 5%: PROMOTE" in result.stdout
    assert "| error rate | 0.20% | 0.10% | ≤ 1.00% | ✅ ok |" in step.read_text("utf-8")
    report = json.loads((tmp_path / "canary.json").read_text("utf-8"))
    assert report["decision"] == "promote" and report["step"] == 5 and report["no_data"] is False
    assert report["rules"] == {"error_rate": 0.01, "p95_ms": 300, "cost_regression": 0.1}
    p95 = next(m for m in report["measures"] if m["name"] == "p95_ms")
    assert p95["canary"] == 120.0 and p95["queries"]["canary"] == PROMQL["p95_ms"]["canary"]
    assert set(prom.auth) == {"Bearer s3cret"}
    assert "s3cret" not in result.stdout + result.stderr


def test_cli_rollback_and_no_data_exit_1(prom: _FakeProm, tmp_path: Path) -> None:
    prom.answers[PROMQL["p95_ms"]["canary"]] = "0.9"
    rolled = gate_process(tmp_path, "canary-analyze", "--prometheus", prom.url, "--report", "r.json")
    assert rolled.returncode == 1
    assert "- canary p95 900 ms > 300 ms (p95_ms)" in rolled.stdout
    assert json.loads((tmp_path / "r.json").read_text("utf-8"))["decision"] == "rollback"
    prom.answers[PROMQL["p95_ms"]["canary"]] = None
    empty = gate_invoke("canary-analyze", "--prometheus", prom.url)
    assert empty.exit_code == 1
    assert "ROLLBACK (no data: failing safe)" in empty.stdout
    assert "no data for p95_ms: canary: no data in the last 5m" in empty.stdout


@pytest.mark.parametrize("args, words", [
    (["--prometheus", "ftp://prom"], "not an http(s) URL"),
    (["--prometheus", "https://user:pw@prom.example.com"], "may not carry credentials"),
    (["--prometheus", "http://127.0.0.1:9", "--rollback-on", '{"error_rate": 3}'], "error_rate"),
    (["--prometheus", "http://127.0.0.1:9", "--rollback-on", '{"p95": 300}'], "p95"),
    (["--prometheus", "http://127.0.0.1:9", "--selector", "service=api"], "label matchers"),
    (["--prometheus", "http://127.0.0.1:9", "--bake", "ten minutes"], "--bake"),
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


@pytest.mark.parametrize("share, decision", [("0.04", "promote"), ("0.3", "rollback")])
def test_a_p95_beyond_the_top_bucket_is_not_read_as_the_top_bound(
        prom: _FakeProm, share: str, decision: str) -> None:
    """histogram_quantile answers the highest finite bound (here 250 ms, under the 300 ms
    limit) when the quantile lies beyond it; over 5% of requests past that bound means the
    p95 is above every bucket, a breach."""
    prom.answers[PROMQL["p95_ms"]["canary"]] = "0.25"
    prom.answers[P95_GUARD] = share
    analysis = analyze(_client(prom), Selectors(cost_metric="llm_cost_usd_total"), RULES)
    assert analysis.decision == decision
    p95 = next(m for m in analysis.measures if m.name == "p95_ms")
    if decision == "rollback":
        assert p95.canary == float("inf") and p95.status == "breached"
        assert "30.00% of requests are slower than the highest histogram bucket (250 ms)" in p95.note
    else:
        assert p95.canary == 250.0 and p95.status == "ok"
