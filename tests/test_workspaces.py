"""Workspaces: members take their workspace's toolchain, install once at its root and test
in their own folders; the rendered affected-services script selects per member, and every
member when the root lockfile changes. The pnpm workspace runs for real (pnpm from
harden-ci's hashed lock, dependencies from the registry)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from unit_job import install_manager, render_into, run_unit_job

from harden_ci.errors import SpecErrors
from harden_ci.load.yaml_source import load_spec_text
from harden_ci.model import Spec
from harden_ci.model.validate import parse_spec
from harden_ci.plan.context import make_context
from harden_ci.plan.stages import changes
from harden_ci.render import render

SPEC = """\
version: 1
project: {name: mono}
workspaces:
  js: {language: node, lockfile: pnpm-lock.yaml, version_file: .nvmrc}
  py: {path: python, language: python, package_manager: uv}
services:
  web: {path: packages/web, workspace: js}
  admin: {path: packages/admin, workspace: js, test: "pnpm run check"}
  api: {path: python/api, workspace: py}
  solo: {path: solo, language: node}
"""
GIT_ENV = {"GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": os.devnull,
           "GIT_AUTHOR_NAME": "T", "GIT_AUTHOR_EMAIL": "t@example.com",
           "GIT_COMMITTER_NAME": "T", "GIT_COMMITTER_EMAIL": "t@example.com"}


def _parse(text: str) -> Spec:
    return parse_spec(load_spec_text(text.encode(), "harden-ci.yaml"))


def _config() -> dict[str, dict[str, Any]]:
    return changes.service_config(make_context(_parse(SPEC), "harden-ci.yaml"))


def test_members_take_the_workspace_toolchain_and_install_at_its_root() -> None:
    config = _config()
    web, admin, api = config["web"], config["admin"], config["api"]
    assert (web["manager"], web["install"], web["install_dir"], web["version_file"]) == \
        ("pnpm", "pnpm install --frozen-lockfile", ".", ".nvmrc")
    assert (web["test"], web["path"], web["cache_key_file"]) == \
        ("pnpm test", "packages/web", "pnpm-lock.yaml")
    assert admin["test"] == "pnpm run check" and admin["install_dir"] == "."
    assert (api["manager"], api["install"], api["install_dir"], api["lockfiles"]) == \
        ("uv", "uv sync --locked", "python", "python/uv.lock")
    assert api["test"].startswith("uv run --locked pytest")
    assert config["solo"]["install_dir"] == "solo"


def test_members_are_selected_by_their_workspace_root_files() -> None:
    table = changes.table(make_context(_parse(SPEC), "harden-ci.yaml"))
    paths = {s["name"]: s["paths"] for s in table["services"]}
    assert paths["web"] == ["packages/web", "pnpm-lock.yaml", "package.json",
                            "pnpm-workspace.yaml"]
    assert paths["api"] == ["python/api", "python/uv.lock", "python/pyproject.toml"]
    assert paths["solo"] == ["solo"]


def test_members_built_from_the_workspace_root_are_not_selected_by_each_other() -> None:
    """`docker build -f apps/api/Dockerfile .` in a pnpm monorepo: the root context does not
    make every change select the image (the workspace's root files already do); a context
    elsewhere, or the root for a service outside any workspace, still selects it."""
    spec = SPEC.replace(
        "  web: {path: packages/web, workspace: js}\n",
        "  web: {path: packages/web, workspace: js, dockerfile: packages/web/Dockerfile,\n"
        "        docker: {context: .}}\n").replace(
        "  solo: {path: solo, language: node}\n",
        "  solo: {path: solo, language: node, dockerfile: solo/Dockerfile, docker: {context: .}}\n"
        "  api2: {path: python/api2, workspace: py, dockerfile: python/api2/Dockerfile,\n"
        "         docker: {context: shared}}\n")
    table = changes.table(make_context(_parse(spec), "harden-ci.yaml"))
    paths = {s["name"]: s["paths"] for s in table["services"]}
    assert paths["web"] == ["packages/web", "pnpm-lock.yaml", "package.json",
                            "pnpm-workspace.yaml", "packages/web/Dockerfile"]
    assert paths["solo"][-1] == "."
    assert paths["api2"][-1] == "shared"


@pytest.mark.parametrize(("member", "line", "message"), [
    ("{path: packages/web, workspace: js, install: npm ci}", 7,
     "`install` is the workspace's: members of `js` take it from there"),
    ("{path: packages/web, workspace: js, package_manager: npm}", 7,
     "`package_manager` is the workspace's"),
    ("{path: packages/web, workspace: jss}", 7, "`workspace: jss` gives this service no"),
    ("{path: packages/web, workspace: jss, language: node}", 7, "no workspace named `jss`"),
    ("{path: elsewhere, workspace: py}", 7, "`elsewhere` is outside workspace `py`"),
])
def test_member_mistakes_are_located(member: str, line: int, message: str) -> None:
    text = SPEC.replace("{path: packages/web, workspace: js}", member)
    with pytest.raises(SpecErrors) as caught:
        _parse(text)
    found = [e for e in caught.value.errors if message in str(e)]
    assert found, [str(e) for e in caught.value.errors]
    assert found[0].location is not None and found[0].location.line == line


def test_a_workspace_is_checked_like_a_service() -> None:
    with pytest.raises(SpecErrors) as caught:
        _parse(SPEC.replace("package_manager: uv", "package_manager: pnpm"))
    messages = {e.location.line if e.location else None: str(e) for e in caught.value.errors}
    assert "is a node package manager, not python" in messages[5]
    assert "`workspace: py` gives this service no language" in messages[9]


# ------------------------------------------------------------------ real runs

def _git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True, text=True,
                          env={**os.environ, **GIT_ENV}).stdout.strip()


def _write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text, "utf-8")


def _render_into(repo: Path, spec_text: str) -> None:
    render_into(repo, render(_parse(spec_text)))


def _selected(repo: Path, base: str, head: str) -> list[str]:
    out = repo.parent / "select-output"
    out.write_text("")
    subprocess.run([sys.executable, ".github/workflows/harden-ci/affected.py"], cwd=repo,
                   check=True, capture_output=True,
                   env={**os.environ, "GITHUB_EVENT_NAME": "pull_request", "BASE_SHA": base,
                        "HEAD_SHA": head, "GITHUB_OUTPUT": str(out)})
    lines = dict(line.split("=", 1) for line in out.read_text().splitlines() if "=" in line)
    return list(json.loads(lines["services"]))


def test_affected_selection_is_per_member_and_the_lockfile_selects_all(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    _git(repo, "init", "-q", "-b", "main")
    _write(repo, {"pnpm-lock.yaml": "lockfileVersion: '9.0'\n", "package.json": "{}\n",
                  "packages/web/index.js": "1\n", "packages/admin/index.js": "1\n",
                  "python/api/app.py": "1\n", "python/uv.lock": "version = 1\n",
                  "solo/index.js": "1\n"})
    _render_into(repo, SPEC)
    _git(repo, "add", "-A")
    _git(repo, "commit", "-q", "-m", "base")
    base = _git(repo, "rev-parse", "HEAD")

    branches = iter(range(1, 100))

    def change(files: dict[str, str]) -> list[str]:
        _git(repo, "checkout", "-q", "-B", f"pr-{next(branches)}", base)
        _write(repo, files)
        _git(repo, "commit", "-q", "-am", "change")
        return _selected(repo, base, _git(repo, "rev-parse", "HEAD"))

    assert change({"packages/web/index.js": "2\n"}) == ["web"]
    assert change({"pnpm-lock.yaml": "lockfileVersion: '9.1'\n"}) == ["admin", "web"]
    assert change({"package.json": "{\"x\": 1}\n"}) == ["admin", "web"]
    assert change({"python/uv.lock": "version = 2\n"}) == ["api"]


needs_npm = pytest.mark.skipif(shutil.which("npm") is None, reason="npm is not installed")


@needs_npm
def test_pnpm_workspace_installs_once_at_the_root_and_tests_one_member(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    _git(repo, "init", "-q")
    member = {"scripts": {"test": "node test.js"}, "dependencies": {"ms": "2.1.3"},
              "private": True, "version": "1.0.0"}
    test_js = ("const ms = require('ms');\nif (ms('1s') !== 1000) process.exit(1);\n"
               "console.log('MEMBER-{}-TESTED');\n")
    _write(repo, {
        "package.json": json.dumps({"name": "mono", "private": True}),
        "pnpm-workspace.yaml": "packages:\n  - packages/*\n", ".nvmrc": "20\n",
        "packages/web/package.json": json.dumps({"name": "web", **member}),
        "packages/web/test.js": test_js.format("WEB"),
        "packages/admin/package.json": json.dumps({"name": "admin", **member,
                                                   "scripts": {"check": "node test.js"}}),
        "packages/admin/test.js": test_js.format("ADMIN"),
    })
    _render_into(repo, SPEC)
    # The lockfile, written by the same pnpm the job installs from harden-ci's lock.
    pnpm = install_manager(repo, "pnpm", tmp_path) / "pnpm"
    subprocess.run([str(pnpm), "install", "--lockfile-only"], cwd=repo, check=True,
                   capture_output=True)
    run = run_unit_job(repo, "web", tmp_path)
    assert run.returncode == 0, run.output
    assert "MEMBER-WEB-TESTED" in run.output and "MEMBER-ADMIN-TESTED" not in run.output
    assert (repo / "node_modules" / ".pnpm").is_dir()  # installed at the root
    assert dict(run.uses)["actions/setup-node"]["node-version-file"] == ".nvmrc"
    admin_dir = tmp_path / "admin"
    admin_dir.mkdir()
    admin = run_unit_job(repo, "admin", admin_dir)
    assert admin.returncode == 0 and "MEMBER-ADMIN-TESTED" in admin.output, admin.output
