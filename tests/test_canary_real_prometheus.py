"""`harden-ci gate canary-analyze` against a real Prometheus (Debian's `prometheus` package).

Each scenario is its own Prometheus on 127.0.0.1, backfilled with promtool (see
tests/real_prometheus.py), and every run is the real CLI. The baseline serves 100 requests/s
(0.1% errors, p95 183 ms, $0.002 a request); the canary 10/s, healthy or not. Bakes are
ten one-minute windows that ended at NOW (the data's "now"), so they are judged at once, on
the same windows a live bake would have seen (`--bake-start`).

The cases are the wrong decisions of the old analysis: the 100% step with a cost metric
(rolled back every healthy release: its baseline serves nothing any more), one blip in a
bake (rolled back at once), one failed request out of ten (read as a 10% error rate),
negative and -Inf latencies (promoted), and the nightly re-analysis of a finished rollout
(no `track="canary"` series any more: "no data").
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest
import real_prometheus
from real_prometheus import STEP_S, Plan, Track

NOW = int(time.time()) // STEP_S * STEP_S
START = NOW - 600  # the rollout (and the bake) began ten minutes before NOW
RULES_JSON = '{"error_rate": 0.01, "p95_ms": 300, "cost_regression": 0.1}'

# (le, cumulative share): p95 interpolates inside the bucket holding the 95th percentile.
FAST = (("0.05", 0.5), ("0.1", 0.9), ("0.25", 0.99), ("0.5", 1.0), ("1", 1.0), ("+Inf", 1.0))
FAST_P95_MS = 183.333  # 0.1 + (0.95 - 0.9) / (0.99 - 0.9) * (0.25 - 0.1) s
SLOW = (("0.05", 0.1), ("0.1", 0.3), ("0.25", 0.6), ("0.5", 0.9), ("1", 0.99), ("+Inf", 1.0))

BASELINE = Track(requests_per_s=100, error_share=0.001, latency=FAST, cost_per_request=0.002)
HEALTHY = Track(requests_per_s=10, error_share=0.002, latency=FAST, cost_per_request=0.0021)
IDLE_BASELINE = replace(BASELINE, requests_per_s=0)


def during(start: int, end: int, inside: Track, outside: Track) -> Callable[[int], Track]:
    """`inside` from `start` to `end` (seconds from NOW), `outside` otherwise."""
    return lambda offset: inside if start <= offset < end else outside


SCENARIOS: dict[str, dict[str, Plan]] = {
    "healthy": {"canary": HEALTHY, "baseline": BASELINE},
    "flawless": {"canary": replace(HEALTHY, error_share=0), "baseline": BASELINE},
    "error spike": {"canary": replace(HEALTHY, error_share=0.05), "baseline": BASELINE},
    "latency regression": {"canary": replace(HEALTHY, latency=SLOW), "baseline": BASELINE},
    # Buckets end at 250 ms, under the limit, but 40% of requests take longer.
    "beyond the top bucket": {"canary": replace(HEALTHY, latency=(
        ("0.05", 0.1), ("0.1", 0.3), ("0.25", 0.6), ("+Inf", 1.0))), "baseline": BASELINE},
    "cost regression": {"canary": replace(HEALTHY, cost_per_request=0.0025), "baseline": BASELINE},
    "idle": {"canary": replace(HEALTHY, requests_per_s=0), "baseline": BASELINE},
    # The 100% step: the canary took all traffic at START; the baseline has served nothing since.
    "full traffic": {"canary": during(-600, 10_000, replace(HEALTHY, requests_per_s=100),
                                      replace(HEALTHY, requests_per_s=0)),
                     "baseline": during(-600, 10_000, IDLE_BASELINE, BASELINE)},
    # 30% errors for one minute, the sixth of the bake's ten.
    "one blip": {"canary": during(-300, -240, replace(HEALTHY, error_share=0.3), HEALTHY),
                 "baseline": BASELINE},
    "sustained errors": {"canary": during(-300, 10_000, replace(HEALTHY, error_share=0.05), HEALTHY),
                         "baseline": BASELINE},
    # One minute of 10 requests (1/6 a second), one of which failed.
    "ten requests": {"canary": during(-300, -240, replace(HEALTHY, requests_per_s=1 / 6,
                                                          error_share=0.1), HEALTHY),
                     "baseline": BASELINE},
    "-Inf latency": {"canary": replace(HEALTHY, latency=(("-Inf", 1.0), ("+Inf", 1.0))),
                     "baseline": BASELINE},
    "negative latency": {"canary": replace(HEALTHY, latency=(("-1", 1.0), ("+Inf", 1.0))),
                         "baseline": BASELINE},
    # After a finished rollout the new version is the stable track; nothing is `canary`.
    "live healthy": {"stable": replace(BASELINE, cost_per_request=0.0021)},
    "live degraded": {"stable": replace(BASELINE, error_share=0.03)},
}


prometheus = real_prometheus.servers_fixture(SCENARIOS, lambda: NOW)


def refresh_now() -> None:
    """Re-base the data's "now" on the clock (the gate judges windows by the real time)."""
    global NOW, START
    NOW = int(time.time()) // STEP_S * STEP_S
    START = NOW - 600


@pytest.fixture(scope="module", autouse=True)
def _fresh_now() -> None:
    refresh_now()


@dataclass(frozen=True)
class Run:
    stdout: str
    report: dict[str, Any]

    def measure(self, name: str, window: int = -1) -> dict[str, Any]:
        return next(m for m in self.report["windows"][window]["measures"] if m["name"] == name)

    @property
    def verdicts(self) -> list[str]:
        return [w["verdict"] for w in self.report["windows"]]


def analyze(url: str, cwd: Path, exit_code: int, *args: str) -> Run:
    """The real CLI with the spec's default rules and a cost metric; it must exit
    `exit_code` (0 promote, 1 roll back)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HARDEN_CI_", "GITHUB_"))}
    done = subprocess.run(
        [sys.executable, "-m", "harden_ci", "gate", "canary-analyze", "--prometheus", url,
         "--rollback-on", RULES_JSON, "--cost-metric", "llm_cost_usd_total", "--attempts", "1",
         "--report", "report.json", *args],
        cwd=cwd, env=env, capture_output=True, text=True, encoding="utf-8", timeout=120, check=False)
    assert done.returncode == exit_code, done.stdout + done.stderr
    return Run(done.stdout, json.loads((cwd / "report.json").read_text("utf-8")))


def bake(*args: str) -> tuple[str, ...]:
    return ("--bake", "10m", "--bake-start", str(START), *args)


# --- one window: the measures ---------------------------------------------------------------

@pytest.mark.parametrize("scenario, error_rate", [("healthy", 0.002), ("flawless", 0.0)])
def test_a_healthy_canary_is_promoted(prometheus: Callable[[str], str], tmp_path: Path,
                                      scenario: str, error_rate: float) -> None:
    run = analyze(prometheus(scenario), tmp_path, 0, "--step", "5")
    assert "### ✅ Canary step 5%: PROMOTE" in run.stdout
    assert f"| error rate | {error_rate:.2%} | 0.10% | ≤ 1.00% | ✅ ok |" in run.stdout
    assert "| p95 latency | 183 ms | 183 ms | ≤ 300 ms | ✅ ok |" in run.stdout
    assert "| cost per request | 0.0021 (+5.0%) | 0.002 | ≤ +10.00% vs baseline | ✅ ok |" in run.stdout
    assert run.report["decision"] == "promote" and run.report["reasons"] == []
    assert run.report["windows"][0]["requests"] == pytest.approx(600)  # 10/s over 1m
    assert run.measure("error_rate")["canary"] == pytest.approx(error_rate)
    assert run.measure("error_rate")["baseline"] == pytest.approx(0.001)
    assert run.measure("p95_ms")["canary"] == pytest.approx(FAST_P95_MS, abs=0.001)
    assert run.measure("cost_regression")["value"] == pytest.approx(0.05)


@pytest.mark.parametrize("scenario, reason", [
    ("error spike", "canary error rate 5.00% > 1.00% (error_rate)"),
    ("latency regression", "canary p95 778 ms > 300 ms (p95_ms)"),
    ("beyond the top bucket", "canary p95 +Inf > 300 ms (p95_ms)"),
    ("cost regression", "canary cost per request +25.0% vs baseline > +10.00% (cost_regression)"),
    ("-Inf latency", "invalid p95_ms: Prometheus answered -inf, which no p95_ms can be"),
    ("negative latency", "invalid p95_ms: Prometheus answered -1.0, which no p95_ms can be"),
])
def test_a_regression_or_an_impossible_value_rolls_back(prometheus: Callable[[str], str],
                                                        tmp_path: Path, scenario: str, reason: str) -> None:
    run = analyze(prometheus(scenario), tmp_path, 1, "--step", "5")
    assert "### ❌ Canary step 5%: ROLLBACK\n" in run.stdout
    assert run.report["decision"] == "rollback" and run.report["inconclusive"] is False
    assert run.report["windows"][0]["reasons"] == [reason]  # the other two measures passed
    assert reason in run.report["reasons"][0]


def test_a_canary_without_traffic_is_inconclusive_and_rolls_back(prometheus: Callable[[str], str],
                                                                 tmp_path: Path) -> None:
    run = analyze(prometheus("idle"), tmp_path, 1)
    assert "### ❌ Canary: ROLLBACK (inconclusive: failing safe)" in run.stdout
    assert run.report["inconclusive"] is True and run.verdicts == ["inconclusive"]
    assert run.report["windows"][0]["reasons"] == [
        "inconclusive: 0 requests in the 1m window, fewer than min_requests 50"]


# --- the 100% step: the previous version's own record ---------------------------------------

def test_the_100_percent_step_compares_cost_with_the_recorded_baseline(
        prometheus: Callable[[str], str], tmp_path: Path) -> None:
    run = analyze(prometheus("full traffic"), tmp_path, 0, "--step", "100",
                  "--baseline-at", str(START), *bake())
    assert run.report["decision"] == "promote" and run.verdicts == ["passed"] * 10
    cost = run.measure("cost_regression")
    assert cost["baseline"] == pytest.approx(0.002) and cost["value"] == pytest.approx(0.05)
    assert cost["queries"]["baseline"] == (
        f'sum(rate(llm_cost_usd_total{{track="baseline"}}[1m] @ {START})) '
        f'/ sum(rate(http_requests_total{{track="baseline"}}[1m] @ {START}))')
    assert f"(recorded before the rollout, @ {START})" in run.stdout


def test_the_100_percent_step_without_a_record_is_inconclusive_or_uses_the_budget(
        prometheus: Callable[[str], str], tmp_path: Path) -> None:
    # The live baseline has served nothing since START: never a pass on that.
    run = analyze(prometheus("full traffic"), tmp_path, 1, "--step", "100", *bake())
    assert run.report["inconclusive"] is True and run.verdicts == ["inconclusive"] * 3
    assert "the baseline has fewer than 50 requests recorded" in run.report["reasons"][0]
    budget = RULES_JSON[:-1] + ', "cost_per_request": 0.0025}'
    run = analyze(prometheus("full traffic"), tmp_path, 0, "--step", "100", "--rollback-on", budget,
                  *bake())
    assert run.measure("cost_regression")["note"] == \
        "judged against the absolute budget (no recorded baseline)"
    tight = RULES_JSON[:-1] + ', "cost_per_request": 0.002}'
    run = analyze(prometheus("full traffic"), tmp_path, 1, "--step", "100", "--rollback-on", tight,
                  *bake())
    assert "canary cost per request 0.0021 > 0.002 (cost_per_request)" in run.report["reasons"][0]


# --- the bake: failure limits, consecutive failures, minimum requests -----------------------

def test_one_blip_in_a_ten_minute_bake_does_not_roll_back(prometheus: Callable[[str], str],
                                                          tmp_path: Path) -> None:
    run = analyze(prometheus("one blip"), tmp_path, 0, "--step", "25", *bake())
    assert run.verdicts == ["passed"] * 5 + ["failed"] + ["passed"] * 4
    assert run.report["windows"][5]["reasons"] == ["canary error rate 30.00% > 1.00% (error_rate)"]
    assert run.report["windows"][5]["at"] == START + 360


def test_sustained_errors_roll_back_on_the_third_failed_window_in_a_row(
        prometheus: Callable[[str], str], tmp_path: Path) -> None:
    run = analyze(prometheus("sustained errors"), tmp_path, 1, "--step", "25", *bake())
    assert run.verdicts == ["passed"] * 5 + ["failed"] * 3  # stopped: no more evidence needed
    assert run.report["reasons"][0].startswith("3 failed window(s) in a row (consecutive_failures 3)")
    assert "canary error rate 5.00% > 1.00% (error_rate)" in run.report["reasons"][0]


def test_one_failed_request_of_ten_is_inconclusive_not_a_ten_percent_error_rate(
        prometheus: Callable[[str], str], tmp_path: Path) -> None:
    run = analyze(prometheus("ten requests"), tmp_path, 0, "--step", "5", *bake())
    assert run.verdicts == ["passed"] * 5 + ["inconclusive"] + ["passed"] * 4
    alone = analyze(prometheus("ten requests"), tmp_path, 1, "--step", "5",
                    "--bake-start", str(NOW - 240))  # that window alone
    assert alone.report["inconclusive"] is True
    assert alone.report["windows"][0]["reasons"] == [
        "inconclusive: 10 requests in the 1m window, fewer than min_requests 50"]
    assert alone.report["windows"][0]["measures"] == []  # no error rate is read from ten requests


# --- the nightly re-analysis of the live version --------------------------------------------

def test_the_nightly_analysis_reads_the_live_version_not_the_canary_track(
        prometheus: Callable[[str], str], tmp_path: Path) -> None:
    run = analyze(prometheus("live healthy"), tmp_path, 0, "--live", "--window", "5m")
    assert "### ✅ Live version: HEALTHY" in run.stdout
    assert run.measure("error_rate")["queries"] == {"canary": (
        '(sum(rate(http_requests_total{status=~"5.."}[5m])) or vector(0)) '
        '/ sum(rate(http_requests_total{}[5m]))')}
    assert run.measure("cost_regression")["status"] == "skipped"
    analyze(prometheus("live healthy"), tmp_path, 0, "--live", "--live-track", "stable")
    gone = analyze(prometheus("live healthy"), tmp_path, 1, "--live", "--live-track", "canary")
    assert gone.report["inconclusive"] is True  # a track that is not there is never a pass
    budget = RULES_JSON[:-1] + ', "cost_per_request": 0.002}'
    over = analyze(prometheus("live healthy"), tmp_path, 1, "--live", "--rollback-on", budget)
    assert "canary cost per request 0.0021 > 0.002 (cost_per_request)" in over.report["reasons"][0]


def test_the_nightly_analysis_fails_a_degraded_live_version(prometheus: Callable[[str], str],
                                                            tmp_path: Path) -> None:
    run = analyze(prometheus("live degraded"), tmp_path, 1, "--live", "--window", "5m")
    assert run.report["reasons"] == ["canary error rate 3.00% > 1.00% (error_rate)"]


@pytest.mark.parametrize("required, outcome", [("1", pytest.fail.Exception), ("", pytest.skip.Exception)])
def test_missing_binaries_skip_unless_required(monkeypatch: pytest.MonkeyPatch, required: str,
                                               outcome: type[BaseException]) -> None:
    monkeypatch.setattr(real_prometheus, "_find", lambda name: None)
    monkeypatch.setenv(real_prometheus.REQUIRE_ENV, required)
    with pytest.raises(outcome, match="prometheus and promtool not on PATH or in /usr/bin: install"):
        real_prometheus.require_binaries()
