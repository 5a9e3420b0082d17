"""`harden-ci validate` checks the repository when the spec sits in one (its folder holds
`.git`): a service `path`, `dockerfile`, `openapi`, the schema-drift migrations folder or
an IaC folder that does not exist is an error at the file:line:column of that field, with
the closest existing path as a hint; exit 2 and nothing on disk changes."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from harden_ci.load.repository import Probe, probe

DIGEST = "postgres:17@sha256:" + "0" * 64
SPEC = f"""\
version: 1
project:
  name: shop
services:
  api:
    path: {{path}}
    language: python
    dockerfile: {{dockerfile}}
    openapi: {{openapi}}
gates:
  iac_lint:
    terraform: {{terraform}}
  schema_drift:
    service: api
    preset: atlas
    database: postgres
    database_image: "{DIGEST}"
    migrations: {{migrations}}
"""
GOOD = {"path": "services/api", "dockerfile": "services/api/Dockerfile",
        "openapi": "services/api/openapi.yaml", "terraform": "infra",
        "migrations": "services/api/migrations"}


def _repo(tmp_path: Path, git: str = "folder") -> Path:
    root = tmp_path / "repo"
    for path in ("services/api/Dockerfile", "services/api/openapi.yaml",
                 "services/api/migrations/001.sql", "infra/main.tf", "README.md"):
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text("x\n", encoding="utf-8")
    if git == "folder":
        subprocess.run(["git", "init", "-q", str(root)], check=True, timeout=60)
    elif git == "file":  # a linked worktree's `.git` is a file
        (root / ".git").write_text("gitdir: /elsewhere/.git/worktrees/repo\n", encoding="utf-8")
    return root


def _write(root: Path, **changes: str) -> str:
    text = SPEC.format(**{**GOOD, **changes})
    (root / "harden-ci.yaml").write_text(text, encoding="utf-8")
    return text


def _validate(root: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "harden_ci", "validate"], cwd=root,
                          capture_output=True, text=True, timeout=120, check=False)


def _snapshot(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file() and ".git" not in p.relative_to(root).parts}


def _where(text: str, key: str) -> str:
    """file:line:column of the value of `key:` (the first one) in the spec text."""
    for number, line in enumerate(text.splitlines(), start=1):
        if line.strip().startswith(f"{key}:"):
            return f"harden-ci.yaml:{number}:{line.index(':') + 3}"
    raise AssertionError(key)


@pytest.mark.parametrize("git", ["folder", "file"])
def test_a_spec_whose_paths_exist_is_valid(tmp_path: Path, git: str) -> None:
    root = _repo(tmp_path, git)
    _write(root)
    result = _validate(root)
    assert result.returncode == 0, result.stderr
    assert "its paths exist in the repository" in result.stdout


@pytest.mark.parametrize(("field", "key", "value", "hint"), [
    ("services.api.path", "path", "services/apii", "did you mean `services/api`?"),
    ("services.api.path", "path", "servics/api", "did you mean `services/api`?"),
    # names are exact, as on the Linux runner, even on a case-insensitive disk
    ("services.api.dockerfile", "dockerfile", "services/api/dockerfile",
     "did you mean `services/api/Dockerfile`?"),
    ("services.api.dockerfile", "dockerfile", "Dockerfile",
     "paths are from the repository root, not the service's folder: did you mean "
     "`services/api/Dockerfile`?"),
    ("services.api.openapi", "openapi", "services/api/openapi.yml",
     "did you mean `services/api/openapi.yaml`?"),
    ("gates.schema_drift.migrations", "migrations", "services/api/migration",
     "did you mean `services/api/migrations`?"),
    ("gates.iac_lint.terraform", "terraform", "infra/terraform",
     "paths are relative to the repository root, the spec's folder"),
])
def test_a_missing_path_is_a_located_error_with_a_hint(
        tmp_path: Path, field: str, key: str, value: str, hint: str) -> None:
    root = _repo(tmp_path)
    text = _write(root, **{key: value})
    before = _snapshot(root)
    result = _validate(root)
    assert result.returncode == 2, result.stdout
    assert (f"{_where(text, key)}: {field}: `{value}` does not exist in the repository "
            f"({hint})") in result.stderr
    assert "Traceback" not in result.stderr and result.stdout == ""
    assert _snapshot(root) == before


def test_a_file_where_a_folder_belongs_and_every_problem_at_once(tmp_path: Path) -> None:
    root = _repo(tmp_path)
    text = _write(root, path="README.md", openapi="api.yaml")
    result = _validate(root)
    assert result.returncode == 2
    assert (f"{_where(text, 'path')}: services.api.path: `README.md` is a file, not a folder"
            in result.stderr)
    assert f"{_where(text, 'openapi')}: services.api.openapi: `api.yaml` does not exist" in (
        result.stderr)


def test_outside_a_repository_paths_are_not_checked(tmp_path: Path) -> None:
    # e.g. a spec validated away from its repository, as the examples are
    root = _repo(tmp_path, git="none")
    _write(root, path="services/elsewhere")
    result = _validate(root)
    assert result.returncode == 0, result.stderr
    assert "its paths exist" not in result.stdout


def test_the_probe_reads_exact_names_and_kinds(tmp_path: Path) -> None:
    root = _repo(tmp_path)
    found = probe(root, [(".", "folder"), ("services/api", "folder"), ("infra/main.tf", "file"),
                         ("INFRA/main.tf", "file"), ("services/api/Dockerfile", "folder"),
                         ("nowhere/at/all", "any")])
    assert found == {
        ".": Probe("folder"), "services/api": Probe("folder"), "infra/main.tf": Probe("file"),
        "INFRA/main.tf": Probe(None, "infra/main.tf"),
        "services/api/Dockerfile": Probe("file"), "nowhere/at/all": Probe(None)}
