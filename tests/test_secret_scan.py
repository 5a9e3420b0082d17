"""`gates.secret_scan` with gitleaks: the job builds gitleaks from its release commit for
every event (no downloaded binary, no license secret), and secret-scan.sh scans what each
event adds, as gitleaks-action v3.0.0's src/gitleaks.js ranges it.

The script runs as the runner runs it (see test_scripts.py) on real git repositories, with
the act harness's stand-in gitleaks (tests/act/sources/gitleaks: `detect` over `git log
-p` with two of gitleaks' default rules), built here with the machine's Go.
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
from harden_ci.plan.tools import GITLEAKS_COMMIT, TOOLS

STANDIN = Path(__file__).resolve().parent / "act" / "sources" / "gitleaks"
SHA = re.compile(r"[0-9a-f]{40}")
ZERO = "0" * 40
LEAK = 'AWS_KEY = "AKIAZ4RQ7TXW2M5KP3LD"\n'  # aws-access-token, entropy above 3
LOOKALIKE = 'PLACEHOLDER = "AKIAAAAAAAAAAAAAAAAA"\n'  # the same shape, entropy 0: not a leak
SPEC: dict[str, Any] = {
    "version": 1,
    "project": {"name": "vault"},
    "services": {"api": {"path": ".", "language": "python"}},
    "gates": {"secret_scan": {"tool": "gitleaks"}},
}


def _job(spec: dict[str, Any]) -> dict[str, Any]:
    (job,) = [wf["jobs"]["secret-scan"] for wf in rendered(spec).values()
              if "secret-scan" in wf.get("jobs", {})]
    return dict(job)


def _step(spec: dict[str, Any] = SPEC) -> dict[str, Any]:
    return script_step(rendered(spec), "secret-scan.sh", "secret-scan")


@functools.cache
def _gitleaks_dir(root: Path) -> Path:
    """The stand-in built once per session, in a folder that holds only it."""
    go = shutil.which("go")
    if go is None:
        pytest.fail("Go is needed to build the stand-in gitleaks (scripts/test.sh installs it)")
    out = root / "gitleaks-bin"
    out.mkdir(exist_ok=True)
    env = {**os.environ, "GOTOOLCHAIN": "local", "GOFLAGS": "-mod=readonly",
           "GOCACHE": str(root / "gocache"), "GOPATH": str(root / "gopath"), "CGO_ENABLED": "0"}
    done = subprocess.run([go, "build", "-o", str(out / "gitleaks"), "."], cwd=STANDIN,
                          env=env, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    return out


@pytest.fixture
def gitleaks(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _gitleaks_dir(tmp_path_factory.getbasetemp())


class Repo:
    """The job's checkout: a git repository in the runner's workspace."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.env = {"PATH": "/usr/bin:/bin", "HOME": str(path.parent), "GIT_CONFIG_NOSYSTEM": "1",
                    "GIT_AUTHOR_NAME": "dev", "GIT_AUTHOR_EMAIL": "dev@example.com",
                    "GIT_COMMITTER_NAME": "dev", "GIT_COMMITTER_EMAIL": "dev@example.com"}
        self.git("init", "-q", "-b", "main")
        self._n = 0

    def git(self, *args: str) -> str:
        done = subprocess.run(["git", *args], cwd=self.path, env=self.env, text=True,
                              capture_output=True, check=True)
        return done.stdout.strip()

    def commit(self, files: dict[str, str] | None = None) -> str:
        self._n += 1
        for name, text in (files or {f"file{self._n}.txt": f"change {self._n}\n"}).items():
            (self.path / name).write_text(text, encoding="utf-8")
        self.git("add", "-A")
        self.git("commit", "-q", "-m", f"commit {self._n}")
        return self.git("rev-parse", "HEAD")


@pytest.fixture
def runner(tmp_path: Path) -> Runner:
    return Runner(tmp_path / "runner")


@pytest.fixture
def repo(runner: Runner) -> Repo:
    return Repo(runner.workspace)


def _scan(runner: Runner, gitleaks: Path, event: str, base: str = "", head: str = "", *,
          commits: list[str] | None = None, step: dict[str, Any] | None = None,
          ) -> subprocess.CompletedProcess[str]:
    payload = runner.root / "event.json"
    payload.write_text(json.dumps({"commits": [{"id": c} for c in (commits or [])]}),
                       encoding="utf-8")
    return runner.run(step or _step(), {"EVENT_NAME": event, "BASE_SHA": base, "HEAD_SHA": head},
                      event=event, path=[gitleaks], event_path=payload)


def _out(result: subprocess.CompletedProcess[str]) -> str:
    return f"exit {result.returncode}\n--- stdout\n{result.stdout}\n--- stderr\n{result.stderr}"


def _findings(runner: Runner) -> list[tuple[str, str]]:
    sarif = json.loads((runner.workspace / "results.sarif").read_text(encoding="utf-8"))
    return [(r["ruleId"], r["partialFingerprints"]["commitSha"]) for r in sarif["runs"][0]["results"]]


# ---------------------------------------------------------------- what the job runs

def test_the_job_builds_gitleaks_from_its_release_commit_for_every_event() -> None:
    job = _job(SPEC)
    steps = job["steps"]
    pins = {pin.action: pin for pin in catalog()}
    for step in steps:
        assert "if" not in step or "merge_group" not in str(step["if"]), step["name"]
        if "uses" in step:
            action, _, sha = str(step["uses"]).partition("@")
            assert action != "gitleaks/gitleaks-action"
            assert sha == pins[action].sha, f"{step['uses']} is not the catalog's pin"
    (source,) = [s for s in steps if s.get("with", {}).get("repository") == "gitleaks/gitleaks"]
    assert source["with"]["ref"] == GITLEAKS_COMMIT and SHA.fullmatch(GITLEAKS_COMMIT)
    assert source["with"]["persist-credentials"] is False
    build = next(s for s in steps if s.get("env", {}).get("GO_TOOL") == "gitleaks")
    assert build["env"]["GO_TOOL_VERSION"] == TOOLS["gitleaks"].version
    assert "-mod=readonly" in build["run"]
    # No secret reaches the job: the license and the token the action wanted are gone, and
    # with them the API read of the pull request's commits.
    assert "secrets." not in json.dumps(job)
    assert set(job["permissions"]) == {"contents", "security-events"}  # the SARIF upload
    (upload,) = [s for s in steps if str(s.get("uses", "")).startswith("actions/upload-artifact@")]
    assert upload["with"]["name"] == "gitleaks-results.sarif"
    assert upload["with"]["path"] == "results.sarif"


def test_the_allowlist_reaches_gitleaks_and_a_missing_one_fails_the_scan(
        runner: Runner, gitleaks: Path, repo: Repo) -> None:
    spec = {**SPEC, "gates": {"secret_scan": {"tool": "gitleaks", "allowlist": ".gitleaks.toml"}}}
    step = _step(spec)
    assert step["env"]["GITLEAKS_CONFIG"] == ".gitleaks.toml"
    base = repo.commit()
    head = repo.commit()
    result = _scan(runner, gitleaks, "merge_group", base, head, step=step)
    assert result.returncode == 1, _out(result)
    assert "gitleaks failed (exit 1); the merge group's commits were not scanned" in result.stderr
    (repo.path / ".gitleaks.toml").write_text("title = 'reviewed'\n", encoding="utf-8")
    result = _scan(runner, gitleaks, "merge_group", base, head, step=step)
    assert result.returncode == 0, _out(result)


# ------------------------------------------------------------------- pull requests

def test_pull_request_scans_its_own_commits_only(runner: Runner, gitleaks: Path,
                                                 repo: Repo) -> None:
    repo.commit({"old.py": LEAK})  # on main before the pull request: not the PR's to answer
    base = repo.commit()
    repo.git("checkout", "-q", "-b", "feature")
    first = repo.commit({"app.py": LOOKALIKE})
    head = repo.commit()
    result = _scan(runner, gitleaks, "pull_request", base, head)
    assert result.returncode == 0, _out(result)
    assert f"--log-opts=--no-merges --first-parent {first}^..{head}" in result.stdout
    assert "No secrets in the pull request's 2 commit(s)." in result.stdout
    assert "No secrets in the pull request's 2 commit(s)." in runner.summary.read_text()


def test_a_leak_in_a_pull_request_turns_it_red(runner: Runner, gitleaks: Path,
                                               repo: Repo) -> None:
    base = repo.commit()
    repo.git("checkout", "-q", "-b", "feature")
    leaked = repo.commit({"settings.py": LEAK + LOOKALIKE})
    head = repo.commit({"settings.py": "AWS_KEY = None\n"})  # removed later: still leaked
    result = _scan(runner, gitleaks, "pull_request", base, head)
    assert result.returncode == 1, _out(result)
    assert "gitleaks found secrets in the pull request's commits (results.sarif)" in result.stderr
    assert _findings(runner) == [("aws-access-token", leaked)]
    assert "AKIAZ4RQ7TXW2M5KP3LD" not in result.stdout + result.stderr  # --redact


def test_a_pull_request_from_the_root_commit_scans_from_the_start(
        runner: Runner, gitleaks: Path, repo: Repo) -> None:
    """An orphan branch's first commit has no parent for FIRST^: the scan starts there."""
    repo.git("checkout", "-q", "--orphan", "base")
    base = repo.commit()
    repo.git("checkout", "-q", "--orphan", "feature")
    repo.git("rm", "-q", "-rf", ".")
    leaked = repo.commit({"key.pem": "-----BEGIN RSA PRIVATE KEY-----\n"})
    head = repo.commit()
    result = _scan(runner, gitleaks, "pull_request", base, head)
    assert result.returncode == 1, _out(result)
    assert f"--log-opts=--no-merges --first-parent {head}" in result.stdout
    assert _findings(runner) == [("private-key", leaked)]


# ------------------------------------------------------------------------- pushes

def test_push_scans_every_commit_it_adds(runner: Runner, gitleaks: Path, repo: Repo) -> None:
    repo.commit({"old.py": LEAK})  # scanned by an earlier push
    before = repo.commit()
    repo.git("checkout", "-q", "-b", "side")
    side = repo.commit({"side.py": LEAK})
    repo.git("checkout", "-q", "main")
    repo.commit()
    repo.git("merge", "-q", "--no-ff", "-m", "Merge side", "side")
    after = repo.git("rev-parse", "HEAD")
    result = _scan(runner, gitleaks, "push", before, after, commits=[side, after])
    assert result.returncode == 1, _out(result)
    # A merge's second parent is walked too: first-parent alone would miss `side`.
    assert f"--log-opts=--no-merges {before}..{after}" in result.stdout
    assert _findings(runner) == [("aws-access-token", side)]
    assert "gitleaks found secrets in the push's commits" in result.stderr


def test_a_clean_push_is_green(runner: Runner, gitleaks: Path, repo: Repo) -> None:
    repo.commit({"old.py": LEAK})
    before = repo.commit()
    after = repo.commit({"app.py": LOOKALIKE})
    result = _scan(runner, gitleaks, "push", before, after, commits=[after])
    assert result.returncode == 0, _out(result)
    assert "No secrets in the push's 1 commit(s)." in result.stdout


def test_a_new_branch_push_scans_the_listed_commits(runner: Runner, gitleaks: Path,
                                                    repo: Repo) -> None:
    repo.commit({"old.py": LEAK})
    repo.git("checkout", "-q", "-b", "release")
    first = repo.commit()
    last = repo.commit({"new.py": LEAK})
    result = _scan(runner, gitleaks, "push", ZERO, last, commits=[first, last])
    assert result.returncode == 1, _out(result)
    assert f"--log-opts=--no-merges --first-parent {first}^..{last}" in result.stdout
    assert _findings(runner) == [("aws-access-token", last)]


def test_a_new_branch_push_of_one_commit_scans_that_commit(runner: Runner, gitleaks: Path,
                                                           repo: Repo) -> None:
    repo.commit({"old.py": LEAK})
    only = repo.commit()
    result = _scan(runner, gitleaks, "push", ZERO, only, commits=[only])
    assert result.returncode == 0, _out(result)
    assert f"--log-opts=-1 {only}" in result.stdout
    assert "No secrets in the push's 1 commit(s)." in result.stdout


def test_a_force_push_whose_before_is_gone_scans_the_listed_commits(
        runner: Runner, gitleaks: Path, repo: Repo) -> None:
    first = repo.commit()
    last = repo.commit({"new.py": LEAK})
    gone = "1" * 40  # the rewritten branch's old tip, no longer fetched
    result = _scan(runner, gitleaks, "push", gone, last, commits=[first, last])
    assert result.returncode == 1, _out(result)
    assert f"--log-opts=--no-merges --first-parent {last}" in result.stdout  # first is the root
    assert _findings(runner) == [("aws-access-token", last)]


def test_a_push_that_lists_no_commits_has_nothing_to_scan(runner: Runner, gitleaks: Path,
                                                          repo: Repo) -> None:
    head = repo.commit({"old.py": LEAK})  # already on another branch
    result = _scan(runner, gitleaks, "push", ZERO, head, commits=[])
    assert result.returncode == 0, _out(result)
    assert "No commits to scan: the push lists none." in result.stdout
    assert not (runner.workspace / "results.sarif").exists()


# ------------------------------------------------------- the queue and the whole history

def test_merge_group_scans_what_the_group_adds(runner: Runner, gitleaks: Path,
                                               repo: Repo) -> None:
    base = repo.commit({"old.py": LEAK})
    leaked = repo.commit({"queued.py": LEAK})
    head = repo.commit()
    result = _scan(runner, gitleaks, "merge_group", base, head)
    assert result.returncode == 1, _out(result)
    assert f"--log-opts=--no-merges {base}..{head}" in result.stdout
    assert _findings(runner) == [("aws-access-token", leaked)]
    assert "gitleaks found secrets in the merge group's commits" in result.stderr


@pytest.mark.parametrize("event", ["schedule", "workflow_dispatch"])
def test_schedule_and_dispatch_scan_the_whole_history(runner: Runner, gitleaks: Path,
                                                      repo: Repo, event: str) -> None:
    old = repo.commit({"old.py": LEAK})
    repo.commit()
    result = _scan(runner, gitleaks, event)
    assert result.returncode == 1, _out(result)
    assert "--log-opts" not in result.stdout
    assert _findings(runner) == [("aws-access-token", old)]


# ------------------------------------------------------------ missing or forged input

@pytest.mark.parametrize(("event", "base", "head", "why"), [
    ("pull_request", "", "", "names no base and head commit SHA"),
    ("push", ZERO, "HEAD", "names no base and head commit SHA"),
    ("merge_group", "a" * 40, "$(touch pwned)" + "a" * 26, "names no base and head commit SHA"),
    ("pull_request", "b" * 40, "HEAD_IS_REAL", "base " + "b" * 40 + " is not in the checkout"),
    ("merge_group", "HEAD_IS_REAL", "c" * 40, "head commit " + "c" * 40 + " is not in the checkout"),
    ("pull_request_target", "", "", "event is not scanned for secrets"),
])
def test_missing_or_forged_commits_fail_the_scan(runner: Runner, gitleaks: Path, repo: Repo,
                                                 event: str, base: str, head: str,
                                                 why: str) -> None:
    real = repo.commit({"old.py": LEAK})
    base, head = (real if v == "HEAD_IS_REAL" else v for v in (base, head))
    result = _scan(runner, gitleaks, event, base, head)
    assert result.returncode == 1, _out(result)
    assert why in result.stderr, _out(result)
    assert not (runner.workspace / "results.sarif").exists()
    assert not (runner.workspace / "pwned").exists()


def test_a_push_listing_a_forged_commit_fails(runner: Runner, gitleaks: Path,
                                              repo: Repo) -> None:
    head = repo.commit()
    result = _scan(runner, gitleaks, "push", ZERO, head, commits=["not-a-sha", head])
    assert result.returncode == 1, _out(result)
    assert "lists a commit that is not a SHA" in result.stderr
    result = _scan(runner, gitleaks, "push", ZERO, head, commits=["d" * 40, head])
    assert result.returncode == 1, _out(result)
    assert "lists a commit that is not in the checkout" in result.stderr
    assert not (runner.workspace / "results.sarif").exists()


def test_a_pull_request_with_no_new_commit_has_nothing_to_scan(
        runner: Runner, gitleaks: Path, repo: Repo) -> None:
    head = repo.commit({"old.py": LEAK})
    base = repo.commit()  # the base already holds the head
    result = _scan(runner, gitleaks, "pull_request", base, head)
    assert result.returncode == 0, _out(result)
    assert "No commits to scan: the pull request adds no commit over its base." in result.stdout
