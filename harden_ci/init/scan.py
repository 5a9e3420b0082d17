"""The read-only view of a repository that `harden-ci init` detects from.

The walk is bounded (a depth, a file count, the first 64 KiB of a file) and skips
dependency, build and tool-cache folders. Hidden folders are walked too, since Dockerfiles
and workflows live in them (`.docker/api/Dockerfile`, `.github/workflows`), except those
that hold nothing deployable (`.git`, `.devcontainer`, caches). Paths a spec could not
hold (see `RepoPath`) are left out rather than written into the spec.
"""

from __future__ import annotations

import bisect
import json
import os
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from harden_ci.model.types import _check_repo_path

SKIP_DIRS = frozenset({
    "node_modules", "vendor", "venv", "env", "__pycache__", "dist", "build", "target", "out",
    "coverage", "site-packages", "third_party", "bower_components",
    # hidden folders that hold tool state or editor setup, never a deployable
    ".git", ".hg", ".svn", ".venv", ".tox", ".nox", ".cache", ".next", ".nuxt", ".turbo",
    ".terraform", ".idea", ".vscode", ".yarn", ".pnpm-store", ".mypy_cache", ".pytest_cache",
    ".ruff_cache", ".gradle", ".devcontainer", ".direnv", ".svelte-kit", ".output", ".husky",
    ".changeset", ".vercel", ".angular", ".parcel-cache", ".docusaurus", ".vitepress",
})
# Folders whose contents are not deployables: docs builds, examples, code-generator
# templates, test fixtures, tooling.
NOT_SERVICES = frozenset({
    "docs", "doc", "website", "examples", "example", "samples", "sample", "demo", "demos",
    "tests", "test", "__tests__", "testdata", "test-data", "fixtures", "__fixtures__",
    "mocks", "__mocks__", "e2e", "scripts", "tools", "benchmarks", "bench",
    "templates", "template", "_templates", "boilerplate", "skeleton", "scaffold",
})
MAX_DEPTH = 7
MAX_FILES = 20_000
_READ_LIMIT = 64 * 1024


def plain(path: str) -> bool:
    """Whether a spec could hold this path as written."""
    try:
        return _check_repo_path(path) == path
    except ValueError:
        return False


def parent(path: str) -> str:
    # String work, not PurePosixPath: called for every file of large trees.
    folder = path.rpartition("/")[0]
    return folder or "."


def basename(path: str) -> str:
    return path.rpartition("/")[2]


def join(folder: str, name: str) -> str:
    return name if folder == "." else f"{folder}/{name}"


def inside(path: str, folder: str) -> bool:
    return folder == "." or path == folder or path.startswith(folder + "/")


def ancestors(folder: str) -> list[str]:
    """`folder`, its parents, then `.`: where a lockfile or version file may sit."""
    chain = [folder]
    while folder != ".":
        folder = parent(folder)
        chain.append(folder)
    return chain


def hidden(path: str) -> bool:
    return any(part.startswith(".") and part != "." for part in path.split("/")[:-1])


def excluded(path: str) -> bool:
    """In a docs, example, template, fixture or tooling folder."""
    return excluded_by(path) is not None


def excluded_by(path: str) -> str | None:
    """The docs, example, template, fixture or tooling folder name `path` sits under."""
    return next((part for part in path.split("/")[:-1] if part in NOT_SERVICES), None)


def glob_regex(pattern: str) -> re.Pattern[str]:
    """A workspace glob (`apps/*`, `packages/**`) as a regex over folder paths."""
    pattern = pattern.strip().removeprefix("./").rstrip("/")
    out = ""
    i = 0
    while i < len(pattern):
        if pattern.startswith("**", i):
            out += ".*"
            i += 2
        elif pattern[i] == "*":
            out += "[^/]*"
            i += 1
        elif pattern[i] == "?":
            out += "[^/]"
            i += 1
        else:
            out += re.escape(pattern[i])
            i += 1
    return re.compile(out)


@dataclass
class Tree:
    """The repository's files (relative POSIX paths) and cached reads of them."""

    root: Path
    files: list[str]
    _names: set[str] = field(default_factory=set)
    _folders: set[str] = field(default_factory=set)
    _by_folder: dict[str, list[str]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._names = set(self.files)
        for path in self.files:
            self._folders.update(ancestors(parent(path)))
            self._by_folder.setdefault(parent(path), []).append(path)

    def has(self, path: str) -> bool:
        return path in self._names

    def is_folder(self, path: str) -> bool:
        return path in self._folders

    def under(self, folder: str) -> list[str]:
        """Files anywhere below `folder` (a slice of the sorted list, not a scan)."""
        if folder == ".":
            return self.files
        prefix = folder + "/"
        start = bisect.bisect_left(self.files, prefix)
        end = bisect.bisect_left(self.files, folder + "0")  # "0" sorts right after "/"
        return self.files[start:end]

    def children(self, folder: str) -> list[str]:
        """Files directly in `folder`."""
        return self._by_folder.get(folder, [])

    def text(self, path: str) -> str:
        try:
            with (self.root / path).open("rb") as handle:
                return handle.read(_READ_LIMIT).decode("utf-8", errors="replace")
        except OSError:
            return ""

    def json(self, path: str) -> dict[str, Any]:
        try:
            data = json.loads(self.text(path))
        except json.JSONDecodeError:
            return {}
        return data if isinstance(data, dict) else {}

    def toml(self, path: str) -> dict[str, Any]:
        try:
            return tomllib.loads(self.text(path))
        except tomllib.TOMLDecodeError:
            return {}

    def yaml(self, path: str) -> Any:
        try:
            return yaml.safe_load(self.text(path))
        except yaml.YAMLError:
            return None


def walk(root: Path) -> Tree:
    found: list[str] = []
    for current, dirs, files in os.walk(root):
        rel = Path(current).relative_to(root)
        depth = len(rel.parts)
        folder = rel.as_posix()
        dirs[:] = sorted(d for d in dirs if d not in SKIP_DIRS and depth < MAX_DEPTH)
        for name in sorted(files):
            path = join(folder, name)
            if plain(path):
                found.append(path)
            if len(found) >= MAX_FILES:
                return Tree(root, sorted(found))
    return Tree(root, sorted(found))
