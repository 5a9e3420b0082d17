"""`harden-ci sbom`: the BOM of the pipeline's own supply chain validates against the
CycloneDX 1.6 schema (cyclonedx-python-lib's strict JSON validator, which needs the
`jsonschema` package), every action component's commit is the catalog's, every action the
rendered workflows use is in it, and the output is deterministic. Also `harden-ci pins`,
the offline listing of the catalog those commits come from."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner
from cyclonedx.schema import SchemaVersion
from cyclonedx.validation.json import JsonStrictValidator

from harden_ci.cli import cli
from harden_ci.pipeline import load, render_spec
from harden_ci.plan.model import Uses
from harden_ci.plan.pins import catalog
from harden_ci.plan.tools import GITLEAKS_COMMIT, TOOLS
from harden_ci.report.facts import ActionUse, plan_workflows
from harden_ci.report.pipeline_sbom import action_purl, serial_number, tool_purl

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ("minimal", "learnhub")
_USES = re.compile(r"^\s*(?:- )?uses: ([^@\s]+)@(\S+)", re.MULTILINE)


def sbom_text(example: str, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.chdir(ROOT)
    result = CliRunner().invoke(cli, ["sbom", f"examples/{example}/harden-ci.yaml"])
    assert result.exit_code == 0, result.stderr
    return result.stdout


def sbom(example: str, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(sbom_text(example, monkeypatch))
    return data


def props(component: dict[str, Any]) -> dict[str, str]:
    return {p["name"]: p["value"] for p in component.get("properties", [])}


@pytest.mark.parametrize("example", EXAMPLES)
def test_the_bom_validates_against_cyclonedx_1_6(example: str,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    text = sbom_text(example, monkeypatch)
    error = JsonStrictValidator(SchemaVersion.V1_6).validate_str(text)
    assert error is None, error
    data = json.loads(text)
    assert (data["bomFormat"], data["specVersion"]) == ("CycloneDX", "1.6")


@pytest.mark.parametrize("example", EXAMPLES)
def test_every_action_component_is_pinned_to_the_catalog_commit(
        example: str, monkeypatch: pytest.MonkeyPatch) -> None:
    actions = [c for c in sbom(example, monkeypatch)["components"]
               if c["purl"].startswith("pkg:githubactions/")]
    assert actions
    for component in actions:
        pin = catalog().get(component["name"])
        assert component["type"] == "application"
        assert component["version"] == pin.tag
        assert props(component)["harden-ci:commit"] == pin.sha
        assert component["purl"].endswith("@" + pin.sha)
        assert props(component)["harden-ci:provenance-note"] == pin.note


@pytest.mark.parametrize("example", EXAMPLES)
def test_every_action_the_rendered_workflows_use_is_a_component(
        example: str, monkeypatch: pytest.MonkeyPatch) -> None:
    files = render_spec(ROOT / "examples" / example / "harden-ci.yaml").files
    used = {m.group(1) for text in files.values() for m in _USES.finditer(text)}
    assert used
    names = {c["name"] for c in sbom(example, monkeypatch)["components"]
             if c["purl"].startswith("pkg:githubactions/")}
    assert names == used


def test_tools_images_and_the_metadata_component(monkeypatch: pytest.MonkeyPatch) -> None:
    data = sbom("learnhub", monkeypatch)
    purls = {c["name"]: c["purl"] for c in data["components"]}
    assert purls["zizmor"].startswith("pkg:pypi/zizmor@")
    assert purls["actionlint"].startswith("pkg:generic/actionlint@")
    assert purls["cyclonedx-bom"].startswith("pkg:pypi/cyclonedx-bom@")
    assert purls["cosign"].startswith("pkg:generic/cosign@")
    assert purls["postgres"].startswith("pkg:oci/postgres@sha256:")
    root = data["metadata"]["component"]
    assert (root["name"], root["purl"]) == ("harden-ci", "pkg:pypi/harden-ci@0.1.0")
    depends = next(d for d in data["dependencies"] if d["ref"] == root["bom-ref"])
    assert set(depends["dependsOn"]) == {c["bom-ref"] for c in data["components"]}
    assert "timestamp" not in data["metadata"]


def _source_checkouts(example: str) -> dict[str, str]:
    """owner/repo -> ref of every checkout of another repository in the committed workflows."""
    found: dict[str, str] = {}
    for path in sorted((ROOT / "examples" / example / ".github" / "workflows").glob("*.yml")):
        for job in (yaml.safe_load(path.read_text(encoding="utf-8")).get("jobs") or {}).values():
            for step in job.get("steps") or []:
                with_ = step.get("with") or {}
                if str(step.get("uses", "")).startswith("actions/checkout@") and "repository" in with_:
                    found[with_["repository"]] = with_["ref"]
    return found


def test_tools_built_from_source_name_the_commit_the_workflows_check_out(
        monkeypatch: pytest.MonkeyPatch) -> None:
    checkouts = _source_checkouts("learnhub")
    assert {"gitleaks/gitleaks", "rhysd/actionlint"} <= set(checkouts)
    built = {c["name"]: c for c in sbom("learnhub", monkeypatch)["components"]
             if "harden-ci:commit" in props(c) and c["bom-ref"].startswith("tool:")}
    assert {"gitleaks", "actionlint"} <= set(built)
    for name, component in built.items():
        repository = props(component)["harden-ci:source-repository"]
        commit = props(component)["harden-ci:commit"]
        assert TOOLS[name].built_from == (repository, commit)
        assert checkouts[repository] == commit, f"{name}: the SBOM and the workflow disagree"
        assert component["purl"] == (f"pkg:generic/{name}@{component['version']}?vcs_url="
                                     f"git%2Bhttps://github.com/{repository}%40{commit}")
    assert built["gitleaks"]["version"] == TOOLS["gitleaks"].version
    assert props(built["gitleaks"])["harden-ci:commit"] == GITLEAKS_COMMIT


def test_the_tag_pinned_exception_is_marked(monkeypatch: pytest.MonkeyPatch) -> None:
    data = sbom("learnhub", monkeypatch)
    slsa = next(c for c in data["components"] if "slsa-github-generator" in c["name"])
    assert props(slsa)["harden-ci:ref-style"] == "tag"
    assert props(slsa)["harden-ci:exception"]
    assert "%2F.github%2Fworkflows%2F" in slsa["purl"]


def test_githubactions_purls_follow_the_purl_type_definition() -> None:
    def purl(action: str, sha: str = "a" * 40) -> str:
        return action_purl(ActionUse(action, "v1", sha, sha, "sha", "node24", "", "", None,
                                     ())).to_string()

    assert purl("actions/checkout") == f"pkg:githubactions/actions/checkout@{'a' * 40}"
    # Namespace and repository lower-cased; a path inside the repository encoded in the name.
    assert purl("Azure/Login") == f"pkg:githubactions/azure/login@{'a' * 40}"
    assert (purl("github/codeql-action/upload-sarif")
            == f"pkg:githubactions/github/codeql-action%2Fupload-sarif@{'a' * 40}")


def test_tool_purls_follow_where_the_version_came_from() -> None:
    assert tool_purl("zizmor", "1.32.0", "PyPI release").to_string() == "pkg:pypi/zizmor@1.32.0"
    assert (tool_purl("spectral-cli", "6.16.3", "npm release of @stoplight/spectral-cli")
            .to_string() == "pkg:npm/%40stoplight/spectral-cli@6.16.3")
    assert (tool_purl("tflint", "v0.64.0", "release tag of terraform-linters/tflint").to_string()
            == "pkg:generic/tflint@v0.64.0")


def test_the_bom_is_deterministic_and_its_serial_follows_the_spec(tmp_path: Path) -> None:
    outputs = set()
    for seed in ("0", "4242"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        outputs.add(subprocess.run(
            [sys.executable, "-m", "harden_ci", "sbom", "examples/learnhub/harden-ci.yaml"],
            cwd=ROOT, env=env, capture_output=True, text=True, check=True).stdout)
    assert len(outputs) == 1
    loaded, _ = load(ROOT / "examples" / "learnhub" / "harden-ci.yaml")
    serial = json.loads(outputs.pop())["serialNumber"]
    assert serial == serial_number(loaded.raw).urn
    assert serial_number(loaded.raw + b"\n# edited\n") != serial_number(loaded.raw)


def test_sbom_on_a_bad_spec_exits_2(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["sbom", str(tmp_path / "nope.yaml")])
    assert result.exit_code == 2 and "no such spec file" in result.stderr


def test_the_bom_covers_a_job_level_reusable_workflow_call() -> None:
    _, spec = load(ROOT / "examples" / "learnhub" / "harden-ci.yaml")
    calls = [job.uses for wf in plan_workflows(spec, "harden-ci.yaml") for job in wf.jobs
             if isinstance(job.uses, Uses)]
    assert calls, "learnhub calls the SLSA generator as a reusable workflow"


# --- harden-ci pins ---------------------------------------------------------------------------

def test_pins_lists_the_catalog_offline_as_json() -> None:
    result = CliRunner().invoke(cli, ["pins", "--format", "json"])
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert [p["action"] for p in data["pins"]] == [p.action for p in catalog()]
    checkout = next(p for p in data["pins"] if p["action"] == "actions/checkout")
    pin = catalog().get("actions/checkout")
    assert (checkout["tag"], checkout["sha"]) == (pin.tag, pin.sha)
    assert re.match(r"^\d{4}-\d{2}-\d{2}$", checkout["date"])
    assert {e["action"] for e in data["excluded"]} == set(catalog().excluded())


def test_pins_text_names_every_action_and_the_tag_exception() -> None:
    result = CliRunner().invoke(cli, ["pins"])
    assert result.exit_code == 0
    for pin in catalog():
        assert pin.action in result.stdout
    assert "tag pin (recorded exception)" in result.stdout
