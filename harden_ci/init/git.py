"""The repository's default branch, as git knows it: `origin/HEAD` (what the hosting
side calls default), else the branch checked out. Never a guess: when git knows neither,
init says so and writes `main` for the user to check."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

from harden_ci.model.types import BRANCH_PATTERN


def _git(root: Path, *args: str) -> str | None:
    # GIT_* variables (set inside hooks) would point git at another repository.
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    try:
        result = subprocess.run(["git", "-C", str(root), *args], capture_output=True,
                                text=True, timeout=10, check=False, env=env)
    except (OSError, subprocess.SubprocessError):
        return None
    out = result.stdout.strip()
    return out if result.returncode == 0 and out else None


def _branch(name: str | None) -> str | None:
    if name and re.fullmatch(BRANCH_PATTERN, name) and ".." not in name:
        return name
    return None


def default_branch(root: Path) -> tuple[str, str | None]:
    """The default branch and where it was read (None: not found, `main` assumed)."""
    remote = _git(root, "symbolic-ref", "--quiet", "refs/remotes/origin/HEAD")
    if remote and (name := _branch(remote.removeprefix("refs/remotes/origin/"))):
        return name, "origin/HEAD"
    current = _git(root, "symbolic-ref", "--quiet", "--short", "HEAD")
    if name := _branch(current):
        return name, "the checked-out branch"
    return "main", None
