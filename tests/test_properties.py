"""Property tests: whatever a valid spec holds, the rendered workflows keep their shape.

The strategies (tests/strategies.py) draw valid spec dicts whose free text is hostile
(line breaks, quotes, YAML indicators and words, Unicode separators, bidi overrides ...).
The properties:

- the strategy is honest (every spec validates, holds nothing the loader refuses) and
  covers the model (every field, every option, both values of every flag);
- render output parses (PyYAML, and ruamel.yaml as YAML 1.2, to the same tree, with
  string keys only), passes `verify()`, and is byte-for-byte deterministic;
- structure independence: replacing every free-text value by "x" changes no key, no list
  length, no nesting, no `${{` expression and no raw line;
- round trip: each free-text value comes back as an exact scalar (or an exact part of one
  that harden-ci builds around it, JSON-escaped inside harden-ci's own JSON included),
  and no value ever begins a YAML line;
- secret and variable names cannot replace an env value harden-ci sets itself;
- the quoting filter alone, for any text at all, and for numbers; the key filter
  (`ident`) likewise;
- the loader gives back exactly what yaml dumped, and refuses `${{` and control
  characters anywhere, naming the right line;
- constrained fields (names, paths, secret names, URLs, branch, ...) hold no line break,
  and any spec the model accepts renders valid workflows; the spec's file name cannot
  change a workflow's structure either;
- slow: ~15 random specs through zizmor (both personas), actionlint, SchemaStore's
  workflow schema and shellcheck.

Generated companion files are read too: a Python script as its AST with the JSON it
embeds decoded (a new kind of file fails `parsed()` until a reader is added here).

Determinism. Every test uses `derandomize=True` with `database=None`: the examples are
a pure function of the test (its name and source), so CI runs exactly the same cases
every time and a red build is reproducible anywhere, with no `.hypothesis/` state that
differs between machines. The price is that a run never explores beyond those cases, so
two environment knobs open it up for exploratory runs (never set in CI):
HARDEN_CI_PROPERTY_SCALE=10 multiplies every example count, and
HARDEN_CI_PROPERTY_RANDOM=1 turns derandomize off (a fresh seed per run; Hypothesis
prints the failing example, which then belongs in an @example here).
`deadline=None`: rendering 8 services with long commands is legitimately slower than
Hypothesis' default 200 ms on a busy CI runner, and timing is not what is tested here.
Known bugs keep their failing property and carry the minimal example Hypothesis found,
as an @example, so they fail first and fast until fixed (a failure only the generator
finds costs minutes of shrinking: each case renders and parses several workflows).
"""

from __future__ import annotations

import ast
import copy
import json
import os
import re
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import strategies as S
import yaml
from hypothesis import HealthCheck, Phase, assume, example, find, given, settings
from hypothesis import strategies as st
from hypothesis.errors import NoSuchExample
from pydantic import ValidationError
from ruamel.yaml import YAML

from harden_ci.errors import SpecError
from harden_ci.load import LoadedSpec, load_spec_text
from harden_ci.model import Spec, parse_spec
from harden_ci.model.spec import dangling_references
from harden_ci.pipeline import render_spec
from harden_ci.render import MARKER_PREFIX, render
from harden_ci.render.quoting import ident, quote
from harden_ci.verify import SELF_HOSTED_IGNORE, verify

# --------------------------------------------------------------------------- settings

_SCALE = max(1, int(os.environ.get("HARDEN_CI_PROPERTY_SCALE", "1") or "1"))
_RANDOM = os.environ.get("HARDEN_CI_PROPERTY_RANDOM", "") not in ("", "0")

BASE = settings(
    derandomize=not _RANDOM,
    database=None,
    deadline=None,
    print_blob=False,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def examples(n: int, **kwargs: Any) -> settings:
    return settings(BASE, max_examples=n * _SCALE, **kwargs)


# Collectors draw many specs inside a plain test (see _collect): generation only.
COLLECT = settings(BASE, phases=[Phase.generate])

# --------------------------------------------------------------------------- helpers

SPEC_FILE = "harden-ci.yaml"
# Every character some YAML parser (1.1 or 1.2) or a terminal treats as a line break.
LINE_BREAKS = ("\n", "\r", "\x85", "\u2028", "\u2029", "\x0b", "\x0c")
_BREAK_SPLIT = re.compile("\r\n|[\n\r\x85\u2028\u2029\x0b\x0c]")
_DQ_SCALAR = re.compile(r'"(?:[^"\\]|\\.)*"')
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_TOKEN = re.compile(r"hcqtok\d{4}q")
_HEX = re.compile(r"\b[0-9a-f]{32,64}\b")


def _ruamel() -> YAML:
    # Pure Python: ruamel's C loader (clib) follows YAML 1.1. With no %YAML directive the
    # pure loader resolves plain scalars by the YAML 1.2 core schema.
    return YAML(typ="safe", pure=True)


def load_pyyaml(text: str) -> Any:
    data = yaml.safe_load(text)
    if isinstance(data, dict) and True in data:  # YAML 1.1 reads the key `on` as true
        data["on"] = data.pop(True)
    return data


def load_ruamel(text: str) -> Any:
    return _ruamel().load(text)


def python_tree(text: str) -> Any:
    """A generated Python file as a tree: its AST, with each string constant that holds
    a JSON object or array (how harden-ci embeds spec data) decoded in place."""
    def convert(node: Any) -> Any:
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            try:
                decoded = json.loads(node.value)
            except ValueError:
                return node.value
            return {"<json>": decoded} if isinstance(decoded, dict | list) else node.value
        if isinstance(node, ast.AST):
            return {f"<{type(node).__name__}>": {f: convert(getattr(node, f))
                                                   for f in node._fields}}
        if isinstance(node, list):
            return [convert(item) for item in node]
        return node
    return convert(ast.parse(text))


def parsed(name: str, text: str) -> list[Any]:
    """Every reading of one generated file: PyYAML and ruamel (YAML 1.2) for workflows,
    the AST (with embedded JSON decoded) for companion Python scripts, the lines of the
    hashed lock companions."""
    if name.endswith((".yml", ".yaml")):
        return [load_pyyaml(text), load_ruamel(text)]
    if name.endswith(".py"):
        return [python_tree(text)]
    if name.endswith(".txt"):
        # The hashed lock companions: one requirement (or hash continuation) a line.
        return [[line for line in text.splitlines() if line and not line.startswith("#")]]
    raise AssertionError(f"{name}: a new kind of generated file; teach parsed() in "
                         "tests/test_properties.py to read it")


def validated(spec: S.SpecDict) -> Spec:
    return Spec.model_validate(copy.deepcopy(spec))


def rendered(spec: S.SpecDict, spec_file: str = SPEC_FILE) -> dict[str, str]:
    # A committed wheel's sha256 is read by render_spec from the file; here it is given.
    return render(validated(spec), spec_file, wheel_sha256=S.wheel_sha256(spec))


def shape(node: Any) -> Any:
    """The tree with every string leaf replaced by a marker (keys kept)."""
    if isinstance(node, dict):
        return {key: shape(value) for key, value in node.items()}
    if isinstance(node, list):
        return [shape(value) for value in node]
    if isinstance(node, str):
        return "<str>"
    return (type(node).__name__, node)


def assert_same_structure(plain: dict[str, str], other: dict[str, str], what: str) -> None:
    """The same files, parsed to the same shape, with the same lines and `${{` count."""
    assert sorted(plain) == sorted(other)
    for name in plain:
        for a, b in zip(parsed(name, plain[name]), parsed(name, other[name]), strict=True):
            a, b = shape(a), shape(b)
            assert a == b, f"{name}: {first_difference(a, b)}"
        assert plain[name].count("\n") == other[name].count("\n"), f"{name}: lines added"
        assert plain[name].count(S.EXPRESSION_OPENER) == other[name].count(
            S.EXPRESSION_OPENER), f"{name}: {what} changed the expressions"


def first_difference(a: Any, b: Any, at: str = "") -> str | None:
    """Where two parsed trees first differ, for assertion messages."""
    if type(a) is not type(b):
        return f"{at or '/'}: {type(a).__name__} {a!r:.120} != {type(b).__name__} {b!r:.120}"
    if isinstance(a, dict):
        if list(a) != list(b):
            return f"{at or '/'}: keys {sorted(map(str, a))} != {sorted(map(str, b))}"
        for key in a:
            found = first_difference(a[key], b[key], f"{at}/{key}")
            if found:
                return found
        return None
    if isinstance(a, list):
        if len(a) != len(b):
            return f"{at or '/'}: {len(a)} items != {len(b)} items"
        for index, (x, y) in enumerate(zip(a, b, strict=True)):
            found = first_difference(x, y, f"{at}[{index}]")
            if found:
                return found
        return None
    return None if a == b else f"{at or '/'}: {a!r:.200} != {b!r:.200}"


def scalars(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if isinstance(key, str):
                yield key
            yield from scalars(value)
    elif isinstance(node, list):
        for value in node:
            yield from scalars(value)
    elif isinstance(node, str):
        yield node


def keys(node: Any) -> Iterator[Any]:
    if isinstance(node, dict):
        for key, value in node.items():
            yield key
            yield from keys(value)
    elif isinstance(node, list):
        for value in node:
            yield from keys(value)


_IN_JSON = "<JSON inside a string>"


def _json_container(text: str) -> Any:
    """The decoded array or object if `text` is JSON text of one, else None."""
    if text[:1] not in ("[", "{"):
        return None
    try:
        decoded = json.loads(text)
    except ValueError:
        return None
    return decoded if isinstance(decoded, dict | list) else None


# A PromQL label matcher's string literal (`{label="value"}`): harden-ci escapes `\`, `"`
# and newlines inside it (gates/canary_analysis.py), as PromQL's lexer reads them back.
_PROMQL_MATCHER = re.compile(r'(?<=[=~])"((?:[^"\\]|\\.)*)"')


def _promql_string(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _substitute_text(text: str, values: dict[str, str]) -> str:
    """Tokens replaced by their values; inside a PromQL label matcher, by the value as
    that matcher's string literal spells it."""
    def in_matcher(match: re.Match[str]) -> str:
        return _TOKEN.sub(lambda m: _promql_string(values[m.group()]), match.group())
    text = _PROMQL_MATCHER.sub(in_matcher, text)
    return _TOKEN.sub(lambda m: values[m.group()], text)


def substitute(node: Any, values: dict[str, str]) -> Any:
    """Replace every placeholder token inside string leaves by its value. A string that
    is harden-ci's own JSON text around tokens (a command passed as a JSON array, say) is
    compared decoded, so a value JSON-escaped inside it still counts as whole."""
    if isinstance(node, dict):
        return {key: substitute(value, values) for key, value in node.items()}
    if isinstance(node, list):
        return [substitute(value, values) for value in node]
    if isinstance(node, str):
        decoded = _json_container(node) if _TOKEN.search(node) else None
        if decoded is not None:
            return {_IN_JSON: substitute(decoded, values)}
        return _substitute_text(node, values)
    return node


def decode_like(template: Any, node: Any) -> Any:
    """`node` with the strings that `template` holds decoded (see substitute) decoded too."""
    if isinstance(template, dict) and set(template) == {_IN_JSON} and isinstance(node, str):
        decoded = _json_container(node)
        return node if decoded is None else {_IN_JSON: decode_like(template[_IN_JSON], decoded)}
    if isinstance(template, dict) and isinstance(node, dict):
        return {k: decode_like(template[k], v) if k in template else v for k, v in node.items()}
    if isinstance(template, list) and isinstance(node, list) and len(template) == len(node):
        return [decode_like(t, v) for t, v in zip(template, node, strict=True)]
    return node


def skeleton(line: str) -> str:
    """A raw output line with each double-quoted scalar emptied, and digests (the header's
    digest of the inputs, say) blanked: what no value may change."""
    return _HEX.sub("<hex>", _DQ_SCALAR.sub('""', line))


def _collect(strategy: st.SearchStrategy[Any], n: int) -> list[Any]:
    """`n` deterministic draws from `strategy`, for properties over a whole sample.

    A nested @given with derandomize and generation only: the same draws every run, no
    `strategy.example()` (which warns inside tests and is not seeded), and no
    `random.Random` driving one `st.data()` (fifteen specs in one test case would
    overrun Hypothesis' per-case buffer).
    """
    drawn: list[Any] = []

    @settings(COLLECT, max_examples=n)
    @given(strategy)
    def collect(value: Any) -> None:
        drawn.append(value)

    collect()
    return drawn


# --------------------------------------------------------------------------- the strategy


@examples(60)
@given(S.specs())
def test_strategy_is_honest(spec: S.SpecDict) -> None:
    """Every drawn spec validates with resolving references, and holds nothing the loader
    would refuse: no `${{`, no control character but tab and newline, in any string."""
    model = Spec.model_validate(spec)
    assert dangling_references(model) == []
    parse_spec(LoadedSpec(source=SPEC_FILE, data=copy.deepcopy(spec), raw=b""))
    for path, text, _ in S.all_strings(spec):
        assert S.EXPRESSION_OPENER not in text, path
        assert not _CONTROL.search(text), (path, text)


def _keyed_values(node: dict[str, Any]) -> list[dict[str, Any]]:
    """The value schemas of a mapping with user-chosen keys (`services`, `environments`)."""
    found = list(node.get("patternProperties", {}).values())
    if isinstance(node.get("additionalProperties"), dict):
        found.append(node["additionalProperties"])
    return found


def _schema_fields() -> tuple[dict[tuple[str, ...], set[Any] | None], set[tuple[str, ...]]]:
    """Every field path of the model's JSON Schema ("*" for user-chosen keys), with its
    closed set of values (enums, consts, booleans) where it has one; and the "*" parents."""
    schema = Spec.model_json_schema(by_alias=True)
    defs = schema.get("$defs", {})
    fields: dict[tuple[str, ...], set[Any] | None] = {}
    keyed: set[tuple[str, ...]] = set()

    def closed(node: dict[str, Any]) -> set[Any] | None:
        if "$ref" in node:
            return closed(defs[node["$ref"].rsplit("/", 1)[-1]])
        if "const" in node:
            return {node["const"]}
        if "enum" in node:
            return set(node["enum"])
        if node.get("type") == "boolean":
            return {True, False}
        return None

    def walk(node: dict[str, Any], path: tuple[str, ...]) -> None:
        if "$ref" in node:
            walk(defs[node["$ref"].rsplit("/", 1)[-1]], path)
            return
        for alt in node.get("anyOf", []) + node.get("allOf", []) + node.get("oneOf", []):
            walk(alt, path)
        for key, sub in node.get("properties", {}).items():
            fields.setdefault((*path, key), closed(sub) if "anyOf" not in sub else next(
                (c for c in map(closed, sub["anyOf"]) if c), None))
            walk(sub, (*path, key))
        for extra in _keyed_values(node):
            keyed.add(path)
            walk(extra, (*path, "*"))
        if isinstance(node.get("items"), dict):
            walk(node["items"], path)

    walk(schema, ())
    return fields, keyed


def _free_text_schema() -> dict[tuple[str, ...], int]:
    """The model's free-text fields (plain strings with a length limit and no pattern,
    format or enum) by path, with their maximum length."""
    schema = Spec.model_json_schema(by_alias=True)
    defs = schema.get("$defs", {})
    found: dict[tuple[str, ...], int] = {}

    def limit(node: dict[str, Any]) -> int | None:
        for alt in node.get("anyOf", [node]):
            if alt.get("type") == "string" and "maxLength" in alt and not (
                    {"pattern", "format", "enum", "const"} & set(alt)):
                return int(alt["maxLength"])
        return None

    def walk(node: dict[str, Any], path: tuple[str, ...]) -> None:
        if "$ref" in node:
            walk(defs[node["$ref"].rsplit("/", 1)[-1]], path)
            return
        for alt in node.get("anyOf", []):
            walk(alt, path)
        for key, sub in node.get("properties", {}).items():
            most = limit(sub)
            if most is not None:
                found[(*path, key)] = most
            walk(sub, (*path, key))
        for extra in _keyed_values(node):
            walk(extra, (*path, "*"))

    walk(schema, ())
    return {path: most for path, most in found.items() if path not in S.VALIDATED_TEXT_FIELDS}


def test_free_text_table_matches_the_model() -> None:
    """FREE_TEXT_FIELDS lists exactly the model's free-text fields, so a new Text or
    Command field cannot escape the hostile-text properties."""
    found = set(_free_text_schema())
    assert found == set(S.FREE_TEXT_FIELDS), (
        f"missing from FREE_TEXT_FIELDS: {sorted(found - set(S.FREE_TEXT_FIELDS))}; "
        f"not free text in the model: {sorted(set(S.FREE_TEXT_FIELDS) - found)}")


def _walk_values(node: Any, path: tuple[str, ...], keyed: set[tuple[str, ...]],
                 seen: dict[tuple[str, ...], set[Any]]) -> None:
    """Every path of `node` (keys of user-named maps as `*`) into `seen`, with its values."""
    if isinstance(node, dict):
        for key, value in node.items():
            sub = (*path, "*" if path in keyed else key)
            seen.setdefault(sub, set())
            _walk_values(value, sub, keyed, seen)
    elif isinstance(node, list):
        for value in node:
            _walk_values(value, path, keyed, seen)
    elif path:
        seen.setdefault(path, set()).add(node)


def _strategy_reaches(keyed: set[tuple[str, ...]], path: tuple[str, ...], value: Any) -> bool:
    """Whether S.specs() draws `value` at `path` within 3,000 draws of its own."""
    def holds(spec: S.SpecDict) -> bool:
        seen: dict[tuple[str, ...], set[Any]] = {}
        _walk_values(spec, (), keyed, seen)
        return value in seen.get(path, set())
    try:
        find(S.specs(), holds, settings=settings(COLLECT, max_examples=3000))
    except NoSuchExample:
        return False
    return True


def test_strategy_covers_the_model() -> None:
    """Over a fixed sample, the strategy produces every field of the model, every option
    of every enum and both values of every flag, plus the cases the brief names."""
    sample: list[S.SpecDict] = _collect(S.specs(), 500)
    assert len(sample) == 500, f"Hypothesis stopped after {len(sample)} draws"
    fields, keyed = _schema_fields()
    seen: dict[tuple[str, ...], set[Any]] = {}

    for spec in sample:
        _walk_values(spec, (), keyed, seen)
    missing = sorted(p for p in fields if p not in seen)
    assert not missing, f"the strategy never produces {missing}: update tests/strategies.py"
    # Hypothesis' draws depend on more than the seed (it mixes in constants from the modules
    # a process has loaded, so the sample differs with the tests an xdist worker ran before):
    # a value the sample missed is searched for by itself, and fails only if not found.
    unseen = {(p, v) for p, want in fields.items() if want for v in want - seen[p]}
    never = sorted((p, repr(v)) for p, v in unseen if not _strategy_reaches(keyed, p, v))
    assert not never, f"values never produced: {never}"

    services = [s for spec in sample for s in spec["services"].values()]
    envs = [e for spec in sample for e in (spec.get("environments") or {}).values()]
    assert any("language" not in s for s in services), "no container-only service"
    assert any(s.get("language") == "custom" and {"setup", "install", "test"} <= set(s)
               for s in services), "no custom service with setup, install and test"
    assert {1, 64} <= {s.get("shards", 1) for s in services}
    assert {1, 8} <= {len(spec["services"]) for spec in sample}
    assert any(e.get("per_pull_request") and "teardown" in e and "{number}" in e.get("url", "")
               for e in envs), "no per-pull-request environment with a {number} URL"
    free = "".join(v for spec in sample for _, v in S.free_text(spec))
    for needle in ("\n", "\t", "'", '"', "#", ": ", "*", "&", "|", ">", "{", "}", "[", "]",
                   "%", "@", "`", "$", "\\", "é", "中", "😀", "ש", "\u2028", "\u2029",
                   "\ufeff", "\u202e", "---", "...", "~"):
        assert needle in free, f"free text never holds {needle!r}"
    values = [v for spec in sample for _, v in S.free_text(spec)]
    assert any(v != v.strip() for v in values), "no free text with leading/trailing blanks"
    words = {v for v in values if v in ("on", "yes", "no", "null", "true", "~", "0o17")}
    assert len(words) >= 3, f"too few whole-value YAML words in free text: {words}"


# --------------------------------------------------------------------------- rendering


@examples(40)
@given(S.specs())
@example(spec={"version": 1, "project": {"name": "3.12"},
               "services": {"api": {"language": "python"}},
               "environments": {"api": {"deploy": "pytest -q", "vars": ["ON"],
                                        "url": "https://example.com"}},
               "load": {"soak": {"environment": "api", "scripts": ["."]}}})
def test_render_parses_verifies_and_is_deterministic(spec: S.SpecDict) -> None:
    files = rendered(spec)
    assert any(name.endswith(".yml") for name in files), "a spec renders a workflow"
    assert rendered(spec) == files, "rendering twice gave different bytes"
    verify(files)
    for name, text in files.items():
        assert text.startswith(MARKER_PREFIX), name
        trees = parsed(name, text)
        if len(trees) == 2:  # YAML: a workflow, or a companion config in harden-ci/
            by_pyyaml, by_ruamel = trees
            assert isinstance(by_pyyaml, dict) and ("/" in name or by_pyyaml.get("jobs")), name
            # Every key is a string for YAML 1.2 (GitHub) and for YAML 1.1 (verify): a bare
            # `NULL:` or `TRUE:` key would be null or a boolean.
            for reader, tree in (("YAML 1.2", by_ruamel), ("YAML 1.1", by_pyyaml)):
                odd = [k for k in keys(tree) if not isinstance(k, str)]
                assert not odd, f"{name}: {reader} reads keys {odd!r} as non-strings"
            # YAML 1.1 and 1.2 readers agree on every value: nothing is left to resolution.
            assert by_pyyaml == by_ruamel, f"{name}: {first_difference(by_pyyaml, by_ruamel)}"


@examples(30)
@given(S.specs())
@example(spec={"version": 1, "project": {"name": "\n"},
               "services": {"api": {"language": "python"}}})
def test_structure_does_not_depend_on_values(spec: S.SpecDict) -> None:
    """No value can add a key, a line-level element or a step: with every free-text value
    replaced by "x", the parsed workflows have the same shape, and the raw text the same
    lines, the same skeleton (quoted scalars emptied) and the same `${{` expressions."""
    hostile = rendered(spec)
    plain = rendered(S.replace_free_text(spec, lambda _path, _value: "x"))
    assert_same_structure(plain, hostile, "a value")


def _value_begins_a_line(value: str, lines: list[str], plain_lines: list[str]) -> str | None:
    for part in _BREAK_SPLIT.split(value):
        text = part.lstrip(" \t")
        if not text:
            continue
        for index, line in enumerate(lines):
            if line.lstrip(" ").startswith(text) and not \
                    plain_lines[index].lstrip(" ").startswith(text):
                return f"line {index + 1} begins with spec text {text!r:.80}: {line!r:.160}"
    return None


@examples(30)
@given(S.specs())
# The minimal example Hypothesis found for test_structure_does_not_depend_on_values; here
# its shrinker ran out of time on a larger spec with the same cause (a value ending in a
# newline comes back with the newline folded into a space).
@example(spec={"version": 1, "project": {"name": "\n"},
               "services": {"api": {"language": "python"}}})
def test_values_round_trip_as_whole_scalars(spec: S.SpecDict) -> None:
    """Each free-text value that reaches the output parses back exactly, inside one
    scalar (alone, or inside a string harden-ci builds around it), never split; and no
    value ever begins a YAML line of the raw text."""
    values = {f"hcqtok{i:04d}q": v for i, (_, v) in enumerate(S.free_text(spec))}
    tokens = {path: token for token, (path, _) in zip(values, S.free_text(spec), strict=True)}
    marked = rendered(S.replace_free_text(spec, lambda path, _v: tokens[path]))
    hostile = rendered(spec)
    plain = rendered(S.replace_free_text(spec, lambda _path, _value: "x"))
    reached: set[str] = set()
    for name, text in marked.items():
        for tree, got in zip(parsed(name, text), parsed(name, hostile[name]), strict=True):
            assert not any(isinstance(k, str) and _TOKEN.search(k) for k in keys(tree)), \
                f"{name}: a spec value became a mapping key"
            reached |= {t for s in scalars(tree) for t in _TOKEN.findall(s)}
            expected = substitute(tree, values)
            got = decode_like(expected, got)
            assert got == expected, f"{name}: {first_difference(expected, got)}"
        # Raw text: same lines, same skeleton, no stray line breaks, no value at a line start.
        lines, plain_lines = hostile[name].split("\n"), plain[name].split("\n")
        assert len(lines) == len(plain_lines), f"{name}: values added or removed lines"
        for index, (line, plain_line) in enumerate(zip(lines, plain_lines, strict=True)):
            assert skeleton(line) == skeleton(plain_line), \
                f"{name}:{index + 1}: {line!r:.200} vs {plain_line!r:.200}"
        for brk in LINE_BREAKS[1:]:
            assert brk not in hostile[name], f"{name}: raw {brk!r} in the output"
        for token in reached:
            found = _value_begins_a_line(values[token], lines, plain_lines)
            assert found is None, f"{name}: {found}"
    name_token = tokens[("project", "name")]
    assert name_token in reached, "the project name no longer reaches the output"


def _env_mappings(node: Any, at: str = "") -> Iterator[tuple[str, dict[str, Any]]]:
    """Every `env:` mapping of a parsed workflow, by where it sits."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "env" and isinstance(value, dict):
                yield f"{at}/env", value
            yield from _env_mappings(value, f"{at}/{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _env_mappings(value, f"{at}[{index}]")


# A secret's or variable's own entry: `${{ secrets.X }}`, or, in a unit-test job, the same
# withheld from a fork's pull request (`${{ !(fork PR) && secrets.X || '' }}`).
_SECRET_REF = re.compile(r"^\$\{\{ *(?:!\(github\.event_name == 'pull_request' && "
                         r"github\.event\.pull_request\.head\.repo\.full_name != "
                         r"github\.repository\) && )?(secrets|vars)\.[A-Za-z0-9_]+"
                         r"(?: \|\| '')? *\}\}$")


@st.composite
def _specs_with_colliding_secrets(draw: st.DrawFn) -> S.SpecDict:
    """A spec whose every secret and variable is named like something else in the step's
    env: harden-ci's own variables (COMMAND, HARDEN_CI_URL, ...), runner ones, YAML words.
    Every section that takes secrets is switched on, with an environment to deploy."""
    spec = draw(S.specs(max_services=2))
    names = st.lists(S.colliding_secret_names(), min_size=1, max_size=3)
    envs = spec.setdefault("environments", {})
    if not envs:
        envs["stg"] = {"deploy": "./deploy.sh", "url": "https://stg.example.com"}
    holders = [*envs.values(), *(spec.get("schedules") or {}).values()]
    if (spec.get("tests") or {}).get("llm"):
        holders.append(spec["tests"]["llm"])
    for holder in holders:
        holder["secrets"] = draw(names)
        if holder in envs.values():
            holder["vars"] = draw(names)
    for service in spec["services"].values():
        # The unit tests' own env, vars and secrets, and the image build's secrets.
        if "language" in service and (service.get("test_environment") is not None
                                      or draw(st.booleans())):
            # One name once across the unit tests' env, vars and secrets (the model says so).
            unit = dict(service.get("test_environment") or {})
            taken = set(unit.get("env") or {})
            drawn = [n for n in dict.fromkeys(draw(st.lists(S.colliding_secret_names(),
                                                            min_size=2, max_size=6)))
                     if n not in taken]
            half = (len(drawn) + 1) // 2
            unit["secrets"], unit["vars"] = drawn[:half], drawn[half:]
            service["test_environment"] = unit
        if service.get("dockerfile") and draw(st.booleans()):
            service["docker"] = {**(service.get("docker") or {}), "secrets": draw(names)}
    return spec


@examples(20)
@given(_specs_with_colliding_secrets())
def test_secret_names_cannot_shadow_harden_ci_env(spec: S.SpecDict) -> None:
    """A secret or variable reaches its step as an env variable of the same name; whatever
    that name, every env value harden-ci sets itself (the reviewed command, the URL, the
    environment name) is still there, unchanged. Compared against the same spec with
    every secret renamed to a name nothing else uses."""
    safe_names: dict[str, str] = {}
    safe = S.rename_secrets(spec, lambda n: safe_names.setdefault(n, f"HCQ_S{len(safe_names)}"))
    hostile, plain = rendered(spec), rendered(safe)
    assert sorted(hostile) == sorted(plain)
    for name in plain:
        if not name.endswith((".yml", ".yaml")):
            continue
        ours = dict(_env_mappings(load_ruamel(plain[name])))
        theirs = dict(_env_mappings(load_ruamel(hostile[name])))
        assert sorted(ours) == sorted(theirs), name
        for where, env in ours.items():
            for key, value in env.items():
                if isinstance(value, str) and _SECRET_REF.match(value):
                    continue  # a secret's own entry
                if key == "WITHHELD_SECRETS":
                    # The fork notice names the secrets themselves: the same names, renamed.
                    named = str(theirs[where].get(key, "")).split(" ")
                    assert " ".join(safe_names[n] for n in named) == value, (name, where)
                    continue
                assert theirs[where].get(key) == value, (
                    f"{name}{where}: {key}={theirs[where].get(key)!r}, harden-ci set {value!r}")


# --------------------------------------------------------------------------- quoting filter

# Any code point but surrogates (st.text()'s default), and the hostile pieces with every
# control character mixed in.
_ANY_TEXT = st.one_of(
    st.text(),
    st.lists(st.one_of(st.sampled_from(S.HOSTILE_PIECES),
                       st.characters(max_codepoint=0x9F),
                       st.sampled_from(("\r\n", "\r", "\x85", "\x00", "\x1b", "\x7f"))),
             max_size=12).map("".join),
)


@examples(300)
@given(_ANY_TEXT)
@example("\n")
def test_quote_round_trips_any_text(value: str) -> None:
    quoted = quote(value)
    for brk in LINE_BREAKS:
        assert brk not in quoted, f"raw {brk!r} in {quoted!r}"
    assert yaml.safe_load("k: " + quoted) == {"k": value}
    assert load_ruamel("k: " + quoted) == {"k": value}
    # as the templates use it too: in a flow sequence, and nested in a block mapping
    assert yaml.safe_load(f"k: [{quoted}, {quoted}]") == {"k": [value, value]}
    assert load_ruamel(f"a:\n  k: {quoted}\n  j: 1\n") == {"a": {"k": value, "j": 1}}


@examples(200)
@given(st.one_of(st.booleans(), st.integers(),
                 st.floats(min_value=0.0, max_value=1.0),  # every Rate of the model
                 st.floats(allow_nan=False, allow_infinity=False)))
@example(1e-05)
def test_quote_keeps_numbers_and_booleans(value: bool | int | float) -> None:
    """A number or boolean comes back with its type and value under YAML 1.1 and 1.2."""
    quoted = quote(value)
    for got in (yaml.safe_load("k: " + quoted)["k"], load_ruamel("k: " + quoted)["k"]):
        assert type(got) is type(value) and got == value, (quoted, got)


@examples(300)
@given(st.one_of(_ANY_TEXT, S.names(), S.secret_names(),
                 st.sampled_from(("on", "null", "true", "NULL", "TRUE", "yes", "a-b"))))
@example("NO")  # found by Hypothesis: YAML 1.1 reads the key as false
@example("a\n")  # hand-picked: `$` in _IDENT matches before a final newline
def test_ident_emits_only_plain_string_keys(value: str) -> None:
    """`ident` (bare mapping keys) accepts only what is read back as the same string key
    by YAML 1.1 and 1.2, on one line; anything else is refused with ValueError."""
    try:
        out = ident(value)
    except ValueError:
        return
    # Bare, or double-quoted for the words YAML 1.1 would read as booleans or null.
    assert out in (value, f'"{value}"'), out
    assert not any(brk in out for brk in LINE_BREAKS), f"{out!r} holds a line break"
    assert re.fullmatch(r'[A-Za-z_][A-Za-z0-9_-]*|"[A-Za-z_][A-Za-z0-9_-]*"', out), out
    for got in (yaml.safe_load(f"{out}: 1"), load_ruamel(f"{out}: 1")):
        assert got == {value: 1}, f"the key {out!r} reads back as {got!r}"


# --------------------------------------------------------------------------- the loader


dump = S.dump_spec


@examples(40)
@given(S.specs(max_services=4), st.booleans(), st.sampled_from((False, None, True)))
def test_loader_reads_back_what_yaml_dumped(spec: S.SpecDict, allow_unicode: bool,
                                            flow: bool | None) -> None:
    text = dump(spec, allow_unicode=allow_unicode, flow=flow)
    loaded = load_spec_text(text.encode("utf-8"), SPEC_FILE)
    assert loaded.data == spec, first_difference(spec, loaded.data)
    assert parse_spec(loaded) == validated(spec)


def _with_string(spec: S.SpecDict, path: tuple[Any, ...], is_key: bool, new: str) -> S.SpecDict:
    out = copy.deepcopy(spec)
    parent: Any = out
    for key in path[:-1]:
        parent = parent[key]
    if not is_key:
        parent[path[-1]] = new
        return out
    items = list(parent.items())
    parent.clear()
    parent.update((new if k == path[-1] else k, v) for k, v in items)
    return out


def _line_of_scalar(text: str, needle: str) -> int:
    """1-based line where the (only) scalar containing `needle` starts: found by PyYAML,
    counted in `\n` line ends as an editor shows the file (PyYAML's own line count also
    breaks at U+0085, U+2028 and U+2029, YAML 1.1's line breaks, which YAML 1.2 drops)."""
    def walk(node: yaml.Node) -> Iterator[yaml.ScalarNode]:
        if isinstance(node, yaml.ScalarNode):
            yield node
        elif isinstance(node, yaml.SequenceNode):
            for item in node.value:
                yield from walk(item)
        elif isinstance(node, yaml.MappingNode):
            for k, v in node.value:
                yield from walk(k)
                yield from walk(v)

    hits = [n for n in walk(yaml.compose(text, Loader=yaml.SafeLoader)) if needle in n.value]
    assert len(hits) == 1, hits
    return text[:hits[0].start_mark.index].count("\n") + 1


@st.composite
def _spec_with_bad_string(draw: st.DrawFn, bad: st.SearchStrategy[str]) -> tuple[S.SpecDict, str]:
    """A spec with `bad` inserted at any position of any one string, keys included."""
    spec = draw(S.specs(max_services=3))
    path, value, is_key = draw(st.sampled_from(list(S.all_strings(spec))))
    at = draw(st.integers(0, len(value)))
    needle = draw(bad)
    return _with_string(spec, path, is_key, value[:at] + needle + value[at:]), needle


@examples(40)
@given(_spec_with_bad_string(st.just(S.EXPRESSION_OPENER)), st.booleans())
def test_loader_refuses_expression_opener_naming_its_line(case: tuple[S.SpecDict, str],
                                                          allow_unicode: bool) -> None:
    spec, needle = case
    text = dump(spec, allow_unicode=allow_unicode)
    with pytest.raises(SpecError) as refused:
        load_spec_text(text.encode("utf-8"), SPEC_FILE)
    assert "${{" in refused.value.message
    assert refused.value.location is not None
    assert refused.value.location.line == _line_of_scalar(text, needle), str(refused.value)


_CONTROLS = st.sampled_from([chr(c) for c in (*range(0x00, 0x09), *range(0x0B, 0x20),
                                              *range(0x7F, 0xA0))])


@examples(40)
@given(_spec_with_bad_string(_CONTROLS))
def test_loader_refuses_control_characters_naming_their_line(
        case: tuple[S.SpecDict, str]) -> None:
    spec, needle = case
    text = dump(spec)  # escapes them: "\x01", "\r", "\N"
    with pytest.raises(SpecError) as refused:
        load_spec_text(text.encode("utf-8"), SPEC_FILE)
    assert f"U+{ord(needle):04X}" in refused.value.message, str(refused.value)
    assert refused.value.location is not None
    assert refused.value.location.line == _line_of_scalar(text, needle), str(refused.value)


# --------------------------------------------------------------------------- constrained fields

_SMALL: S.SpecDict = {
    "version": 1, "project": {"name": "p"},
    "services": {"api": {"language": "python", "dockerfile": "Dockerfile"}},
    "environments": {"stg": {"deploy": "d"}},
    "gates": {"schema_drift": {"service": "api", "command": "c"}},
}


def _rename(section: str, old: str) -> Callable[[S.SpecDict, str], None]:
    def put(spec: S.SpecDict, value: str) -> None:
        spec[section] = {value if k == old else k: v for k, v in spec[section].items()}
        if section == "services":
            spec["gates"]["schema_drift"]["service"] = value
    return put


def _set(*path: str) -> Callable[[S.SpecDict, str], None]:
    def put(spec: S.SpecDict, value: str) -> None:
        node = spec
        for key in path[:-1]:
            node = node.setdefault(key, {})
        node[path[-1]] = value
    return put


def _database(spec: S.SpecDict, value: str) -> None:
    spec["gates"]["schema_drift"].update(database="postgres", database_image=value)


# (strategy of the field's allowed form, how to put a value there, the minimal example)
# (strategy of the field's allowed form, how to put a value there, the minimal failing
# example Hypothesis found for it)
CONSTRAINED: dict[str, tuple[st.SearchStrategy[str], Callable[[S.SpecDict, str], None], str]] = {
    "service name": (S.names(), _rename("services", "api"), "api"),
    "environment name": (S.names(), _rename("environments", "stg"), "api"),
    "default_branch": (S.branches(), _set("project", "default_branch"), "main"),
    "runner": (S.runners(), _set("project", "runner"), "ubuntu-24.04"),
    "registry": (S.registries(), _set("project", "registry"), "ghcr.io"),
    "path": (S.repo_paths(), _set("services", "api", "path"), "."),
    "secret name": (S.secret_names(), lambda s, v: s["environments"]["stg"].update(
        secrets=[v]), "DEPLOY_TOKEN"),
    "url": (S.urls(), _set("environments", "stg", "url"), "http://localhost"),
    "database image": (S.digest_images(), _database, "postgres@sha256:" + "0" * 64),
}


@pytest.mark.parametrize("field", sorted(CONSTRAINED))
def test_constrained_fields_refuse_line_breaks(field: str) -> None:
    """A name, path, secret name, URL, branch, runner, registry or image holds its allowed
    form and nothing else: the same value plus a trailing newline is refused (in Python,
    `$` also matches before a final newline, so a pattern needs `\\Z` or fullmatch)."""
    strategy, put, minimal = CONSTRAINED[field]

    @examples(15)
    @given(strategy, st.sampled_from(LINE_BREAKS))
    @example(minimal, "\n")
    def check(value: str, brk: str) -> None:
        good = copy.deepcopy(_SMALL)
        put(good, value)
        Spec.model_validate(good)  # the allowed form itself is fine
        bad = copy.deepcopy(_SMALL)
        put(bad, value + brk)
        with pytest.raises(ValidationError):
            Spec.model_validate(bad)

    check()


@st.composite
def _specs_with_trailing_newlines(draw: st.DrawFn) -> S.SpecDict:
    """A spec whose constrained strings (names, branch, runner, paths, URLs) may end in a
    newline, kept only where the model accepts that: then it is a valid spec, and must
    render like any other."""
    spec = draw(S.specs(max_services=3))

    def nl(text: str) -> str:
        return text + "\n" if draw(st.booleans()) else text

    spec["services"] = {nl(name): service for name, service in spec["services"].items()}
    drift = (spec.get("gates") or {}).get("schema_drift")
    if drift and drift["service"] not in spec["services"]:
        drift["service"] += "\n"  # follow the renamed service
    for key in ("default_branch", "runner"):
        spec["project"][key] = nl(spec["project"].get(key, "main"))
    for service in spec["services"].values():
        service["path"] = nl(service.get("path", "."))
    for env in (spec.get("environments") or {}).values():
        if env.get("url"):
            env["url"] = nl(env["url"])
    try:
        assert dangling_references(Spec.model_validate(copy.deepcopy(spec))) == []
    except (ValidationError, AssertionError):
        spec = draw(S.specs(max_services=3))
    return spec


@examples(20)
@given(_specs_with_trailing_newlines())
def test_every_spec_the_model_accepts_renders_valid_workflows(spec: S.SpecDict) -> None:
    files = rendered(spec)
    verify(files)
    for name, text in files.items():
        trees = parsed(name, text)
        assert all(tree == trees[0] for tree in trees), name


# --------------------------------------------------------------------------- spec file name

# What `render_spec` passes: the spec file's name, which may hold any character but `/`
# and NUL on Linux.
_FILE_NAMES = st.one_of(
    st.sampled_from(("harden-ci.yaml", "my spec.yaml", "spéc.yaml", "on.yaml", "#.yaml")),
    st.text(st.characters(exclude_characters="/\x00", exclude_categories=("Cs",)),
            min_size=1, max_size=30),
)


_NAMED_SPEC = {"version": 1, "project": {"name": "p"},
               "services": {"a": {"language": "go"}, "b": {"language": "python"}}}


@examples(40)
@given(_FILE_NAMES)
@example("\x1f")  # found by Hypothesis: PyYAML refuses the raw control character
@example("\n")  # hand-picked: the name ends the header comment and adds a key
@example("${{ secrets.X }}.yaml")  # hand-picked: an expression in HARDEN_CI_SPEC
@example("my-spec.v2.yaml")  # a plain name, accepted
def test_spec_file_name_cannot_change_structure(spec_file: str) -> None:
    """The spec's file name reaches the header comment and the drift guard's env. Through
    `render_spec` (what the CLI calls) it is either refused with a SpecError, nothing
    rendered, or, like a spec value, it adds no line, key or expression."""
    assume(spec_file not in (".", ".."))
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / spec_file
        path.write_text(json.dumps(_NAMED_SPEC), "utf-8")  # JSON is YAML 1.2
        try:
            named = render_spec(path).files
        except SpecError as exc:
            assert "file name" in exc.message, exc.message
            assert not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*", spec_file)
            return
    plain = rendered(_NAMED_SPEC)
    # Only a plain name gets this far; the same spec under its usual name has the same shape.
    assert re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*", spec_file)
    assert_same_structure(plain, named, "the file name")
    assert all(text.startswith(MARKER_PREFIX) for text in named.values())


# --------------------------------------------------------------------------- real validators

# A user's command runs as written, so shellcheck findings inside it would be the user's,
# not harden-ci's. For the validator run, commands are clean shell (still with quotes,
# comments, variables, several lines and Unicode); every other field stays hostile.
_SHELL_COMMANDS = st.sampled_from((
    "pytest -q",
    "npm test -- --reporter=dot",
    'echo "héllo # not a comment: {x} [y] *z* \'q\'"',
    "./deploy.sh up  # a comment: with colons",
    'printf \'%s\\n\' "$HARDEN_CI_URL"',
    "set -e\nmake build\nmake test\n",
    "cd sub && ./run.sh --flag='a b' | tee out.txt",
    'for f in ./*.sql; do psql -f "$f"; done',
    "echo '日本語 😀 שלום'",
    "go test ./... -run 'Test(A|B)'",
))


def _validator_spec() -> st.SearchStrategy[S.SpecDict]:
    command_max = max(_free_text_schema().values())  # Command fields: the long ones
    commands = {p for p, most in _free_text_schema().items() if most == command_max}
    return S.specs(max_services=4).flatmap(lambda spec: _SHELL_COMMANDS.map(
        lambda cmd: S.replace_free_text(
            spec, lambda path, v: cmd if S.pattern_of(path) in commands else v)))


def _recorded_exception(finding: str) -> bool:
    """A finding zizmor marks as ignored on a line harden_ci/verify allows an ignore on:
    the SLSA generator called by its tag, or a job on the spec's own self-hosted runner."""
    match = re.match(r"^(.+?):(\d+):\d+: zizmor\[(unpinned-uses|self-hosted-runner)\] "
                     r".*\[has a zizmor: ignore comment\]$", finding)
    if not match:
        return False
    line = Path(match.group(1)).read_text(encoding="utf-8").splitlines()[int(match.group(2)) - 1]
    if match.group(3) == "unpinned-uses":
        return "uses: slsa-framework/slsa-github-generator/" in line
    return bool(SELF_HOSTED_IGNORE.match(line))


@pytest.mark.slow
def test_random_specs_pass_the_real_validators(tmp_path: Path) -> None:
    """~15 random specs rendered side by side, then one run of every validator over the
    folder (zizmor regular, pedantic and auditor, actionlint, SchemaStore's schema,
    shellcheck).

    Specs come from _collect (a derandomized nested @given): the same fifteen every run,
    drawn without `strategy.example()`.
    """
    import validators

    workflows = tmp_path / ".github" / "workflows"
    workflows.mkdir(parents=True)
    specs = _collect(_validator_spec(), 15)
    labels: set[str] = set()  # every spec's own runner labels, in one actionlint config
    for index, spec in enumerate(specs):
        (tmp_path / f"spec-{index:02d}.yaml").write_text(dump(spec), encoding="utf-8")
        for name, text in rendered(spec).items():
            if name == str(validators.ACTIONLINT_CONFIG):
                labels.update(yaml.safe_load(text)["self-hosted-runner"]["labels"])
            if "/" in name or not name.endswith((".yml", ".yaml")):
                continue  # companion files (scripts beside the workflows) are not workflows
            (workflows / f"s{index:02d}-{name}").write_text(text, encoding="utf-8")
    config = workflows / validators.ACTIONLINT_CONFIG
    config.parent.mkdir()
    config.write_text(yaml.safe_dump({"self-hosted-runner": {"labels": sorted(labels)}}), "utf-8")
    results = validators.all_validators(workflows)
    # The recorded exceptions (the harness reports ignored findings; this drops exactly
    # those): the SLSA generator called by its release tag, `# zizmor: ignore[unpinned-uses]`
    # on that very line, and a job on the spec's own self-hosted runner.
    results = {tool: [f for f in found if not _recorded_exception(f)]
               for tool, found in results.items()}
    if any(results.values()):
        cited = sorted({int(m.group(1)) for findings in results.values() for f in findings
                        for m in [re.search(r"/s(\d\d)-", f)] if m})
        specs_text = "\n".join(f"--- spec-{i:02d}.yaml\n{dump(specs[i])}" for i in cited)
        pytest.fail(f"{validators.report(results)}\n\nspecs with findings:\n{specs_text}")
