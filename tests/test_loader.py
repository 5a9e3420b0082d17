"""The strict spec loader: limits, YAML 1.2 scalars, line/column marks, hostile input."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from harden_ci.errors import SpecError
from harden_ci.load import Limits, LoadedSpec, load_spec_file, load_spec_text, yaml_source

SRC = "spec.yaml"


def load(text: str, limits: Limits | None = None) -> LoadedSpec:
    return load_spec_text(text.encode("utf-8"), SRC, limits)


def refused(raw: bytes | str, limits: Limits | None = None) -> SpecError:
    data = raw.encode("utf-8") if isinstance(raw, str) else raw
    with pytest.raises(SpecError) as info:
        load_spec_text(data, SRC, limits)
    return info.value


def nested_lists(depth: int) -> str:
    """A top-level mapping (depth 1) holding `depth - 1` nested flow lists."""
    return "a: " + "[" * (depth - 1) + "]" * (depth - 1) + "\n"


# --- size ---------------------------------------------------------------------------------

def test_oversized_input_is_refused_before_decoding_or_parsing() -> None:
    limits = Limits(max_bytes=64)
    # Not UTF-8 and not YAML: if the loader decoded or parsed it, the error would say so.
    err = refused(b"\xff{[" * 30, limits)
    assert "over the 64-byte limit" in err.message
    assert "UTF-8" not in err.message and "YAML" not in err.message
    assert err.location is not None and err.location.file == SRC


def test_input_at_the_byte_limit_is_read() -> None:
    text = "a: " + "x" * 61  # 64 bytes
    assert len(text.encode()) == 64
    assert load(text, Limits(max_bytes=64)).data == {"a": "x" * 61}


def test_default_byte_limit_applies(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_parse(*args: object, **kwargs: object) -> None:
        raise AssertionError("the parser ran on an oversized spec")

    # Neither parser (libyaml's fast path, ruamel.yaml's reference path) may run.
    monkeypatch.setattr(yaml_source, "build_with_libyaml", no_parse)
    monkeypatch.setattr(yaml_source, "build_with_ruamel", no_parse)
    raw = b"a: b\n" * (Limits().max_bytes // 5 + 1)
    err = refused(raw)
    assert f"over the {Limits().max_bytes}-byte limit" in err.message


def test_oversized_file_is_refused_without_reading_it(tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    big = tmp_path / "harden-ci.yaml"
    with big.open("wb") as handle:  # sparse: size without the bytes
        handle.truncate(Limits().max_bytes + 1)

    def no_read(self: Path) -> bytes:
        raise AssertionError(f"{self} was read although it is over the limit")

    monkeypatch.setattr(Path, "read_bytes", no_read)
    with pytest.raises(SpecError) as info:
        load_spec_file(big)
    assert "byte limit" in info.value.message
    assert info.value.location is not None and info.value.location.file == big.as_posix()


# --- aliases ------------------------------------------------------------------------------

def test_small_aliases_are_expanded() -> None:
    loaded = load("base: &b {language: python}\nsvc: *b\nlist: &l [1, 2]\nagain: *l\n")
    assert loaded.data == {"base": {"language": "python"}, "svc": {"language": "python"},
                           "list": [1, 2], "again": [1, 2]}


def test_aliases_count_the_full_size_of_what_they_repeat() -> None:
    anchor = "base: &b [" + ", ".join(["x"] * 10) + "]\n"
    # Fewer than 25 events, but over 50 nodes once every alias counts what it repeats.
    text = anchor + "".join(f"k{i}: *b\n" for i in range(4))
    assert load(text, Limits(max_nodes=100)).data["k3"] == ["x"] * 10
    err = refused(text, Limits(max_nodes=40))
    assert "more than 40 nodes" in err.message
    assert err.hint is not None and "alias bomb" in err.hint
    # It points at an alias (`*b`, column 5 of one of the `kN:` lines).
    assert err.location is not None
    assert err.location.line in (2, 3, 4, 5) and err.location.column == 5


def test_billion_laughs_is_refused_quickly_with_default_limits() -> None:
    lines = ['l0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    lines += [f"l{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]" for i in range(1, 10)]
    err = refused("\n".join(lines) + "\n")
    assert f"more than {Limits().max_nodes} nodes" in err.message


def test_alias_to_an_undefined_anchor_is_refused() -> None:
    err = refused("a: *nowhere\n")
    assert "*nowhere" in err.message


def test_alias_as_a_mapping_key_is_refused() -> None:
    err = refused("a: &k key\n*k : value\n")
    assert "mapping key" in err.message


# --- depth --------------------------------------------------------------------------------

def test_nesting_up_to_the_depth_limit_is_read() -> None:
    loaded = load(nested_lists(5), Limits(max_depth=5))
    value = loaded.data["a"]
    for _ in range(3):
        assert isinstance(value, list) and len(value) == 1
        value = value[0]
    assert value == []


def test_nesting_past_the_depth_limit_is_refused() -> None:
    err = refused(nested_lists(6), Limits(max_depth=5))
    assert "nesting deeper than 5 levels" in err.message
    # The sixth container opens at column 8 of line 1: `a: [[[[[`.
    assert err.location is not None and (err.location.line, err.location.column) == (1, 8)


@pytest.mark.parametrize("depth", [100, 5_000])
def test_absurd_nesting_is_a_spec_error(depth: int) -> None:
    err = refused(nested_lists(depth))
    assert "nest" in err.message


def test_block_nesting_is_limited_too() -> None:
    text = "".join("  " * i + f"k{i}:\n" for i in range(40)) + "  " * 40 + "leaf: 1\n"
    err = refused(text, Limits(max_depth=32))
    assert "nesting deeper than 32 levels" in err.message


# --- long scalars -------------------------------------------------------------------------

def test_scalar_at_the_length_limit_is_read() -> None:
    assert load("a: " + "x" * 100, Limits(max_scalar_chars=100)).data == {"a": "x" * 100}


@pytest.mark.parametrize("template", ["a: {}", 'a: "{}"', "{}: 1", "a: [{}]"])
def test_scalar_past_the_length_limit_is_refused(template: str) -> None:
    err = refused(template.format("x" * 101), Limits(max_scalar_chars=100))
    assert "longer than 100 characters" in err.message


# --- YAML 1.2 core schema -----------------------------------------------------------------

@pytest.mark.parametrize("word", ["on", "off", "yes", "no", "y", "n", "Yes", "NO", "On"])
def test_yaml_11_booleans_stay_strings(word: str) -> None:
    assert load(f"v: {word}\n").data == {"v": word}
    assert load(f"{word}: 1\n").data == {word: 1}


@pytest.mark.parametrize(("plain", "value"), [
    ("true", True), ("False", False), ("TRUE", True),
    ("~", None), ("null", None), ("", None),
    ("12", 12), ("-3", -3), ("+7", 7), ("012", 12), ("0o17", 15), ("0x1F", 31),
    ("3.10", 3.1), ("1e3", 1000.0), (".5", 0.5),
    ("1_000", "1_000"), ("0b101", "0b101"), ("12:30", "12:30"), ("3.12.1", "3.12.1"),
])
def test_plain_scalars_resolve_by_the_core_schema(plain: str, value: object) -> None:
    got = load(f"v: {plain}\n").data["v"]
    assert got == value and type(got) is type(value)


@pytest.mark.parametrize(("plain", "check"), [
    (".inf", lambda v: v == math.inf),
    ("-.inf", lambda v: v == -math.inf),
    ("+.INF", lambda v: v == math.inf),
    (".nan", lambda v: isinstance(v, float) and math.isnan(v)),
    (".NaN", lambda v: isinstance(v, float) and math.isnan(v)),
])
def test_special_floats_resolve_by_the_core_schema(plain: str, check: object) -> None:
    got = load(f"v: {plain}\n").data["v"]
    assert callable(check) and check(got), f"{plain!r} loaded as {got!r}"


@pytest.mark.parametrize("quoted", ['"true"', "'12'", '"on"', "'~'", '"3.10"'])
def test_quoted_scalars_stay_strings(quoted: str) -> None:
    assert load(f"v: {quoted}\n").data == {"v": quoted[1:-1]}


def test_keys_are_always_strings() -> None:
    assert load("1: a\ntrue: b\nnull: c\n").data == {"1": "a", "true": "b", "null": "c"}


def test_byte_order_mark_is_ignored() -> None:
    assert load_spec_text(b"\xef\xbb\xbfa: 1\n", SRC).data == {"a": 1}


# --- what a spec must not contain ---------------------------------------------------------

@pytest.mark.parametrize(("text", "needle"), [
    ("a: !!python/object/apply:os.system [ls]\n", "python/object/apply:os.system"),
    ("a: !!str 1\n", "is not allowed"),
    ("a: !foo bar\n", "`!foo`"),
    ("a: !foo {b: 1}\n", "`!foo`"),
    ("a: 1\na: 2\n", "duplicate key `a`"),
    ("a: 1\n---\nb: 2\n", "more than one YAML document"),
    ("? [a, b]\n: 1\n", "keys must be plain strings"),
    ("? {a: 1}\n: 1\n", "keys must be plain strings"),
    ("a: 'x${{ github.event.issue.title }}'\n", "`${{`"),
    ("${{ x }}: 1\n", "`${{`"),
    ('a: "bell\\a"\n', "U+0007"),
    ('a: "nul\\0"\n', "U+0000"),
    ('a: "c1\\x85"\n', "U+0085"),
    ("- a\n- b\n", "not list"),
    ("just a string\n", "not str"),
    ("", "not empty"),
    ("# only a comment\n", "not empty"),
])
def test_forbidden_content_is_a_spec_error(text: str, needle: str) -> None:
    err = refused(text)
    assert needle in str(err)
    assert err.location is not None and err.location.file == SRC


def test_invalid_utf8_names_line_and_column() -> None:
    err = refused(b"a: 1\nname: caf\xe9\n")
    assert "UTF-8" in err.message
    assert err.location is not None
    assert (err.location.line, err.location.column) == (2, 10)


def test_raw_control_character_names_line_and_column() -> None:
    # A raw BEL byte in the file (not an escape): the error must point at it like any other.
    err = refused(b"a: 1\nname: x\x07y\n")
    assert err.location is not None
    assert (err.location.line, err.location.column) == (2, 8), str(err)
    assert "\n" not in str(err), f"one error, one line: {str(err)!r}"


def test_syntax_error_names_line_and_column() -> None:
    err = refused("a:\n  b: 1\n c: 2\n")
    assert "YAML syntax error" in err.message
    assert err.location is not None and err.location.line == 3


# --- marks --------------------------------------------------------------------------------

def test_marks_of_nested_block_keys() -> None:
    text = ("version: 1\n"
            "services:\n"
            "  api:\n"
            "    language: python\n"
            "    scripts:\n"
            "      - one.js\n"
            "      - two.js\n")
    loaded = load(text)
    assert loaded.marks[("version",)] == (1, 10)
    assert loaded.key_marks[("services",)] == (2, 1)
    assert loaded.key_marks[("services", "api")] == (3, 3)
    assert loaded.key_marks[("services", "api", "language")] == (4, 5)
    assert loaded.marks[("services", "api", "language")] == (4, 15)
    assert loaded.marks[("services", "api", "scripts", 0)] == (6, 9)
    assert loaded.marks[("services", "api", "scripts", 1)] == (7, 9)


def test_marks_inside_flow_mappings() -> None:
    text = ("project: {name: demo, runner: ubuntu-24.04}\n"
            "services:\n"
            "  api: {path: svc/api, steps: [5, 25, 100]}\n")
    loaded = load(text)
    assert loaded.marks[("project",)] == (1, 10)
    assert loaded.key_marks[("project", "name")] == (1, 11)
    assert loaded.marks[("project", "name")] == (1, 17)
    assert loaded.key_marks[("project", "runner")] == (1, 23)
    assert loaded.marks[("project", "runner")] == (1, 31)
    assert loaded.key_marks[("services", "api", "path")] == (3, 9)
    assert loaded.marks[("services", "api", "path")] == (3, 15)
    assert loaded.marks[("services", "api", "steps", 2)] == (3, 39)


def test_location_walks_up_to_the_closest_known_node() -> None:
    loaded = load("project:\n  name: demo\n")
    assert str(loaded.location(("project", "name"))) == f"{SRC}:2:9"
    assert str(loaded.location(("project", "name"), key=True)) == f"{SRC}:2:3"
    # A path the file does not hold (a missing key) points at its closest parent.
    assert str(loaded.location(("project", "runner"))) == f"{SRC}:2:3"
    assert str(loaded.location(("nowhere", "at", "all"))) == f"{SRC}:1:1"


def test_marks_count_columns_in_characters_not_bytes() -> None:
    loaded = load("name: ünïcödé\nnext: x\n")
    assert loaded.marks[("next",)] == (2, 7)
    loaded = load("a: {é: 1, b: 2}\n")
    assert loaded.key_marks[("a", "b")] == (1, 11)


# --- hostile input ------------------------------------------------------------------------

def _outcome(raw: bytes) -> None:
    try:
        result = load_spec_text(raw, SRC, Limits(max_bytes=4096, max_depth=16, max_nodes=2000,
                                                 max_scalar_chars=512))
    except SpecError as err:
        assert str(err)  # renders to a message without raising
        return
    assert isinstance(result, LoadedSpec) and isinstance(result.data, dict)


FUZZ = settings(max_examples=300, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])

YAML_ALPHABET = st.sampled_from([*"ab1.:-?[]{},&*!|>'\"%@`#~\\ \t\n", "${{", "\x07", "\ufeff",
                                 "\u2028", "\x85", "é", "0o", "0x", ".inf", ".nan"])


@FUZZ
@given(st.binary(max_size=600))
def test_any_bytes_load_or_raise_spec_error(raw: bytes) -> None:
    _outcome(raw)


@FUZZ
@given(st.text(max_size=600))
def test_any_text_loads_or_raises_spec_error(text: str) -> None:
    _outcome(text.encode("utf-8", "surrogatepass"))


@FUZZ
@given(st.lists(YAML_ALPHABET, max_size=200).map("".join))
def test_yaml_shaped_noise_loads_or_raises_spec_error(text: str) -> None:
    _outcome(text.encode("utf-8"))
