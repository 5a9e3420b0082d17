"""`harden-ci explain`: golden files of both examples (Markdown and JSON), the JSON Schema the
project ships, and the facts a reviewer signs off on, read generically off the plan.

Regenerate the golden files after an intended change with
`UPDATE_GOLDEN=1 pytest tests/test_explain.py tests/test_graph.py`.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from click.testing import CliRunner
from helpers import assert_golden

from harden_ci.cli import cli
from harden_ci.model import parse_spec
from harden_ci.pipeline import load, render_spec
from harden_ci.plan.model import Job, Step, Trigger, Uses, Workflow, write
from harden_ci.plan.pins import catalog
from harden_ci.plan.tools import ACTIONLINT_COMMIT, GITLEAKS_COMMIT
from harden_ci.report.explain import as_json, build
from harden_ci.report.explain_md import to_markdown
from harden_ci.report.facts import iter_jobs, plan_workflows, secrets_of, tools_used
from harden_ci.report.scorecard import slsa_level

ROOT = Path(__file__).resolve().parent.parent
SCHEMA = json.loads((ROOT / "docs" / "explain-schema.json").read_text("utf-8"))
EXAMPLES = ("minimal", "learnhub", "monorepo")
SCORECARD_CHECKS = ["Token-Permissions", "Pinned-Dependencies", "Dangerous-Workflow", "SAST",
                    "Signed-Releases", "SBOM", "CI-Tests"]


def run_cli(monkeypatch: pytest.MonkeyPatch, *args: str) -> tuple[int, str, str]:
    monkeypatch.chdir(ROOT)  # spec paths (and so locations) are relative to the repository
    result = CliRunner().invoke(cli, list(args), prog_name="harden-ci")
    return result.exit_code, result.stdout, result.stderr


def explain_json(monkeypatch: pytest.MonkeyPatch, example: str, *extra: str) -> dict[str, Any]:
    code, out, err = run_cli(monkeypatch, "explain", f"examples/{example}/harden-ci.yaml",
                             "--format", "json", *extra)
    assert code == 0, err
    data: dict[str, Any] = json.loads(out)
    return data


def review(example: str) -> Any:
    spec_path = ROOT / "examples" / example / "harden-ci.yaml"
    rendered = render_spec(spec_path)
    workflows = plan_workflows(rendered.spec, spec_path.name)
    return build(rendered.spec, rendered.loaded, workflows, rendered.files), workflows


# --- golden files --------------------------------------------------------------------------

@pytest.mark.parametrize("example", EXAMPLES)
def test_explain_markdown_golden(example: str, monkeypatch: pytest.MonkeyPatch) -> None:
    code, out, err = run_cli(monkeypatch, "explain", f"examples/{example}/harden-ci.yaml")
    assert code == 0, err
    assert_golden(f"{example}.explain.md", out)


@pytest.mark.parametrize("example", EXAMPLES)
def test_explain_json_golden_validates_against_the_shipped_schema(
        example: str, monkeypatch: pytest.MonkeyPatch) -> None:
    code, out, err = run_cli(monkeypatch, "explain", f"examples/{example}/harden-ci.yaml",
                             "--format", "json")
    assert code == 0, err
    jsonschema.Draft202012Validator(SCHEMA).validate(json.loads(out))
    assert_golden(f"{example}.explain.json", out)


def test_the_shipped_schema_is_a_valid_draft_2020_12_schema() -> None:
    jsonschema.Draft202012Validator.check_schema(SCHEMA)


def test_the_schema_is_strict_at_the_top_level() -> None:
    assert SCHEMA["additionalProperties"] is False
    assert set(SCHEMA["required"]) == set(SCHEMA["properties"])


# --- what a reviewer signs off on -------------------------------------------------------------

@pytest.mark.parametrize("example", EXAMPLES)
def test_every_job_appears_under_its_control_with_every_permission_and_reason(
        example: str, monkeypatch: pytest.MonkeyPatch) -> None:
    data = explain_json(monkeypatch, example)
    _, workflows = review(example)
    listed = {(j["workflow"], j["job"]) for c in data["controls"] for j in c["jobs"]}
    assert listed == {(wf.filename, job.id) for wf, job in iter_jobs(workflows)}
    by_id = {(j["workflow"], j["id"]): j for j in data["jobs"]}
    for wf, job in iter_jobs(workflows):
        entry = by_id[(wf.filename, job.id)]
        assert entry["control"] == (job.control or None)
        assert [(p["scope"], p["level"], p["reason"]) for p in entry["permissions"]] == [
            (scope, grant.level, grant.reason) for scope, grant in job.permissions.items()]
        assert all(p["reason"] for p in entry["permissions"])


def test_secrets_are_found_in_every_value_a_job_passes_on(monkeypatch: pytest.MonkeyPatch) -> None:
    data = explain_json(monkeypatch, "learnhub")
    names = {s["name"] for s in data["secrets"]}
    assert {"GITHUB_TOKEN", "STRIPE_TEST_KEY"} <= names  # the token passed on, a secret in env
    token = next(s for s in data["secrets"] if s["name"] == "GITHUB_TOKEN")
    assert token["automatic"] is True
    # The SLSA call passes the token through `secrets:`; it must be seen there too.
    callers = {j["job"] for j in token["jobs"]}
    assert any(job.startswith("slsa") for job in callers)


def test_oidc_lists_exactly_the_jobs_with_id_token_write(monkeypatch: pytest.MonkeyPatch) -> None:
    data = explain_json(monkeypatch, "learnhub")
    expected = {(j["workflow"], j["id"]) for j in data["jobs"]
                if any(p["scope"] == "id-token" and p["level"] == "write"
                       for p in j["permissions"])}
    assert expected
    assert {(o["workflow"], o["job"]) for o in data["oidc"]} == expected
    assert explain_json(monkeypatch, "minimal")["oidc"] == []


def test_required_checks_name_the_single_check_and_every_pr_job(
        monkeypatch: pytest.MonkeyPatch) -> None:
    for example in EXAMPLES:
        checks = explain_json(monkeypatch, example)["required_checks"]
        assert checks["recommended"] == "All required checks"
        _, workflows = review(example)
        expected = [(wf.filename, job.id, wf.on.merge_group) for wf in workflows
                    if wf.on.pull_request or wf.on.merge_group for job in wf.jobs]
        assert [(c["workflow"], c["job"], c["merge_queue"]) for c in checks["checks"]] == expected
        queued = [c["name"] for c in checks["checks"] if c["merge_queue"]]
        assert "All required checks" in queued
        others = {job.id for wf in workflows if not (wf.on.pull_request or wf.on.merge_group)
                  for job in wf.jobs}
        assert not others & {c["job"] for c in checks["checks"]}


def test_pinned_actions_match_the_catalog_and_exceptions_are_recorded(
        monkeypatch: pytest.MonkeyPatch) -> None:
    data = explain_json(monkeypatch, "learnhub")
    for action in data["actions"]:
        pin = catalog().get(action["action"])
        assert (action["tag"], action["sha"]) == (pin.tag, pin.sha)
        assert action["ref"] == (pin.tag if pin.ref_style == "tag" else pin.sha)
    exceptions = {e["action"] for e in data["exceptions"]}
    assert exceptions == {a["action"] for a in data["actions"] if a["ref_style"] == "tag"}
    assert any("slsa-github-generator" in action for action in exceptions)
    assert explain_json(monkeypatch, "minimal")["exceptions"] == []


def test_tools_budgets_rollback_and_environments_come_from_the_spec(
        monkeypatch: pytest.MonkeyPatch) -> None:
    data = explain_json(monkeypatch, "learnhub")
    assert {t["name"] for t in data["tools"]} >= {"zizmor", "actionlint", "cosign"}
    built = {t["name"]: t["built_from"] for t in data["tools"] if t["built_from"]}
    assert built["gitleaks"] == {"repository": "gitleaks/gitleaks", "commit": GITLEAKS_COMMIT}
    assert built["actionlint"]["commit"] == ACTIONLINT_COMMIT and "zizmor" not in built
    budgets = {f"{b['section']}.{b['key']}": b for b in data["budgets"]}
    assert budgets["load.soak.budgets.api_p95_ms"]["value"] == 300
    assert budgets["load.soak.duration"]["value"] == 15 * 60
    assert re.match(r"examples/learnhub/harden-ci\.yaml:\d+:\d+$",
                    budgets["load.soak.budgets.api_p95_ms"]["location"])
    rollback = {r["key"]: r["value"] for r in data["rollback"]}
    assert rollback["steps"] == [5, 25, 100] and rollback["p95_ms"] == 300
    production = next(e for e in data["environments"] if e["name"] == "production")
    assert production["reviewers"] is True and "reviewers" in production["protection"]


def test_what_is_off_lists_the_absent_sections(monkeypatch: pytest.MonkeyPatch) -> None:
    off = explain_json(monkeypatch, "minimal")["off"]
    assert {"gates.iac_lint", "supply_chain", "tests", "load", "delivery"} <= set(off)
    assert "gates.secret_scan" not in off
    # learnhub commits no harden-ci wheel: its jobs that need harden-ci fail closed, and
    # explain says so.
    assert explain_json(monkeypatch, "learnhub")["off"] == ["harden_ci"]


def test_scorecard_predicts_the_seven_checks_with_a_reason_each(
        monkeypatch: pytest.MonkeyPatch) -> None:
    for example in EXAMPLES:
        card = explain_json(monkeypatch, example)["scorecard"]
        assert [c["check"] for c in card] == SCORECARD_CHECKS
        assert all(c["reason"] and c["satisfied"] == (c["status"] == "met") for c in card)
        status = {c["check"]: c["status"] for c in card}
        assert status["Token-Permissions"] == "met"
        assert status["Dangerous-Workflow"] == "met"
        assert status["CI-Tests"] == "met"
    learnhub = {c["check"]: c["status"] for c in explain_json(monkeypatch, "learnhub")["scorecard"]}
    minimal = {c["check"]: c["status"] for c in explain_json(monkeypatch, "minimal")["scorecard"]}
    assert learnhub["SAST"] == "met"  # SARIF uploads to code scanning
    assert minimal["Signed-Releases"] == "not-met" and learnhub["Signed-Releases"] != "not-met"


def _variant(example: str, edit: str, replacement: str) -> Any:
    from harden_ci.load import load_spec_text

    text = (ROOT / "examples" / example / "harden-ci.yaml").read_text("utf-8")
    assert edit in text
    loaded = load_spec_text(text.replace(edit, replacement).encode(), "variant.yaml")
    spec = parse_spec(loaded)
    return spec, plan_workflows(spec, "harden-ci.yaml")


def test_slsa_level_follows_the_supply_chain() -> None:
    chain = "supply_chain: {sbom: cyclonedx, sign: keyless, provenance: true, slsa: true}"
    assert slsa_level(*_variant("learnhub", chain, chain)).level == 3
    no_slsa = chain.replace("slsa: true", "slsa: false")
    assert slsa_level(*_variant("learnhub", chain, no_slsa)).level == 2
    none = "supply_chain: {sbom: none, sign: none, provenance: false}"
    assert slsa_level(*_variant("learnhub", chain, none)).level == 0
    _, spec = load(ROOT / "examples" / "minimal" / "harden-ci.yaml")
    level = slsa_level(spec, plan_workflows(spec, "harden-ci.yaml"))
    assert level.level == 0 and level.reason


def test_explain_with_a_policy_lists_the_gaps(monkeypatch: pytest.MonkeyPatch) -> None:
    strict = "tests/fixtures/policy/strict.yaml"
    data = explain_json(monkeypatch, "minimal", "--policy", strict)
    assert data["policy"]["passed"] is False
    assert any(v["rule"] == "require.canary" for v in data["policy"]["violations"])
    jsonschema.Draft202012Validator(SCHEMA).validate(data)
    assert explain_json(monkeypatch, "learnhub", "--policy", strict)["policy"]["passed"] is True
    code, out, _ = run_cli(monkeypatch, "explain", "examples/minimal/harden-ci.yaml",
                           "--policy", strict)
    assert code == 0  # explain reports; `harden-ci policy` is the verb that fails
    assert "## Policy gaps" in out and "require.canary" in out


def test_explain_on_a_bad_spec_or_policy_exits_2(monkeypatch: pytest.MonkeyPatch,
                                                 tmp_path: Path) -> None:
    code, _, err = run_cli(monkeypatch, "explain", str(tmp_path / "missing.yaml"))
    assert code == 2 and "no such spec file" in err
    bad = tmp_path / "policy.yaml"
    bad.write_text("version: 1\nrequire: {secret_scn: true}\n", encoding="utf-8")
    code, _, err = run_cli(monkeypatch, "explain", "examples/minimal/harden-ci.yaml",
                           "--policy", str(bad))
    assert code == 2 and "secret_scan" in err and ":2:" in err


def test_markdown_is_plain_text_without_colour(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    code, out, _ = run_cli(monkeypatch, "explain", "examples/learnhub/harden-ci.yaml")
    assert code == 0 and "\x1b[" not in out
    assert "```mermaid" in out  # the job graph, which GitHub renders


# --- generic: a job no stage makes today shows up everywhere ---------------------------------

def test_a_new_kind_of_job_is_reported_without_changes_to_the_report() -> None:
    spec_path = ROOT / "examples" / "minimal" / "harden-ci.yaml"
    rendered = render_spec(spec_path)
    workflows = plan_workflows(rendered.spec, spec_path.name)
    checkout = catalog().uses("actions/checkout")
    deploy = Job(
        id="deploy-canary", name="Canary (production)", runs_on="ubuntu-24.04",
        timeout_minutes=30, environment="production",
        permissions={"id-token": write("assume the deploy role through OIDC")},
        steps=[Step(name="Check out", uses=Uses(checkout.action, checkout.ref, checkout.tag)),
               Step(name="Deploy", run="./deploy.sh prod",
                    env={"TOKEN": "${{ secrets.PROD_DEPLOY_TOKEN }}"})],
        control="Canary promotion with automatic rollback",
    )
    extra = Workflow(filename="harden-ci-deploy.yml", name="deploy", on=Trigger(), jobs=[deploy])
    review_ = build(rendered.spec, rendered.loaded, [*workflows, extra], rendered.files)
    data = as_json(review_)
    control = next(c for c in data["controls"]
                   if c["control"] == "Canary promotion with automatic rollback")
    assert control["jobs"] == [{"workflow": "harden-ci-deploy.yml", "job": "deploy-canary",
                                "name": "Canary (production)"}]
    assert {"workflow": "harden-ci-deploy.yml", "job": "deploy-canary",
            "name": "Canary (production)", "reason": "assume the deploy role through OIDC"
            } in data["oidc"]
    assert secrets_of(deploy) == ["PROD_DEPLOY_TOKEN"]
    assert "PROD_DEPLOY_TOKEN" in {s["name"] for s in data["secrets"]}
    assert "deploy-canary" not in {c["job"] for c in data["required_checks"]["checks"]}
    assert "Canary (production)" in to_markdown(review_)
    assert tools_used([extra]) == []
