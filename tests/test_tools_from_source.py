"""oasdiff (contract lint) and trufflehog (secret scan) are built from their release commits,
never run from a container image by tag inside a pinned action; their scripts run them with
the arguments the actions used.

The scripts run as the runner runs them (tests/test_scripts.py's Runner) on real files and
git repositories, with the act harness's stand-ins (tests/act/sources/oasdiff and
tests/act/sources/trufflehog), built here with the machine's Go.
"""

from __future__ import annotations

import functools
import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from test_scripts import Runner, rendered, script_step

from harden_ci.plan.pins import catalog
from harden_ci.plan.stages.contract import OASDIFF_SOURCE
from harden_ci.plan.stages.secret_scan import TRUFFLEHOG_SOURCE
from harden_ci.plan.tools import OASDIFF_COMMIT, TOOLS, TRUFFLEHOG_COMMIT

SOURCES = Path(__file__).resolve().parent / "act" / "sources"
SHA = re.compile(r"[0-9a-f]{40}")
OPENAPI = "api/openapi.yaml"
API = (Path(__file__).resolve().parent / "fixtures" / "shapes" / "gosrv" / "api"
       / "openapi.yaml").read_text(encoding="utf-8")
LEAK = ('AWS_ACCESS_KEY_ID = "AKIAZ4RQ7TXW2M5KP3LD"\n'
        'AWS_SECRET_ACCESS_KEY = "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"\n')


def _spec(**extra: Any) -> dict[str, Any]:
    return {"version": 1, "project": {"name": "tools"},
            "services": {"api": {"path": ".", "language": "python", "openapi": OPENAPI}},
            **extra}


CONTRACT = _spec(tests={"contract": {}})
TRUFFLE = _spec(gates={"secret_scan": {"tool": "trufflehog", "allowlist": ".trufflehog-exclude"}})


def _job(spec: dict[str, Any], job_id: str) -> list[dict[str, Any]]:
    (job,) = [wf["jobs"][job_id] for wf in rendered(spec).values() if job_id in wf.get("jobs", {})]
    return list(job["steps"])


def _assert_built_from_source(steps: list[dict[str, Any]], tool: str, repository: str,
                              commit: str, source: str, action: str) -> int:
    """Every action is the catalog's pin and not `action`; the tool's source is checked out
    at `commit` and built with -mod=readonly. Returns the index of the build step."""
    pins = {pin.action: pin for pin in catalog()}
    for step in steps:
        if "uses" in step:
            used, _, sha = str(step["uses"]).partition("@")
            assert used != action, f"{action} runs its image by tag"
            assert sha == pins[used].sha, f"{step['uses']} is not the catalog's pin"
        assert "docker run" not in str(step.get("run", "")), step["name"]
    (checkout,) = [i for i, s in enumerate(steps) if s.get("with", {}).get("repository") == repository]
    assert steps[checkout]["with"]["ref"] == commit and SHA.fullmatch(commit)
    assert steps[checkout]["with"]["path"] == source and source.startswith(".")
    assert steps[checkout]["with"]["persist-credentials"] is False
    build = next(i for i, s in enumerate(steps) if s.get("env", {}).get("GO_TOOL") == tool)
    assert steps[build]["env"]["GO_TOOL_VERSION"] == TOOLS[tool].version
    assert steps[build]["working-directory"] == source and "-mod=readonly" in steps[build]["run"]
    assert checkout < build
    assert TOOLS[tool].built_from == (repository, commit)
    assert "NOT" not in TOOLS[tool].pinned and commit in TOOLS[tool].source
    return build


def test_oasdiff_is_built_from_its_release_commit() -> None:
    steps = _job(CONTRACT, "contract-lint")
    build = _assert_built_from_source(steps, "oasdiff", "oasdiff/oasdiff", OASDIFF_COMMIT,
                                      OASDIFF_SOURCE, "oasdiff/oasdiff-action/breaking")
    # Only an event with a base commit builds it (a push compares nothing).
    assert steps[build]["if"] == ("${{ github.event.pull_request.base.sha || "
                                  "github.event.merge_group.base_sha }}")
    compare = script_step(rendered(CONTRACT), "oasdiff-breaking.sh", "contract-lint")
    assert compare["env"]["FAIL_ON"] == "${{ steps.base-api.outputs.fail_on }}"
    assert compare["if"] == "${{ steps.base-api.outputs.has_base == 'true' }}"
    assert steps.index(compare) > build


def test_trufflehog_is_built_from_its_release_commit() -> None:
    steps = _job(TRUFFLE, "secret-scan")
    build = _assert_built_from_source(steps, "trufflehog", "trufflesecurity/trufflehog",
                                      TRUFFLEHOG_COMMIT, TRUFFLEHOG_SOURCE,
                                      "trufflesecurity/trufflehog")
    scan = script_step(rendered(TRUFFLE), "trufflehog-scan.sh", "secret-scan")
    assert scan["env"]["TRUFFLEHOG_EXCLUDE"] == ".trufflehog-exclude"
    assert steps.index(scan) > build


# ---------------------------------------------------------------- the scripts, run

@functools.cache
def _built(root: Path, tool: str) -> Path:
    """The stand-in built once per session, in a folder that holds only it."""
    go = shutil.which("go")
    if go is None:
        pytest.fail(f"Go is needed to build the stand-in {tool} (scripts/test.sh installs it)")
    out = root / f"{tool}-bin"
    out.mkdir(exist_ok=True)
    env = {**os.environ, "GOTOOLCHAIN": "local", "GOFLAGS": "-mod=readonly",
           "GOCACHE": str(root / "gocache"), "GOPATH": str(root / "gopath"), "CGO_ENABLED": "0"}
    done = subprocess.run([go, "build", "-o", str(out / tool), "."], cwd=SOURCES / tool,
                          env=env, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    return out


@pytest.fixture
def runner(tmp_path: Path) -> Runner:
    return Runner(tmp_path / "runner")


def _out(result: subprocess.CompletedProcess[str]) -> str:
    return f"exit {result.returncode}\n--- stdout\n{result.stdout}\n--- stderr\n{result.stderr}"


def _compare(runner: Runner, tmp_path_factory: pytest.TempPathFactory, revision: str,
             fail_on: str = "ERR") -> subprocess.CompletedProcess[str]:
    (runner.workspace / "api").mkdir(exist_ok=True)
    (runner.workspace / "openapi-base-api.yaml").write_text(API, encoding="utf-8")
    (runner.workspace / OPENAPI).write_text(revision, encoding="utf-8")
    step = script_step(rendered(CONTRACT), "oasdiff-breaking.sh", "contract-lint")
    return runner.run(step, {"FAIL_ON": fail_on},
                      path=[_built(tmp_path_factory.getbasetemp(), "oasdiff")])


REMOVED_POST = API[:API.index("    post:")] + API[API.index("components:"):]
NEW_REQUIRED = API.replace("      operationId: listUsers\n", (
    "      operationId: listUsers\n      parameters:\n"
    "        - {name: limit, in: query, required: true, schema: {type: integer}}\n"))
NO_CREATED = API.replace('        "201":', '        "202":')
NO_PATH = API.replace("  /users:", "  /people:")


@pytest.mark.parametrize(("revision", "change"), [
    (REMOVED_POST, "[api-removed-without-deprecation] at openapi-base-api.yaml\n\tin API POST /users"),
    (NEW_REQUIRED, "[new-required-request-parameter] at api/openapi.yaml\n\tin API GET /users\n"
                   "\t\tadded the new required `query` request parameter `limit`"),
    (NO_CREATED, "[response-success-status-removed] at api/openapi.yaml\n\tin API POST /users\n"
                 "\t\tremoved the success response with the status `201`"),
    (NO_PATH, "[api-path-removed-without-deprecation] at openapi-base-api.yaml\n\tin API GET /users"),
], ids=["removed-operation", "new-required-parameter", "removed-success-response", "removed-path"])
def test_a_breaking_change_fails_the_comparison(
        runner: Runner, tmp_path_factory: pytest.TempPathFactory, revision: str, change: str) -> None:
    result = _compare(runner, tmp_path_factory, revision)
    assert result.returncode == 1, _out(result)
    assert change in result.stdout, _out(result)
    assert "::error title=Breaking changes (api/openapi.yaml)::breaking changes at level ERR" \
        in result.stdout
    assert change in runner.summary.read_text(encoding="utf-8")


def test_a_compatible_change_passes(runner: Runner,
                                    tmp_path_factory: pytest.TempPathFactory) -> None:
    result = _compare(runner, tmp_path_factory, API.replace("List users", "List the users"))
    assert result.returncode == 0, _out(result)
    assert "No breaking changes to report, but the specs are different." in result.stdout
    assert "oasdiff breaking openapi-base-api.yaml api/openapi.yaml --allow-external-refs=false " \
           "--composed=false --fail-on ERR" in result.stdout


def test_an_announced_breaking_change_is_listed_and_passes(
        runner: Runner, tmp_path_factory: pytest.TempPathFactory) -> None:
    result = _compare(runner, tmp_path_factory, REMOVED_POST, fail_on="")
    assert result.returncode == 0, _out(result)
    assert "[api-removed-without-deprecation]" in result.stdout and "--fail-on" not in result.stdout
    assert "breaking changes do not fail" in result.stdout


def test_a_document_that_does_not_load_fails(runner: Runner,
                                             tmp_path_factory: pytest.TempPathFactory) -> None:
    result = _compare(runner, tmp_path_factory, "paths:\n  /users: [unclosed\n")
    assert result.returncode == 1, _out(result)
    assert "failed to load revision spec from api/openapi.yaml" in result.stderr, _out(result)
    assert "oasdiff could not compare the documents (exit 102)" in result.stdout


def _git(cwd: Path, *args: str) -> str:
    env = {"PATH": "/usr/bin:/bin", "HOME": str(cwd.parent), "GIT_CONFIG_NOSYSTEM": "1",
           "GIT_AUTHOR_NAME": "dev", "GIT_AUTHOR_EMAIL": "dev@example.com",
           "GIT_COMMITTER_NAME": "dev", "GIT_COMMITTER_EMAIL": "dev@example.com"}
    return subprocess.run(["git", *args], cwd=cwd, env=env, text=True, capture_output=True,
                          check=True).stdout.strip()


def _commit(cwd: Path, files: dict[str, str]) -> str:
    for name, text in files.items():
        (cwd / name).write_text(text, encoding="utf-8")
    _git(cwd, "add", "-A")
    _git(cwd, "commit", "-q", "-m", "change")
    return _git(cwd, "rev-parse", "HEAD")


def _scan(runner: Runner, tmp_path_factory: pytest.TempPathFactory, event: str, base: str,
          head: str, commits: list[str]) -> subprocess.CompletedProcess[str]:
    payload = runner.root / "event.json"
    payload.write_text(json.dumps({"commits": [{"id": c} for c in commits]}), encoding="utf-8")
    step = script_step(rendered(TRUFFLE), "trufflehog-scan.sh", "secret-scan")
    return runner.run(step, {"EVENT_NAME": event, "BASE_SHA": base, "HEAD_SHA": head},
                      event=event, event_path=payload,
                      path=[_built(tmp_path_factory.getbasetemp(), "trufflehog")])


@pytest.fixture
def history(runner: Runner) -> list[str]:
    """A leak in the first commit after the root, then two clean commits."""
    ws = runner.workspace
    _git(ws, "init", "-q", "-b", "main")
    root = _commit(ws, {"app.py": "print('hello')\n"})
    return [root, _commit(ws, {"settings.py": LEAK}), _commit(ws, {"app.py": "print('hi')\n"}),
            _commit(ws, {".trufflehog-exclude": "^vendor/\n"})]


def test_a_pull_request_with_a_key_fails(runner: Runner, history: list[str],
                                         tmp_path_factory: pytest.TempPathFactory) -> None:
    result = _scan(runner, tmp_path_factory, "pull_request", history[0], history[-1], [])
    assert result.returncode == 1, _out(result)
    assert (f"git file://{runner.workspace} --since-commit {history[0]} --branch {history[-1]} "
            "--fail --no-update --github-actions --results=verified,unknown "
            "--exclude-paths=.trufflehog-exclude") in result.stdout
    assert "::warning file=settings.py,line=1,endLine=1::Found unverified AWS result" in result.stdout
    assert "trufflehog found secrets in the pull request's commits" in result.stderr, _out(result)


def test_a_push_after_the_key_passes(runner: Runner, history: list[str],
                                     tmp_path_factory: pytest.TempPathFactory) -> None:
    result = _scan(runner, tmp_path_factory, "push", history[1], history[-1], history[2:])
    assert result.returncode == 0, _out(result)
    assert "No verified or unverifiable secrets in the push's commits." in result.stdout


def test_a_push_that_lists_no_commit_is_not_scanned(
        runner: Runner, history: list[str], tmp_path_factory: pytest.TempPathFactory) -> None:
    result = _scan(runner, tmp_path_factory, "push", history[1], history[1], [])
    assert result.returncode == 0, _out(result)
    assert "No commits to scan" in result.stdout and "trufflehog git" not in result.stdout


def test_an_excluded_path_is_not_reported(runner: Runner, history: list[str],
                                          tmp_path_factory: pytest.TempPathFactory) -> None:
    (runner.workspace / ".trufflehog-exclude").write_text("^settings\\.py$\n", encoding="utf-8")
    result = _scan(runner, tmp_path_factory, "workflow_dispatch", "", "", [])
    assert result.returncode == 0, _out(result)
    assert "--since-commit" not in result.stdout and "No verified" in result.stdout
