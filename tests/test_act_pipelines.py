"""The generated pipelines run: under act, on fixture repositories of every stack.

Each stack is a small real project (tests/fixtures/projects/STACK) with a spec; the test
commits it with its rendered workflows, opens a pull request and runs the CI workflow for
`pull_request`, `merge_group` and `push` with every action stubbed (tests/act_harness.py).
What is asserted is what a maintainer would look at: the test runner's own output says the
tests ran, a failing test turns the pull request red and `All required checks` with it,
the merge queue and the push to the default branch go green, a monorepo runs only the
touched service's tests, and the drift guard goes red after a hand edit of a generated
file. harden-ci reaches the jobs as a user's CI gets it: a wheel built from this checkout,
committed in the fixture and installed from the hashed companion lock.
"""

from __future__ import annotations

import functools
import re
import shutil
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import act_harness as act
import pytest
from helpers import build_wheel

PROJECTS = Path(__file__).resolve().parent / "fixtures" / "projects"
WHEEL_DIR = "ci"

pytestmark = pytest.mark.slow

# The runs carry no secret: the secret scan builds gitleaks from its release commit, with no
# license and no token.
SECRETS: dict[str, str] = {}
LEAK = 'AWS_KEY = "AKIAZ4RQ7TXW2M5KP3LD"\n'  # aws-access-token, entropy above 3
LOOKALIKE = 'PLACEHOLDER = "AKIAAAAAAAAAAAAAAAAA"\n'  # the same shape, entropy 0: no leak


@dataclass(frozen=True)
class Stack:
    name: str
    project: str
    services: str  # the spec's `services:` block, as YAML
    change: Mapping[str, str]  # a pull request that keeps the tests green
    breaking: Mapping[str, str]  # a pull request with one failing test
    ran: str  # a regex over the unit-test job's log: the runner's own words
    failed: str  # ... and its words for the failing test
    needs: tuple[str, ...] = ()  # programs the host must have
    extra_spec: str = ""
    # Commands that write the project's lockfile when the fixture is made (lockfiles that
    # would name a package index's host are not committed), run in the project's folder.
    lock: tuple[tuple[str, ...], ...] = ()


def _read(project: str, rel: str) -> str:
    return (PROJECTS / project / rel).read_text(encoding="utf-8")


# node --test prints TAP (`# pass 2`) or, on a terminal, its spec reporter, which puts an
# information sign (U+2139) where TAP has `#`.
NODE_PASS, NODE_FAIL = r"(?:#|\u2139) pass {n}\b", r"(?:#|\u2139) fail {n}\b"

STACKS = [
    Stack(
        name="python-pip", project="python-pip",
        services="  shop: {language: python}\n",
        change={"app/pricing.py": _read("python-pip", "app/pricing.py").replace(
            "round(sum(prices), 2)", "round(float(sum(prices)), 2)")},
        breaking={"app/pricing.py": _read("python-pip", "app/pricing.py").replace(
            "1 - percent / 100", "1 - percent / 10")},
        ran=r"3 passed", failed=r"1 failed, 2 passed",
    ),
    Stack(
        name="node-npm", project="node-npm",
        services="  slugger: {language: node, version: \"20\"}\n",
        change={"src/slug.js": _read("node-npm", "src/slug.js").replace(
            "title.trim()", "String(title).trim()")},
        breaking={"src/slug.js": _read("node-npm", "src/slug.js").replace(
            "`${slugify(title)}-${page}`", "`${slugify(title)}/${page}`")},
        ran=NODE_PASS.format(n=2), failed=NODE_FAIL.format(n=1), needs=("node", "npm"),
    ),
    Stack(
        name="go", project="go",
        services="  linkcheck: {language: go, version: \"1.19\"}\n",
        change={"main.go": _read("go", "main.go").replace(
            "reports whether a link has no scheme", "reports whether a link lacks a scheme")},
        breaking={"internal/textutil/textutil.go": _read(
            "go", "internal/textutil/textutil.go").replace("len(link) > 1", "len(link) > 0")},
        # `./...`: the nested package is tested too, not only the root.
        ran=r"ok\s+example\.com/linkcheck/internal/textutil",
        failed=r"FAIL\s+example\.com/linkcheck/internal/textutil", needs=("go",),
    ),
    Stack(
        name="rust", project="rust",
        services="  ratelimit: {language: rust}\n",
        change={"src/lib.rs": _read("rust", "src/lib.rs").replace(
            "Takes one token", "Takes a single token")},
        breaking={"src/lib.rs": _read("rust", "src/lib.rs").replace(
            ".min(self.capacity)", ".max(self.capacity)")},
        ran=r"test result: ok\. 2 passed", failed=r"test result: FAILED\. 1 passed; 1 failed",
        needs=("cargo",),
    ),
    Stack(
        name="python-uv", project="python-uv",
        services="  invoice: {language: python, package_manager: uv}\n",
        change={"src/invoice/__init__.py": _read("python-uv", "src/invoice/__init__.py").replace(
            "Sum quantity x unit price", "Sum quantity times unit price")},
        breaking={"src/invoice/__init__.py": _read("python-uv", "src/invoice/__init__.py").replace(
            "(1 + tax_rate)", "(1 - tax_rate)")},
        ran=r"2 passed", failed=r"1 failed, 1 passed", lock=(("{uv}", "lock"),),
    ),
    Stack(
        name="python-poetry", project="python-poetry",
        services="  ledger: {language: python, package_manager: poetry}\n",
        change={"ledger/__init__.py": _read("python-poetry", "ledger/__init__.py").replace(
            "A running balance.", "The running balance of a ledger.")},
        breaking={"ledger/__init__.py": _read("python-poetry", "ledger/__init__.py").replace(
            "round(sum(entries), 2)", "round(sum(entries), 1)")},
        ran=r"2 passed", failed=r"1 failed, 1 passed",
    ),
    Stack(
        name="node-yarn", project="node-yarn",
        services="  durations: {language: node, version: \"20\", package_manager: yarn}\n",
        change={"lib/duration.js": _read("node-yarn", "lib/duration.js").replace(
            "not a duration", "not a duration string")},
        breaking={"lib/duration.js": _read("node-yarn", "lib/duration.js").replace(
            "h: 3600", "h: 360")},
        ran=NODE_PASS.format(n=2), failed=NODE_FAIL.format(n=1), needs=("node", "npm"),
        lock=(("npm", "exec", "--yes", "--", "yarn@1.22.22", "install", "--ignore-scripts",
               "--no-progress", "--non-interactive"),),
    ),
    Stack(
        name="node-pnpm-workspace", project="node-pnpm",
        services=("  format: {path: packages/format, workspace: js}\n"
                  "  report: {path: packages/report, workspace: js}\n"),
        extra_spec=("workspaces:\n"
                    "  js: {language: node, version: \"20\", lockfile: pnpm-lock.yaml}\n"),
        change={"packages/report/src/index.js": _read(
            "node-pnpm", "packages/report/src/index.js").replace("${name}: ", "${name}: ")
            + "\n// Report lines are name: share.\n"},
        breaking={"packages/report/src/index.js": _read(
            "node-pnpm", "packages/report/src/index.js").replace("${name}: ", "${name} = ")},
        ran=NODE_PASS.format(n=2), failed=NODE_FAIL.format(n=2), needs=("node", "npm"),
    ),
]


@pytest.fixture(scope="session")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """harden-ci as a user's CI gets it: a wheel built from this checkout."""
    return build_wheel(tmp_path_factory.mktemp("wheel"))


def _spec(stack: Stack, wheel: Path) -> str:
    return (
        "version: 1\n"
        f"project: {{name: {stack.name}}}\n"
        f"harden_ci: {{wheel: {WHEEL_DIR}/{wheel.name}}}\n"
        f"services:\n{stack.services}"
        "gates: {secret_scan: {tool: gitleaks}}\n"
        f"{stack.extra_spec}"
    )


def _render(repo: act.FixtureRepo) -> None:
    run = subprocess.run([sys.executable, "-m", "harden_ci", "render",
                          str(repo.path / "harden-ci.yaml")],
                         capture_output=True, text=True, check=False)
    assert run.returncode == 0, run.stdout + run.stderr


@functools.cache
def _locked_project(project: str, lock: tuple[tuple[str, ...], ...], root: Path) -> Path:
    """The project with its lockfile written by its own package manager (once a session)."""
    folder = root / project
    if not folder.exists():
        shutil.copytree(PROJECTS / project, folder)
        tools = {"uv": str(Path(sys.executable).parent / "uv")}
        for command in lock:
            args = [part.format(**tools) for part in command]
            done = subprocess.run(args, cwd=folder, capture_output=True, text=True,
                                  timeout=600, check=False)
            assert done.returncode == 0, f"{' '.join(args)}:\n{done.stdout}{done.stderr}"
        shutil.rmtree(folder / "node_modules", ignore_errors=True)
    return folder


def _repo(stack: Stack, wheel: Path, tmp_path: Path) -> act.FixtureRepo:
    _needs_go_for_the_secret_scan()
    missing = [tool for tool in stack.needs if shutil.which(tool) is None]
    if missing:
        pytest.fail(f"{stack.name} needs {', '.join(missing)} on this machine "
                    "(scripts/test.sh installs them)")
    repo = act.FixtureRepo(tmp_path / "repo")
    source = (_locked_project(stack.project, stack.lock, tmp_path.parent / "locked-projects")
              if stack.lock else PROJECTS / stack.project)
    shutil.copytree(source, repo.path, dirs_exist_ok=True)
    (repo.path / WHEEL_DIR).mkdir()
    shutil.copy2(wheel, repo.path / WHEEL_DIR / wheel.name)
    repo.write({"harden-ci.yaml": _spec(stack, wheel),
                ".gitignore": "target/\nnode_modules/\n__pycache__/\n.venv/\n"})
    _render(repo)
    repo.commit("Initial import with harden-ci workflows")
    return repo


def _needs_go_for_the_secret_scan() -> None:
    """The secret scan builds gitleaks from source, so every run needs Go."""
    if shutil.which("go") is None:
        pytest.fail("the secret scan builds gitleaks: install Go "
                    "(scripts/test.sh installs Debian's golang-go)")


def _assert_the_leak_stops_it(run: act.ActRun, whose: str) -> None:
    """The secret scan, and with it `All required checks`, is red for the one real key
    (LEAK in settings.py), redacted; LOOKALIKE beside it is not reported."""
    assert run.returncode != 0, run.explain()
    assert run.result("secret-scan") == "failure", run.explain()
    assert run.result("required") == "failure", run.explain()
    scan = run.output("secret-scan")
    assert "RuleID:      aws-access-token" in scan and "File:        settings.py" in scan
    assert scan.count("RuleID:") == 1 and "AKIAZ4RQ7TXW2M5KP3LD" not in scan  # redacted
    assert f"gitleaks found secrets in {whose} commits" in scan


def _tests_log(run: act.ActRun) -> str:
    return run.output("unit-tests")


@pytest.mark.parametrize("stack", STACKS, ids=lambda s: s.name)
def test_pull_request_is_green_and_runs_the_tests(stack: Stack, wheel: Path,
                                                  tmp_path: Path) -> None:
    repo = _repo(stack, wheel, tmp_path)
    pr = repo.open_pull_request(stack.change)
    run = act.run_act(repo, "pull_request", act.pull_request_event(pr), sha=pr.merge_sha,
                      folder=tmp_path / "run", secrets=SECRETS)
    assert run.returncode == 0, run.explain()
    assert run.result("required") == "success", run.explain()
    assert run.result("drift-guard") == "success", run.explain()
    assert re.search(stack.ran, _tests_log(run)), run.explain()
    assert "gitleaks/gitleaks-action" not in [r["action"] for r in run.stub_log]
    scan = run.output("secret-scan")
    first = repo.pushed(pr.base_sha, pr.head_sha)[0]
    assert f"--no-merges --first-parent {first}^..{pr.head_sha}" in scan, run.explain()
    assert re.search(r"No secrets in the pull request's [1-9][0-9]* commit", scan), run.explain()


def test_a_secret_in_a_pull_request_turns_it_red(wheel: Path, tmp_path: Path) -> None:
    """A key committed on the pull request's branch stops it; its look-alike does not count."""
    stack = STACKS[0]
    repo = _repo(stack, wheel, tmp_path)
    pr = repo.open_pull_request({**stack.change, "settings.py": LEAK + LOOKALIKE})
    run = act.run_act(repo, "pull_request", act.pull_request_event(pr), sha=pr.merge_sha,
                      folder=tmp_path / "run", secrets=SECRETS)
    _assert_the_leak_stops_it(run, "the pull request's")


@pytest.mark.parametrize("stack", STACKS, ids=lambda s: s.name)
def test_a_failing_test_turns_the_pull_request_red(stack: Stack, wheel: Path,
                                                   tmp_path: Path) -> None:
    repo = _repo(stack, wheel, tmp_path)
    pr = repo.open_pull_request(stack.breaking)
    run = act.run_act(repo, "pull_request", act.pull_request_event(pr), sha=pr.merge_sha,
                      folder=tmp_path / "run", secrets=SECRETS)
    assert run.returncode != 0, run.explain()
    assert run.result("unit-tests") == "failure", run.explain()
    assert run.result("required") == "failure", run.explain()
    assert re.search(stack.failed, _tests_log(run)), run.explain()


@pytest.mark.parametrize("stack", STACKS, ids=lambda s: s.name)
def test_merge_group_is_green(stack: Stack, wheel: Path, tmp_path: Path) -> None:
    repo = _repo(stack, wheel, tmp_path)
    pr = repo.open_pull_request(stack.change)
    queue = repo.queue_ref(pr)
    run = act.run_act(repo, "merge_group", act.merge_group_event(pr, queue), sha=pr.merge_sha,
                      folder=tmp_path / "run", secrets=SECRETS)
    assert run.returncode == 0, run.explain()
    # gitleaks-action refuses merge_group: the same release, built from its pinned source,
    # scans the group's commits over its base.
    assert "gitleaks/gitleaks-action" not in [r["action"] for r in run.stub_log]
    scan = run.output("secret-scan")
    assert f"--no-merges {pr.base_sha}..{pr.merge_sha}" in scan, run.explain()
    assert re.search(r"No secrets in the merge group's [1-9][0-9]* commit", scan), run.explain()
    assert run.result("required") == "success", run.explain()
    assert re.search(stack.ran, _tests_log(run)), run.explain()


def test_a_secret_in_the_merge_group_turns_it_red(wheel: Path, tmp_path: Path) -> None:
    """A key that reaches the queue (say, pushed to the pull request after its own scan)
    stops the group; a low-entropy look-alike in the same change does not count."""
    stack = STACKS[0]
    repo = _repo(stack, wheel, tmp_path)
    leak = {**stack.change, "settings.py": LEAK + LOOKALIKE}
    pr = repo.open_pull_request(leak)
    queue = repo.queue_ref(pr)
    run = act.run_act(repo, "merge_group", act.merge_group_event(pr, queue), sha=pr.merge_sha,
                      folder=tmp_path / "run", secrets=SECRETS)
    _assert_the_leak_stops_it(run, "the merge group's")


@pytest.mark.parametrize("stack", STACKS, ids=lambda s: s.name)
def test_push_to_the_default_branch_is_green(stack: Stack, wheel: Path,
                                             tmp_path: Path) -> None:
    repo = _repo(stack, wheel, tmp_path)
    pr = repo.open_pull_request(stack.change)
    before, after = repo.land(pr)
    run = act.run_act(repo, "push", act.push_event(before, after, commits=repo.pushed(before, after)),
                      sha=after,
                      folder=tmp_path / "run", secrets=SECRETS)
    assert run.returncode == 0, run.explain()
    assert run.result("required") == "success", run.explain()
    assert re.search(stack.ran, _tests_log(run)), run.explain()
    scan = run.output("secret-scan")
    assert f"--no-merges {before}..{after}" in scan, run.explain()
    assert re.search(r"No secrets in the push's [1-9][0-9]* commit", scan), run.explain()


def test_a_secret_pushed_to_the_default_branch_turns_the_push_red(wheel: Path,
                                                                   tmp_path: Path) -> None:
    stack = STACKS[0]
    repo = _repo(stack, wheel, tmp_path)
    pr = repo.open_pull_request({**stack.change, "settings.py": LEAK + LOOKALIKE})
    before, after = repo.land(pr)
    run = act.run_act(repo, "push", act.push_event(before, after, commits=repo.pushed(before, after)),
                      sha=after, folder=tmp_path / "run", secrets=SECRETS)
    _assert_the_leak_stops_it(run, "the push's")


@pytest.mark.parametrize("stack", STACKS, ids=lambda s: s.name)
def test_the_drift_guard_turns_red_after_a_hand_edit(stack: Stack, wheel: Path,
                                                     tmp_path: Path) -> None:
    repo = _repo(stack, wheel, tmp_path)
    workflow = repo.path / ".github" / "workflows" / "harden-ci.yml"
    edited = workflow.read_text(encoding="utf-8").replace(
        "timeout-minutes: 10", "timeout-minutes: 11", 1)
    assert edited != workflow.read_text(encoding="utf-8")
    pr = repo.open_pull_request({".github/workflows/harden-ci.yml": edited})
    run = act.run_act(repo, "pull_request", act.pull_request_event(pr), sha=pr.merge_sha,
                      folder=tmp_path / "run", job="drift-guard", secrets=SECRETS)
    assert run.result("drift-guard") == "failure", run.explain()
    assert "Generated workflows drifted" in run.output("drift-guard"), run.explain()


MONOREPO = {"services/api": "python-pip", "services/web": "node-npm", "services/worker": "go"}
MONOREPO_SERVICES = (
    "  api: {path: services/api, language: python}\n"
    "  web: {path: services/web, language: node, version: \"20\"}\n"
    "  worker: {path: services/worker, language: go, version: \"1.19\"}\n"
)


def _monorepo(wheel: Path, tmp_path: Path) -> act.FixtureRepo:
    stack = Stack(name="monorepo", project="", services=MONOREPO_SERVICES, change={},
                  breaking={}, ran="", failed="", needs=("node", "npm", "go"))
    missing = [tool for tool in stack.needs if shutil.which(tool) is None]
    if missing:
        pytest.fail(f"the monorepo needs {', '.join(missing)} on this machine")
    repo = act.FixtureRepo(tmp_path / "repo")
    for folder, project in MONOREPO.items():
        shutil.copytree(PROJECTS / project, repo.path / folder)
    (repo.path / WHEEL_DIR).mkdir()
    shutil.copy2(wheel, repo.path / WHEEL_DIR / wheel.name)
    repo.write({"harden-ci.yaml": _spec(stack, wheel),
                ".gitignore": "node_modules/\n__pycache__/\n"})
    _render(repo)
    repo.commit("Initial import with harden-ci workflows")
    return repo


def test_a_monorepo_pull_request_runs_only_the_touched_service(wheel: Path,
                                                               tmp_path: Path) -> None:
    repo = _monorepo(wheel, tmp_path)
    pricing = "services/api/app/pricing.py"
    pr = repo.open_pull_request({pricing: (repo.path / pricing).read_text().replace(
        "round(sum(prices), 2)", "round(float(sum(prices)), 2)")})
    run = act.run_act(repo, "pull_request", act.pull_request_event(pr), sha=pr.merge_sha,
                      folder=tmp_path / "run", secrets=SECRETS)
    assert run.returncode == 0, run.explain()
    legs = [job.matrix.get("service") for job in run.jobs if job.job_id == "unit-tests"]
    assert legs == ["api"], run.explain()
    assert re.search(r"3 passed", _tests_log(run)), run.explain()
    assert not re.search(NODE_PASS.format(n=2), _tests_log(run))
    assert "example.com/linkcheck" not in _tests_log(run)


def test_a_monorepo_push_runs_every_service(wheel: Path, tmp_path: Path) -> None:
    repo = _monorepo(wheel, tmp_path)
    pr = repo.open_pull_request({"services/web/README.md": "# web\n"})
    before, after = repo.land(pr)
    run = act.run_act(repo, "push", act.push_event(before, after, commits=repo.pushed(before, after)),
                      sha=after,
                      folder=tmp_path / "run", secrets=SECRETS)
    assert run.returncode == 0, run.explain()
    legs = sorted(str(job.matrix.get("service")) for job in run.jobs
                  if job.job_id == "unit-tests")
    assert legs == ["api", "web", "worker"], run.explain()
    log = _tests_log(run)
    assert re.search(r"3 passed", log) and re.search(NODE_PASS.format(n=2), log), run.explain()
    assert re.search(r"ok\s+example\.com/linkcheck/internal/textutil", log), run.explain()
