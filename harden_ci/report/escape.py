"""One escaping function per output format the reports write: every value that reaches
the Markdown review, the Mermaid graph or the DOT graph goes through the function of its
format, so no spec string can add a line, a heading, a fence, a table cell, a link, HTML
or a graph statement.

What all three do first: every line break (CR, LF, and the Unicode ones) becomes a space,
and every other control or format character (NUL, bidirectional overrides, zero-width
characters) becomes U+FFFD, so what a reviewer sees is what the value holds.
"""

from __future__ import annotations

import re
import unicodedata

_LINE_BREAK = re.compile(r"\r\n|[\n\r\v\f\x1c-\x1e\x85\u2028\u2029]")
# Markdown's inline markup, and `#` (a closing heading sequence), `$` (math on GitHub).
_MARKDOWN_PUNCTUATION = re.compile(r"([\\`*_\[\]<>|~&!#$])")
_BACKTICKS = re.compile(r"`+")
_BLOCK_START = re.compile(r"^(\d{0,9})([-+.)])")
_REPLACEMENT = "\ufffd"


def _one_line(value: object) -> str:
    text = _LINE_BREAK.sub(" ", str(value))
    return "".join(_REPLACEMENT if unicodedata.category(c) in ("Cc", "Cf", "Cs") else c
                   for c in text)


def markdown(value: object, *, code: bool = False, table: bool = False) -> str:
    """`value` as inline Markdown text (headings, list items, table cells), or as a code
    span with `code=True`: a backtick fence longer than any run inside it. In a table
    cell (`table=True`) a code span's `|` is escaped too, as GitHub's tables require
    (they read `\\|` back as `|`); text always escapes it."""
    text = _one_line(value)
    if not code:
        # A value may open a block (it is the first thing in a list item): without its
        # edge blanks (no indented code) and with a leading list marker escaped.
        text = _MARKDOWN_PUNCTUATION.sub(r"\\\1", text.strip(" \t"))
        return _BLOCK_START.sub(r"\1\\\2", text, count=1)
    if table:
        text = text.replace("|", "\\|")
    if not text:
        return "` `"  # an empty pair of backticks is not a code span
    fence = "`" * (max(map(len, _BACKTICKS.findall(text)), default=0) + 1)
    # CommonMark strips one space from each end of a span that has both and is not all
    # spaces: pad such a value, and one touching the fence with a backtick.
    spaced = text[0] == text[-1] == " " and text.strip(" ") != ""
    pad = " " if "`" in (text[0], text[-1]) or spaced else ""
    return f"{fence}{pad}{text}{pad}{fence}"


_MERMAID_ENTITIES = {"#": "#35;", '"': "#quot;", "&": "#amp;", "<": "#lt;", ">": "#gt;",
                     "`": "#96;", "$": "#36;"}


def mermaid(value: object) -> str:
    """`value` inside a double-quoted Mermaid label: its own entity codes for the quote,
    `#` (so no text turns into an entity), HTML, the backtick (Markdown strings) and `$`
    (maths)."""
    return "".join(_MERMAID_ENTITIES.get(c, c) for c in _one_line(value))


def dot(*lines: object) -> str:
    """A double-quoted DOT string of one or more lines (joined with DOT's `\\n`)."""
    parts = (_one_line(line).replace("\\", "\\\\").replace('"', '\\"') for line in lines)
    return '"' + "\\n".join(parts) + '"'
