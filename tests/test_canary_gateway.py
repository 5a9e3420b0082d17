"""`provider: gateway-api`: harden-ci's job shifts an HTTPRoute's backend weights itself.

The companion route must validate against the HTTPRoute schema published with Gateway API
(harden_ci/data/schemas, provenance in sources.json). The canary job runs as rendered
(tests/test_scripts.py's Runner: each `run:` block with its own `env:`), against a fake
kubectl (tests/fixtures/scripts/bin/kubectl) that applies each JSON patch to a route file
as the API server does, refusing the whole patch when a `test` operation fails; the
analysis steps run the real `canary-analyze` against a real Prometheus backfilled with the
scenarios of tests/test_canary_real_prometheus.py. The same scenarios through
`provider: command` must end in the same decisions: the gateway flow calls the same gate.
"""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import real_prometheus
import test_canary_real_prometheus as real
from ruamel.yaml import YAML
from test_canary_argo import problems, schema
from test_scripts import Runner, rendered, rendered_files

from harden_ci.errors import SpecError
from harden_ci.marker import MARKER_PREFIX
from harden_ci.pipeline import load
from harden_ci.plan.stages.delivery import ROLLBACK_IF

prometheus = real_prometheus.servers_fixture(real.SCENARIOS, lambda: real.NOW)


@pytest.fixture(scope="module", autouse=True)
def _fresh_now() -> None:
    real.refresh_now()


ROUTE = {"name": "web", "namespace": "shop", "parent": "public", "stable_service": "web-stable",
         "canary_service": "web-canary", "port": 8080}
BAKE_S = 60  # one analysis window a step, judged at once on the backfilled data


def spec(provider: str = "gateway-api", prometheus_url: str = "http://127.0.0.1:9",
         **canary: Any) -> dict[str, Any]:
    shifter: dict[str, Any] = {"route": ROUTE} if provider == "gateway-api" else {"shift": "./shift.sh"}
    return {
        "version": 1, "project": {"name": "shop", "registry": "ghcr.io/acme"},
        "services": {"web": {"path": "web", "language": "python", "dockerfile": "web/Dockerfile"}},
        "gates": {"secret_scan": {}},
        "environments": {"production": {"deploy": "./deploy.sh", "url": "https://shop.example.com"}},
        "delivery": {"canary": {
            "environment": "production", "provider": provider, **shifter,
            "steps": [5, 25, 100], "bake": f"{BAKE_S}s",
            "metrics": {"prometheus": prometheus_url, "cost_metric": "llm_cost_usd_total"},
            "rollback_on": {"error_rate": 0.01, "p95_ms": 300, "cost_regression": 0.1},
            **canary}},
        "harden_ci": {"git": {"url": "https://github.com/acme/harden-ci",
                              "commit": "0123456789abcdef0123456789abcdef01234567"}},
    }


def companion_route(files: dict[str, str]) -> dict[str, Any]:
    text = files["harden-ci/gateway-httproute.yaml"]
    assert text.startswith(MARKER_PREFIX)  # harden-ci owns it: the drift guard covers it
    loaded: dict[str, Any] = YAML(typ="safe").load(text)
    return loaded


# --- the companion route ----------------------------------------------------------------

def test_the_route_validates_and_starts_at_stable_100() -> None:
    route = companion_route(rendered_files(spec()))
    assert problems(route, schema("gateway-api-httproute.json")) == []
    assert route["apiVersion"] == "gateway.networking.k8s.io/v1" and route["kind"] == "HTTPRoute"
    assert route["metadata"] == {"name": "web", "namespace": "shop"}
    assert route["spec"]["parentRefs"] == [
        {"group": "gateway.networking.k8s.io", "kind": "Gateway", "name": "public"}]
    assert route["spec"]["rules"] == [{"backendRefs": [
        {"group": "", "kind": "Service", "name": "web-stable", "port": 8080, "weight": 100},
        {"group": "", "kind": "Service", "name": "web-canary", "port": 8080, "weight": 0}]}]


def test_a_mesh_route_attaches_to_a_service() -> None:
    mesh = {**ROUTE, "parent": "web", "parent_kind": "Service", "parent_namespace": "shop"}
    route = companion_route(rendered_files(spec(route=mesh)))
    assert problems(route, schema("gateway-api-httproute.json")) == []
    assert route["spec"]["parentRefs"] == [
        {"group": "", "kind": "Service", "name": "web", "namespace": "shop"}]


def test_the_schema_check_is_not_vacuous() -> None:
    httproute = schema("gateway-api-httproute.json")
    route = companion_route(rendered_files(spec()))
    refs = route["spec"]["rules"][0]["backendRefs"]
    refs[0]["weight"] = "100"  # a weight is an integer
    refs[1]["weight"] = 1_000_001  # at most 1,000,000
    del refs[1]["name"]
    found = problems(route, httproute)
    for where in ("backendRefs/0/weight", "backendRefs/1/weight", "backendRefs/1"):
        assert any(f"spec/rules/0/{where}:" in p for p in found), (where, found)


def test_only_gateway_api_writes_a_route() -> None:
    assert "harden-ci/gateway-httproute.yaml" not in rendered_files(spec("command"))


# --- the spec: located refusals ---------------------------------------------------------

def _refusal(tmp_path: Path, document: dict[str, Any]) -> str:
    path = tmp_path / "harden-ci.yaml"
    path.write_text(json.dumps(document, indent=1), "utf-8")  # JSON is YAML: lines to locate
    with pytest.raises(SpecError) as caught:
        load(path)
    return str(caught.value)


@pytest.mark.parametrize("change, message", [
    ({"route": None}, "`provider: gateway-api` needs `route:"),
    ({"route": {**ROUTE, "canary_service": "web-stable"}}, "must be two Services"),
    ({"route": {**ROUTE, "stable_service": "Web_Stable"}}, "stable_service"),
    ({"route": {**ROUTE, "port": 0}}, "port"),
    ({"provider": "command", "shift": "./shift.sh"}, "`route` is for `provider: gateway-api`"),
])
def test_a_bad_route_is_refused_where_it_is_written(tmp_path: Path, change: dict[str, Any],
                                                    message: str) -> None:
    document = spec()
    canary = document["delivery"]["canary"]
    canary.update(change)
    if canary["route"] is None:
        del canary["route"]
    text = _refusal(tmp_path, document)
    assert message in text and "harden-ci.yaml:" in text and "delivery.canary" in text, text


def test_the_gateway_needs_the_environment_s_deploy(tmp_path: Path) -> None:
    # A command environment always has one; a kind environment need not.
    document = spec()
    document["environments"]["production"] = {
        "provider": "kind", "per_pull_request": True, "manifests": "k8s",
        "port_forward": "svc/web 8080:80", "url": "http://localhost:8080"}
    text = _refusal(tmp_path, document)
    assert "needs environment `production` to have a `deploy` command" in text, text
    assert "delivery.canary.provider" in text, text


# --- the canary job, run as rendered ----------------------------------------------------

@dataclass
class Job:
    """One canary job's run: steps in order, `if:` as GitHub reads the two harden-ci writes."""

    runner: Runner
    ran: dict[str, int] = field(default_factory=dict)  # step name → exit code

    def run(self, steps: list[dict[str, Any]], *, cancel_at: str | None = None) -> None:
        failed = cancelled = False
        for step in steps:
            if step["name"] == cancel_at:
                cancelled = True  # the run is cancelled while this step would run
            condition = step.get("if")
            assert condition in (None, ROLLBACK_IF, "${{ !cancelled() }}"), condition
            if condition == ROLLBACK_IF:
                runs = failed or cancelled
            elif condition is None:
                runs = not (failed or cancelled)
            else:
                runs = not cancelled
            # Actions (checkout, setup-kubectl, upload) and the hashed install do not run
            # here: kubectl is the fake, harden-ci the wrapper around this checkout's.
            if not runs or "uses" in step or step["name"].startswith("Install harden-ci"):
                continue
            step = self._judged_now(step)
            result = self.runner.run(step, self._expressions(step))
            self.ran[step["name"]] = result.returncode
            if result.returncode != 0:
                failed = True

    @staticmethod
    def _judged_now(step: dict[str, Any]) -> dict[str, Any]:
        # The data is backfilled up to the module's NOW: the bake's window is the one that
        # ended then, so the gate judges it at once instead of waiting a live minute.
        if "HARDEN_CI_CANARY_STEP" not in step.get("env", {}):
            return step
        return {**step, "env": {**step["env"], "HARDEN_CI_CANARY_BAKE_START": str(real.NOW - BAKE_S)}}

    @staticmethod
    def _expressions(step: dict[str, Any]) -> dict[str, str]:
        values = {}
        for key, value in (step.get("env") or {}).items():
            if "${{" not in str(value):
                continue
            if "steps.rollout-start.outputs.at" in value:
                values[key] = str(real.NOW)  # the rollout began at the data's "now"
            elif "needs.image-digests.outputs.digests" in value:
                values[key] = "sha256:" + "0" * 64  # a placeholder; deploy.sh only logs it
            else:
                raise AssertionError(f"{step['name']}: no value for {key}={value}")
        return values


@pytest.fixture
def runner(tmp_path: Path) -> Runner:
    runner = Runner(tmp_path)
    runner.install_harden_ci()
    for name, line in (("deploy.sh", 'echo "${HARDEN_CI_CANARY:-unset}" >> deploys.log'),
                       ("shift.sh", 'echo "$HARDEN_CI_CANARY_WEIGHT" >> weights.log')):
        script = runner.workspace / name
        script.write_text(f"#!/bin/sh\n{line}\n", "utf-8")
        script.chmod(0o755)
    runner.fake("kubectl")
    return runner


def _lines(path: Path) -> list[str]:
    return path.read_text("utf-8").splitlines() if path.exists() else []


@dataclass(frozen=True)
class Outcome:
    decisions: dict[int, str]  # canary step → the gate's decision
    traffic: list[int]  # the canary's share after each change, as the shifter saw it
    deploys: list[str]  # HARDEN_CI_CANARY of each deploy
    rolled_back: bool


def canary_run(runner: Runner, provider: str, url: str, *, cancel_at: str | None = None,
               route: dict[str, Any] | None = None) -> tuple[Job, Outcome]:
    files = rendered_files(spec(provider, url))
    if provider == "gateway-api":
        folder = runner.bin / "httproutes" / "shop"
        folder.mkdir(parents=True)
        (folder / "web.json").write_text(json.dumps(route or companion_route(files)), "utf-8")
    steps = rendered(spec(provider, url))["harden-ci-release.yml"]["jobs"]["canary"]["steps"]
    job = Job(runner)
    job.run(steps, cancel_at=cancel_at)
    decisions = {}
    for percent in (5, 25, 100):
        report = runner.workspace / f"canary-{percent}.json"
        if report.exists():
            decisions[percent] = json.loads(report.read_text("utf-8"))["decision"]
    if provider == "gateway-api":
        history = [json.loads(line) for line in _lines(runner.bin / "httproutes.history")]
        assert all(refs[0]["weight"] + refs[1]["weight"] == 100 for refs in history), history
        traffic = [refs[1]["weight"] for refs in history]
    else:
        traffic = [int(w) for w in _lines(runner.workspace / "weights.log")]
    rollback = "Roll back (the rollout failed or was cancelled)"
    return job, Outcome(decisions, traffic, _lines(runner.workspace / "deploys.log"), rollback in job.ran)


@pytest.mark.parametrize("provider", ["command", "gateway-api"])
@pytest.mark.parametrize("scenario, decision", [
    ("healthy", "promote"), ("error spike", "rollback"), ("latency regression", "rollback"),
    ("cost regression", "rollback")])
def test_the_scenarios_decide_alike_through_either_provider(
        prometheus: Any, runner: Runner, provider: str, scenario: str, decision: str) -> None:
    job, outcome = canary_run(runner, provider, prometheus(scenario))
    if decision == "promote":
        assert outcome.decisions == {5: "promote", 25: "promote", 100: "promote"}, job.ran
        assert not outcome.rolled_back and set(job.ran.values()) == {0}, job.ran
        # command: the user's shift ends at 100. gateway-api: the canary takes 100, stable
        # is redeployed with the new digest, and the route is back at stable 100.
        expected = ([5, 25, 100], ["true"]) if provider == "command" else \
            ([5, 25, 100, 0], ["true", "false"])
    else:
        assert outcome.decisions == {5: "rollback"}, job.ran
        assert job.ran["Bake and analyse at 5%"] == 1 and outcome.rolled_back, job.ran
        assert job.ran["Roll back (the rollout failed or was cancelled)"] == 0, job.ran
        expected = ([5, 0], ["true"])  # the rollback puts every request back on stable
    assert (outcome.traffic, outcome.deploys) == expected


def test_a_cancelled_run_puts_the_route_back_on_stable(prometheus: Any, runner: Runner) -> None:
    job, outcome = canary_run(runner, "gateway-api", prometheus("healthy"),
                              cancel_at="Bake and analyse at 25%")
    assert outcome.decisions == {5: "promote"} and outcome.rolled_back, job.ran
    assert outcome.traffic == [5, 25, 0] and outcome.deploys == ["true"]
    summary = runner.summary.read_text("utf-8")
    assert "## Canary rolled back" in summary and "sends all traffic to web-stable again" in summary


@pytest.mark.parametrize("edit", [
    lambda refs: refs[1].update(name="web-next"),  # someone pointed the canary elsewhere
    lambda refs: refs.reverse(),  # the two Services swapped places
    lambda refs: refs[0].update(port=9090),
])
def test_a_route_changed_by_hand_is_never_rewritten(prometheus: Any, runner: Runner,
                                                    edit: Any) -> None:
    route = companion_route(rendered_files(spec()))
    edit(route["spec"]["rules"][0]["backendRefs"])
    job, outcome = canary_run(runner, "gateway-api", prometheus("healthy"), route=route)
    stored = json.loads((runner.bin / "httproutes" / "shop" / "web.json").read_text("utf-8"))
    assert stored == route and outcome.traffic == []  # nothing was written, not even by the rollback
    assert job.ran["Shift 5% of traffic to the canary (HTTPRoute weights)"] == 1, job.ran
    assert "Bake and analyse at 5%" not in job.ran and outcome.decisions == {}
    assert job.ran["Roll back (the rollout failed or was cancelled)"] == 1  # refused as well
    patches = [call for call in runner.calls("kubectl") if call[:2] == ["patch", "httproute"]]
    assert len(patches) == 2 and all("--type=json" in call for call in patches)
    operations = json.loads(patches[0][patches[0].index("--patch") + 1])
    assert [op["op"] for op in operations] == ["test"] * 4 + ["add"] * 2


def test_explain_says_the_job_shifts_the_traffic(tmp_path: Path) -> None:
    path = tmp_path / "harden-ci.yaml"
    path.write_text(json.dumps(spec(), indent=1), "utf-8")
    done = subprocess.run([sys.executable, "-m", "harden_ci", "explain", str(path)],
                          capture_output=True, text=True, encoding="utf-8", timeout=120, check=True)
    row = next(line for line in done.stdout.splitlines() if "`delivery.canary.provider`" in line)
    assert "harden-ci's job, patching the weights of HTTPRoute \\`shop/web\\`" in row, row
    assert "no controller: the rollback to stable 100% runs in the job, unlike argo-rollouts" in row
