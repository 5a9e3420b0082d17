"""Read a spec (or policy) file safely: only a regular file, only up to a size limit
(standard library only, so the fast `check` path reads the spec the same way).

A FIFO would block a plain `open()` forever, `/dev/zero` never ends, and a directory or a
socket is not a spec: all are refused from `os.stat` before anything is opened. The file
is then opened with O_NONBLOCK (so a FIFO swapped in after the stat cannot block either)
and checked again on the open descriptor, and at most one byte over the limit is read.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from harden_ci.errors import Location, SpecError

_KINDS = ((stat.S_ISFIFO, "a FIFO (named pipe)"), (stat.S_ISCHR, "a character device"),
          (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket"))
_CHUNK = 1 << 20
# The ceiling for a spec: far above any real one (a 500-service monorepo is ~150 KiB).
MAX_SPEC_BYTES = 8 * 1024 * 1024


def _kind(mode: int) -> str:
    for test, name in _KINDS:
        if test(mode):
            return name
    return "not a regular file"


def _refuse_non_regular(mode: int, where: Location, what: str) -> None:
    if stat.S_ISDIR(mode):
        raise SpecError(f"the {what} path is a directory", location=where,
                        hint=f"pass the {what} file itself")
    if not stat.S_ISREG(mode):
        raise SpecError(f"the {what} is {_kind(mode)}, not a regular file", location=where,
                        hint=f"pass a {what} file saved on disk")


def _too_big(size: int, max_bytes: int, where: Location, what: str) -> SpecError:
    return SpecError(f"the {what} is {size} bytes, over the {max_bytes}-byte limit",
                     location=where, hint=f"a {what} this large is not a {what}")


def read_regular_file(path: Path, max_bytes: int, what: str = "spec") -> bytes:
    """The bytes of `path`; SpecError (with the path as location) for anything else."""
    where = Location(path.as_posix())
    try:
        info = os.stat(path)
        _refuse_non_regular(info.st_mode, where, what)
        if info.st_size > max_bytes:
            raise _too_big(info.st_size, max_bytes, where, what)
        flags = os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOCTTY", 0) \
            | getattr(os, "O_CLOEXEC", 0)
        fd = os.open(path, flags)
        try:
            opened = os.fstat(fd)
            _refuse_non_regular(opened.st_mode, where, what)
            chunks: list[bytes] = []
            size = 0
            while size <= max_bytes:
                chunk = os.read(fd, min(_CHUNK, max_bytes + 1 - size))
                if not chunk:
                    break
                chunks.append(chunk)
                size += len(chunk)
        finally:
            os.close(fd)
    except FileNotFoundError:
        raise SpecError(f"no such {what} file", location=where,
                        hint="run `harden-ci init` to write a starter spec, or pass its path"
                        if what == "spec" else None) from None
    except OSError as exc:
        raise SpecError(f"cannot read the {what}: {exc.strerror}", location=where) from None
    if size > max_bytes:  # it grew after the stat
        raise _too_big(size, max_bytes, where, what)
    return b"".join(chunks)
