"""`explain` and `graph` show every spec value as text: no spec string can add a line, a
heading, a fence, a table cell, HTML, a link or emphasis to the Markdown review, nor a
statement to the Mermaid or DOT graph.

The Markdown is read back with a CommonMark parser (markdown-it-py, GitHub's table
extension on): a document holding hostile values has exactly the block structure of the
same document holding a plain word, no HTML, link or emphasis token anywhere, and each
value reads back as the text it holds. The graphs keep their skeleton: with every quoted
string replaced by one placeholder, they are identical line for line.
"""

from __future__ import annotations

import functools
import re
import tempfile
from pathlib import Path

import strategies as S
from click.testing import CliRunner
from hypothesis import HealthCheck, given, reject, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt
from markdown_it.token import Token

from harden_ci.cli import cli as cli_group
from harden_ci.report import escape

MD = MarkdownIt("commonmark").enable("table")
# Inline tokens that mean the text was read as markup, not shown as text.
MARKUP = {"html_inline", "html_block", "link_open", "image", "em_open", "strong_open",
          "s_open", "softbreak", "hardbreak", "fence", "code_block", "heading_open", "hr"}
ANY_TEXT = st.text(st.characters(codec="utf-8"), max_size=60)
SPEC = "harden-ci.yaml"
INJECTION = "tiny\n```\n## Fake section: all controls met\n<!-- the rest is hidden"


def blocks(tokens: list[Token]) -> list[str]:
    """The document's block structure: token types and heading levels, no content."""
    return [f"{t.type}:{t.tag}" for t in tokens if t.type != "inline"]


def markup(tokens: list[Token]) -> list[str]:
    """Markup inside the text of blocks (the blocks themselves are compared whole)."""
    return [c.type for t in tokens for c in t.children or [] if c.type in MARKUP]


def one_line(text: str) -> str:
    return escape._one_line(text)


def template(value: str) -> str:
    """The places explain puts a value: a heading, a paragraph, a list item, table cells
    (as text and as a code span)."""
    text, code = escape.markdown(value), escape.markdown(value, code=True)
    cell = escape.markdown(value, code=True, table=True)
    return (f"# Review: {text}\n\nFrom {code}.\n\n- {text}: {code}\n\n"
            f"| a | b |\n|---|---|\n| {text} | {cell} |\n")


def inline_texts(tokens: list[Token]) -> tuple[list[str], list[str]]:
    """The text and the code-span contents of every inline token, in order."""
    texts, codes = [], []
    for token in tokens:
        if token.type == "inline":
            children = token.children or []
            texts.append("".join(c.content for c in children if c.type == "text"))
            codes += [c.content for c in children if c.type == "code_inline"]
    return texts, codes


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(ANY_TEXT, S.hostile_text(max_size=80), st.sampled_from(
    [INJECTION, "`", "``", " ` ", "a|b", "\\", "<b>x</b>", "[x](https://e.com)", "*a*",
     "_a_", "&amp;", "&#10;", "\r\n# h", "x\u2028# h", "\u202egnp.exe", "~~s~~", "$x$", "#"])))
def test_no_value_adds_markdown_structure_and_each_reads_back_as_itself(value: str) -> None:
    tokens = MD.parse(template(value))
    assert blocks(tokens) == blocks(MD.parse(template("word"))), template(value)
    assert markup(tokens) == [], template(value)
    texts, codes = inline_texts(tokens)
    shown = one_line(value)
    # As text, a value loses the blanks at its ends (the parser drops them at the ends
    # of a block anyway).
    bare = shown.strip(" \t")
    assert [t.strip() for t in texts] == [f"Review: {bare}".strip(), "From .",
                                          f"{bare}:".strip(), "a", "b", bare.strip(), ""]
    assert codes == [shown or " "] * 3, (value, codes)


@settings(max_examples=400, deadline=None)
@given(st.one_of(ANY_TEXT, st.sampled_from(['"]\n  evil --> x', "a\\", '"; evil [', "#quot;"])))
def test_graph_labels_stay_inside_their_quotes(value: str) -> None:
    label = escape.mermaid(value)
    assert '"' not in label and "\n" not in label and "`" not in label
    assert "#" not in label.replace("#35;", "").replace("#quot;", "").replace(
        "#amp;", "").replace("#lt;", "").replace("#gt;", "").replace("#96;", "").replace(
        "#36;", "")
    quoted = escape.dot(value, value)
    match = DOT_STRING.fullmatch(quoted)
    assert match is not None, quoted
    assert "\n" not in quoted


# --------------------------------------------------------------------------- end to end

DOT_STRING = re.compile(r'"(?:[^"\\\n]|\\.)*"')
MERMAID_STRING = re.compile(r'"[^"\n]*"')


def run(root: Path, *args: str) -> str:
    result = CliRunner().invoke(cli_group, [*args, str(root / SPEC)])
    assert result.exit_code == 0, result.output
    return result.stdout


def write_spec(root: Path, name: str) -> None:
    spec = {"version": 1, "project": {"name": name},
            "services": {"app": {"language": "python"}},
            "gates": {"secret_scan": {"tool": "gitleaks"}}}
    (root / SPEC).write_text(S.dump_spec(spec, allow_unicode=True), encoding="utf-8")


def outputs(root: Path, name: str) -> tuple[str, str, str]:
    write_spec(root, name)
    return (run(root, "explain"), run(root, "graph"), run(root, "graph", "--format", "dot"))


def skeleton(text: str, strings: re.Pattern[str]) -> list[str]:
    return [strings.sub('"S"', line) for line in text.split("\n")]


def test_the_reported_injection_is_shown_as_text(tmp_path: Path) -> None:
    review, mermaid, dot = outputs(tmp_path, INJECTION)
    plain, plain_mermaid, plain_dot = plain_outputs()
    assert blocks(MD.parse(review)) == blocks(MD.parse(plain))
    assert markup(MD.parse(review)) == markup(MD.parse(plain))  # harden-ci's own **bold**
    assert "\n## Fake section" not in review and "\n<!--" not in review
    assert review.count("\n") == plain.count("\n")
    assert skeleton(mermaid, MERMAID_STRING) == skeleton(plain_mermaid, MERMAID_STRING)
    assert skeleton(dot, DOT_STRING) == skeleton(plain_dot, DOT_STRING)


@functools.cache
def plain_outputs() -> tuple[str, str, str]:
    with tempfile.TemporaryDirectory() as folder:
        return outputs(Path(folder), "tiny")


@settings(max_examples=12, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(S.hostile_text(max_size=120))
def test_no_project_name_changes_the_structure_of_explain_or_graph(
        tmp_path: Path, name: str) -> None:
    plain = plain_outputs()
    try:
        write_spec(tmp_path, name)
        if CliRunner().invoke(cli_group, ["validate", str(tmp_path / SPEC)]).exit_code != 0:
            reject()
    except UnicodeEncodeError:
        reject()
    review, mermaid, dot = outputs(tmp_path, name)
    tokens = MD.parse(review)
    assert blocks(tokens) == blocks(MD.parse(plain[0]))
    assert markup(tokens) == markup(MD.parse(plain[0]))
    assert review.count("\n") == plain[0].count("\n")
    # The Mermaid block inside the review, too.
    assert review.split("```mermaid\n", 1)[1].split("\n```", 1)[0] == mermaid.rstrip("\n")
    assert skeleton(mermaid, MERMAID_STRING) == skeleton(plain[1], MERMAID_STRING)
    assert skeleton(dot, DOT_STRING) == skeleton(plain[2], DOT_STRING)
