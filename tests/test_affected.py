"""The `changes` job's affected-services script, run for real.

Each test builds a git repository in a temp folder (a `main` branch with history, then a
feature branch with a change), renders a monorepo spec into it with the real CLI, and runs
the rendered companion script `.github/workflows/harden-ci/affected.py` exactly as the
`changes` job does: the step's own `run:` line under `bash -e`, from the repository root,
with the step's env (BASE_SHA, HEAD_SHA) plus what the runner sets (GITHUB_EVENT_NAME,
GITHUB_OUTPUT, GITHUB_STEP_SUMMARY). The outputs are then checked exactly: which services,
which test and image matrix entries, in which chunk, and that every entry carries every
`matrix.<field>` the matrix jobs read.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from harden_ci.model.services import LANGUAGE_DEFAULTS

WORKFLOWS = Path(".github") / "workflows"
CI_WORKFLOW = WORKFLOWS / "harden-ci.yml"
SPEC_FILE = "harden-ci.yaml"
MATRIX_LIMIT = 256  # GitHub: at most 256 jobs per matrix
JOB_OUTPUTS_LIMIT = 1024 * 1024  # GitHub: a job's outputs, at most 1 MB (counted as UTF-16)

# Git as a runner has it: no user or system configuration changes how it prints paths.
GIT_ENV = {
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_CONFIG_GLOBAL": os.devnull,
    "GIT_AUTHOR_NAME": "Test", "GIT_AUTHOR_EMAIL": "test@example.com",
    "GIT_COMMITTER_NAME": "Test", "GIT_COMMITTER_EMAIL": "test@example.com",
    "GIT_AUTHOR_DATE": "2025-01-01T00:00:00Z", "GIT_COMMITTER_DATE": "2025-01-01T00:00:00Z",
}
_OUTPUT_REF = re.compile(r"needs\.changes\.outputs\.([A-Za-z0-9_-]+)")
_MATRIX_FIELD = re.compile(r"\bmatrix\.([A-Za-z_][A-Za-z0-9_-]*)")
_STEP_OUTPUT = re.compile(r"^\$\{\{ steps\.select\.outputs\.([A-Za-z0-9_-]+) \}\}$")

MONOREPO_SPEC = """\
version: 1
project:
  name: mono
  runner: ubuntu-24.04
  runners:
    large: ubuntu-24.04-8core
    gpu: [self-hosted, linux, gpu]
  shared_paths: [libs/shared, tools/build.sh]
services:
  api: {path: services/api, language: python, shards: 2, dockerfile: services/api/Dockerfile}
  web: {path: apps/web, language: node, watch: [libs/ui]}
  worker: {path: services/worker, language: go, runner: large}
  ml: {path: services/ml, language: python, runner: gpu, watch: [libs/ui, models]}
  edge: {path: edge, dockerfile: edge/Dockerfile}
gates: {secret_scan: {tool: gitleaks}}
"""
MONOREPO_FILES = {
    "README.md": "# mono\n",
    "services/api/app.py": "print('api')\n",
    "services/api/old.py": "OLD = 1\n",
    "services/api/Dockerfile": "FROM scratch\n",
    "services/apix/notes.md": "not a service\n",
    "apps/web/index.js": "console.log('web')\n",
    "services/worker/main.go": "package main\n",
    "services/worker/old.go": "package main\n",
    "services/ml/train.py": "print('ml')\n",
    "edge/Dockerfile": "FROM scratch\n",
    "edge/nginx.conf": "events {}\n",
    "libs/shared/util.py": "X = 1\n",
    "libs/ui/button.js": "export {}\n",
    "models/weights.txt": "0\n",
    "tools/build.sh": "#!/bin/sh\n",
    "tools/other.sh": "#!/bin/sh\n",
}
ALL = ["api", "edge", "ml", "web", "worker"]


# --------------------------------------------------------------------------- helpers


def git(repo: Path, *args: str) -> str:
    result = subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True,
                            env={**os.environ, **GIT_ENV}, check=False, timeout=60)
    assert result.returncode == 0, f"git {' '.join(args)}: {result.stderr}"
    return result.stdout.strip()


def write_files(repo: Path, files: dict[str, str | None]) -> None:
    """Write (or, for None, delete) files relative to the repository root."""
    for name, text in files.items():
        path = repo / name
        if text is None:
            path.unlink()
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")


def render(repo: Path) -> None:
    result = subprocess.run([sys.executable, "-m", "harden_ci", "render"], cwd=repo,
                            capture_output=True, text=True, check=False, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr


def make_repo(root: Path, spec: str, files: dict[str, str | None]) -> Path:
    """A git repository on `main`: the files, the spec, and the rendered workflows."""
    root.mkdir(parents=True)
    git(root, "init", "-q", "-b", "main")
    write_files(root, files)
    (root / SPEC_FILE).write_text(spec, encoding="utf-8")
    render(root)
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "initial")
    return root


def load_workflow(path: Path) -> dict[str, Any]:
    data = yaml.safe_load(path.read_text("utf-8"))
    if True in data:  # YAML 1.1 reads the key `on` as true
        data["on"] = data.pop(True)
    assert isinstance(data, dict)
    return data


def select_step(workflow: dict[str, Any]) -> dict[str, Any]:
    steps = [s for s in workflow["jobs"]["changes"]["steps"] if s.get("id") == "select"]
    assert len(steps) == 1
    return steps[0]


def parse_github_output(text: str) -> dict[str, str]:
    """$GITHUB_OUTPUT as the runner reads it: `key=value` lines and `key<<EOF` blocks."""
    outputs: dict[str, str] = {}
    lines = text.split("\n")
    index = 0
    while index < len(lines):
        line = lines[index]
        index += 1
        if not line:
            continue
        if "<<" in line and ("=" not in line or line.index("<<") < line.index("=")):
            key, delimiter = line.split("<<", 1)
            block = []
            while lines[index] != delimiter:
                block.append(lines[index])
                index += 1
            index += 1
            outputs[key] = "\n".join(block)
        else:
            key, value = line.split("=", 1)
            outputs[key] = value
    return outputs


@dataclass
class Run:
    outputs: dict[str, str]
    summary: str
    stdout: str
    returncode: int

    @property
    def services(self) -> list[str]:
        return list(json.loads(self.outputs["services"]))

    def matrix(self, key: str) -> list[dict[str, Any]]:
        value = json.loads(self.outputs[key])
        assert isinstance(value, list)
        return value

    def chunks(self, kind: str) -> list[list[dict[str, Any]]]:
        count = len([k for k in self.outputs if re.fullmatch(rf"{kind}-\d+", k)])
        assert sorted(k for k in self.outputs if k.startswith(f"{kind}-")) == \
            sorted(f"{kind}-{i}" for i in range(1, count + 1))
        return [self.matrix(f"{kind}-{i}") for i in range(1, count + 1)]

    def entries(self, kind: str) -> list[dict[str, Any]]:
        return [entry for chunk in self.chunks(kind) for entry in chunk]


REPOSITORY = "acme/app"


def run_changes_step(repo: Path, event: str, base: str = "", head: str = "",
                     check: bool = True, head_repo: str | None = None) -> Run:
    """Run the `changes` job's select step as the runner would."""
    step = select_step(load_workflow(repo / CI_WORKFLOW))
    expected_env = {
        "BASE_SHA": "${{ github.event.pull_request.base.sha || github.event.merge_group.base_sha }}",
        "HEAD_SHA": "${{ github.event.pull_request.head.sha || github.event.merge_group.head_sha }}",
        "HEAD_REPO": "${{ github.event.pull_request.head.repo.full_name }}",
    }
    if head_repo is None:  # a pull request from a branch of the repository itself
        head_repo = REPOSITORY if event == "pull_request" else ""
    assert step["env"] == expected_env, "the step's env changed: teach this test the new inputs"
    scratch = repo.parent / f"{repo.name}-runner"
    scratch.mkdir(exist_ok=True)
    output, summary = scratch / "output", scratch / "summary"
    output.write_text("", encoding="utf-8")
    summary.write_text("", encoding="utf-8")
    env = {
        "PATH": os.environ["PATH"], "HOME": str(scratch), **GIT_ENV,
        "GITHUB_EVENT_NAME": event, "BASE_SHA": base, "HEAD_SHA": head,
        "HEAD_REPO": head_repo, "GITHUB_REPOSITORY": REPOSITORY,
        "GITHUB_OUTPUT": str(output), "GITHUB_STEP_SUMMARY": str(summary),
    }
    # GitHub's default shell on Linux runners: bash --noprofile --norc -eo pipefail {0}
    result = subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", step["run"]],
                            cwd=repo, env=env, capture_output=True, text=True, check=False,
                            timeout=120)
    if check:
        assert result.returncode == 0, result.stdout + result.stderr
    return Run(parse_github_output(output.read_text("utf-8")), summary.read_text("utf-8"),
               result.stdout if check else result.stdout + result.stderr, result.returncode)



# --------------------------------------------------------------------------- matrix jobs
# What a matrix job sees: its entry (`matrix.*`) and the outputs of the steps that run the
# companion script (`steps.<id>.outputs.*`, e.g. a service's settings read from its table).
# A tiny evaluator for the expressions those jobs use: plain references, `REF == 'x'`, and
# references embedded in a string.

_EXPRESSION = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")
_REFERENCE = re.compile(r"^(matrix\.[\w-]+|steps\.[\w-]+\.outputs\.[\w-]+)$")
_EQUALS = re.compile(r"^(matrix\.[\w-]+|steps\.[\w-]+\.outputs\.[\w-]+) == '([^']*)'$")
_STEP_REF = re.compile(r"\bsteps\.([\w-]+)\.outputs\.([\w-]+)")
COMPANION = ".github/workflows/harden-ci/affected.py"


@dataclass
class JobContext:
    matrix: dict[str, Any]
    steps: dict[str, dict[str, str]]

    def lookup(self, reference: str) -> Any:
        parts = reference.split(".")
        if parts[0] == "matrix":
            assert parts[1] in self.matrix, f"matrix.{parts[1]} is not in the entry {self.matrix}"
            return self.matrix[parts[1]]
        outputs = self.steps.get(parts[1])
        assert outputs is not None, f"step `{parts[1]}` did not run"
        assert parts[3] in outputs, f"step `{parts[1]}` has no output `{parts[3]}`: {outputs}"
        return outputs[parts[3]]

    def evaluate(self, text: str) -> Any:
        whole = _EXPRESSION.fullmatch(text.strip())
        if whole:
            inner = whole.group(1)
            if _REFERENCE.match(inner):
                return self.lookup(inner)
            equals = _EQUALS.match(inner)
            if equals:
                return self.lookup(equals.group(1)) == equals.group(2)
            raise AssertionError(f"teach this test the expression {text!r}")

        def one(match: re.Match[str]) -> str:
            assert _REFERENCE.match(match.group(1)), f"teach this test {match.group(0)!r}"
            return str(self.lookup(match.group(1)))
        return _EXPRESSION.sub(one, text)


def companion_steps(job: dict[str, Any]) -> list[dict[str, Any]]:
    return [s for s in job["steps"] if "id" in s and COMPANION in str(s.get("run", ""))]


def job_context(repo: Path, job: dict[str, Any], entry: dict[str, Any]) -> JobContext:
    """Run, for one matrix entry, the job's steps that call the companion script, as the
    runner would (their env evaluated against the entry), and collect their outputs."""
    context = JobContext(matrix=entry, steps={})
    for step in companion_steps(job):
        output = repo.parent / f"{repo.name}-step-output"
        output.write_text("", encoding="utf-8")
        env = {"PATH": os.environ["PATH"], **GIT_ENV, "GITHUB_OUTPUT": str(output),
               "GITHUB_STEP_SUMMARY": os.devnull}
        env |= {key: str(context.evaluate(str(value))) for key, value in step.get("env", {}).items()}
        result = subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", step["run"]],
                                cwd=repo, env=env, capture_output=True, text=True, check=False,
                                timeout=60)
        assert result.returncode == 0, (step["run"], entry, result.stderr)
        context.steps[step["id"]] = parse_github_output(output.read_text("utf-8"))
    return context


def fields_read(job: dict[str, Any]) -> tuple[set[str], dict[str, set[str]]]:
    """The `matrix.<field>`s a job reads, and the `steps.<id>.outputs.<field>`s it reads of
    the steps that call the companion script."""
    text = json.dumps(job)
    ids = {s["id"] for s in companion_steps(job)}
    outputs: dict[str, set[str]] = {step_id: set() for step_id in ids}
    for step_id, field in _STEP_REF.findall(text):
        if step_id in ids:
            outputs[step_id].add(field)
    return set(_MATRIX_FIELD.findall(text)), outputs


def check_entry(repo: Path, job_id: str, job: dict[str, Any], entry: dict[str, Any]) -> JobContext:
    """Every field the job reads exists for this entry: in the entry, or in the outputs of
    the step that reads the service's settings."""
    matrix_fields, step_fields = fields_read(job)
    missing = matrix_fields - set(entry)
    assert not missing, f"{job_id} reads matrix.{sorted(missing)}, absent from {entry}"
    context = job_context(repo, job, entry)
    for step_id, wanted in step_fields.items():
        absent = wanted - set(context.steps[step_id])
        assert not absent, f"{job_id}: steps.{step_id}.outputs.{sorted(absent)} missing for {entry}"
    return context


def is_equality(condition: str) -> bool:
    whole = _EXPRESSION.fullmatch(condition.strip())
    return bool(whole and _EQUALS.match(whole.group(1)))


def step_with_env(job: dict[str, Any], key: str) -> dict[str, Any]:
    found = [s for s in job["steps"] if key in (s.get("env") or {})]
    assert len(found) == 1, key
    return found[0]


def step_using(job: dict[str, Any], action: str) -> dict[str, Any]:
    found = [s for s in job["steps"] if str(s.get("uses", "")).startswith(action + "@")]
    assert len(found) == 1, action
    return found[0]


@dataclass
class Repo:
    root: Path
    base: str  # main's first commit, where feature branches start
    counter: int = 0

    def change(self, files: dict[str, str | None], *, base_moves: dict[str, str] | None = None
               ) -> tuple[str, str]:
        """A pull request: a branch off `main` with `files` changed; optionally `main` moves
        on meanwhile (`base_moves`). Returns (base sha, head sha) as GitHub sends them."""
        self.counter += 1
        git(self.root, "checkout", "-q", "-B", f"pr-{self.counter}", self.base)
        write_files(self.root, files)
        git(self.root, "add", "-A")
        git(self.root, "commit", "-q", "--allow-empty", "-m", f"change {self.counter}")
        head = git(self.root, "rev-parse", "HEAD")
        base = self.base
        if base_moves:
            git(self.root, "checkout", "-q", "-B", f"main-{self.counter}", self.base)
            write_files(self.root, base_moves)
            git(self.root, "add", "-A")
            git(self.root, "commit", "-q", "-m", f"main moves on {self.counter}")
            base = git(self.root, "rev-parse", "HEAD")
        git(self.root, "checkout", "-q", head)  # the runner checks out the PR's head
        return base, head

    def pull_request(self, files: dict[str, str | None], event: str = "pull_request",
                     **kwargs: Any) -> Run:
        base, head = self.change(files, **kwargs)
        return run_changes_step(self.root, event, base, head)


@pytest.fixture(scope="module")
def mono(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Repo]:
    root = make_repo(tmp_path_factory.mktemp("affected") / "repo", MONOREPO_SPEC, MONOREPO_FILES)
    repo = Repo(root, git(root, "rev-parse", "HEAD"))
    yield repo
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="module")
def full_run(mono: Repo) -> Run:
    git(mono.root, "checkout", "-q", mono.base)
    return run_changes_step(mono.root, "push")


# --------------------------------------------------------------------------- full runs


def test_push_selects_every_service_with_exact_matrices(mono: Repo, full_run: Run) -> None:
    assert full_run.services == ALL
    labels = {"api": ["ubuntu-24.04"], "web": ["ubuntu-24.04"], "edge": ["ubuntu-24.04"],
              "worker": ["ubuntu-24.04-8core"], "ml": ["self-hosted", "linux", "gpu"]}
    tests = full_run.entries("tests")
    assert [(e["service"], e["shard"], e["shards"]) for e in tests] == [
        ("api", 1, 2), ("api", 2, 2), ("web", 1, 1), ("worker", 1, 1), ("ml", 1, 1)]
    assert all(e["runs_on"] == labels[e["service"]] for e in tests), tests
    images = full_run.entries("images")
    assert [e["service"] for e in images] == ["api", "edge"]
    assert all(e["runs_on"] == labels[e["service"]] for e in images), images
    assert "full run (push)" in full_run.stdout
    assert "## Affected services" in full_run.summary
    assert "api, edge, ml, web, worker" in full_run.summary


def test_a_fork_pull_request_never_gets_a_self_hosted_runner(mono: Repo) -> None:
    git(mono.root, "checkout", "-q", mono.base)
    fork = run_changes_step(mono.root, "pull_request", head_repo="mallory/app")
    own = run_changes_step(mono.root, "pull_request")
    fork_labels = {e["service"]: e["runs_on"] for e in fork.entries("tests")}
    own_labels = {e["service"]: e["runs_on"] for e in own.entries("tests")}
    assert own_labels["ml"] == ["self-hosted", "linux", "gpu"]
    assert own_labels["worker"] == ["ubuntu-24.04-8core"]
    # Every label GitHub does not host (self-hosted, scale sets, larger runners) is replaced.
    assert fork_labels == {name: ["ubuntu-24.04"] for name in own_labels}
    assert all("fork_runs_on" not in e for e in fork.entries("tests") + own.entries("images"))
    # Static runs-on values of the pull-request workflow follow the same rule.
    workflow = load_workflow(mono.root / CI_WORKFLOW)
    assert all("self-hosted" not in str(job["runs-on"]) for job in workflow["jobs"].values())


SERVICE_FACTS = {  # service -> (path, language, the setup step that must run)
    "api": ("services/api", "python", "Set up Python"),
    "web": ("apps/web", "node", "Set up Node.js"),
    "worker": ("services/worker", "go", "Set up Go"),
    "ml": ("services/ml", "python", "Set up Python"),
}


def test_each_unit_test_job_resolves_its_service(mono: Repo, full_run: Run) -> None:
    """For every entry, the unit-tests job works in the service's folder, runs its test
    command with its shard, and sets up exactly its language."""
    job = load_workflow(mono.root / CI_WORKFLOW)["jobs"]["unit-tests"]
    run_tests = step_with_env(job, "TEST_COMMAND")
    setups = [s for s in job["steps"] if str(s.get("name", "")).startswith("Set up ")
              and is_equality(str(s.get("if", "")))]
    assert len(setups) >= 4
    for entry in full_run.entries("tests"):
        context = check_entry(mono.root, "unit-tests", job, entry)
        path, language, setup = SERVICE_FACTS[entry["service"]]
        assert context.evaluate(run_tests["working-directory"]) == path
        env = {k: str(context.evaluate(str(v))) for k, v in run_tests["env"].items()}
        assert env["TEST_COMMAND"] == LANGUAGE_DEFAULTS[language].test
        assert (env["HARDEN_CI_SHARD_INDEX"], env["HARDEN_CI_SHARD_TOTAL"]) == \
            (str(entry["shard"]), str(entry["shards"]))
        assert [s["name"] for s in setups if context.evaluate(s["if"])] == [setup], entry
        assert context.evaluate(job["runs-on"]) == entry["runs_on"]


def test_each_image_job_builds_its_service(mono: Repo, full_run: Run) -> None:
    job = load_workflow(mono.root / CI_WORKFLOW)["jobs"]["images"]
    build = step_using(job, "docker/build-push-action")
    built = []
    for entry in full_run.entries("images"):
        context = check_entry(mono.root, "images", job, entry)
        built.append((entry["service"], context.evaluate(build["with"]["context"]),
                      context.evaluate(build["with"]["file"])))
    assert built == [("api", "services/api", "services/api/Dockerfile"),
                     ("edge", "edge", "edge/Dockerfile")]


@pytest.mark.parametrize("event", ["push", "schedule", "workflow_dispatch"])
def test_non_pull_request_events_cover_everything(mono: Repo, full_run: Run, event: str) -> None:
    base, head = mono.change({"README.md": f"# {event}\n"})
    run = run_changes_step(mono.root, event, base, head)
    assert run.services == ALL
    assert run.outputs == full_run.outputs


def test_pull_request_without_shas_runs_everything(mono: Repo, full_run: Run) -> None:
    """No base to diff against: run all, never nothing."""
    run = run_changes_step(mono.root, "pull_request", "", "")
    assert run.outputs == full_run.outputs


def test_an_unknown_base_fails_the_job_instead_of_selecting_nothing(mono: Repo) -> None:
    _, head = mono.change({"services/api/app.py": "print('x')\n"})
    run = run_changes_step(mono.root, "pull_request", "0" * 40, head, check=False)
    assert run.returncode != 0, run.stdout
    assert "tests-1" not in run.outputs, "a failed diff must not publish a (partial) matrix"


# --------------------------------------------------------------------------- pull requests

# change -> the services it selects
CASES: dict[str, tuple[dict[str, str | None], list[str]]] = {
    "a file in one service": ({"services/api/app.py": "print('changed')\n"}, ["api"]),
    "a new file in one service": ({"services/worker/extra.go": "package main\n"}, ["worker"]),
    "a deleted file": ({"services/worker/old.go": None}, ["worker"]),
    "a file moved between services": (
        {"services/api/old.py": None, "services/worker/old.py": "OLD = 1\n"}, ["api", "worker"]),
    "two services": ({"services/api/app.py": "1\n", "apps/web/index.js": "2\n"}, ["api", "web"]),
    "a container-only service": ({"edge/nginx.conf": "events { }\n"}, ["edge"]),
    "a path watched by two services": ({"libs/ui/button.js": "export const b = 1\n"}, ["ml", "web"]),
    "a path watched by one service": ({"models/weights.txt": "1\n"}, ["ml"]),
    "a shared folder": ({"libs/shared/util.py": "X = 2\n"}, ALL),
    "a shared file": ({"tools/build.sh": "#!/bin/sh\nexit 0\n"}, ALL),
    "the spec (a comment only)": (
        {SPEC_FILE: MONOREPO_SPEC + "# a comment\n"}, ALL),
    "a file under .github/": ({".github/CODEOWNERS": "* @acme\n"}, ALL),
    "the README": ({"README.md": "# mono, changed\n"}, []),
    "a sibling of a shared file": ({"tools/other.sh": "#!/bin/sh\nexit 1\n"}, []),
    "a folder whose name extends a service's": ({"services/apix/notes.md": "still not\n"}, []),
    "a new top-level file": ({"CHANGELOG.md": "- x\n"}, []),
    "a file name with a space": ({"services/api/my module.py": "X = 1\n"}, ["api"]),
}


@pytest.mark.parametrize("event", ["pull_request", "merge_group"])
@pytest.mark.parametrize("case", list(CASES))
def test_a_change_selects_exactly_the_services_it_touches(
        mono: Repo, full_run: Run, case: str, event: str) -> None:
    files, expected = CASES[case]
    run = mono.pull_request(files, event=event)
    assert run.services == sorted(expected), case
    chosen = set(expected)
    # The matrices are the full run's entries of exactly those services, in spec order,
    # in as many chunks as the workflow has jobs for (an empty chunk is `[]`).
    assert run.entries("tests") == [e for e in full_run.entries("tests") if e["service"] in chosen]
    assert run.entries("images") == [e for e in full_run.entries("images") if e["service"] in chosen]
    assert set(run.outputs) == set(full_run.outputs)
    if not any(e["service"] in chosen for e in full_run.entries("tests")):
        assert run.outputs["tests-1"] == "[]"  # the unit-tests job's `if:` skips on this
    if not chosen:
        assert run.outputs["services"] == "[]"
        assert run.outputs["images-1"] == "[]"
        assert "none" in run.stdout


def test_commits_that_land_on_main_meanwhile_do_not_count(mono: Repo) -> None:
    """BASE...HEAD: only what the pull request changed since it branched off."""
    run = mono.pull_request({"services/api/app.py": "print('pr')\n"},
                            base_moves={"services/worker/main.go": "package main // moved on\n"})
    assert run.services == ["api"]


def test_an_empty_pull_request_selects_nothing(mono: Repo) -> None:
    run = mono.pull_request({})
    assert run.services == []
    assert run.outputs["tests-1"] == "[]" and run.outputs["images-1"] == "[]"


def test_a_non_ascii_file_name_selects_its_service(mono: Repo) -> None:
    """`git diff --name-only` quotes and octal-escapes such names by default
    (core.quotePath), e.g. `"services/api/caf\\303\\251.py"`, which matches no prefix."""
    run = mono.pull_request({"services/api/café.py": "X = 1\n"})
    assert run.services == ["api"]


def test_a_file_name_with_a_quote_selects_its_service(mono: Repo) -> None:
    """Even with core.quotePath off, git quotes names holding `"`, `\\` or a tab."""
    run = mono.pull_request({'services/api/say "hi".py': "X = 1\n"})
    assert run.services == ["api"]


# --------------------------------------------------------------------------- the workflow


def matrix_jobs(workflow: dict[str, Any]) -> dict[str, str]:
    """job id -> the `changes` output its matrix comes from."""
    found = {}
    for job_id, job in workflow["jobs"].items():
        include = str(((job.get("strategy") or {}).get("matrix") or {}).get("include", ""))
        refs = _OUTPUT_REF.findall(include)
        if refs:
            assert len(refs) == 1, job_id
            found[job_id] = refs[0]
    return found


def test_every_matrix_entry_has_every_field_its_job_reads(mono: Repo, full_run: Run) -> None:
    workflow = load_workflow(mono.root / CI_WORKFLOW)
    jobs = matrix_jobs(workflow)
    assert set(jobs.values()) == {"tests-1", "images-1"}
    for job_id, output in jobs.items():
        matrix_fields, _ = fields_read(workflow["jobs"][job_id])
        assert {"service", "runs_on"} <= matrix_fields, (job_id, matrix_fields)
        entries = full_run.matrix(output)
        assert entries, output
        for entry in entries:
            check_entry(mono.root, job_id, workflow["jobs"][job_id], entry)


def test_the_job_outputs_are_exactly_what_the_script_writes(mono: Repo, full_run: Run) -> None:
    workflow = load_workflow(mono.root / CI_WORKFLOW)
    declared = workflow["jobs"]["changes"]["outputs"]
    step_outputs = {}
    for name, value in declared.items():
        match = _STEP_OUTPUT.match(value)
        assert match, (name, value)
        step_outputs[name] = match.group(1)
    assert set(step_outputs.values()) == set(full_run.outputs)
    referenced = set(_OUTPUT_REF.findall(json.dumps(workflow["jobs"])))
    assert referenced <= set(declared), referenced - set(declared)
    for job_id, job in workflow["jobs"].items():
        if _OUTPUT_REF.search(json.dumps(job)):
            needs = job.get("needs") or []
            assert "changes" in ([needs] if isinstance(needs, str) else needs), job_id


# --------------------------------------------------------------------------- a root service

ROOT_SPEC = """\
version: 1
project: {name: single}
services:
  app: {path: ., language: python}
  docs: {path: docs, language: node}
"""


@pytest.fixture(scope="module")
def rooted(tmp_path_factory: pytest.TempPathFactory) -> Repo:
    files: dict[str, str | None] = {"README.md": "# single\n", "src/main.py": "1\n",
                                    "docs/index.js": "2\n"}
    root = make_repo(tmp_path_factory.mktemp("rooted") / "repo", ROOT_SPEC, files)
    return Repo(root, git(root, "rev-parse", "HEAD"))


@pytest.mark.parametrize(("files", "expected"), [
    ({"README.md": "# changed\n"}, ["app"]),
    ({"src/main.py": "3\n"}, ["app"]),
    ({"docs/index.js": "4\n"}, ["app", "docs"]),  # the root service holds everything
])
def test_a_service_at_the_root_is_touched_by_every_change(
        rooted: Repo, files: dict[str, str | None], expected: list[str]) -> None:
    run = rooted.pull_request(files)
    assert run.services == expected
    assert [e["service"] for e in run.entries("tests")] == [s for s in ("app", "docs") if s in expected]
    job = load_workflow(rooted.root / CI_WORKFLOW)["jobs"]["unit-tests"]
    context = check_entry(rooted.root, "unit-tests", job, run.matrix("tests-1")[0])
    assert context.evaluate(step_with_env(job, "TEST_COMMAND")["working-directory"]) == "."


# --------------------------------------------------------------------------- chunking


def chunked_spec() -> str:
    """5 services of 64 shards (320 test entries) and 260 container-only services
    (260 image entries): both matrices need two chunks."""
    lines = ["version: 1", "project: {name: big}", "services:"]
    for i in range(5):
        lines.append(f"  heavy{i}: {{path: heavy/h{i}, language: python, shards: 64}}")
    for i in range(260):
        lines.append(f"  box{i:03d}: {{path: boxes/b{i:03d}, dockerfile: boxes/b{i:03d}/Dockerfile}}")
    return "\n".join(lines) + "\n"


@pytest.fixture(scope="module")
def chunked(tmp_path_factory: pytest.TempPathFactory) -> Repo:
    files: dict[str, str | None] = {"README.md": "# big\n"}
    files |= {f"heavy/h{i}/t.py": "1\n" for i in range(5)}
    files |= {f"boxes/b{i:03d}/Dockerfile": "FROM scratch\n" for i in range(260)}
    root = make_repo(tmp_path_factory.mktemp("chunked") / "repo", chunked_spec(), files)
    return Repo(root, git(root, "rev-parse", "HEAD"))


def test_matrices_over_256_entries_are_chunked_and_complete(chunked: Repo) -> None:
    git(chunked.root, "checkout", "-q", chunked.base)
    run = run_changes_step(chunked.root, "push")
    tests, images = run.chunks("tests"), run.chunks("images")
    assert [len(c) for c in tests] == [256, 64]
    assert [len(c) for c in images] == [256, 4]
    expected_tests = [(f"heavy{i}", shard) for i in range(5) for shard in range(1, 65)]
    assert [(e["service"], e["shard"]) for e in run.entries("tests")] == expected_tests
    assert [e["service"] for e in run.entries("images")] == [f"box{i:03d}" for i in range(260)]

    workflow = load_workflow(chunked.root / CI_WORKFLOW)
    jobs = matrix_jobs(workflow)
    assert jobs == {"unit-tests-1": "tests-1", "unit-tests-2": "tests-2",
                    "images-1": "images-1", "images-2": "images-2"}
    for job_id, output in jobs.items():
        entries = run.matrix(output)
        matrix_fields, _ = fields_read(workflow["jobs"][job_id])
        assert all(matrix_fields <= set(entry) for entry in entries), job_id
        for entry in (entries[0], entries[-1]):  # the settings step, at both ends
            check_entry(chunked.root, job_id, workflow["jobs"][job_id], entry)
    required = workflow["jobs"]["required"]["needs"]
    assert {"unit-tests-1", "unit-tests-2", "images-1", "images-2"} <= set(required)


def test_a_pull_request_fills_the_chunks_from_the_first(chunked: Repo) -> None:
    run = chunked.pull_request({"heavy/h4/t.py": "2\n", "boxes/b259/Dockerfile": "FROM x\n"})
    assert run.services == ["box259", "heavy4"]
    assert [(e["service"], e["shard"]) for e in run.matrix("tests-1")] == \
        [("heavy4", s) for s in range(1, 65)]
    assert run.outputs["tests-2"] == "[]"
    assert [e["service"] for e in run.matrix("images-1")] == ["box259"]
    assert run.outputs["images-2"] == "[]"


def sharded_spec(services: int, shards: int) -> str:
    lines = ["version: 1", "project: {name: sharded}", "services:"]
    lines += [f"  s{i:03d}: {{path: services/s{i:03d}, language: python, shards: {shards}}}"
              for i in range(services)]
    return "\n".join(lines) + "\n"


def test_the_changes_job_outputs_fit_githubs_limit_when_chunked(tmp_path: Path) -> None:
    """Chunking exists for monorepos with more than 256 shards; their matrices must also
    fit in the `changes` job's outputs, which GitHub caps at 1 MB per job (counted as
    UTF-16). 300 services of 4 shards (1200 matrix jobs, 5 chunks), language defaults only:
    each entry repeats every per-service field (~470 characters), so about 1,100 shards
    reach the limit, and far fewer with long `test`/`install` commands."""
    repo = make_repo(tmp_path / "repo", sharded_spec(300, 4), {"README.md": "# x\n"})
    run = run_changes_step(repo, "push")
    assert [len(chunk) for chunk in run.chunks("tests")] == [256, 256, 256, 256, 176]
    size = sum(len((key + value).encode("utf-16-le")) for key, value in run.outputs.items())
    assert size <= JOB_OUTPUTS_LIMIT, (
        f"the changes job's outputs are {size:,} bytes (UTF-16) for 1200 shards, over GitHub's "
        f"1 MB per job; each entry is ~{size // 1200:,} bytes")
