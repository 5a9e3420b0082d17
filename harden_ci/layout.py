"""Where harden-ci's files live in the output folder: workflows at the top, companion files
in `harden-ci/`. The writer and the fast paths read the same list (standard library only)."""

from __future__ import annotations

from pathlib import Path

WORKFLOW_SUFFIXES = (".yml", ".yaml")
COMPANION_DIR = "harden-ci"


def owned_candidates(root: Path) -> list[Path]:
    """Files harden-ci may have written: top-level workflows and companions (regular
    files only; links are never followed). Whether each is harden-ci's is for the caller
    to read from its marker. Raises OSError when the folder cannot be listed."""
    candidates: list[Path] = []
    if root.is_dir():
        candidates += [p for p in sorted(root.iterdir()) if p.suffix in WORKFLOW_SUFFIXES]
    companions = root / COMPANION_DIR
    if companions.is_dir() and not companions.is_symlink():
        candidates += sorted(companions.iterdir())
    return [p for p in candidates if p.is_file() and not p.is_symlink()]
