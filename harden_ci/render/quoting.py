"""The one quoting filter every value in a generated workflow passes through.

A value becomes a YAML double-quoted scalar in which everything but printable text is
escaped: line breaks of every kind (including U+0085, U+2028, U+2029 that YAML 1.1
parsers treat as breaks), control and format characters, the bidirectional overrides
of "Trojan Source", and `"` and `\\`. So a value is always exactly one scalar: it cannot
end its line, open a key, start a comment or a step, whatever it holds. `${{` never
gets here from the spec (the loader refuses it); expressions harden-ci writes itself
pass through unchanged, because GitHub evaluates them inside quoted strings too.
"""

from __future__ import annotations

import json
import re
import unicodedata

_SIMPLE_ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\t": "\\t", "\r": "\\r",
                   "\0": "\\0"}
# Printable ASCII except the two characters that need escaping: the fast path.
_PLAIN_ASCII = re.compile(r'^[\x20-\x21\x23-\x5b\x5d-\x7e]*$')
_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*$")


def _escape_char(ch: str) -> str:
    if ch in _SIMPLE_ESCAPES:
        return _SIMPLE_ESCAPES[ch]
    code = ord(ch)
    if 0x20 <= code <= 0x7E:
        return ch
    # Letters, marks, numbers, punctuation and symbols stay readable; separators other
    # than a plain space, controls, format characters (bidi overrides, BOM, zero-width
    # joiners), surrogates and unassigned code points are escaped.
    if code > 0x7F and unicodedata.category(ch)[0] in "LMNPS":
        return ch
    if code <= 0xFF:
        return f"\\x{code:02x}"
    if code <= 0xFFFF:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


def _float(value: float) -> str:
    """A float both YAML 1.1 (which needs a `.` before any exponent) and 1.2 read back."""
    if value != value:
        return ".nan"
    if value in (float("inf"), float("-inf")):
        return ".inf" if value > 0 else "-.inf"
    text = repr(value)
    mantissa, _, exponent = text.partition("e")
    if "." not in mantissa:
        mantissa += ".0"
    return mantissa + (f"e{exponent if exponent[0] in '+-' else '+' + exponent}" if exponent else "")


def quote(value: object) -> str:
    """Render a value as a single YAML scalar."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return _float(value)
    if not isinstance(value, str):
        raise TypeError(f"cannot quote {type(value).__name__} into a workflow")
    if _PLAIN_ASCII.fullmatch(value):  # fullmatch: `$` would let a final newline through
        return f'"{value}"'
    return '"' + "".join(_escape_char(ch) for ch in value) + '"'


# Words a YAML 1.1 parser reads as booleans or null: as keys they are quoted.
_YAML11_WORDS = frozenset({"y", "n", "yes", "no", "on", "off", "true", "false", "null"})


def ident(value: object) -> str:
    """A mapping key harden-ci emits bare (job ids, env names, input names): refuse
    anything that is not an identifier, so a key can never carry YAML syntax; quote the
    identifiers YAML 1.1 would read as booleans (an env variable named `ON`)."""
    if not isinstance(value, str) or not _IDENT.fullmatch(value):
        raise ValueError(f"not an identifier: {value!r}")
    if value.lower() in _YAML11_WORDS:
        return f'"{value}"'
    return value


def comment(value: object) -> str:
    """Text for a `# comment` harden-ci writes itself: one line, no surprises."""
    text = str(value)
    if not text or any(ch in text for ch in "\r\n\x85\u2028\u2029") or not text.isprintable():
        raise ValueError(f"not a one-line comment: {text!r}")
    return text


def python_json_literal(value: object) -> str:
    """Data for a generated Python file: JSON text inside a Python string literal.

    `json.dumps` of a string is a valid Python string literal (every JSON escape is a
    Python escape) and, with ensure_ascii, pure ASCII: no value can end the literal.
    """
    return json.dumps(json.dumps(value, sort_keys=True, separators=(",", ":")))


def python_json_block(value: object) -> str:
    """Data a reviewer reads in a diff: pretty JSON (one value per line, keys sorted) in a
    raw triple-quoted Python string.

    ensure_ascii keeps every line break and control character escaped inside JSON strings,
    and `'` is written as its JSON escape, so the text holds no quote that could end the
    literal; a raw string keeps JSON's own backslash escapes for json.loads to read.
    """
    text = json.dumps(value, sort_keys=True, indent=2, ensure_ascii=True).replace("'", "\\u0027")
    return "r'''\n" + text + "\n'''"


def yaml_block(value: object, indent: int = 0) -> str:
    """Data a reviewer reads in a diff, as block YAML: one value per line, every key and
    string through `quote` (identifier keys stay bare, through `ident`), so no value can
    open a key, a document or a comment.

    Used for the Kubernetes documents harden-ci builds as data (the Argo companions);
    JSON would not do: its escapes for characters outside the BMP are surrogate pairs,
    which YAML refuses.
    """
    pad = " " * indent
    if isinstance(value, dict):
        if not value:
            return pad + "{}"
        lines = []
        for raw_key, item in value.items():
            key = ident(raw_key) if _IDENT.fullmatch(str(raw_key)) else quote(str(raw_key))
            if isinstance(item, (dict, list)) and item:
                lines.append(f"{pad}{key}:\n{yaml_block(item, indent + 2)}")
            else:
                lines.append(f"{pad}{key}: {yaml_block(item).lstrip()}")
        return "\n".join(lines)
    if isinstance(value, list):
        if not value:
            return pad + "[]"
        lines = []
        for item in value:
            body = yaml_block(item, indent + 2)
            lines.append(f"{pad}- {body[indent + 2:]}")
        return "\n".join(lines)
    return pad + quote(value)
