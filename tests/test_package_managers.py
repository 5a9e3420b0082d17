"""Package managers per service: the model's inference and checks, the rendered setup
steps, and the rendered install and test steps run for real on tiny projects.

The real runs render a spec into a temp repository and run the unit-tests job's shell
steps for one service (tests/unit_job.py): the settings step, the hashed package-manager
install (pnpm and yarn from harden-ci's own locks through `npm ci`), the frozen install and
the default test command, with dependencies from the package registries. Each asserts on
the test runner's own output, and a stale lockfile must fail the install.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from unit_job import install_manager, render_into, run_unit_job

from harden_ci.errors import SpecErrors
from harden_ci.load.yaml_source import load_spec_text
from harden_ci.model import Spec
from harden_ci.model.managers import MANAGERS, manager_for_lockfile
from harden_ci.model.validate import parse_spec
from harden_ci.plan.context import make_context
from harden_ci.plan.stages import changes
from harden_ci.render import render

VENV_BIN = Path(sys.executable).parent
LOCKS = json.loads((Path(__file__).resolve().parent.parent / "harden_ci" / "data"
                    / "package-managers.json").read_text("utf-8"))


def _spec(**services: dict[str, Any]) -> Spec:
    return Spec.model_validate({"version": 1, "project": {"name": "demo"}, "services": services})


def _settings(**service: Any) -> dict[str, Any]:
    return changes.service_config(make_context(_spec(svc=service), "harden-ci.yaml"))["svc"]


# ------------------------------------------------------------------ the model

@pytest.mark.parametrize(("lockfile", "manager"), [
    ("pnpm-lock.yaml", "pnpm"), ("apps/yarn.lock", "yarn"), ("bun.lock", "bun"),
    ("bun.lockb", "bun"), ("package-lock.json", "npm"), ("npm-shrinkwrap.json", "npm"),
    ("uv.lock", "uv"), ("x/poetry.lock", "poetry"), ("pdm.lock", "pdm"),
    ("requirements-dev.txt", "pip"), ("unknown.lock", None)])
def test_manager_is_read_from_the_lockfile_name(lockfile: str, manager: str | None) -> None:
    assert manager_for_lockfile(lockfile) == manager


@pytest.mark.parametrize(("service", "install", "test_cmd"), [
    ({"language": "node"}, "npm ci", "npm test --"),
    ({"language": "node", "package_manager": "pnpm"}, "pnpm install --frozen-lockfile",
     "pnpm test"),
    ({"language": "node", "package_manager": "yarn"}, "yarn install --frozen-lockfile",
     "yarn test"),
    ({"language": "node", "package_manager": "yarn-berry"}, "yarn install --immutable",
     "yarn test"),
    ({"language": "node", "lockfile": "bun.lock"}, "bun install --frozen-lockfile",
     "bun run test"),
    ({"language": "python", "lockfile": "uv.lock"}, "uv sync --locked",
     'uv run --locked pytest -q --junitxml="$HARDEN_CI_REPORTS_DIR/junit.xml"'),
    ({"language": "python", "package_manager": "poetry"}, "poetry sync",
     'poetry run pytest -q --junitxml="$HARDEN_CI_REPORTS_DIR/junit.xml"'),
    ({"language": "python", "package_manager": "pdm"}, "pdm install --check",
     'pdm run pytest -q --junitxml="$HARDEN_CI_REPORTS_DIR/junit.xml"'),
    ({"language": "go"}, "go mod download", "go test -race ./..."),
    ({"language": "java", "package_manager": "gradle"}, "./gradlew --no-daemon dependencies",
     "./gradlew --no-daemon test"),
])
def test_each_manager_installs_frozen_and_tests(service: dict[str, Any], install: str,
                                                 test_cmd: str) -> None:
    settings = _settings(path="svc", **service)
    assert (settings["install"], settings["test"]) == (install, test_cmd)


def test_sharded_go_default_names_no_packages_itself() -> None:
    """A shard appends its own packages (run-tests.sh), so `./...` is left out there."""
    assert _settings(language="go", shards=2)["test"] == "go test -race"
    assert _settings(language="go")["test"] == "go test -race ./..."


@pytest.mark.parametrize(("service", "message"), [
    ({"language": "node", "package_manager": "uv"}, "is a python package manager, not node"),
    ({"language": "node", "package_manager": "pnpm", "lockfile": "package-lock.json"},
     "is npm's lockfile, not pnpm's"),
    ({"language": "python", "lockfile": "pnpm-lock.yaml"}, "which does not install python"),
    ({"language": "custom", "test": "make test", "package_manager": "npm"},
     "need a `language` other than `custom`"),
    ({"dockerfile": "Dockerfile", "lockfile": "uv.lock"}, "need a `language`"),
])
def test_contradictions_are_located_spec_errors(service: dict[str, Any], message: str) -> None:
    text = "version: 1\nproject: {name: demo}\nservices:\n  svc: " + json.dumps(service) + "\n"
    with pytest.raises(SpecErrors) as caught:
        parse_spec(load_spec_text(text.encode(), "harden-ci.yaml"))
    errors = caught.value.errors
    assert any(message in str(e) for e in errors), [str(e) for e in errors]
    assert all(e.location is not None and e.location.line == 4 for e in errors)


def test_yarn_berry_may_name_yarn_lock() -> None:
    assert _settings(language="node", package_manager="yarn-berry",
                     lockfile="yarn.lock")["manager"] == "yarn-berry"


# ------------------------------------------------------------------ rendered setup

def test_setup_node_caches_only_npm_with_its_lockfile() -> None:
    """setup-node's `cache: pnpm`/`yarn` need the manager on PATH before it is installed,
    so those get actions/cache keyed on the real lockfile instead."""
    npm = _settings(path="web", language="node")
    assert (npm["setup_cache"], npm["lockfiles"], npm["cache_path"]) == \
        ("npm", "web/package-lock.json", "")
    pnpm = _settings(path="apps/web", language="node", lockfile="pnpm-lock.yaml")
    assert (pnpm["setup_cache"], pnpm["cache_path"], pnpm["cache_key_file"]) == \
        ("", "~/.local/share/pnpm/store", "pnpm-lock.yaml")
    assert pnpm["install_dir"] == "." and pnpm["manager_install"] == "npm"
    uv = _settings(path="api", language="python", package_manager="uv")
    assert (uv["setup_cache"], uv["manager_install"], uv["lockfiles"]) == \
        ("", "setup-uv", "api/uv.lock")


def test_installers_render_only_when_used() -> None:
    plain = render(_spec(web={"path": "web", "language": "node"}))
    assert "harden-ci/package-managers.py" not in plain
    assert "Install the package manager" not in plain["harden-ci.yml"]
    assert "astral-sh/setup-uv" not in plain["harden-ci.yml"]
    files = render(_spec(web={"path": "web", "language": "node", "package_manager": "pnpm"},
                         api={"path": "api", "language": "python", "package_manager": "uv"}))
    assert "astral-sh/setup-uv@" in files["harden-ci.yml"]
    companion = files["harden-ci/package-managers.py"]
    # Only the locks the spec uses, with the registry's integrity, one value per line.
    assert LOCKS["pnpm"]["lock"]["packages"]["node_modules/pnpm"]["integrity"] in companion
    assert '"yarn"' not in companion and "poetry" not in companion
    assert max(len(line) for line in companion.splitlines()) < 200


def test_each_lock_pins_one_exact_hashed_version() -> None:
    for name, entry in LOCKS.items():
        if name == "comment":
            continue
        assert MANAGERS[name].installer in ("npm", "pip")
        if entry["kind"] == "npm":
            package = entry["lock"]["packages"][f"node_modules/{entry['package']}"]
            assert package["version"] == entry["version"]
            assert all(p.get("integrity", "").startswith("sha512-")
                       for key, p in entry["lock"]["packages"].items() if key)
        else:
            lines = [line for line in entry["requirements"].splitlines()
                     if line and not line.startswith((" ", "#"))]
            assert f"{entry['package']}=={entry['version']}" in entry["requirements"]
            assert all("==" in line for line in lines)
            assert entry["requirements"].count("--hash=sha256:") >= len(lines)


# ------------------------------------------------------------------ real runs

def _git_repo(root: Path) -> None:
    subprocess.run(["git", "init", "-q", str(root)], check=True)


def _render_into(repo: Path, services: dict[str, dict[str, Any]]) -> None:
    render_into(repo, render(_spec(**services)))


def _node_project(folder: Path, marker: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "package.json").write_text(json.dumps({
        "name": folder.name, "version": "1.0.0", "private": True,
        "scripts": {"test": "node test.js"}, "dependencies": {"ms": "2.1.3"}}), "utf-8")
    (folder / "test.js").write_text(
        "const ms = require('ms');\n"
        "if (ms('1m') !== 60000) { console.error('wrong'); process.exit(1); }\n"
        f"console.log('{marker}');\n", "utf-8")


def _stale(folder: Path) -> None:
    manifest = json.loads((folder / "package.json").read_text("utf-8"))
    manifest["dependencies"]["is-number"] = "7.0.0"
    (folder / "package.json").write_text(json.dumps(manifest), "utf-8")


needs_npm = pytest.mark.skipif(shutil.which("npm") is None, reason="npm is not installed")


@needs_npm
def test_npm_service_installs_with_npm_ci_and_tests(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    _git_repo(repo)
    _node_project(repo / "web", "NPM-TESTS-PASSED")
    subprocess.run(["npm", "install", "--package-lock-only", "--no-audit", "--no-fund"],
                   cwd=repo / "web", check=True, capture_output=True)
    _render_into(repo, {"web": {"path": "web", "language": "node"}})
    run = run_unit_job(repo, "web", tmp_path)
    assert run.returncode == 0, run.output
    assert "Running: npm ci" in run.output and "NPM-TESTS-PASSED" in run.output
    setup = dict(run.uses)["actions/setup-node"]
    assert (setup["cache"], setup["cache-dependency-path"]) == ("npm", "web/package-lock.json")
    _stale(repo / "web")
    stale = run_unit_job(repo, "web", _fresh(tmp_path / "again"))
    assert stale.returncode != 0 and stale.ran[-1] == "Install dependencies", stale.output


def _env() -> dict[str, str]:
    return dict(os.environ)


def _fresh(folder: Path) -> Path:
    """A second job's runner folders (RUNNER_TEMP, GITHUB_PATH) beside the first's."""
    folder.mkdir()
    return folder


@needs_npm
@pytest.mark.parametrize(("manager", "lockfile", "lock_command"), [
    ("pnpm", "pnpm-lock.yaml", ["pnpm", "install", "--lockfile-only"]),
    ("yarn", "yarn.lock", ["yarn", "install", "--no-progress"]),
    ("yarn-berry", "yarn.lock", ["yarn", "install"]),
    ("bun", "bun.lock", ["bun", "install", "--lockfile-only"]),
])
def test_workspace_root_lockfile_install_with_a_hashed_manager(
        tmp_path: Path, manager: str, lockfile: str, lock_command: list[str]) -> None:
    """The manager comes from harden-ci's lock at its exact version; the install runs in
    the lockfile's folder, frozen; the test runs in the service's folder."""
    repo = tmp_path / "repo"
    _git_repo(repo)
    marker = f"{manager.upper()}-TESTS-PASSED"
    _node_project(repo, marker)  # the lockfile sits at the root, the service in app/
    root = json.loads((repo / "package.json").read_text("utf-8"))
    (repo / "package.json").write_text(json.dumps({**root, "workspaces": ["app"]}), "utf-8")
    (repo / "pnpm-workspace.yaml").write_text("packages:\n  - app\n", "utf-8")
    (repo / "app").mkdir()
    (repo / "app" / "package.json").write_text(json.dumps(
        {"name": "app", "version": "1.0.0", "private": True,
         "scripts": {"test": "node ../test.js"}}), "utf-8")
    _render_into(repo, {"app": {"path": "app", "language": "node", "lockfile": lockfile,
                                "package_manager": manager}})
    bin_dir = install_manager(repo, manager, tmp_path)
    version = subprocess.run([str(bin_dir / manager.split("-")[0]), "--version"], check=True,
                             capture_output=True, text=True).stdout.strip()
    assert version == LOCKS[manager]["version"]
    subprocess.run([str(bin_dir / lock_command[0]), *lock_command[1:]], cwd=repo, check=True,
                   capture_output=True)
    shutil.rmtree(repo / "node_modules", ignore_errors=True)
    run = run_unit_job(repo, "app", tmp_path)
    assert run.returncode == 0, run.output
    assert f"installed {LOCKS[manager]['package']}@{LOCKS[manager]['version']}" in run.output
    assert marker in run.output
    assert run.settings["install_dir"] == "." and run.settings["cache_key_file"] == lockfile
    cache = dict(run.uses)["actions/cache"]
    assert cache["path"] == MANAGERS[manager].cache_path
    assert cache["key"].startswith(f"{manager}-Linux-") and len(cache["key"]) > 70
    assert "cache" not in dict(run.uses)["actions/setup-node"] or \
        dict(run.uses)["actions/setup-node"]["cache"] == ""
    _stale(repo)
    stale = run_unit_job(repo, "app", _fresh(tmp_path / "again"))
    assert stale.returncode != 0 and stale.ran[-1] == "Install dependencies", stale.output


needs_uv = pytest.mark.skipif(shutil.which("uv", path=str(VENV_BIN)) is None,
                              reason="uv (test extra) is not installed")


@needs_uv
def test_uv_service_syncs_locked_and_runs_pytest(tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    repo = tmp_path / "repo"
    _git_repo(repo)
    api = repo / "api"
    api.mkdir()
    (api / "pyproject.toml").write_text(
        '[project]\nname = "api"\nversion = "0.1.0"\nrequires-python = ">=3.10"\n'
        'dependencies = []\n\n[dependency-groups]\ndev = ["pytest"]\n', "utf-8")
    (api / "test_api.py").write_text("def test_uv_ran():\n    assert 1 + 1 == 2\n", "utf-8")
    env = {**_env(), "PATH": f"{VENV_BIN}:{_env()['PATH']}"}
    subprocess.run(["uv", "lock", "--quiet"], cwd=api, check=True, env=env)
    _render_into(repo, {"api": {"path": "api", "language": "python", "package_manager": "uv"}})
    monkeypatch.setenv("PATH", env["PATH"])  # setup-uv's place: uv first on PATH
    run = run_unit_job(repo, "api", tmp_path)
    assert run.returncode == 0, run.output
    assert "1 passed" in run.output and (api / "test-results" / "junit.xml").is_file()
    uv_inputs = dict(run.uses)["astral-sh/setup-uv"]
    assert uv_inputs == {"enable-cache": True, "cache-dependency-glob": "api/uv.lock"}
    # A lockfile that no longer matches pyproject.toml fails `uv sync --locked`.
    (api / "pyproject.toml").write_text(
        (api / "pyproject.toml").read_text("utf-8").replace("dependencies = []",
                                                             'dependencies = ["iniconfig"]'))
    stale = run_unit_job(repo, "api", _fresh(tmp_path / "again"))
    assert stale.returncode != 0 and stale.ran[-1] == "Install dependencies", stale.output


def test_no_cache_inputs_where_caches_are_not_allowed() -> None:
    """A release-like default branch allows no cache: no setup action caches, setup-uv's
    cache is off, and no actions/cache step is rendered, whatever the manager."""
    spec = Spec.model_validate({
        "version": 1, "project": {"name": "demo", "default_branch": "release"},
        "services": {"web": {"path": "web", "language": "node", "package_manager": "pnpm"},
                     "api": {"path": "api", "language": "python", "package_manager": "uv"}}})
    job = yaml.safe_load(render(spec)["harden-ci.yml"])["jobs"]["unit-tests"]
    uses = {s["uses"].split("@")[0]: s.get("with") or {} for s in job["steps"] if "uses" in s}
    assert "actions/cache" not in uses
    assert uses["actions/setup-node"] == {
        "node-version": "${{ steps.service.outputs.version }}",
        "node-version-file": "${{ steps.service.outputs.version_file }}",
        "package-manager-cache": False}
    assert "cache" not in uses["actions/setup-python"]
    assert uses["astral-sh/setup-uv"] == {"enable-cache": False}


def test_poetry_service_installs_hashed_poetry_then_syncs_and_tests(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Poetry from harden-ci's hashed requirements (pip --require-hashes), then `poetry
    sync` from the service's poetry.lock and the default pytest command; a lockfile out
    of date with pyproject.toml fails the install."""
    repo = tmp_path / "repo"
    _git_repo(repo)
    worker = repo / "worker"
    worker.mkdir()
    (worker / "pyproject.toml").write_text(
        '[project]\nname = "worker"\nversion = "0.1.0"\nrequires-python = ">=3.10"\n'
        'dependencies = []\n\n[tool.poetry]\npackage-mode = false\n\n'
        '[tool.poetry.group.dev.dependencies]\npytest = "*"\n', "utf-8")
    (worker / "test_worker.py").write_text("def test_poetry_ran():\n    assert True\n", "utf-8")
    # The project's environment and poetry's cache stay in the temp folder.
    monkeypatch.setenv("POETRY_VIRTUALENVS_IN_PROJECT", "true")
    monkeypatch.setenv("POETRY_CACHE_DIR", str(tmp_path / "poetry-cache"))
    _render_into(repo, {"worker": {"path": "worker", "language": "python",
                                   "package_manager": "poetry"}})
    poetry = install_manager(repo, "poetry", tmp_path) / "poetry"
    subprocess.run([str(poetry), "lock"], cwd=worker, check=True, capture_output=True)
    run = run_unit_job(repo, "worker", tmp_path)
    assert run.returncode == 0, run.output
    assert "installed poetry@" + LOCKS["poetry"]["version"] in run.output
    assert "Running: poetry sync" in run.output and "1 passed" in run.output
    assert (worker / "test-results" / "junit.xml").is_file()
    (worker / "pyproject.toml").write_text(
        (worker / "pyproject.toml").read_text("utf-8").replace(
            "dependencies = []", 'dependencies = ["iniconfig"]'), "utf-8")
    # The same runner folders: poetry is already in place, the install step must fail.
    stale = run_unit_job(repo, "worker", tmp_path)
    assert stale.returncode != 0 and stale.ran[-1] == "Install dependencies", stale.output
