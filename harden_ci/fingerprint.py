"""The digests stamped on the second line of every generated file (standard library only).

Each file carries the digest of what it was rendered from (harden-ci's own code, templates
and data, plus the spec's name and bytes), the digest of the set of files that render
produced, and the digest of its own body. They are labels, not proof: anyone who edits a
file can recompute them. The writer reads them to tell harden-ci's files from look-alikes
(harden_ci.marker.owner); `check` compares with a fresh render, and its fast path with a
render recorded outside the repository (harden_ci.render_cache), keyed by `inputs_digest`.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.util
from pathlib import Path

import harden_ci

DIGEST_PREFIX = "# harden-ci-digest:"
_SKIP_DIRS = {"__pycache__"}
# The parts of harden-ci that decide what a render produces. The CLI, the writer and the
# runtime gates do not, so editing them does not invalidate every generated file.
_RENDERING_PARTS = ("model", "plan", "render", "verify", "load", "data")


def _digest(*parts: bytes) -> str:
    h = hashlib.sha256()
    for part in parts:
        h.update(len(part).to_bytes(8, "big"))
        h.update(part)
    return h.hexdigest()[:32]


def _package_roots() -> list[Path]:
    package = Path(harden_ci.__file__).parent
    roots = [package / part for part in _RENDERING_PARTS]
    spec = importlib.util.find_spec("harden_ci.templates")
    if spec is not None and spec.submodule_search_locations:
        roots += [Path(p) for p in spec.submodule_search_locations]
    return roots


@functools.cache
def code_fingerprint() -> str:
    """A digest of every file harden-ci renders with: its code, templates and data."""
    parts: list[bytes] = [harden_ci.__version__.encode()]
    for root in _package_roots():
        for path in sorted(root.rglob("*")):
            if path.is_file() and not _SKIP_DIRS.intersection(path.parts) \
                    and path.suffix not in (".pyc",):
                parts += [f"{root.name}/{path.relative_to(root).as_posix()}".encode(),
                          path.read_bytes()]
    return _digest(*parts)


def inputs_digest(spec_file: str, spec_bytes: bytes, *files: str) -> str:
    """The digest of everything a render reads: harden-ci's code, the spec, and the digests
    of the repository files the spec names (the `harden_ci.wheel`), so a new wheel is drift."""
    return _digest(code_fingerprint().encode(), spec_file.encode(), spec_bytes,
                   *(f.encode() for f in files))


def files_digest(names: list[str]) -> str:
    return _digest(*(name.encode() for name in sorted(names)))


def body_digest(body: str) -> str:
    return _digest(body.encode("utf-8"))


def digest_line(inputs: str, files: str, body: str) -> str:
    return f"{DIGEST_PREFIX} inputs={inputs} files={files} body={body_digest(body)}\n"
