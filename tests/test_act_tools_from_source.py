"""oasdiff and trufflehog, built from their release commits, run in the generated jobs under
act (tests/act_harness.py): `contract-lint` is green for a compatible change to the API and
red for a breaking one, and the trufflehog secret scan is red for a committed key and green
without. The checkout stub serves each tool's stand-in source (tests/act/sources/oasdiff,
tests/act/sources/trufflehog) at the commit harden-ci pins, and the job builds it with the
machine's Go, as it builds the real source on a runner.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import act_harness as act
import pytest
from helpers import render_in_process

from harden_ci.plan.tools import OASDIFF_COMMIT, TRUFFLEHOG_COMMIT

OPENAPI = "api/openapi.yaml"
API = (Path(__file__).resolve().parent / "fixtures" / "shapes" / "gosrv" / "api"
       / "openapi.yaml").read_text(encoding="utf-8")
# A key id and secret the stand-in's AWS detector reports (entropy above 3 and 4.25).
LEAK = ('AWS_ACCESS_KEY_ID = "AKIAZ4RQ7TXW2M5KP3LD"\n'
        'AWS_SECRET_ACCESS_KEY = "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"\n')

pytestmark = pytest.mark.slow


def _repo(tmp_path: Path, gates: str, tests: str = "") -> act.FixtureRepo:
    if shutil.which("go") is None:
        pytest.fail("the job builds its tool from source: install Go "
                    "(scripts/test.sh installs Debian's golang-go)")
    repo = act.FixtureRepo(tmp_path / "repo")
    repo.write({
        "harden-ci.yaml": ("version: 1\nproject: {name: tools}\n"
                           f"services:\n  api: {{path: ., language: python, openapi: {OPENAPI}}}\n"
                           f"{gates}{tests}"),
        OPENAPI: API, "app.py": "print('hello')\n"})
    render_in_process(repo.path / "harden-ci.yaml")
    repo.commit("Initial import with harden-ci workflows")
    return repo


def _pull_request(repo: act.FixtureRepo, files: dict[str, str], tmp_path: Path,
                  job: str) -> act.ActRun:
    pr = repo.open_pull_request(files)
    return act.run_act(repo, "pull_request", act.pull_request_event(pr), sha=pr.merge_sha,
                       folder=tmp_path / "run", job=job)


def _built(run: act.ActRun, job: str, tool: str, repository: str, commit: str) -> None:
    """The job built `tool` from the stand-in served for `repository` at `commit`."""
    log = run.output(job)
    assert f"{repository} at {commit} is the harness's stand-in" in log, run.explain()
    assert f"Built {tool} v" in log and "from source" in log, run.explain()


def _contract(tmp_path: Path) -> act.FixtureRepo:
    return _repo(tmp_path, "", "tests: {contract: {}}\n")


def test_a_compatible_api_change_keeps_the_contract_lint_green(tmp_path: Path) -> None:
    repo = _contract(tmp_path)
    run = _pull_request(repo, {OPENAPI: API.replace("Every user, oldest first.",
                                                    "Every user, the oldest first.")},
                        tmp_path, "contract-lint")
    assert run.result("contract-lint") == "success", run.explain()
    log = run.output("contract-lint")
    _built(run, "contract-lint", "oasdiff", "oasdiff/oasdiff", OASDIFF_COMMIT)
    assert "--fail-on ERR" in log
    assert "No breaking changes to report, but the specs are different." in log, run.explain()
    assert "oasdiff/oasdiff-action" not in [r["action"] for r in run.stub_log]


def test_a_removed_operation_turns_the_contract_lint_red(tmp_path: Path) -> None:
    repo = _contract(tmp_path)
    removed = API[:API.index("    post:")] + API[API.index("components:"):]
    run = _pull_request(repo, {OPENAPI: removed}, tmp_path, "contract-lint")
    assert run.result("contract-lint") == "failure", run.explain()
    log = run.output("contract-lint")
    assert "[api-removed-without-deprecation] at openapi-base-api.yaml" in log, run.explain()
    assert "in API POST /users" in log
    assert "breaking changes at level ERR or higher" in log


def test_an_announced_breaking_change_is_reported_but_green(tmp_path: Path) -> None:
    """A major info.version bump: oasdiff runs without --fail-on and lists the change."""
    repo = _contract(tmp_path)
    removed = API[:API.index("    post:")] + API[API.index("components:"):]
    run = _pull_request(repo, {OPENAPI: removed.replace('version: "1.0.0"', 'version: "2.0.0"')},
                        tmp_path, "contract-lint")
    assert run.result("contract-lint") == "success", run.explain()
    log = run.output("contract-lint")
    assert "[api-removed-without-deprecation]" in log and "--fail-on" not in log, run.explain()


def _truffle(tmp_path: Path) -> act.FixtureRepo:
    return _repo(tmp_path, "gates: {secret_scan: {tool: trufflehog}}\n")


def test_a_committed_key_turns_the_trufflehog_scan_red(tmp_path: Path) -> None:
    repo = _truffle(tmp_path)
    run = _pull_request(repo, {"settings.py": LEAK}, tmp_path, "secret-scan")
    assert run.result("secret-scan") == "failure", run.explain()
    log = run.output("secret-scan")
    _built(run, "secret-scan", "trufflehog", "trufflesecurity/trufflehog", TRUFFLEHOG_COMMIT)
    assert "Found unverified AWS result" in log, run.explain()
    assert "trufflehog found secrets in the pull request's commits" in log, run.explain()
    assert "trufflesecurity/trufflehog" not in [r["action"] for r in run.stub_log]


def test_a_change_without_a_secret_keeps_the_trufflehog_scan_green(tmp_path: Path) -> None:
    repo = _truffle(tmp_path)
    run = _pull_request(repo, {"app.py": "print('hello, world')\n"}, tmp_path, "secret-scan")
    assert run.result("secret-scan") == "success", run.explain()
    log = run.output("secret-scan")
    assert "--since-commit" in log and "--results=verified,unknown" in log, run.explain()
    assert "No verified or unverifiable secrets in the pull request's commits." in log
