"""The spec loader's two parsers agree: whenever the libyaml fast path accepts a text, the
ruamel.yaml path (the reference: YAML 1.2, and the one that words every error) accepts it
too and builds identical data, marks, key marks and plain-scalar texts; the fast path
never accepts what ruamel.yaml refuses. Texts come from valid specs dumped in several
styles, hostile scalars, and those texts mutated with YAML's indicator characters."""

from __future__ import annotations

from pathlib import Path

import pytest
import strategies
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from harden_ci.errors import SpecError
from harden_ci.load import yaml_source
from harden_ci.load.yaml_source import Limits, build_with_libyaml, build_with_ruamel

ROOT = Path(__file__).resolve().parent.parent
LIMITS = Limits()
# Characters that change what YAML means, for mutations.
INDICATORS = [*":-?,[]{}#&*!|>'\"%@` \n", "  ", "\n  ", ": ", "- ", "---\n", "..."]
SCALARS = st.one_of(
    st.sampled_from(["yes", "no", "on", "off", "~", "null", "Null", "true", "False", "3.10",
                     "0o17", "0x1F", "017", "1e3", ".inf", "-.Inf", ".nan", "+1", "1_000",
                     "", " ", "a: b", "- x", "#c", "x #c", "'q'", '"q"', "{a}", "[b]", "%x",
                     "@x", "`x", "multi\nline", "trailing ", "12:30", "2024-01-01"]),
    st.integers(-10**6, 10**6), st.floats(allow_nan=False, width=32), st.booleans(),
    st.none(), st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=12))
DATA = st.recursive(SCALARS, lambda inner: st.one_of(
    st.lists(inner, max_size=4),
    st.dictionaries(st.text(st.characters(min_codepoint=33, max_codepoint=126), min_size=1,
                            max_size=8), inner, max_size=4)), max_leaves=20)


def outcome(text: str) -> tuple[str, object]:
    """Both parsers on `text`: checks they agree, and says which path answered."""
    fast = build_with_libyaml(text, "spec.yaml", LIMITS)
    try:
        slow = build_with_ruamel(text, "spec.yaml", LIMITS)
    except SpecError as exc:
        assert fast is None, f"the fast path accepted a text ruamel.yaml refuses ({exc}):\n{text}"
        return "refused", None
    if fast is None:
        return "ruamel", slow.root
    for table in ("root", "marks", "key_marks", "plain_text"):
        assert _same(getattr(fast, table), getattr(slow, table)), f"{table} differ for:\n{text}"
    return "libyaml", fast.root


def _same(a: object, b: object) -> bool:
    """Equal, with the same types throughout (1 is not 1.0 nor True), NaN equal to NaN."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return list(a) == list(b) and all(_same(a[k], b[k]) for k in a)  # type: ignore[index]
    if isinstance(a, list):
        return len(a) == len(b) and all(map(_same, a, b))  # type: ignore[arg-type]
    if isinstance(a, float) and a != a:
        return b != b
    return a == b


def _dump(data: object, style: int) -> str:
    if style == 0:
        return yaml.safe_dump(data, sort_keys=False, allow_unicode=False)
    if style == 1:
        return yaml.safe_dump(data, sort_keys=False, default_flow_style=True, width=60)
    return yaml.safe_dump(data, sort_keys=False, default_style='"')


def _mutate(text: str, edits: list[tuple[int, str, bool]]) -> str:
    for position, piece, delete in edits:
        at = position % (len(text) + 1)
        text = text[:at] + text[at + 1:] if delete else text[:at] + piece + text[at:]
    return text


EDITS = st.lists(st.tuples(st.integers(0, 10**6), st.sampled_from(INDICATORS), st.booleans()),
                 max_size=4)
FUZZ = settings(max_examples=400, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@FUZZ
@given(strategies.specs(), st.integers(0, 2), EDITS)
def test_valid_specs_and_their_mutations(spec: dict[str, object], style: int,
                                         edits: list[tuple[int, str, bool]]) -> None:
    text = _dump(spec, style)
    path, _ = outcome(text)
    if style != 2 and text.isascii():
        assert path == "libyaml", "a plain ASCII spec should take the fast path"
    outcome(_mutate(text, edits))


@FUZZ
@given(DATA, st.integers(0, 2), EDITS)
def test_hostile_documents_and_their_mutations(data: object, style: int,
                                               edits: list[tuple[int, str, bool]]) -> None:
    text = _dump({"version": 1, "data": data}, style)
    outcome(text)
    outcome(_mutate(text, edits))


def _utf8(path: Path) -> bool:
    try:
        path.read_bytes().decode("utf-8")
    except UnicodeDecodeError:
        return False  # refused before either parser runs (tests/test_loader.py)
    return True


COMMITTED = sorted(p.relative_to(ROOT).as_posix() for p in [
    *ROOT.glob("examples/*/harden-ci.yaml"), *ROOT.glob("tests/fixtures/specs/**/*.yaml")]
    if _utf8(p))


def test_committed_specs_are_found() -> None:
    assert len(COMMITTED) > 20 and "examples/learnhub/harden-ci.yaml" in COMMITTED


@pytest.mark.parametrize("name", COMMITTED)
def test_committed_specs_agree(name: str) -> None:
    outcome((ROOT / name).read_text("utf-8").removeprefix("\ufeff"))


@pytest.mark.parametrize(("text", "path"), [
    ("version: 1\nproject: {name: a}\n", "libyaml"),
    ("version: 1\nproject: &p {name: a}\nother: *p\n", "ruamel"),  # anchors: the reference
    ("version: !!int 1\n", "refused"),  # tags: refused with ruamel.yaml's words
    ("%YAML 1.1\n---\nversion: 1\n", "ruamel"),  # directives: the reference
    ("version: 1\nname: café\n", "ruamel"),  # non-ASCII: marks count characters
    ("version: 1\nproject:\t{name: a}\n", "refused"),  # tabs: never the fast path
    ("a: 1\na: 2\n", "refused"),  # duplicate keys: refused, with the same message
    ("a: [1, 2\n", "refused"),  # syntax error: ruamel.yaml's message
])
def test_what_takes_which_path(text: str, path: str) -> None:
    assert outcome(text)[0] == path


def test_errors_keep_ruamels_words(tmp_path: Path) -> None:
    """A refused spec's message is the reference parser's, whatever libyaml said."""
    for text in ("a: [1, 2\n", "a: 1\na: 2\n", "version: !!int 1\n"):
        with pytest.raises(SpecError) as fast_path:
            yaml_source.load_spec_text(text.encode(), "spec.yaml")
        with pytest.raises(SpecError) as reference:
            build_with_ruamel(text, "spec.yaml", LIMITS)
        assert str(fast_path.value) == str(reference.value)
