"""Contract checks gate merging: Spectral and oasdiff run in the CI workflow's `contract-lint`
job (pull requests, forks' too, the merge queue and pushes), which `All required checks`
waits for; the preview workflow keeps only the fuzzing that needs a running preview.

The base-document step runs for real (tests/test_scripts.py's Runner: `bash -e` on its
`run:` text with its `env:`) in a real git repository made here, with real commits."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest
from test_scripts import Runner, learnhub, rendered, script_step, script_steps

from harden_ci.plan.forks import FORK_PR

CI = "harden-ci.yml"
PREVIEW = "harden-ci-preview.yml"
JOB = "contract-lint"
SCRIPT = "openapi-base.sh"
OPENAPI = "api/openapi.yaml"
BASE = {"version": 1, "project": {"name": "gating"},
        "services": {"api": {"path": "api", "language": "python", "openapi": OPENAPI}},
        "tests": {"contract": {}}}


def _spec(runner: str = "ubuntu-24.04", **contract: Any) -> dict[str, Any]:
    return {**BASE, "project": {"name": "gating", "runner": runner},
            "tests": {"contract": contract}}


# ------------------------------------------------------------------------- the plan

def test_the_lint_job_is_a_required_ci_check_on_every_event() -> None:
    workflows = learnhub()
    ci = workflows[CI]
    assert {"pull_request", "merge_group", "push"} <= set(ci["on"])
    assert "branches" in ci["on"]["pull_request"]  # no `types:` narrowing, no fork filter
    job = ci["jobs"][JOB]
    assert JOB in ci["jobs"]["required"]["needs"]
    assert "if" not in job  # nothing skips it: forks, the merge queue, pushes
    assert job["permissions"] == {"contents": "read"}
    assert "environment" not in job
    assert "secrets." not in str(job)
    steps = {step["name"]: step for step in job["steps"]}
    assert steps["Check out the repository"]["with"]["fetch-depth"] == 0  # the base commit
    # oasdiff is built from its release commit and run by a script: no action uploads the
    # documents or comments on the pull request (tests/test_tools_from_source.py).
    assert not any("oasdiff-action" in str(s.get("uses", "")) for s in job["steps"])
    oasdiff = script_step(workflows, "oasdiff-breaking.sh", JOB)
    assert "github.token" not in str(oasdiff) and "curl" not in oasdiff["run"]
    base = script_step(workflows, SCRIPT, JOB)
    assert base["env"]["BASE_SHA"] == ("${{ github.event.pull_request.base.sha || "
                                       "github.event.merge_group.base_sha }}")
    assert base["env"]["BREAKING_CHANGES"] == "fail"
    assert set(script_steps(workflows, "spectral-lint.sh")) == {JOB}


def test_the_preview_only_fuzzes() -> None:
    workflows = learnhub()
    for script in ("spectral-lint.sh", SCRIPT):
        assert set(script_steps(workflows, script)) == {JOB}, script
    preview = workflows[PREVIEW]["jobs"]
    assert "oasdiff" not in str(preview)
    assert set(script_steps(workflows, "schemathesis.sh")) == {"contract"}
    assert preview["e2e"]["needs"] == ["contract"]


def test_without_fuzzing_there_is_no_preview_contract_job() -> None:
    spec = {**_spec(), "environments": {"preview": {
        "url": "https://pr-{number}.preview.example.com", "deploy": "make deploy",
        "teardown": "make teardown", "per_pull_request": True}}}
    workflows = rendered(spec)
    assert "contract" not in workflows.get(PREVIEW, {}).get("jobs", {})
    assert JOB in workflows[CI]["jobs"]["required"]["needs"]


def test_warn_keeps_its_meaning() -> None:
    step = script_step(rendered(_spec(breaking_changes="warn")), SCRIPT, JOB)
    assert step["env"]["BREAKING_CHANGES"] == "warn"


def test_a_fork_s_pull_request_runs_the_lint_on_a_hosted_runner() -> None:
    job = rendered(_spec(runner="arc-large"))[CI]["jobs"][JOB]
    assert job["runs-on"] == f"${{{{ ({FORK_PR}) && 'ubuntu-24.04' || 'arc-large' }}}}"


def test_project_timeouts_contract_sets_the_lint_job() -> None:
    spec = _spec()
    spec["project"]["timeouts"] = {"contract": 7}
    assert rendered(spec)[CI]["jobs"][JOB]["timeout-minutes"] == 7


# ----------------------------------------------------- the base document, for real

def _git(repo: Path, *args: str) -> str:
    done = subprocess.run(["git", "-C", str(repo), *args], check=True, text=True,
                          capture_output=True,
                          env={"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.invalid",
                               "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.invalid",
                               "HOME": str(repo), "PATH": "/usr/bin:/bin"})
    return done.stdout.strip()


def _commit(repo: Path, version: str | None, message: str) -> str:
    path = repo / OPENAPI
    if version is None:
        (repo / "README.md").write_text(message + "\n")
    else:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"openapi: 3.0.3\ninfo: {{title: api, version: '{version}'}}\n"
                        f"paths: {{/{message.replace(' ', '-')}: {{}}}}\n")
    _git(repo, "add", "-A")
    _git(repo, "commit", "-q", "-m", message)
    return _git(repo, "rev-parse", "HEAD")


@pytest.fixture
def runner(tmp_path: Path) -> Runner:
    runner = Runner(tmp_path)
    _git(runner.workspace, "init", "-q", "-b", "main")
    return runner


@pytest.fixture
def step() -> dict[str, Any]:
    return script_step(rendered(_spec()), SCRIPT, JOB)


def test_a_pull_request_compares_with_the_base_commit_s_document(
        runner: Runner, step: dict[str, Any]) -> None:
    base = _commit(runner.workspace, "1.2.0", "old paths")
    _commit(runner.workspace, "1.3.0", "new paths")
    result = runner.run(step, {"BASE_SHA": base}, event="pull_request")
    assert result.returncode == 0, result.stdout + result.stderr
    assert runner.outputs() == {"has_base": "true", "fail_on": "ERR"}
    extracted = (runner.workspace / "openapi-base-api.yaml").read_text()
    assert "/old-paths" in extracted and "'1.2.0'" in extracted  # the base's, not the head's
    assert "/new-paths" in (runner.workspace / OPENAPI).read_text()


def test_a_major_bump_announces_the_breaking_change(runner: Runner,
                                                    step: dict[str, Any]) -> None:
    base = _commit(runner.workspace, "1.2.0", "old paths")
    _commit(runner.workspace, "v2.0.0", "new paths")
    result = runner.run(step, {"BASE_SHA": base}, event="merge_group")
    assert result.returncode == 0, result.stdout + result.stderr
    assert runner.outputs() == {"has_base": "true", "fail_on": ""}
    assert "breaking changes are announced" in result.stdout


def test_warn_never_fails_on_a_breaking_change(runner: Runner) -> None:
    step = script_step(rendered(_spec(breaking_changes="warn")), SCRIPT, JOB)
    base = _commit(runner.workspace, "1.2.0", "old paths")
    _commit(runner.workspace, "1.2.1", "new paths")
    result = runner.run(step, {"BASE_SHA": base}, event="pull_request")
    assert result.returncode == 0, result.stdout + result.stderr
    assert runner.outputs() == {"has_base": "true", "fail_on": ""}


def test_a_new_api_passes_with_a_notice(runner: Runner, step: dict[str, Any]) -> None:
    base = _commit(runner.workspace, None, "before the api")
    _commit(runner.workspace, "1.0.0", "first paths")
    result = runner.run(step, {"BASE_SHA": base}, event="pull_request")
    assert result.returncode == 0, result.stdout + result.stderr
    assert runner.outputs() == {"has_base": "false"}
    assert "::notice title=Breaking changes (api/openapi.yaml)::" in result.stdout
    assert "a new API, nothing to compare" in result.stdout
    assert not (runner.workspace / "openapi-base-api.yaml").exists()


def test_a_push_skips_the_comparison_with_a_notice(runner: Runner,
                                                   step: dict[str, Any]) -> None:
    _commit(runner.workspace, "1.0.0", "first paths")
    result = runner.run(step, {"BASE_SHA": ""}, event="push")
    assert result.returncode == 0, result.stdout + result.stderr
    assert runner.outputs() == {"has_base": "false"}
    assert "::notice" in result.stdout and "no base commit on a push" in result.stdout


def test_a_base_commit_missing_from_the_checkout_fails(runner: Runner,
                                                       step: dict[str, Any]) -> None:
    # A shallow checkout, or a base never fetched: passing would compare nothing.
    _commit(runner.workspace, "1.0.0", "first paths")
    missing = "0123456789abcdef0123456789abcdef01234567"
    result = runner.run(step, {"BASE_SHA": missing}, event="pull_request")
    assert result.returncode == 1, result.stdout + result.stderr
    assert f"::error title=Breaking changes (api/openapi.yaml)::the base commit {missing}" \
        in result.stdout
    assert not runner.output_file.exists()  # no output a later step could read as "pass"
