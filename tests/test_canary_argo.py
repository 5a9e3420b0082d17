"""Argo Rollouts as the delivery engine: the generated AnalysisTemplate and strategy patch.

They must validate against the resources' published schemas (harden_ci/data/schemas, from
the CRDs at the tags in sources.json), and the template's PromQL and conditions, evaluated
by a real Prometheus on the scenarios of tests/test_canary_real_prometheus.py, must give the
verdicts canary-analyze gives on the same window.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import real_prometheus
import test_canary_real_prometheus as real
from ruamel.yaml import YAML

from harden_ci.gates.canary_prometheus import Prometheus
from harden_ci.marker import MARKER_PREFIX
from harden_ci.model.delivery import Canary
from harden_ci.pipeline import render_spec
from harden_ci.plan.stages import delivery_argo

prometheus = real_prometheus.servers_fixture(real.SCENARIOS, lambda: real.NOW)


@pytest.fixture(scope="module", autouse=True)
def _fresh_now() -> None:
    real.refresh_now()
SPEC = Path(__file__).resolve().parent / "fixtures" / "specs" / "valid" / "every_section.yaml"
SCHEMAS = resources.files("harden_ci") / "data" / "schemas"


def schema(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((SCHEMAS / name).read_text("utf-8"))
    return loaded


def problems(document: Any, schema_doc: dict[str, Any]) -> list[str]:
    validator = jsonschema.Draft7Validator(schema_doc)
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(document)]


@pytest.fixture(scope="module")
def rendered() -> dict[str, str]:
    return render_spec(SPEC).files


def _document(rendered: dict[str, str], kind: str) -> dict[str, Any]:
    name = next(n for n in rendered if n.startswith("harden-ci/argo-") and n.endswith(f"-{kind}.yaml"))
    text = rendered[name]
    assert text.startswith(MARKER_PREFIX)  # the marker first, as on every file harden-ci owns
    loaded: dict[str, Any] = YAML(typ="safe").load(text)
    return loaded


def test_the_schemas_record_where_they_come_from() -> None:
    sources = json.loads((SCHEMAS / "sources.json").read_text("utf-8"))
    assert set(sources) == {"argo-rollouts-rollout.json", "argo-rollouts-analysistemplate.json",
                            "gateway-api-httproute.json"}
    for entry in sources.values():
        assert entry["tag"].startswith("v") and len(entry["commit"]) == 40


def test_the_analysis_template_validates_and_carries_the_rules(rendered: dict[str, str]) -> None:
    template = _document(rendered, "analysis")
    assert problems(template, schema("argo-rollouts-analysistemplate.json")) == []
    assert template["kind"] == "AnalysisTemplate" and template["metadata"]["name"] == "web-harden-ci"
    metrics = {m["name"]: m for m in template["spec"]["metrics"]}
    assert set(metrics) >= {"error-rate", "p95-ms", "p95-beyond-top-bucket"}
    for metric in metrics.values():
        assert metric["failureLimit"] == 2 and metric["inconclusiveLimit"] == 2
        assert "and on() ((sum(increase(" in metric["provider"]["prometheus"]["query"]
        assert "isNaN(result[0]) || isInf(result[0]) || result[0] < 0" in metric["failureCondition"]


def test_the_strategy_patch_validates_with_the_spec_steps(rendered: dict[str, str]) -> None:
    patch = _document(rendered, "strategy")
    strategy_schema = schema("argo-rollouts-rollout.json")["properties"]["spec"]["properties"]["strategy"]
    assert problems(patch["spec"]["strategy"], strategy_schema) == []
    canary = patch["spec"]["strategy"]["canary"]
    assert canary["steps"] == [
        {"setWeight": 1}, {"pause": {"duration": "90s"}}, {"setWeight": 5}, {"pause": {"duration": "90s"}},
        {"setWeight": 25}, {"pause": {"duration": "90s"}}, {"setWeight": 50}, {"pause": {"duration": "90s"}}]
    assert canary["analysis"] == {"templates": [{"templateName": "web-harden-ci"}], "startingStep": 1}
    assert canary["canaryMetadata"] == {"labels": {"track": "canary"}}


def test_the_schema_check_is_not_vacuous(rendered: dict[str, str]) -> None:
    template = _document(rendered, "analysis")
    template["spec"]["metrics"][0]["interval"] = 60  # a duration is a string
    del template["spec"]["metrics"][1]["provider"]
    found = problems(template, schema("argo-rollouts-analysistemplate.json"))
    assert any(p.startswith("spec/metrics/0/interval") for p in found), found
    patch = _document(rendered, "strategy")
    patch["spec"]["strategy"]["canary"]["steps"][0] = {"setWeight": "five"}
    strategy_schema = schema("argo-rollouts-rollout.json")["properties"]["spec"]["properties"]["strategy"]
    assert problems(patch["spec"]["strategy"], strategy_schema)


def test_the_workflow_hands_the_rollout_to_the_controller(rendered: dict[str, str]) -> None:
    release = YAML(typ="safe").load(rendered["harden-ci-release.yml"])
    names = [s["name"] for s in release["jobs"]["canary"]["steps"]]
    assert "Give the Rollout its canary steps and analysis" in names
    assert "Follow the Rollout through its steps (Argo Rollouts analyses them)" in names
    assert not any(n.startswith(("Promote the rollout", "Bake and analyse")) for n in names)


# --- the same verdicts as canary-analyze on a real Prometheus -------------------------------

def _condition(text: str, result: list[float]) -> bool:
    """Argo's expr conditions as harden-ci writes them, read by Python."""
    python = (text.replace("&&", " and ").replace("||", " or ").replace("!(", " not (")
              .replace("isNaN", "math.isnan").replace("isInf", "math.isinf"))
    return bool(eval(python, {"math": math, "len": len, "__builtins__": {}}, {"result": result}))


def argo_verdict(template: dict[str, Any], prom: Prometheus, at: float) -> str:
    verdicts = []
    for metric in template["spec"]["metrics"]:
        value = prom.query(metric["provider"]["prometheus"]["query"], at)
        result = [] if value is None else [value]
        if _condition(metric["failureCondition"], result):
            verdicts.append("failed")
        elif _condition(metric["successCondition"], result):
            verdicts.append("passed")
        else:
            verdicts.append("inconclusive")
    return "failed" if "failed" in verdicts else "inconclusive" if "inconclusive" in verdicts else "passed"


@pytest.mark.parametrize("scenario, seconds_before_now, verdict", [
    ("healthy", 0, "passed"),
    ("error spike", 0, "failed"),
    ("latency regression", 0, "failed"),
    ("beyond the top bucket", 0, "failed"),
    ("cost regression", 0, "failed"),
    ("-Inf latency", 0, "failed"),
    ("ten requests", 240, "inconclusive"),
    ("one blip", 240, "failed"),
    ("one blip", 180, "passed"),
])
def test_the_template_gives_canary_analyzes_verdicts(prometheus: Callable[[str], str], tmp_path: Path,
                                                     scenario: str, seconds_before_now: int,
                                                     verdict: str) -> None:
    # An offset, not a time, in the parameters: xdist workers collect at different seconds.
    at = real.NOW - seconds_before_now
    spec = Canary.model_validate({
        "environment": "production", "provider": "argo-rollouts", "rollout": "web",
        "metrics": {"prometheus": "https://prom.example.com", "cost_metric": "llm_cost_usd_total"},
        "rollback_on": {"error_rate": 0.01, "p95_ms": 300, "cost_regression": 0.1}})
    url = prometheus(scenario)
    template = delivery_argo.analysis_template(spec)
    assert argo_verdict(template, Prometheus(url, attempts=1), at) == verdict
    gate = real.analyze(url, tmp_path, 0 if verdict == "passed" else 1, "--bake-start", str(at))
    assert gate.verdicts == [verdict]
