"""`harden-ci check` and `render` without rendering, for the common case: nothing changed.

Standard library only: it reads the spec's bytes and the generated files, and compares
the digests each file carries (see `harden_ci.fingerprint`). It answers only when every
digest matches; anything else — a hand edit, a spec edit, a missing or extra file, an
option it does not know, an unreadable file — returns None and the full verb runs.

For `render` this is make's "nothing to do": the files on disk are byte for byte what a
render would write, so the writer would touch none of them. The full render prints the
same words in that case.
"""

from __future__ import annotations

import re
from pathlib import Path

from harden_ci.fingerprint import DIGEST_PREFIX, body_digest, files_digest, inputs_digest
from harden_ci.layout import owned_candidates
from harden_ci.marker import MARKER_PREFIX, header

_DIGEST = re.compile(DIGEST_PREFIX + r" inputs=([0-9a-f]{32}) files=([0-9a-f]{32}) "
                     r"body=([0-9a-f]{32})\n")
# Flags that do not change what an up-to-date answer says, per verb (`render --dry-run`
# of unchanged files prints the same line as `render`).
_RENDER_FLAGS = frozenset({"--dry-run"})


def _parse_args(args: list[str], flags: frozenset[str] = frozenset()) -> tuple[Path, Path] | None:
    spec: str | None = None
    out: str | None = None
    rest = list(args)
    while rest:
        arg = rest.pop(0)
        if arg == "--out" and rest:
            out = rest.pop(0)
        elif arg.startswith("--out="):
            out = arg.split("=", 1)[1]
        elif arg in flags:
            continue
        elif arg.startswith("-") or spec is not None:
            return None  # --help and anything unexpected: let the full CLI handle it
        else:
            spec = arg
    spec_path = Path(spec or "harden-ci.yaml")
    out_path = Path(out) if out else spec_path.parent / ".github" / "workflows"
    return spec_path, out_path


def _generated_files(out: Path) -> dict[str, str] | None:
    try:
        files = {}
        for path in owned_candidates(out):
            text = path.read_text("utf-8")
            if text.startswith(MARKER_PREFIX):
                files[path.relative_to(out).as_posix()] = text
        return files
    except (OSError, UnicodeDecodeError):
        return None


def up_to_date(spec_path: Path, out: Path) -> int | None:
    """How many files a render would leave untouched, when the folder certainly equals a
    fresh render of the spec; None when unsure."""
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
    return len(files)


def _answer(args: list[str], flags: frozenset[str] = frozenset()) -> tuple[Path, Path, int] | None:
    """The spec, the output folder and its file count, when the folder is up to date."""
    parsed = _parse_args(args, flags)
    if parsed is None:
        return None
    count = up_to_date(*parsed)
    return None if count is None else (*parsed, count)


def fast_check(args: list[str]) -> str | None:
    """The "clean" message when the files on disk certainly equal a fresh render; None
    when unsure (the full check then decides)."""
    answer = _answer(args)
    if answer is None:
        return None
    spec_path, out, count = answer
    # The same words as the full check, so callers see one behaviour.
    return f"{out}: matches {spec_path} ({count} files)"


def fast_render(args: list[str]) -> str | None:
    """The "up to date" message when a render would change nothing; None when unsure
    (the full render then runs, and writes whatever differs)."""
    answer = _answer(args, _RENDER_FLAGS)
    if answer is None:
        return None
    _, out, count = answer
    # The same words as render_cmd when its write plan is empty.
    return f"{out}: up to date ({count} files)"
