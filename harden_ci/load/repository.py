"""What the repository holds at the paths a spec names: read at the edge (by `validate`)
and handed to the pure check in `harden_ci.model.repo_checks`.

A spec "sits in a repository" when its folder is a git work tree's root (holds `.git`,
a folder or a worktree's file): spec paths are relative to that folder. Names are
compared exactly, as on the Linux runner, so `dockerfile` is not `Dockerfile` even on a
case-insensitive disk. A missing path gets the closest existing one, component by
component (`servics/api` → `services/api`).
"""

from __future__ import annotations

import difflib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

Kind = Literal["file", "folder", "any"]


@dataclass(frozen=True)
class Probe:
    found: Literal["file", "folder"] | None
    """What is at the path (exact names), or None."""
    close: str | None = None
    """An existing path of the wanted kind close to a missing one."""


def repository_root(spec_path: Path) -> Path | None:
    folder = spec_path.parent if str(spec_path.parent) else Path(".")
    return folder if (folder / ".git").exists() else None


def _entries(folder: Path) -> dict[str, bool]:
    """Names in `folder` → is a folder."""
    try:
        with os.scandir(folder) as scan:
            return {e.name: e.is_dir() for e in scan if e.name != ".git"}
    except OSError:
        return {}


def _pick(part: str, entries: dict[str, bool], want_folder: bool | None) -> str | None:
    names = [n for n, is_dir in entries.items() if want_folder is None or is_dir == want_folder]
    same_case = [n for n in names if n.lower() == part.lower()]
    if same_case:
        return same_case[0]
    close = difflib.get_close_matches(part, names, n=1, cutoff=0.7)
    return close[0] if close else None


def _probe(root: Path, path: str, kind: Kind) -> Probe:
    if path == ".":
        return Probe("folder")
    parts = path.split("/")
    current, fixed, exact = root, [], True
    for i, part in enumerate(parts):
        entries = _entries(current)
        last = i == len(parts) - 1
        want = True if not last else None if kind == "any" else kind == "folder"
        pick = part if part in entries else _pick(part, entries, want)
        if pick is None:
            return Probe(None)
        exact = exact and pick == part
        fixed.append(pick)
        current = current / pick
    if exact:
        return Probe("folder" if current.is_dir() else "file")
    return Probe(None, "/".join(fixed))


def probe(root: Path, wanted: list[tuple[str, Kind]]) -> dict[str, Probe]:
    """For each (path, kind) the spec names: what is there, or what is close."""
    return {path: _probe(root, path, kind) for path, kind in wanted}
