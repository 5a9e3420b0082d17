"""`yaml.safe_load` for the YAML harden-ci generates, three times faster.

Parsing the output back is the largest part of a big render (1.7 MB at 500 services).
With libyaml, PyYAML's parser is C, but composing nodes, resolving every scalar's tag and
constructing objects run in Python. Here the parser's events are turned into objects
directly: a plain string is placed as it is, every other scalar goes through PyYAML's own
resolver and SafeConstructor, so values and types are exactly what `safe_load` gives.

Anything beyond what the templates write (anchors, aliases, explicit tags, merge keys,
several documents, keys that cannot be hashed, a parse error) is handed to the ordinary
loader, so the result, or the error, is always the ordinary loader's.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

import yaml
from yaml.events import (
    AliasEvent,
    MappingEndEvent,
    MappingStartEvent,
    ScalarEvent,
    SequenceEndEvent,
    SequenceStartEvent,
)
from yaml.nodes import ScalarNode

# libyaml's parser when PyYAML has it (it does in the common wheels).
Loader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_STR = "tag:yaml.org,2002:str"
_MERGE = "tag:yaml.org,2002:merge"
_NO_KEY = object()


class _Unusual(Exception):
    """Something the direct path does not build: the ordinary loader decides."""


def _build(text: str) -> Any:
    # PyYAML's stubs leave resolve() untyped: it returns the tag.
    resolve = cast(Callable[[type[ScalarNode], str, tuple[bool, bool]], str],
                   yaml.resolver.Resolver().resolve)
    constructor = yaml.constructor.SafeConstructor()
    tags: dict[tuple[str, tuple[bool, bool]], str] = {}
    # Open containers, innermost last, each with the key waiting for its value.
    stack: list[list[Any]] = []
    documents: list[Any] = []

    def place(value: Any) -> None:
        if not stack:
            documents.append(value)
            return
        top = stack[-1]
        if isinstance(top[0], list):
            top[0].append(value)
        elif top[1] is _NO_KEY:
            top[1] = value
        else:
            top[0][top[1]] = value
            top[1] = _NO_KEY

    for event in yaml.parse(text, Loader=Loader):
        if isinstance(event, ScalarEvent):
            if event.anchor is not None or event.tag not in (None, "!"):
                raise _Unusual
            key = (event.value, event.implicit)
            tag = tags.get(key)
            if tag is None:
                tag = tags[key] = resolve(ScalarNode, event.value, event.implicit)
            if tag == _STR:
                place(event.value)
            elif tag == _MERGE:
                raise _Unusual
            else:
                place(constructor.construct_object(ScalarNode(tag, event.value), deep=True))
        elif isinstance(event, MappingStartEvent | SequenceStartEvent):
            if event.anchor is not None or not event.implicit:
                raise _Unusual
            stack.append([{} if isinstance(event, MappingStartEvent) else [], _NO_KEY])
        elif isinstance(event, MappingEndEvent | SequenceEndEvent):
            place(stack.pop()[0])
        elif isinstance(event, AliasEvent):
            raise _Unusual
    if len(documents) != 1:
        raise _Unusual
    return documents[0]


def safe_load(text: str) -> Any:
    """What `yaml.load(text, Loader=Loader)` returns (or raises), usually faster."""
    try:
        return _build(text)
    except (_Unusual, yaml.YAMLError, TypeError, ValueError):
        return yaml.load(text, Loader=Loader)  # a safe loader, C or Python
