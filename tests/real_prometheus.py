"""A real Prometheus for the tests, on 127.0.0.1 (a helper for tests, not a test file).

`openmetrics()` writes the series a service would expose (requests by track and status, a
latency histogram, a cost counter) as OpenMetrics with explicit timestamps around *now*;
`PrometheusServer.start()` loads them with `promtool tsdb create-blocks-from openmetrics`
into a fresh data directory and starts `prometheus` on a free port, with no scrape jobs.

Why the data reaches into the future: the gate sends instant queries at the server's "now",
and `rate(x[5m])` extrapolates only a little past the last sample, so a series that ended
when it was written would read lower with every second the tests take. Samples every 15 s
from `before_s` ago to `after_s` ahead keep every 5m window full while the tests run.
Counters grow linearly, so each rate, ratio and histogram_quantile is exact.

The binaries come from Debian's `prometheus` package (scripts/test.sh installs it). Missing
binaries skip the tests, unless HARDEN_CI_REQUIRE_PROMETHEUS is set: then they fail.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

REQUIRE_ENV = "HARDEN_CI_REQUIRE_PROMETHEUS"
INSTALL_HINT = ("install Debian's `prometheus` package, which ships `prometheus` and `promtool` "
                "(apt-get install --no-install-recommends prometheus; scripts/test.sh does it)")
STEP_S = 15
READY_TIMEOUT_S = 30.0
PORT_ATTEMPTS = 3  # a free port can be taken between probing it and Prometheus binding it


@dataclass(frozen=True)
class Binaries:
    prometheus: str
    promtool: str


def _find(name: str) -> str | None:
    found = shutil.which(name)
    if found is None and os.access(f"/usr/bin/{name}", os.X_OK):
        found = f"/usr/bin/{name}"  # PATH may be a venv's only
    return found


def require_binaries() -> Binaries:
    """prometheus and promtool; skips the calling tests without them (fails if required)."""
    found = {name: _find(name) for name in ("prometheus", "promtool")}
    missing = [name for name, path in found.items() if path is None]
    if missing:
        message = f"{' and '.join(missing)} not on PATH or in /usr/bin: {INSTALL_HINT}"
        if os.environ.get(REQUIRE_ENV):
            pytest.fail(f"{REQUIRE_ENV} is set but {message}", pytrace=False)
        pytest.skip(message)
    prometheus, promtool = found["prometheus"], found["promtool"]
    assert prometheus is not None and promtool is not None
    return Binaries(prometheus, promtool)


@dataclass(frozen=True)
class Track:
    """What one track (canary or baseline) serves, per second, at a steady rate."""

    requests_per_s: float
    error_share: float  # the share answered 500 (the rest 200)
    latency: tuple[tuple[str, float], ...]  # (le, share of requests at most that many seconds)
    cost_per_request: float  # US dollars


Plan = Track | Callable[[int], Track]
"""A steady track, or what it serves at each moment (seconds from `now`, negative in the past)."""


def _at(plan: Plan, offset: int) -> Track:
    return plan(offset) if callable(plan) else plan


def _counter(lines: list[str], name: str, labels: str, per_s: Callable[[int], float],
             times: range, now: int) -> None:
    """A counter growing at `per_s(offset)` in each STEP_S, sampled at every time."""
    total = 0.0
    for t in times:
        lines.append(f"{name}{{{labels}}} {total!r} {t}")
        total += per_s(t - now) * STEP_S


def openmetrics(tracks: Mapping[str, Plan], now: float, before_s: int = 900,
                after_s: int = 900) -> str:
    """OpenMetrics text of every track's series, sampled every STEP_S around `now`.

    The rate a sample adds is the one of the STEP_S after it, so a track that changes at an
    offset that is a multiple of STEP_S changes exactly there."""
    at = int(now) // STEP_S * STEP_S
    first = (at - before_s) // STEP_S * STEP_S
    times = range(first, at + after_s + 1, STEP_S)
    lines = ["# TYPE http_requests counter"]
    for track, plan in tracks.items():
        for status in ("200", "500"):
            if status == "500" and all(_at(plan, t - at).error_share == 0 for t in times):
                continue  # a status never answered has no series, as client libraries export it

            def rate(offset: int, plan: Plan = plan, status: str = status) -> float:
                spec = _at(plan, offset)
                share = spec.error_share if status == "500" else 1 - spec.error_share
                return spec.requests_per_s * share

            _counter(lines, "http_requests_total", f'track="{track}",status="{status}"', rate, times, at)
    # A histogram's samples of one timestamp belong together (one OpenMetrics MetricPoint).
    lines.append("# TYPE http_request_duration_seconds histogram")
    for track, plan in tracks.items():
        bounds = [le for le, _ in _at(plan, 0).latency]
        totals = dict.fromkeys(bounds, 0.0)
        served = 0.0
        for t in times:
            lines.extend(f'http_request_duration_seconds_bucket{{track="{track}",le="{le}"}} '
                         f"{totals[le]!r} {t}" for le in bounds)
            lines.append(f'http_request_duration_seconds_count{{track="{track}"}} {served!r} {t}')
            spec = _at(plan, t - at)
            for le, share in spec.latency:
                totals[le] += spec.requests_per_s * share * STEP_S
            served += spec.requests_per_s * STEP_S
    lines.append("# TYPE llm_cost_usd counter")
    for track, plan in tracks.items():
        def cost(offset: int, plan: Plan = plan) -> float:
            spec = _at(plan, offset)
            return spec.requests_per_s * spec.cost_per_request

        _counter(lines, "llm_cost_usd_total", f'track="{track}"', cost, times, at)
    lines.append("# EOF")
    return "\n".join(lines) + "\n"


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _ready(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/-/ready", timeout=1) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, TimeoutError, ConnectionError):
        return False


@dataclass
class PrometheusServer:
    url: str
    process: subprocess.Popen[bytes]
    log: Path

    @classmethod
    def start(cls, binaries: Binaries, series: str, workdir: Path) -> PrometheusServer:
        """Backfill `series` (OpenMetrics) into workdir/data and serve it on 127.0.0.1."""
        source, data = workdir / "series.om", workdir / "data"
        source.write_text(series, "utf-8")
        backfill = subprocess.run([binaries.promtool, "tsdb", "create-blocks-from", "openmetrics",
                                   str(source), str(data)],
                                  capture_output=True, text=True, timeout=120, check=False)
        if backfill.returncode != 0:
            raise RuntimeError(f"promtool backfill failed:\n{backfill.stdout}{backfill.stderr}")
        config = workdir / "prometheus.yml"
        config.write_text("global:\n  scrape_interval: 15s\n", "utf-8")  # no scrape jobs
        for attempt in range(PORT_ATTEMPTS):
            log = workdir / f"prometheus-{attempt}.log"
            port = _free_port()
            with log.open("wb") as sink:
                process = subprocess.Popen(
                    [binaries.prometheus, f"--config.file={config}", f"--storage.tsdb.path={data}",
                     f"--web.listen-address=127.0.0.1:{port}"],
                    stdin=subprocess.DEVNULL, stdout=sink, stderr=subprocess.STDOUT)
            server = cls(f"http://127.0.0.1:{port}", process, log)
            if server._wait_ready():
                return server
            server.stop()
            if "address already in use" not in log.read_text("utf-8", "replace"):
                break
        raise RuntimeError(f"prometheus did not become ready:\n{log.read_text('utf-8', 'replace')[-4000:]}")

    def _wait_ready(self) -> bool:
        deadline = time.monotonic() + READY_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                return False
            if _ready(self.url):
                return True
            time.sleep(0.1)
        return False

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)


def servers_fixture(scenarios: Mapping[str, Mapping[str, Plan]], now: Callable[[], float]) -> Any:
    """A module-scoped fixture: scenario → the URL of a Prometheus holding it, each started
    on first use and stopped with the module. `now` is read when a server starts: the
    data's "now" must be the module's, not the import's (a long suite reaches these
    tests many minutes after it imported them)."""

    @pytest.fixture(scope="module")
    def prometheus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[[str], str]]:
        binaries = require_binaries()
        servers: dict[str, PrometheusServer] = {}

        def url(scenario: str) -> str:
            if scenario not in servers:
                workdir = tmp_path_factory.mktemp(scenario.replace(" ", "-"))
                servers[scenario] = PrometheusServer.start(
                    binaries, openmetrics(scenarios[scenario], now()), workdir)
            return servers[scenario].url

        try:
            yield url
        finally:
            for server in servers.values():
                server.stop()

    return prometheus
