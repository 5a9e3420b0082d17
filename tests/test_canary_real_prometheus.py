"""`harden-ci gate canary-analyze` against a real Prometheus (Debian's `prometheus` package).

Each scenario is its own Prometheus on 127.0.0.1, backfilled with promtool (see
tests/real_prometheus.py), so the gate runs with its default options and sends exactly its
default PromQL (PROMQL in tests/test_gate_canary.py). The baseline is the same everywhere;
the canary is healthy (a few errors, or none at all), fails 5% of requests, answers slowly,
costs 25% more per request, or serves nothing. The fake Prometheus of
tests/test_gate_canary.py covers the error paths.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest
import real_prometheus
from real_prometheus import PrometheusServer, Track, openmetrics, require_binaries
from test_gate_canary import P95_GUARD, PROMQL, RULES_JSON

# (le, cumulative share): p95 interpolates inside the bucket holding the 95th percentile.
FAST = (("0.05", 0.5), ("0.1", 0.9), ("0.25", 0.99), ("0.5", 1.0), ("1", 1.0), ("+Inf", 1.0))
# 0.1 + (0.95 - 0.9) / (0.99 - 0.9) * (0.25 - 0.1) s
FAST_P95_MS = 183.333
SLOW = (("0.05", 0.1), ("0.1", 0.3), ("0.25", 0.6), ("0.5", 0.9), ("1", 0.99), ("+Inf", 1.0))

BASELINE = Track(requests_per_s=100, error_share=0.001, latency=FAST, cost_per_request=0.002)
HEALTHY = Track(requests_per_s=10, error_share=0.002, latency=FAST, cost_per_request=0.0021)
CANARIES = {
    "healthy": HEALTHY,
    "flawless": replace(HEALTHY, error_share=0),  # no 5xx series: `or vector(0)` must answer 0
    "error spike": replace(HEALTHY, error_share=0.05),
    "latency regression": replace(HEALTHY, latency=SLOW),  # p95 0.5 + 0.05 / 0.09 * 0.5 s
    # Buckets end at 250 ms, under the limit, but 40% of requests take longer: Prometheus's
    # p95 reads 250 ms, the top bound; the gate must see it as above every bucket.
    "beyond the top bucket": replace(HEALTHY, latency=(("0.05", 0.1), ("0.1", 0.3),
                                                       ("0.25", 0.6), ("+Inf", 1.0))),
    "cost regression": replace(HEALTHY, cost_per_request=0.0025),
    "idle": replace(HEALTHY, requests_per_s=0),  # its counters stand still: every ratio is 0/0
}


@pytest.fixture(scope="module")
def prometheus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[[str], str]]:
    """scenario → the URL of a Prometheus holding it; each is started on first use."""
    binaries = require_binaries()
    servers: dict[str, PrometheusServer] = {}

    def url(scenario: str) -> str:
        if scenario not in servers:
            series = openmetrics({"canary": CANARIES[scenario], "baseline": BASELINE}, time.time())
            workdir = tmp_path_factory.mktemp(scenario.replace(" ", "-"))
            servers[scenario] = PrometheusServer.start(binaries, series, workdir)
        return servers[scenario].url

    try:
        yield url
    finally:
        for server in servers.values():
            server.stop()


@dataclass(frozen=True)
class Run:
    stdout: str
    report: dict[str, Any]

    def measure(self, name: str) -> dict[str, Any]:
        return next(m for m in self.report["measures"] if m["name"] == name)


def analyze(url: str, cwd: Path, exit_code: int) -> Run:
    """The real CLI, as the release workflow calls it, with the spec's default rules; it
    must exit `exit_code` (0 promote, 1 roll back)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HARDEN_CI_", "GITHUB_"))}
    done = subprocess.run(
        [sys.executable, "-m", "harden_ci", "gate", "canary-analyze", "--prometheus", url,
         "--step", "5", "--rollback-on", RULES_JSON, "--cost-metric", "llm_cost_usd_total",
         "--attempts", "1", "--report", "report.json"],
        cwd=cwd, env=env, capture_output=True, text=True, encoding="utf-8", timeout=120, check=False)
    assert done.returncode == exit_code, done.stdout + done.stderr
    return Run(done.stdout, json.loads((cwd / "report.json").read_text("utf-8")))


@pytest.mark.parametrize("scenario, error_rate", [("healthy", 0.002), ("flawless", 0.0)])
def test_a_healthy_canary_is_promoted(prometheus: Callable[[str], str], tmp_path: Path,
                                      scenario: str, error_rate: float) -> None:
    run = analyze(prometheus(scenario), tmp_path, 0)
    assert "### ✅ Canary step 5%: PROMOTE" in run.stdout
    assert f"| error rate | {error_rate:.2%} | 0.10% | ≤ 1.00% | ✅ ok |" in run.stdout
    assert "| p95 latency | 183 ms | 183 ms | ≤ 300 ms | ✅ ok |" in run.stdout
    assert "| cost per request | 0.0021 (+5.0%) | 0.002 | ≤ +10.00% vs baseline | ✅ ok |" in run.stdout
    assert run.report["decision"] == "promote" and run.report["reasons"] == []
    for name, queries in PROMQL.items():
        guard = {"canary beyond the top bucket": P95_GUARD} if name == "p95_ms" else {}
        assert run.measure(name)["queries"] == {**queries, **guard}  # the default PromQL
    assert run.measure("error_rate")["canary"] == pytest.approx(error_rate)
    assert run.measure("error_rate")["baseline"] == pytest.approx(0.001)
    assert run.measure("p95_ms")["canary"] == pytest.approx(FAST_P95_MS, abs=0.001)
    assert run.measure("cost_regression")["value"] == pytest.approx(0.05)


@pytest.mark.parametrize("scenario, reason", [
    ("error spike", "canary error rate 5.00% > 1.00% (error_rate)"),
    ("latency regression", "canary p95 778 ms > 300 ms (p95_ms)"),
    ("beyond the top bucket", "canary p95 +Inf > 300 ms (p95_ms)"),
    ("cost regression", "canary cost per request +25.0% vs baseline > +10.00% (cost_regression)"),
])
def test_a_regression_rolls_back_with_the_reason(prometheus: Callable[[str], str], tmp_path: Path,
                                                 scenario: str, reason: str) -> None:
    run = analyze(prometheus(scenario), tmp_path, 1)
    assert "### ❌ Canary step 5%: ROLLBACK\n" in run.stdout
    assert f"Rolled back because:\n- {reason}\n" in run.stdout
    assert run.report["decision"] == "rollback" and run.report["no_data"] is False
    assert run.report["reasons"] == [reason]  # the other two measures passed


def test_a_canary_without_traffic_rolls_back_as_no_data(prometheus: Callable[[str], str],
                                                        tmp_path: Path) -> None:
    # Real Prometheus answers NaN for 0/0 (and for histogram_quantile over no observations).
    run = analyze(prometheus("idle"), tmp_path, 1)
    assert "### ❌ Canary step 5%: ROLLBACK (no data: failing safe)" in run.stdout
    assert run.report["no_data"] is True
    assert run.report["reasons"] == [f"no data for {name}: canary: no data in the last 5m"
                                     for name in ("error_rate", "p95_ms", "cost_regression")]
    assert run.measure("error_rate")["baseline"] == pytest.approx(0.001)


@pytest.mark.parametrize("required, outcome", [("1", pytest.fail.Exception), ("", pytest.skip.Exception)])
def test_missing_binaries_skip_unless_required(monkeypatch: pytest.MonkeyPatch, required: str,
                                               outcome: type[BaseException]) -> None:
    monkeypatch.setattr(real_prometheus, "_find", lambda name: None)
    monkeypatch.setenv(real_prometheus.REQUIRE_ENV, required)
    with pytest.raises(outcome, match="prometheus and promtool not on PATH or in /usr/bin: install"):
        real_prometheus.require_binaries()
