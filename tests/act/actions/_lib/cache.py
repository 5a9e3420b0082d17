"""The actions/cache service over the harness store ($HARDEN_CI_ACT_STORE/cache): what
actions/cache, setup-node, setup-python, setup-go, setup-java and setup-uv restore and save.

Entries belong to the ref that saved them and are matched as GitHub matches them (the
exact key, then prefixes of the key and of each restore key, newest first, within the
caches this ref may read); paths are kept relative to GITHUB_WORKSPACE as @actions/cache's
tar keeps them. Key and path validation follow @actions/cache (actions/cache
dist/restore/index.js:88-100).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from stublib import RunError, copy_path, event, glob_patterns, info, store, workspace


def _cache_dir(key: str, ref: str | None = None) -> Path:
    """One entry: cache/<ref>/<key> (a cache belongs to the ref that saved it)."""
    scope = os.environ.get("GITHUB_REF", "") if ref is None else ref
    return store() / "cache" / scope.replace("/", "%2F") / key.replace("/", "%2F")


def restore(paths: list[str], key: str, restore_keys: list[str] | None = None,
                  *, lookup_only: bool = False) -> str:
    """@actions/cache restoreCache over the harness store, with GitHub's matching: within
    the caches this ref may read, the exact key, else the newest entry whose key starts with
    the key, then with each restore key. Returns the matched key or ''."""
    for k in [key, *(restore_keys or [])]:
        if len(k) > 512:
            raise RunError(f"Key Validation Error: {k} cannot be larger than 512 characters.")
        if "," in k:
            raise RunError(f"Key Validation Error: {k} cannot contain commas.")
    if len(restore_keys or []) + 1 > 10:
        raise RunError("Key Validation Error: Keys are limited to a maximum of 10.")
    if not paths:
        raise RunError("Path Validation Error: At least one directory or file path is required")
    # Cache scope as on GitHub: this ref's entries, then the base and default branches'.
    scopes = [os.environ.get("GITHUB_REF", "")]
    if os.environ.get("GITHUB_BASE_REF"):
        scopes.append(f"refs/heads/{os.environ['GITHUB_BASE_REF']}")
    default = event().get("repository", {}).get("default_branch")
    if default:
        scopes.append(f"refs/heads/{default}")
    entries = []
    for manifest in (store() / "cache").glob("*/*/manifest.json"):
        data = json.loads(manifest.read_text(encoding="utf-8"))
        if data.get("ref") in scopes:
            entries.append((scopes.index(data["ref"]), -manifest.stat().st_mtime, data["key"],
                            manifest.parent))
    entries.sort(key=lambda e: (e[0], e[1]))
    hit = next((e for e in entries if e[2] == key), None)
    if hit is None:
        # No exact hit: prefix matches of the key, then of each restore key, newest first.
        for prefix in [key, *(restore_keys or [])]:
            hit = next((e for e in entries if e[2].startswith(prefix)), None)
            if hit:
                break
    found = hit[2] if hit else ""
    if hit and not lookup_only:
        # Paths are kept relative to GITHUB_WORKSPACE, as @actions/cache's tar does.
        data = json.loads((hit[3] / "manifest.json").read_text(encoding="utf-8"))
        for index, rel in enumerate(data["files"]):
            copy_path(hit[3] / "files" / str(index), Path(os.path.normpath(workspace() / rel)))
    return found


# @actions/cache cache.ts saveCache reports a ReserveCacheError with core.info, and the
# step goes on (actions/cache src/saveImpl.ts logs, never fails, on it).
_RESERVE_FAILED = ("Failed to save: Unable to reserve cache with key {key}, another job may be "
                   "creating this cache.")


def save(paths: list[str], key: str) -> bool:
    """@actions/cache saveCache over the harness store: the files the path patterns match
    (globs, `!` exclusions, ~) are kept by absolute path. An existing key is not replaced
    (entries are immutable: "Unable to reserve cache"), and no match is a Path Validation
    Error; both only reported, as actions/cache's save reports them."""
    target = _cache_dir(key)
    roots = [os.path.expanduser(p) if not p.startswith("!") else "!" + os.path.expanduser(p[1:])
             for p in paths]
    files = glob_patterns(roots, workspace())
    if not files:
        info("[warning]Path Validation Error: Path(s) specified in the action for caching do(es) "
             "not exist, hence no cache is being saved.")
        return False
    # As saveCache does it: the paths are resolved first (no match is the validation error
    # above), then the key is reserved. Reserving is atomic on GitHub's cache service: of
    # two jobs saving one key at once (two test shards with one lockfile), or a key saved
    # before, one wins and the other is told the key is taken. mkdir is the atomic
    # reservation here; the entry becomes visible to restore only when its manifest is
    # renamed into place, after every file is copied.
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        target.mkdir()
    except FileExistsError:
        info(_RESERVE_FAILED.format(key=key))
        return False
    (target / "files").mkdir()
    rels = []
    for index, path in enumerate(files):
        copy_path(path, target / "files" / str(index))
        rels.append(os.path.relpath(path, workspace()))
    partial = target / "manifest.json.partial"
    partial.write_text(
        json.dumps({"key": key, "paths": paths, "ref": os.environ.get("GITHUB_REF", ""),
                    "files": rels}), encoding="utf-8")
    partial.replace(target / "manifest.json")
    info(f"Cache saved with key: {key}")
    return True
