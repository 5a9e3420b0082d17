"""verify's direct YAML loader gives exactly what PyYAML's safe loader gives.

`harden_ci.verify.fastyaml.safe_load` must return the same value (equal, with the same
types) or raise the same error as `yaml.load(text, Loader=CSafeLoader)` for any text; for
the YAML harden-ci writes it must take its direct path (else it is no faster).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from harden_ci.verify.fastyaml import Loader, _build, safe_load

ROOT = Path(__file__).resolve().parent.parent
GENERATED = sorted(p for p in (ROOT / "examples").glob("*/.github/workflows/**/*")
                   if p.suffix in (".yml", ".yaml"))

EDGE_CASES = [
    "on: push\nyes: no\nnull: ~\n",
    "a: 0o17\nb: 017\nc: 0x1f\nd: 1_000\ne: +12\nf: -0\ng: 190:20:30\n",
    "a: .inf\nb: -.Inf\nc: .nan\nd: 1e3\ne: 6.8523015e+5\nf: 3.10\n",
    "a: 2001-12-14t21:59:43.10-05:00\nb: 2002-12-14\n",
    "a: 'true'\nb: \"1\"\nc: !!str 5\nd: !!int '7'\ne: ! 12\n",
    "a: &x {b: 1}\nc: *x\n",
    "base: &b {x: 1, y: 2}\nd:\n  <<: *b\n  y: 3\n",
    "a: 1\na: 2\n",
    "? [1, 2]\n: complex key\n",
    "? {a: 1}\n: mapping key\n",
    "--- 1\n--- 2\n",
    "",
    "# only a comment\n",
    "- 1\n- [2, {three: 3}]\n- {}\n- []\n",
    "run: |\n  echo hi\n  echo ${{ x }}\nfold: >\n  a\n  b\n",
    "a: [unclosed\n",
    "a: b: c\n",
    "a: !custom 1\n",
    "!!map {a: 1}\n",
    "!!seq [1]\n",
    "x: !!binary aGVsbG8=\n",
    "x: !!set {a, b}\n",
    "x: =\n",
]


def reference(text: str) -> tuple[str, Any]:
    try:
        return "value", yaml.load(text, Loader=Loader)
    except yaml.YAMLError as exc:
        return "error", f"{type(exc).__name__}: {exc}"


def ours(text: str) -> tuple[str, Any]:
    try:
        return "value", safe_load(text)
    except yaml.YAMLError as exc:
        return "error", f"{type(exc).__name__}: {exc}"


def typed(value: Any) -> Any:
    """The value with every leaf's type spelled out (1 == True == 1.0 in Python)."""
    if isinstance(value, dict):
        return {typed(k): typed(v) for k, v in value.items()}
    if isinstance(value, list):
        return [typed(v) for v in value]
    if isinstance(value, float) and value != value:
        return ("float", "nan")
    return (type(value).__name__, repr(value))


@pytest.mark.parametrize("text", EDGE_CASES)
def test_edge_cases_agree_with_the_safe_loader(text: str) -> None:
    expected, got = reference(text), ours(text)
    assert got[0] == expected[0]
    if got[0] == "value":
        assert typed(got[1]) == typed(expected[1])
    else:
        assert got[1] == expected[1]


@pytest.mark.parametrize("path", GENERATED, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_generated_workflows_take_the_direct_path(path: Path) -> None:
    text = path.read_text("utf-8")
    assert typed(_build(text)) == typed(yaml.load(text, Loader=Loader))


LEAVES = (st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False)
          | st.text() | st.dates() | st.datetimes(timezones=st.just(dt.UTC)))
DATA = st.recursive(LEAVES, lambda inner: st.lists(inner, max_size=4)
                    | st.dictionaries(st.text() | st.integers() | st.booleans(), inner,
                                      max_size=4), max_leaves=20)


@settings(max_examples=300, deadline=None, derandomize=True, database=None)
@given(DATA, st.booleans(), st.sampled_from([None, "'", '"', "|", ">"]))
def test_random_documents_agree_with_the_safe_loader(data: Any, flow: bool,
                                                     style: str | None) -> None:
    text = yaml.safe_dump(data, default_flow_style=flow, default_style=style,
                          allow_unicode=True)
    expected, got = reference(text), ours(text)
    assert got[0] == expected[0]
    assert typed(got[1]) == typed(expected[1]) if got[0] == "value" else got[1] == expected[1]
