"""The hashed locks harden-ci ships (harden_ci/data/locks/, written by scripts/lock_runtime.py).

Each lock pins a set of Python packages, transitive ones included, with the sha256 of every
distribution of each pinned version. Generated jobs install them with pip's hash-checking
mode, so a package that is not in the lock, or a file whose bytes differ, is refused.
"""

from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass
from importlib import resources
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from harden_ci.plan.tools import NpmToolset

_HASH = re.compile(r"--hash=sha256:([0-9a-f]{64})")


@dataclass(frozen=True)
class Locked:
    """One requirement of a lock: `name==version` (with its environment marker, if any) and
    the sha256 of every file pip may install for it."""

    requirement: str
    hashes: tuple[str, ...]

    @property
    def name(self) -> str:
        return re.split(r"[=<>!~ ;@]", self.requirement, maxsplit=1)[0]

    @property
    def version(self) -> str:
        found = re.search(r"==([^ ;\\]+)", self.requirement)
        return found.group(1) if found else ""

    def lines(self) -> list[str]:
        """The requirement as a requirements-file entry, one hash per continued line."""
        if not self.hashes:
            return [self.requirement]
        out = [f"{self.requirement} \\"]
        out += [f"    --hash=sha256:{h} \\" for h in self.hashes]
        out[-1] = out[-1].removesuffix(" \\")
        return out


def parse_lock(text: str) -> list[Locked]:
    """A hashed requirements file (uv's or pip-compile's layout) as its requirements."""
    entries: list[Locked] = []
    for block in re.split(r"\n(?=\S)", text.strip()):
        logical = " ".join(line.rstrip("\\ ").strip() for line in block.splitlines()
                           if not line.lstrip().startswith("#"))
        if not logical:
            continue
        requirement = _HASH.sub("", logical).strip()
        entries.append(Locked(requirement=re.sub(r"\s+", " ", requirement),
                              hashes=tuple(_HASH.findall(logical))))
    return entries


@functools.cache
def lock(name: str) -> tuple[Locked, ...]:
    """A shipped lock by file name (e.g. `harden-ci.txt`); every entry carries hashes."""
    text = resources.files("harden_ci").joinpath("data", "locks", name).read_text("utf-8")
    entries = tuple(parse_lock(text))
    unhashed = [e.requirement for e in entries if not e.hashes]
    if not entries or unhashed:
        raise AssertionError(f"harden_ci/data/locks/{name}: "
                             + (f"unhashed: {', '.join(unhashed)}" if unhashed else "empty")
                             + "; re-run scripts/lock_runtime.py")
    return entries


@functools.cache
def npm_lock(toolset: NpmToolset) -> str:
    """A shipped npm lockfile (v3) by tool set; every package carries its integrity hash."""
    text = resources.files("harden_ci").joinpath("data", "locks", toolset.lock_file).read_text(
        "utf-8")
    packages = json.loads(text)["packages"]
    root = packages.get("", {})
    missing = [key for key, entry in packages.items() if key and not entry.get("integrity")]
    if missing or root.get("dependencies") != toolset.dependencies:
        raise AssertionError(f"harden_ci/data/locks/{toolset.lock_file} is stale or unhashed "
                             f"({', '.join(missing[:3]) or 'pins differ'}); re-run "
                             "scripts/lock_runtime.py")
    return text.rstrip("\n")
