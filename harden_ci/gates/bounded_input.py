"""Input files of the gates, read so that a malformed or hostile file fails fast (exit 2)
instead of hanging or crashing the gate.

* only regular files: the path is `os.stat`-ed before it is opened, so a FIFO (whose open
  blocks until a writer comes) or a device such as /dev/zero (endless) is refused at once;
* a size limit, enforced on the bytes actually read (a file may grow after the stat);
* JSON without NaN/Infinity and with a nesting depth limit (deeper documents are refused
  with a message, not a RecursionError);
* regular expressions from user files run on the `regex` engine with a time limit, so a
  pattern prone to catastrophic backtracking is a bounded failure, not a hang.
"""

from __future__ import annotations

import functools
import json
import os
import stat
from pathlib import Path
from typing import Protocol

import regex

from harden_ci.errors import Location, SpecError

MAX_FILE_BYTES = 64 * 1024 * 1024
MAX_JSON_DEPTH = 64
REGEX_TIMEOUT_S = 0.25  # the engine checks its clock now and then: allow a few times this


def read_bytes(path: Path, what: str, limit: int = MAX_FILE_BYTES) -> bytes:
    """The file's bytes; SpecError when it is missing, not a regular file, or over `limit`."""
    where = Location(str(path))
    try:
        info = os.stat(path)
    except FileNotFoundError:
        raise SpecError(f"the {what} file does not exist", location=where) from None
    except OSError as exc:
        raise SpecError(f"cannot read the {what} file ({exc.strerror})", location=where) from None
    if not stat.S_ISREG(info.st_mode):
        raise SpecError(f"the {what} file is not a regular file (a FIFO, a device or a "
                        "directory cannot be read safely)", location=where)
    if info.st_size > limit:
        raise SpecError(f"the {what} file is larger than {_size(limit)}", location=where)
    try:
        # O_NONBLOCK: were the path swapped for a FIFO after the stat, open must not wait.
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
        with os.fdopen(fd, "rb") as handle:
            if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
                raise SpecError(f"the {what} file is not a regular file", location=where)
            data = handle.read(limit + 1)
    except OSError as exc:
        raise SpecError(f"cannot read the {what} file ({exc.strerror})", location=where) from None
    if len(data) > limit:
        raise SpecError(f"the {what} file is larger than {_size(limit)}", location=where)
    return data


def read_text(path: Path, what: str, limit: int = MAX_FILE_BYTES) -> str:
    data = read_bytes(path, what, limit)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SpecError(f"the {what} file is not UTF-8 ({exc.reason} at byte {exc.start})",
                        location=Location(str(path))) from None


def _size(limit: int) -> str:
    return f"{limit >> 20} MiB" if limit >= 1 << 20 else f"{limit} bytes"


def _no_constants(name: str) -> object:
    raise ValueError(f"{name} is not valid JSON")


def depth(value: object) -> int:
    """The nesting depth of a parsed JSON value (a scalar is 0), without recursion."""
    deepest = 0
    stack: list[tuple[object, int]] = [(value, 0)]
    while stack:
        node, level = stack.pop()
        if isinstance(node, dict | list):
            level += 1
            deepest = max(deepest, level)
            stack.extend((child, level) for child in (node.values() if isinstance(node, dict)
                                                       else node))
    return deepest


def loads(text: str, max_depth: int = MAX_JSON_DEPTH) -> object:
    """json.loads without NaN/Infinity and with a depth limit; ValueError (with `lineno`
    for syntax errors) otherwise."""
    try:
        value = json.loads(text, parse_constant=_no_constants)
    except RecursionError:
        raise ValueError(f"nested deeper than {max_depth} levels") from None
    if depth(value) > max_depth:
        raise ValueError(f"nested deeper than {max_depth} levels")
    return value


@functools.lru_cache(maxsize=256)
def compile_pattern(pattern: str, what: str) -> regex.Pattern[str]:
    """A user's regular expression; SpecError when it does not compile."""
    try:
        return regex.compile(pattern)
    except (regex.error, ValueError) as exc:
        raise SpecError(f"{what} {pattern!r} is not a valid regular expression ({exc})") from None


class PatternTimeout(Exception):
    """A pattern took longer than REGEX_TIMEOUT_S on one input."""


def search(pattern: regex.Pattern[str], text: str, timeout: float = REGEX_TIMEOUT_S) -> bool:
    """pattern.search(text) bounded in time; PatternTimeout past `timeout` seconds."""
    try:
        return pattern.search(text, timeout=timeout) is not None
    except TimeoutError:
        raise PatternTimeout(f"the pattern {pattern.pattern!r} ran longer than {timeout:g} s "
                             "(catastrophic backtracking?)") from None


class Readable(Protocol):
    def read(self, size: int = -1, /) -> bytes: ...


def read_stream(stream: Readable, what: str, limit: int) -> bytes:
    """At most `limit` bytes of a response or pipe; ValueError past it, so a huge (or endless) body
    fails after `limit + 1` bytes instead of filling memory."""
    data = stream.read(limit + 1)
    if len(data) > limit:
        raise ValueError(f"the {what} is larger than {_size(limit)}")
    return data
