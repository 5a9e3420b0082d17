"""`harden-ci check` without rendering, for the common case: nothing changed.

Standard library only: it reads the spec's bytes and the generated files, and compares
the digests each file carries (see `harden_ci.fingerprint`). It answers "clean" only when
every digest matches; anything else — a hand edit, a spec edit, a missing or extra file,
an option it does not know, an unreadable file — returns None and the full check runs.
"""

from __future__ import annotations

import re
from pathlib import Path

from harden_ci.fingerprint import DIGEST_PREFIX, body_digest, files_digest, inputs_digest
from harden_ci.marker import MARKER_PREFIX, header

_DIGEST = re.compile(DIGEST_PREFIX + r" inputs=([0-9a-f]{32}) files=([0-9a-f]{32}) "
                     r"body=([0-9a-f]{32})\n")
_WORKFLOW_SUFFIXES = (".yml", ".yaml")


def _parse_args(args: list[str]) -> tuple[Path, Path] | None:
    spec: str | None = None
    out: str | None = None
    rest = list(args)
    while rest:
        arg = rest.pop(0)
        if arg == "--out" and rest:
            out = rest.pop(0)
        elif arg.startswith("--out="):
            out = arg.split("=", 1)[1]
        elif arg.startswith("-") or spec is not None:
            return None  # --help and anything unexpected: let the full CLI handle it
        else:
            spec = arg
    spec_path = Path(spec or "harden-ci.yaml")
    out_path = Path(out) if out else spec_path.parent / ".github" / "workflows"
    return spec_path, out_path


def _generated_files(out: Path) -> dict[str, str] | None:
    try:
        candidates = [p for p in out.iterdir() if p.suffix in _WORKFLOW_SUFFIXES]
        companions = out / "harden-ci"
        if companions.is_dir():
            candidates += list(companions.iterdir())
        files = {}
        for path in candidates:
            if path.is_symlink() or not path.is_file():
                continue
            text = path.read_text("utf-8")
            if text.startswith(MARKER_PREFIX):
                files[path.relative_to(out).as_posix()] = text
        return files
    except (OSError, UnicodeDecodeError):
        return None


def fast_check(args: list[str]) -> str | None:
    """The "clean" message when the files on disk certainly equal a fresh render; None
    when unsure (the full check then decides)."""
    parsed = _parse_args(args)
    if parsed is None:
        return None
    spec_path, out = parsed
    try:
        spec_bytes = spec_path.read_bytes()
    except OSError:
        return None
    files = _generated_files(out)
    if not files:
        return None
    expected_inputs = inputs_digest(spec_path.name, spec_bytes)
    expected_files = files_digest(list(files))
    expected_header = header(spec_path.name)
    for text in files.values():
        if not text.startswith(expected_header):
            return None
        header_end = len(expected_header)
        match = _DIGEST.match(text, header_end)
        if match is None:
            return None
        inputs, names, body = match.groups()
        if inputs != expected_inputs or names != expected_files:
            return None
        if body != body_digest(text[match.end():]):
            return None
    # The same words as the full check, so callers see one behaviour.
    return f"{out}: matches {spec_path} ({len(files)} files)"
