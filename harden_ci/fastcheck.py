"""`harden-ci check` and `render` without rendering, for the common case: nothing changed
since this machine last rendered the spec.

Standard library only. The only evidence it accepts is the local render record
(`harden_ci.render_cache`): the SHA-256 of every file a real render with exactly these
inputs (harden-ci's rendering code and data, the spec's name and bytes) produced. It
answers only when the marked files in the output folder are exactly those files, byte for
byte. The stamps a file carries about itself are never trusted: editing a file and
recomputing its digests, or copying a marker into a new workflow, changes its bytes or the
set of marked files, so the full verb runs. Without a record (a new spec, a new harden-ci,
CI, HARDEN_CI_NO_CACHE=1) and on anything else (an option it does not know, an unreadable
file) it returns None and the full verb runs.

For `render` this is make's "nothing to do": the files on disk are byte for byte what a
render would write, so the writer would touch none of them. The full render prints the
same words in that case.
"""

from __future__ import annotations

from pathlib import Path

from harden_ci import render_cache
from harden_ci.errors import SpecError
from harden_ci.fingerprint import inputs_digest
from harden_ci.layout import owned_candidates
from harden_ci.marker import MARKER_PREFIX
from harden_ci.regular_file import MAX_SPEC_BYTES, read_regular_file

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


def _marked_files(out: Path) -> dict[str, bytes] | None:
    """Every file in the folder that carries harden-ci's marker, as bytes."""
    try:
        files = {}
        for path in owned_candidates(out):
            data = path.read_bytes()
            if data.startswith(MARKER_PREFIX.encode()):
                files[path.relative_to(out).as_posix()] = data
        return files
    except OSError:
        return None


def up_to_date(spec_path: Path, out: Path) -> int | None:
    """How many files a render would leave untouched, when the folder certainly equals a
    render of the spec recorded on this machine; None when unsure."""
    if not render_cache.enabled():
        return None
    try:
        spec_bytes = read_regular_file(spec_path, MAX_SPEC_BYTES)
    except SpecError:
        return None
    expected = render_cache.lookup(inputs_digest(spec_path.name, spec_bytes))
    if expected is None:
        return None
    files = _marked_files(out)
    if files is None or set(files) != set(expected):
        return None
    if any(render_cache.file_digest(data) != expected[name] for name, data in files.items()):
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


def up_to_date_message(out: Path, count: int) -> str:
    """What `render` says when every file already matches: where, how many, and that it
    wrote nothing (the full render says the same)."""
    return f"{out}: up to date, nothing written ({count} files already current)"


def fast_render(args: list[str]) -> str | None:
    """The "up to date" message when a render would change nothing; None when unsure
    (the full render then runs, and writes whatever differs)."""
    answer = _answer(args, _RENDER_FLAGS)
    if answer is None:
        return None
    _, out, count = answer
    return up_to_date_message(out, count)
