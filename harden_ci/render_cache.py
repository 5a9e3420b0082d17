"""A local record of past renders, the only thing a fast `check` or `render` trusts
(standard library only).

Each entry maps the digest of every input of a render (harden-ci's rendering code,
templates and data, the spec's name and bytes: `fingerprint.inputs_digest`) to the SHA-256
of every file that render produced, byte for byte. It lives in the user's cache folder,
outside the repository, so whoever edits a generated file cannot edit the record too: a
fast "clean" answer is a comparison with a real render made on this machine, never with
the stamps a file carries about itself.

The record is off in CI (`CI` or `GITHUB_ACTIONS` set, as on every GitHub runner,
self-hosted ones included, whose cache folders outlive jobs running pull-request code)
and with HARDEN_CI_NO_CACHE=1: there every answer comes from a fresh render. Anything
odd about the folder or an entry means "no entry", so the full verb runs.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import stat
from pathlib import Path

_CI_VARIABLES = ("CI", "GITHUB_ACTIONS")
_FOLDER = "renders-v1"
_KEEP = 256  # entries; the oldest go first
_MAX_ENTRY_BYTES = 1 << 20


def cache_root() -> Path | None:
    """$XDG_CACHE_HOME/harden-ci, else ~/.cache/harden-ci; None without an absolute home."""
    home = os.path.expanduser("~")
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(home, ".cache")
    return Path(base) / "harden-ci" if os.path.isabs(base) else None


def private_dir(path: Path) -> bool:
    """Create `path` (mode 0700) if needed; True only if it is a real folder owned by
    this user that no one else can write to."""
    try:
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
        info = path.lstat()
    except OSError:
        return False
    return (stat.S_ISDIR(info.st_mode) and info.st_uid == os.getuid()
            and not info.st_mode & (stat.S_IWGRP | stat.S_IWOTH))


def enabled() -> bool:
    if os.environ.get("HARDEN_CI_NO_CACHE") or not hasattr(os, "getuid"):
        return False
    return not any(os.environ.get(name) for name in _CI_VARIABLES)


def _folder() -> Path | None:
    if not enabled():
        return None
    root = cache_root()
    if root is None:
        return None
    folder = root / _FOLDER
    return folder if private_dir(root) and private_dir(folder) else None


def file_digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def record(inputs: str, files: dict[str, str]) -> None:
    """Remember what the render with these inputs produced (quietly skipped on failure)."""
    import tempfile  # only a full render records: keep the fast path's imports small

    folder = _folder()
    if folder is None:
        return
    entry = {"files": {name: file_digest(text.encode("utf-8"))
                       for name, text in sorted(files.items())}}
    with contextlib.suppress(OSError):
        fd, tmp = tempfile.mkstemp(prefix=".entry.", suffix=".tmp", dir=folder)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump(entry, handle, sort_keys=True)
            os.replace(tmp, folder / f"{inputs}.json")
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        _prune(folder)


def _prune(folder: Path) -> None:
    entries = sorted(folder.glob("*.json"), key=lambda p: p.stat().st_mtime_ns)
    for old in entries[:-_KEEP]:
        old.unlink(missing_ok=True)


def lookup(inputs: str) -> dict[str, str] | None:
    """The files (name -> SHA-256 of their bytes) a render with these inputs produced."""
    folder = _folder()
    if folder is None or not all(c in "0123456789abcdef" for c in inputs):
        return None
    path = folder / f"{inputs}.json"
    try:
        info = path.lstat()
        if not stat.S_ISREG(info.st_mode) or info.st_uid != os.getuid() \
                or info.st_size > _MAX_ENTRY_BYTES:
            return None
        files = json.loads(path.read_bytes()).get("files")
    except (OSError, ValueError, AttributeError):
        return None
    if not isinstance(files, dict) or not files or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in files.items()):
        return None
    return files
