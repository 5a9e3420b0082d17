"""A strict YAML reader for specs, built on ruamel.yaml's event stream.

Why events and not `YAML().load`: building the tree ourselves lets us refuse what a
reviewed spec never needs, before any model work and before memory can blow up:
explicit tags (`!!python/...`, `!foo`), duplicate keys, complex keys, several documents,
absurd nesting, alias bombs (anchors are allowed, but every alias counts the full size
of what it repeats), and `${{` in any string (GitHub has no escape for it, so a spec value
holding it could turn into an expression in the generated workflow). Plain scalars are
resolved by the YAML 1.2 core schema, so `on`, `yes` and `no` stay strings.

Two parsers feed the same builder. libyaml (PyYAML's C parser, already loaded to verify
the output) reads the usual spec about six times faster than ruamel.yaml's pure-Python
parser (130 -> 21 ms at 500 services), but it is a YAML 1.1 parser and counts marks its
own way; so it is used only on plain ASCII text without tabs, and only when the stream
has no directive, tag, anchor, alias or empty node. On anything else, and on any error at all, the
spec is read again with ruamel.yaml, which gives the answer and the error messages.
tests/test_loader_parsers.py checks that both give identical results on fuzzed specs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harden_ci.errors import Location, SpecError
from harden_ci.regular_file import MAX_SPEC_BYTES, read_regular_file

# An event of either parser: both name their classes alike and give `start_mark` (0-based
# line and column), `anchor`, `tag`, and for scalars `value`, `implicit` and `style`.
Event = Any

Path_ = tuple[str | int, ...]


@dataclass(frozen=True)
class Limits:
    """Ceilings far above any real spec (a 500-service monorepo is ~150 KiB)."""

    max_bytes: int = MAX_SPEC_BYTES
    max_depth: int = 32
    max_nodes: int = 500_000  # counted with every alias expanded
    max_scalar_chars: int = 64 * 1024


@dataclass
class LoadedSpec:
    """The spec as plain data, plus where each node came from.

    `marks[path]` is the (line, column) of the value at `path`; `key_marks[path]` is where
    its mapping key sits. Both are 1-based.
    """

    source: str
    data: dict[str, Any]
    raw: bytes
    marks: dict[Path_, tuple[int, int]] = field(default_factory=dict)
    key_marks: dict[Path_, tuple[int, int]] = field(default_factory=dict)
    # The source text of plain scalars YAML read as numbers, booleans or null, so an
    # error can quote what the user wrote (`3.10`, not the float 3.1).
    plain_text: dict[Path_, str] = field(default_factory=dict)

    def location(self, path: Path_, *, key: bool = False) -> Location:
        """The closest known location of `path` (walking up to a parent if needed)."""
        table = self.key_marks if key else self.marks
        probe = tuple(path)
        while True:
            mark = table.get(probe) or self.marks.get(probe)
            if mark is not None:
                return Location(self.source, mark[0], mark[1])
            if not probe:
                return Location(self.source, 1, 1)
            probe = probe[:-1]


_NULL = re.compile(r"^(?:~|null|Null|NULL|)$")
_BOOL = re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$")
_INT = re.compile(r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$")
_FLOAT = re.compile(
    r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?"
    r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"
)
EXPRESSION_OPENER = "${{"
# C0 controls (but tab and newline), DEL, and C1 controls have no place in a spec.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def _resolve_plain(text: str) -> Any:
    """YAML 1.2 core schema resolution of an untagged plain scalar."""
    if _NULL.match(text):
        return None
    if _BOOL.match(text):
        return text.lower() == "true"
    if _INT.match(text):
        if text.startswith("0o"):
            return int(text[2:], 8)
        if text.startswith("0x"):
            return int(text[2:], 16)
        return int(text, 10)
    if _FLOAT.match(text):
        lowered = text.lower()
        if lowered.endswith(".inf"):
            return float("-inf") if lowered.startswith("-") else float("inf")
        if lowered == ".nan":
            return float("nan")
        return float(text)
    return text


@dataclass
class _Frame:
    container: dict[str, Any] | list[Any]
    path: Path_
    pending_key: str | None = None
    pending_key_mark: tuple[int, int] | None = None
    size: int = 1
    anchor: str | None = None


class _Builder:
    def __init__(self, source: str, limits: Limits) -> None:
        self.source = source
        self.limits = limits
        self.marks: dict[Path_, tuple[int, int]] = {}
        self.key_marks: dict[Path_, tuple[int, int]] = {}
        self.plain_text: dict[Path_, str] = {}
        self.anchors: dict[str, tuple[Any, int]] = {}  # anchor -> (value, expanded size)
        self.nodes = 0
        self.stack: list[_Frame] = []
        self.root: Any = None
        self.documents = 0

    def fail(self, event: Event, message: str, hint: str | None = None) -> SpecError:
        mark = event.start_mark
        return SpecError(message, location=Location(self.source, mark.line + 1, mark.column + 1),
                         hint=hint)

    def count(self, event: Event, n: int) -> None:
        self.nodes += n
        if self.nodes > self.limits.max_nodes:
            raise self.fail(event, f"the spec expands to more than {self.limits.max_nodes} nodes",
                            "anchors and aliases may not multiply the document (alias bomb)")

    # A value is ready: put it into the parent (or make it the root).
    def place(self, event: Event, value: Any, size: int) -> None:
        mark = (event.start_mark.line + 1, event.start_mark.column + 1)
        if not self.stack:
            self.root = value
            self.marks.setdefault((), mark)
            return
        parent = self.stack[-1]
        parent.size += size
        if isinstance(parent.container, list):
            path = (*parent.path, len(parent.container))
            parent.container.append(value)
            self.marks.setdefault(path, mark)
            return
        if parent.pending_key is None:
            raise self.fail(event, "mapping keys must be plain strings",
                            "complex keys (mappings or lists used as keys) are not allowed")
        key = parent.pending_key
        path = (*parent.path, key)
        parent.container[key] = value
        self.marks.setdefault(path, mark)
        if parent.pending_key_mark is not None:
            self.key_marks.setdefault(path, parent.pending_key_mark)
        parent.pending_key = None
        parent.pending_key_mark = None

    def child_path(self) -> Path_:
        if not self.stack:
            return ()
        parent = self.stack[-1]
        if isinstance(parent.container, list):
            return (*parent.path, len(parent.container))
        return (*parent.path, parent.pending_key or "")

    def check_string(self, event: Event, text: str) -> None:
        if EXPRESSION_OPENER in text:
            raise self.fail(
                event, "`${{` is not allowed in a spec value",
                "GitHub would evaluate it as an expression; name secrets and variables in the "
                "spec's `secrets:`/`vars:` lists and harden-ci wires them in through env",
            )
        bad = _CONTROL.search(text)
        if bad:
            raise self.fail(event, f"control character U+{ord(bad.group()):04X} in a string",
                            "remove it; only tab and newline are allowed")
        if len(text) > self.limits.max_scalar_chars:
            raise self.fail(event, f"a string longer than {self.limits.max_scalar_chars} "
                            "characters")

    def start_container(self, event: Event) -> None:
        if event.tag is not None:
            raise self.fail(event, f"YAML tag `{event.tag}` is not allowed",
                            "a spec holds plain mappings, lists and scalars")
        if len(self.stack) >= self.limits.max_depth:
            raise self.fail(event, f"nesting deeper than {self.limits.max_depth} levels")
        self.count(event, 1)
        container: dict[str, Any] | list[Any] = (
            {} if type(event).__name__ == "MappingStartEvent" else []
        )
        mark = (event.start_mark.line + 1, event.start_mark.column + 1)
        path = self.child_path()
        self.marks.setdefault(path, mark)
        self.stack.append(_Frame(container, path, anchor=event.anchor))

    def end_container(self, event: Event) -> None:
        frame = self.stack.pop()
        if frame.anchor:
            self.anchors[frame.anchor] = (frame.container, frame.size)
        # Place with the start mark already recorded; re-use this event's mark otherwise.
        self.place(event, frame.container, frame.size)

    def scalar(self, event: Event) -> None:
        if event.tag is not None:
            raise self.fail(event, f"YAML tag `{event.tag}` is not allowed",
                            "write the value plainly, quoting it if it must be a string")
        text = event.value
        self.check_string(event, text)
        self.count(event, 1)
        parent = self.stack[-1] if self.stack else None
        if isinstance(parent and parent.container, dict) and parent is not None \
                and parent.pending_key is None:
            # This scalar is a mapping key.
            if text in parent.container:
                raise self.fail(event, f"duplicate key `{text}`",
                                "each key may appear once; merge the two entries")
            if event.anchor:
                raise self.fail(event, "anchors on mapping keys are not allowed")
            parent.pending_key = text
            parent.pending_key_mark = (event.start_mark.line + 1, event.start_mark.column + 1)
            return
        # Plain: ruamel.yaml's style is None, libyaml's "".
        value = _resolve_plain(text) if event.implicit[0] and not event.style else text
        if not isinstance(value, str):
            self.plain_text[self.child_path()] = text
        if event.anchor:
            self.anchors[event.anchor] = (value, 1)
        self.place(event, value, 1)

    def alias(self, event: Event) -> None:
        anchor = event.anchor
        if anchor is None or anchor not in self.anchors:
            raise self.fail(event, f"alias `*{anchor}` names no anchor defined before it")
        parent = self.stack[-1] if self.stack else None
        if parent is not None and isinstance(parent.container, dict) \
                and parent.pending_key is None:
            raise self.fail(event, "aliases may not be used as mapping keys")
        value, size = self.anchors[anchor]
        self.count(event, size)
        self.place(event, value, size)

    def feed(self, event: Event) -> None:
        kind = type(event).__name__
        if kind == "DocumentStartEvent":
            self.documents += 1
            if self.documents > 1:
                raise self.fail(event, "the spec file holds more than one YAML document",
                                "remove the extra `---` separated documents")
        elif kind == "ScalarEvent":
            self.scalar(event)
        elif kind in ("MappingStartEvent", "SequenceStartEvent"):
            parent = self.stack[-1] if self.stack else None
            if parent is not None and isinstance(parent.container, dict) \
                    and parent.pending_key is None:
                raise self.fail(event, "mapping keys must be plain strings",
                                "complex keys (mappings or lists used as keys) are not allowed")
            self.start_container(event)
        elif kind in ("MappingEndEvent", "SequenceEndEvent"):
            self.end_container(event)
        elif kind == "AliasEvent":
            self.alias(event)


def _decode(raw: bytes, source: str) -> str:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        column = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        raise SpecError("the spec is not valid UTF-8",
                        location=Location(source, line, column),
                        hint="save the file as UTF-8") from None
    return text.removeprefix("\ufeff")


def load_spec_text(raw: bytes, source: str, limits: Limits | None = None) -> LoadedSpec:
    """Parse spec bytes. Raises SpecError for anything a spec must not contain."""
    limits = limits or Limits()
    if len(raw) > limits.max_bytes:
        raise SpecError(f"the spec is {len(raw)} bytes, over the {limits.max_bytes}-byte limit",
                        location=Location(source), hint="a spec this large is not a spec")
    text = _decode(raw, source)
    builder = build_with_libyaml(text, source, limits) or build_with_ruamel(text, source, limits)
    if not isinstance(builder.root, dict):
        kind = "empty" if builder.root is None else type(builder.root).__name__
        raise SpecError(f"the spec must be a YAML mapping at the top, not {kind}",
                        location=Location(source, 1, 1),
                        hint="start with `version: 1`, `project:` and `services:`")
    return LoadedSpec(source=source, data=builder.root, raw=raw, marks=builder.marks,
                      key_marks=builder.key_marks, plain_text=builder.plain_text)


def build_with_libyaml(text: str, source: str, limits: Limits) -> _Builder | None:
    """The spec built from libyaml's events; None whenever the text or its events are
    anything but the usual (then ruamel.yaml decides), or libyaml is not installed."""
    if not text.isascii() or "\t" in text or "\r" in text:
        return None  # marks would count differently; YAML 1.1 line breaks differ
    try:
        from yaml import CSafeLoader
    except ImportError:
        return None
    builder = _Builder(source, limits)
    parser = CSafeLoader(text)
    try:
        while parser.check_event():
            event: Event = parser.get_event()
            kind = type(event).__name__
            if kind == "StreamEndEvent":
                break
            if kind == "AliasEvent" or getattr(event, "anchor", None) is not None \
                    or getattr(event, "tag", None) is not None:
                return None
            if kind == "DocumentStartEvent" and (event.version or event.tags):
                return None
            if kind == "ScalarEvent" and not event.value and not event.style:
                return None  # an empty node: the parsers mark it at different places
            builder.feed(event)
    except Exception:  # any refusal or parse error: ruamel.yaml gives the message
        return None
    finally:
        parser.dispose()
    return builder


def build_with_ruamel(text: str, source: str, limits: Limits) -> _Builder:
    """The spec built from ruamel.yaml's events (YAML 1.2); raises SpecError."""
    from ruamel.yaml import YAML
    from ruamel.yaml.error import MarkedYAMLError, YAMLError
    from ruamel.yaml.reader import ReaderError

    builder = _Builder(source, limits)
    try:
        for event in YAML(typ="safe", pure=True).parse(text):
            if type(event).__name__ == "StreamEndEvent":
                break
            builder.feed(event)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        location = Location(source, mark.line + 1, mark.column + 1) if mark else Location(source)
        problem = exc.problem or exc.context or "malformed YAML"
        raise SpecError(f"YAML syntax error: {problem}", location=location,
                        hint="check indentation, quoting and colons around this place") from None
    except ReaderError as exc:
        # A character YAML does not allow at all (a raw control character, say).
        line = text.count("\n", 0, exc.position) + 1
        column = exc.position - (text.rfind("\n", 0, exc.position) + 1) + 1
        char = exc.character if isinstance(exc.character, str) else chr(exc.character)
        raise SpecError(f"control character U+{ord(char):04X} is not allowed in a spec",
                        location=Location(source, line, column),
                        hint="remove it; only tab and newline are allowed") from None
    except YAMLError as exc:
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else "malformed YAML"
        raise SpecError(f"YAML error: {first_line}", location=Location(source)) from None
    except RecursionError:
        raise SpecError("the spec nests too deeply to read", location=Location(source)) from None
    return builder


def load_spec_file(path: Path, limits: Limits | None = None) -> LoadedSpec:
    """Load a spec file: refused at once unless it is a regular file within the size
    limit (see harden_ci.regular_file: a FIFO or a device is never opened to block)."""
    limits = limits or Limits()
    raw = read_regular_file(path, limits.max_bytes)
    return load_spec_text(raw, path.as_posix(), limits)
