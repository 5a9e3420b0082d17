"""`harden-ci gate llm-run` and `llm-score`: match kinds, the JSON Schema subset, input files
with file:line errors, the three rules (schema, score band, token budget), the summary table,
the JSON report, baselines, and the CLI's exit codes end to end."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from helpers import gate_invoke

from harden_ci.errors import SpecError
from harden_ci.gates import llm_inputs as inputs
from harden_ci.gates import llm_report, llm_scoring
from harden_ci.gates.llm_inputs import Tolerance
from harden_ci.gates.llm_schema import SchemaValidator
from harden_ci.gates.llm_scoring import (
    Verdict,
    as_number,
    match_contains,
    match_exact,
    match_json_fields,
    match_numeric,
    score,
)

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "gates" / "llm"
GOLD = FIXTURES / "gold.jsonl"
SCHEMA = FIXTURES / "answer.schema.json"


def gate(*args: str, cwd: Path | None = None, env: dict[str, str] | None = None,
         ) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "harden_ci", "gate", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, encoding="utf-8", timeout=120, check=False)


def write_lines(path: Path, rows: list[dict[str, object]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def verdict_for(outputs: str, tolerance: float = 0.05, budget: float = 0.25) -> Verdict:
    gold = inputs.load_gold(GOLD)
    return score(gold, inputs.load_outputs(FIXTURES / outputs), schema=inputs.load_schema(SCHEMA),
                 baseline=inputs.resolve_baseline(gold, GOLD, None),
                 tolerance=tolerance, token_budget=budget)


# --- match kinds ----------------------------------------------------------------------------

@pytest.mark.parametrize(("output", "expected", "ignore_case", "ok"), [
    ("Paris", "Paris", False, True),
    ("  Paris\n", "Paris", False, True),
    ("paris", "Paris", False, False),
    ("paris", "Paris", True, True),
    ("Paris.", "Paris", False, False),
    (42, "42", False, False),
    ({"a": 1}, {"a": 1.0}, False, True),
    ('{"a": 1}', {"a": 1}, False, True),
    ({"a": 1, "b": 2}, {"a": 1}, False, False),
    (True, 1, False, False),
    ([1, 2], [1, 2], False, True),
    (None, None, False, True),
])
def test_exact(output: object, expected: object, ignore_case: bool, ok: bool) -> None:
    assert match_exact(output, expected, ignore_case)[0] is ok


def test_exact_failure_says_what_was_expected() -> None:
    ok, detail = match_exact("Lyon", "Paris")
    assert not ok and detail == 'expected "Paris", got "Lyon"'


@pytest.mark.parametrize(("output", "expected", "ignore_case", "ok"), [
    ("It will be sunny.", "sunny", False, True),
    ("It will be Sunny.", "sunny", False, False),
    ("It will be Sunny.", "sunny", True, True),
    ("rain", "sunny", False, False),
    ({"forecast": "sunny"}, "sunny", False, True),
    (["a", "b"], '"b"', False, True),
])
def test_contains(output: object, expected: str, ignore_case: bool, ok: bool) -> None:
    assert match_contains(output, expected, ignore_case)[0] is ok


@pytest.mark.parametrize(("output", "expected", "tolerance", "ok"), [
    (42, 42, None, True),
    (42.0, 42, None, True),
    ("42", 42, None, True),
    (" -1.5e3 ", -1500, None, True),
    ("42.4", 42, Tolerance(abs=0.5, rel=0), True),
    ("42.6", 42, Tolerance(abs=0.5, rel=0), False),
    (101, 100, Tolerance(abs=0, rel=0.01), True),
    (102, 100, Tolerance(abs=0, rel=0.01), False),
    (0.3, 0.1 + 0.2, None, True),
    ("about 42", 42, None, False),
    ("nan", 42, None, False),
    (True, 1, None, False),
    (None, 0, None, False),
])
def test_numeric(output: object, expected: float, tolerance: Tolerance | None, ok: bool) -> None:
    assert match_numeric(output, expected, tolerance)[0] is ok


def test_as_number_accepts_only_a_whole_number_string() -> None:
    assert as_number("3.5") == 3.5
    assert as_number("1e3") == 1000
    assert as_number("3.5 apples") is None
    assert as_number("inf") is None
    assert as_number("1_000") is None


def test_json_fields_compares_the_named_fields_only() -> None:
    expected: dict[str, object] = {"city": "Paris", "country": "FR", "population_m": 2.1}
    assert match_json_fields({"city": "Paris", "country": "FR", "population_m": 9},
                             expected, ("city", "country"))[0]
    ok, detail = match_json_fields({"city": "Lyon"}, expected, ("city", "country"))
    assert not ok
    assert detail == 'city: expected "Paris", got "Lyon"; country: missing'


def test_json_fields_decodes_a_string_and_follows_dotted_paths() -> None:
    expected: dict[str, object] = {"order": {"id": 17, "items": [{"sku": "A"}]}}
    output = '{"order": {"id": 17, "items": [{"sku": "A"}], "note": "x"}}'
    assert match_json_fields(output, expected, ("order.id", "order.items.0.sku"))[0]
    assert not match_json_fields("not json", expected, ("order.id",))[0]
    assert not match_json_fields([1], expected, ("order.id",))[0]


def test_json_fields_tolerance_applies_to_numbers_at_any_depth() -> None:
    expected: dict[str, object] = {"order": {"id": 17, "total": 99.5}}
    close = {"order": {"id": 17, "total": 99.504}}
    assert not match_json_fields(close, expected, ("order",))[0]
    assert match_json_fields(close, expected, ("order",), Tolerance(abs=0.01, rel=0))[0]
    assert not match_json_fields({"order": {"id": 17, "total": 99.6}}, expected, ("order",),
                                 Tolerance(abs=0.01, rel=0))[0]


def test_json_fields_ignore_case() -> None:
    assert match_json_fields({"a": "YES"}, {"a": "yes"}, ("a",), ignore_case=True)[0]
    assert not match_json_fields({"a": "YES"}, {"a": "yes"}, ("a",))[0]


# --- the JSON Schema subset -----------------------------------------------------------------

SCHEMA_CASES: list[tuple[dict[str, object], object, bool]] = [
    ({"type": "string"}, "x", True),
    ({"type": "string"}, 1, False),
    ({"type": "integer"}, 1.0, True),
    ({"type": "integer"}, 1.5, False),
    ({"type": "number"}, True, False),
    ({"type": ["string", "null"]}, None, True),
    ({"enum": ["a", 1]}, 1.0, True),
    ({"enum": [1]}, True, False),
    ({"const": {"a": [1]}}, {"a": [1.0]}, True),
    ({"required": ["a"], "properties": {"a": {"type": "string"}}}, {"a": "x"}, True),
    ({"required": ["a"]}, {"b": 1}, False),
    ({"properties": {"a": {"type": "string"}}, "additionalProperties": False}, {"a": "x", "b": 1}, False),
    ({"additionalProperties": {"type": "number"}}, {"a": 1, "b": 2}, True),
    ({"additionalProperties": {"type": "number"}}, {"a": "1"}, False),
    ({"items": {"type": "integer"}, "minItems": 1, "maxItems": 2}, [1, 2], True),
    ({"items": {"type": "integer"}}, [1, "2"], False),
    ({"maxItems": 1}, [1, 2], False),
    ({"uniqueItems": True}, [1, 1.0], False),
    ({"minimum": 0, "maximum": 10}, 10, True),
    ({"exclusiveMaximum": 10}, 10, False),
    ({"exclusiveMinimum": 0}, 0.001, True),
    ({"minLength": 2, "maxLength": 3}, "héé", True),
    ({"maxLength": 2}, "abc", False),
    ({"pattern": "^[A-Z]{2}$"}, "FR", True),
    ({"pattern": "^[A-Z]{2}$"}, "FRA", False),
    ({"anyOf": [{"type": "string"}, {"type": "number"}]}, 3, True),
    ({"anyOf": [{"type": "string"}, {"type": "number"}]}, None, False),
    ({"oneOf": [{"type": "integer"}, {"type": "number"}]}, 3, False),
    ({"oneOf": [{"type": "integer"}, {"type": "string"}]}, 3, True),
    ({"allOf": [{"minimum": 1}, {"maximum": 2}]}, 3, False),
    ({"not": {"type": "null"}}, None, False),
    ({"minProperties": 1}, {}, False),
    ({"$defs": {"n": {"type": "integer"}}, "items": {"$ref": "#/$defs/n"}}, [1, 2], True),
    ({"$defs": {"n": {"type": "integer"}}, "items": {"$ref": "#/$defs/n"}}, [1, "x"], False),
    ({"title": "t", "description": "d", "format": "email", "type": "string"}, "not-an-email", True),
]


@pytest.mark.parametrize(("schema", "instance", "valid"), SCHEMA_CASES)
def test_schema_keywords(schema: dict[str, object], instance: object, valid: bool) -> None:
    assert SchemaValidator(schema).is_valid(instance) is valid


@pytest.mark.parametrize(("schema", "instance", "valid"), SCHEMA_CASES)
def test_schema_subset_agrees_with_the_jsonschema_package(schema: dict[str, object], instance: object,
                                                         valid: bool) -> None:
    jsonschema = pytest.importorskip("jsonschema")  # a test-only dependency (check-jsonschema)
    assert jsonschema.Draft202012Validator(schema).is_valid(instance) is valid


def test_schema_errors_name_the_path() -> None:
    validator = SchemaValidator({"type": "object", "required": ["answer"], "properties": {
        "answer": {"type": "string"}, "sources": {"type": "array", "items": {"type": "string"}}}})
    assert validator.errors({"answer": 3, "sources": ["a", None]}) == [
        "$.answer: 3 is not of type 'string'",
        "$.sources[1]: None is not of type 'string'",
    ]
    assert validator.errors({}) == ["$: 'answer' is a required property"]


@pytest.mark.parametrize(("schema", "message"), [
    ({"type": "string", "requird": ["a"]}, "unknown keyword 'requird' (not in draft 2020-12)"),
    ({"properties": {"a": {"maxLenght": 3}}}, "#/properties/a: unknown keyword 'maxLenght'"),
    ({"type": "text"}, "#/type: 'text' is not valid"),
    ({"items": [{"type": "string"}]}, "is not of type 'object', 'boolean'"),
    ({"$ref": "https://example.com/s.json"}, "only references inside the document"),
    ({"minLength": -1}, "#/minLength: -1 is less than the minimum of 0"),
    ({"anyOf": []}, "should be non-empty"),
])
def test_schemas_it_cannot_enforce_are_refused(schema: dict[str, object], message: str) -> None:
    with pytest.raises(SpecError, match="draft 2020-12") as caught:
        SchemaValidator(schema, "answer.schema.json")
    assert message in str(caught.value)
    assert str(caught.value).startswith("answer.schema.json: JSON Schema #")


def test_a_bad_pattern_is_refused_at_load() -> None:
    with pytest.raises(SpecError, match=r"#/pattern: '\(' is not a 'regex'"):
        SchemaValidator({"pattern": "("})


def test_full_draft_2020_12_keywords_are_enforced() -> None:
    # Keywords the old hand-written subset refused: now validated by the jsonschema library.
    validator = SchemaValidator({"type": "object", "propertyNames": {"maxLength": 3},
                                 "dependentRequired": {"a": ["b"]},
                                 "prefixItems": [{"type": "string"}], "if": {"required": ["c"]},
                                 "then": {"properties": {"c": {"const": 1}}}})
    assert validator.is_valid({"a": 1, "b": 2})
    assert not validator.is_valid({"long": 1})
    assert not validator.is_valid({"a": 1})
    assert not validator.is_valid({"c": 2})


@pytest.mark.parametrize("schema", [{"$ref": "#"}, {"$ref": "#/$defs/missing"}])
def test_a_reference_that_loops_or_dangles_stops_with_exit_2_not_a_crash(schema: dict[str, object]) -> None:
    with pytest.raises(SpecError, match="JSON Schema #"):
        SchemaValidator(schema).errors(1)


# --- input files ----------------------------------------------------------------------------

@pytest.mark.parametrize(("line", "message"), [
    ({"id": "a", "expect": "x"}, "unknown key 'expect' in a gold line (did you mean 'expected'?)"),
    ({"id": "a", "expected": "x", "match": "exactly"}, "did you mean 'exact'?"),
    ({"id": "a", "expected": "x", "match": "numeric"}, "`expected` must be a number for match numeric"),
    ({"id": "a", "expected": ["x"], "match": "json_fields"}, "must be a non-empty object"),
    ({"id": "a", "expected": {"x": 1}, "match": "json_fields", "fields": ["y"]}, "field 'y' is not in"),
    ({"id": "a", "expected": "x", "tolerance": 1}, "`tolerance` only applies to numeric"),
    ({"id": "a", "expected": 1, "match": "numeric", "tolerance": -1}, "`tolerance` must be"),
    ({"id": "a", "expected": 1, "match": "numeric", "tolerance": {"abs": 1, "pct": 2}}, "`tolerance`"),
    ({"id": "", "expected": "x"}, "`id` must be a non-empty string"),
    ({"id": "a"}, "has no `expected`"),
    ({"id": "a", "expected": "x", "tokens": -5}, "`tokens` must be a non-negative integer"),
])
def test_bad_gold_lines_name_file_and_line(tmp_path: Path, line: dict[str, object], message: str) -> None:
    gold = write_lines(tmp_path / "gold.jsonl", [{"id": "ok", "expected": "y"}, line])
    with pytest.raises(SpecError) as caught:
        inputs.load_gold(gold)
    assert str(caught.value).startswith(f"{gold}:2: ")
    assert message in str(caught.value)


@pytest.mark.parametrize(("text", "message"), [
    ('{"id": "a", "output": "x", "usage": {"prompt_tokens": 1, "completion_tokens": 1}}\n'
     '{"id": "a", "output": "y", "usage": {"prompt_tokens": 1, "completion_tokens": 1}}\n',
     ":2: duplicate id 'a' (first on line 1)"),
    ('{"id": "a", "output": "x"}\n', ":1: case 'a' needs `usage`"),
    ('{"id": "a", "output": "x", "usage": {"prompt_tokens": 1.5, "completion_tokens": 1}}\n',
     ":1: `usage.prompt_tokens` must be a non-negative integer"),
    ('{"id": "a", "usage": {"prompt_tokens": 1, "completion_tokens": 1}}\n', ":1: case 'a' has no `output`"),
    ('\n\n["a"]\n', ":3: each line of the outputs file must be a JSON object, not array"),
    ('{"id": "a", "output": NaN, "usage": {}}\n', ":1: malformed JSON line in the outputs file: NaN"),
    ('{"id": "a", "output": "x",\n', ":1:27: malformed JSON line"),
])
def test_bad_output_lines_name_file_and_line(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "outputs.jsonl"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(SpecError) as caught:
        inputs.load_outputs(path)
    assert message in str(caught.value)


def test_integer_ids_and_extra_keys_are_accepted(tmp_path: Path) -> None:
    path = write_lines(tmp_path / "o.jsonl", [{"id": 7, "output": "x", "model": "m", "usage": {
        "prompt_tokens": 3, "completion_tokens": 4}}])
    [output] = inputs.load_outputs(path)
    assert (output.id, output.tokens) == ("7", 7)


def test_missing_and_non_utf8_files_are_bad_input(tmp_path: Path) -> None:
    with pytest.raises(SpecError, match="the gold file does not exist"):
        inputs.load_gold(tmp_path / "nope.jsonl")
    latin = tmp_path / "latin.jsonl"
    latin.write_bytes(b'{"id": "caf\xe9"}\n')
    with pytest.raises(SpecError, match="not UTF-8"):
        inputs.load_outputs(latin)


def test_baseline_file(tmp_path: Path) -> None:
    baseline = inputs.load_baseline(FIXTURES / "baseline.json")
    assert baseline.score == 0.875 and baseline.tokens["capital-fr"] == 100
    bad = tmp_path / "b.json"
    bad.write_text('{"score": 1.5}', encoding="utf-8")
    with pytest.raises(SpecError, match="from 0 to 1"):
        inputs.load_baseline(bad)
    bad.write_text('{"scores": 1}', encoding="utf-8")
    with pytest.raises(SpecError, match="--write-baseline"):
        inputs.load_baseline(bad)
    assert inputs.default_baseline_path(Path("evals/gold.jsonl")) == Path("evals/gold.baseline.json")


# --- the rules --------------------------------------------------------------------------------

def test_the_passing_fixture_passes_every_rule() -> None:
    verdict = verdict_for("outputs-pass.jsonl")
    assert verdict.passed, verdict.failures
    assert [r.name for r in verdict.rules] == ["schema", "score", "tokens"]
    assert verdict.pass_rate == 1.0 and verdict.total_tokens == 926 and verdict.baseline_tokens == 900


def test_a_schema_violation_fails_the_gate() -> None:
    verdict = verdict_for("outputs-schema-violation.jsonl", tolerance=1.0)
    assert not verdict.passed
    [failure] = verdict.failures
    assert failure.startswith("schema: 2 output(s) violate")
    assert "city: $.population_m: None is not valid under any of the given schemas" in failure
    assert "verdict: $.notes" in failure


def test_a_score_drop_beyond_the_tolerance_fails() -> None:
    verdict = verdict_for("outputs-score-drop.jsonl")
    assert verdict.failures == ["score: pass rate 0.750 (6/8) is below the tolerance band "
                                "≥ 0.950 (baseline 1.000 - tolerance 0.05)"]
    failed = {c.id: c.detail for c in verdict.cases if not c.passed}
    assert failed == {"capital-fr": 'expected "Paris", got "Lyon"', "sum": "expected 42 (abs 0.5), got 41"}


def test_a_score_drop_within_the_tolerance_passes() -> None:
    assert verdict_for("outputs-score-drop.jsonl", tolerance=0.25).passed


def test_token_growth_of_30_percent_fails_a_25_percent_budget() -> None:
    verdict = verdict_for("outputs-token-growth.jsonl")
    assert verdict.failures == ["token budget: 1170 tokens over 8 case(s) is +30.0% against the "
                                "baseline 900; the budget allows +25.0% (at most 1125)"]
    assert verdict_for("outputs-token-growth.jsonl", budget=0.30).passed


def test_the_boundary_of_the_band_passes() -> None:
    gold = [inputs.GoldCase(str(i), "x", "exact", Tolerance(), (), False, 10, i) for i in range(20)]
    outputs = [inputs.EvalOutput(str(i), "x" if i else "y", 10, 2, i) for i in range(20)]
    verdict = score(gold, outputs, baseline=inputs.Baseline(1.0, {}, "t"), tolerance=0.05,
                    token_budget=0.2, allow_no_token_baseline=True)
    assert verdict.pass_rate == 0.95 and verdict.passed  # 0.95 >= 1.0 - 0.05 despite float noise
    assert verdict.baseline_tokens is None and "token budget was not checked" in verdict.notes[0]


def test_a_token_budget_with_no_baseline_fails_unless_allowed() -> None:
    gold = [inputs.GoldCase(str(i), "x", "exact", Tolerance(), (), False, None, i) for i in range(3)]
    outputs = [inputs.EvalOutput(str(i), "x", 10, 2, i) for i in range(3)]
    verdict = score(gold, outputs, baseline=inputs.Baseline(1.0, {}, "t"), tolerance=0.05,
                    token_budget=0.2)
    assert not verdict.passed
    assert verdict.failures == ["token budget: no case has a baseline token count, so the budget "
                                "cannot be checked; add `tokens` to the gold lines or commit a "
                                "baseline file (harden-ci gate llm-score --write-baseline), or "
                                "allow it explicitly (--allow-no-token-baseline)"]


def test_missing_and_extra_outputs() -> None:
    gold = inputs.load_gold(GOLD)
    outputs = [o for o in inputs.load_outputs(FIXTURES / "outputs-pass.jsonl") if o.id != "pi"]
    outputs.append(inputs.EvalOutput("bonus", ["not", "allowed"], 5, 5, 99))
    verdict = score(gold, outputs, baseline=inputs.resolve_baseline(gold, GOLD, None), tolerance=0.2,
                    token_budget=0.25, schema=inputs.load_schema(SCHEMA))
    assert {c.id: c.detail for c in verdict.cases if not c.passed} == {"pi": "no output for this case"}
    assert [c.id for c in verdict.extra] == ["bonus"]
    assert verdict.failures[0].startswith("schema: 1 output(s) violate")  # extras are checked too
    assert any("have no gold case" in note for note in verdict.notes)


def test_a_baseline_file_overrides_the_gold_tokens_and_score() -> None:
    gold = inputs.load_gold(GOLD)
    baseline = inputs.resolve_baseline(gold, GOLD, inputs.load_baseline(FIXTURES / "baseline.json"))
    verdict = score(gold, inputs.load_outputs(FIXTURES / "outputs-score-drop.jsonl"), baseline=baseline,
                    tolerance=0.15, token_budget=0.25)
    assert verdict.passed  # 0.75 >= 0.875 - 0.15


def test_markdown_table_escapes_cells() -> None:
    verdict = verdict_for("outputs-score-drop.jsonl")
    text = llm_report.markdown(verdict)
    assert "| case | match kind | result | tokens |" in text
    assert '| capital-fr | exact | ❌ expected "Paris", got "Lyon" | 100 (baseline 100) |' in text
    assert llm_report.cell("a|b\nc <script>") == "a\\|b c &lt;script>"


# --- the CLI end to end -----------------------------------------------------------------------

def score_cli(tmp_path: Path, outputs: str, *extra: str) -> tuple[subprocess.CompletedProcess[str], str]:
    summary = tmp_path / "summary.md"
    env = {**_env(), "GITHUB_STEP_SUMMARY": str(summary)}
    result = gate("llm-score", "--outputs", str(FIXTURES / outputs), "--gold", str(GOLD),
                  "--schema", str(SCHEMA), *extra, env=env)
    return result, summary.read_text("utf-8") if summary.exists() else ""


def _env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k != "GITHUB_STEP_SUMMARY"}


def test_cli_pass_exits_0_and_writes_the_summary_and_report(tmp_path: Path) -> None:
    report = tmp_path / "report.json"
    result, summary = score_cli(tmp_path, "outputs-pass.jsonl", "--report", str(report))
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.rstrip().endswith("LLM eval: PASS")
    assert summary.startswith("### LLM eval: ✅ pass")
    assert "| case | match kind | result | tokens |" in summary
    assert "| order | json_fields | ✅ pass | 154 (baseline 150) |" in summary
    data = json.loads(report.read_text("utf-8"))
    assert data["passed"] is True and data["total_cases"] == 8 and data["tokens"]["total"] == 926


@pytest.mark.parametrize(("outputs", "rule"), [
    ("outputs-schema-violation.jsonl", "schema: 2 output(s) violate"),
    ("outputs-score-drop.jsonl", "score: pass rate 0.750 (6/8) is below"),
    ("outputs-token-growth.jsonl", "token budget: 1170 tokens over 8 case(s) is +30.0%"),
])
def test_cli_failures_exit_1_and_name_the_rule(tmp_path: Path, outputs: str, rule: str) -> None:
    result, summary = score_cli(tmp_path, outputs)
    assert result.returncode == 1, result.stdout + result.stderr
    assert f"FAIL {rule}" in result.stdout
    assert "::error title=LLM eval::" in result.stdout
    assert summary.startswith("### LLM eval: ❌ fail")


def test_cli_malformed_line_exits_2_naming_file_and_line(tmp_path: Path) -> None:
    result, summary = score_cli(tmp_path, "outputs-malformed.jsonl")
    assert result.returncode == 2
    assert "outputs-malformed.jsonl:3:120: malformed JSON line in the outputs file" in result.stderr
    assert "Traceback" not in result.stderr and summary == ""


def test_cli_finds_the_committed_baseline_beside_the_gold_file(tmp_path: Path) -> None:
    shutil.copyfile(GOLD, tmp_path / "gold.jsonl")
    shutil.copyfile(FIXTURES / "baseline.json", tmp_path / "gold.baseline.json")
    args = ("llm-score", "--outputs", str(FIXTURES / "outputs-score-drop.jsonl"),
            "--gold", str(tmp_path / "gold.jsonl"), "--tolerance", "0.15")
    result = gate(*args, env=_env())
    assert result.returncode == 0, result.stdout + result.stderr
    (tmp_path / "gold.baseline.json").unlink()
    assert gate(*args, env=_env()).returncode == 1


def test_cli_write_baseline_round_trips(tmp_path: Path) -> None:
    baseline = tmp_path / "new.baseline.json"
    result, _ = score_cli(tmp_path, "outputs-token-growth.jsonl", "--write-baseline", str(baseline))
    assert result.returncode == 1  # judged against the old baseline, then recorded
    data = json.loads(baseline.read_text("utf-8"))
    assert data["score"] == 1.0 and data["tokens"]["capital-fr"] == 130
    result, _ = score_cli(tmp_path, "outputs-token-growth.jsonl", "--baseline", str(baseline))
    assert result.returncode == 0, result.stdout


def test_cli_bad_options_exit_2(tmp_path: Path) -> None:
    result, _ = score_cli(tmp_path, "outputs-pass.jsonl", "--tolerance", "2")
    assert result.returncode == 2 and "--tolerance" in result.stderr
    result = gate("llm-score", "--outputs", str(tmp_path / "none.jsonl"), "--gold", str(GOLD), env=_env())
    assert result.returncode == 2 and "the outputs file does not exist" in result.stderr


EVAL = ("import json, os; print(json.dumps({'id': 'capital-fr', 'output': os.environ['HARDEN_CI_SEED'],"
        " 'usage': {'prompt_tokens': 1, 'completion_tokens': 1}}))")


def test_llm_run_passes_the_seed_and_captures_stdout(tmp_path: Path) -> None:
    out = tmp_path / "out" / "outputs.jsonl"
    result = gate("llm-run", "--seed", "7", "--out", str(out), "--", sys.executable, "-c", EVAL)
    assert result.returncode == 0, result.stderr
    assert "wrote 1 output(s)" in result.stdout
    [line] = inputs.load_outputs(out)
    assert line.output == "7"


@pytest.mark.parametrize(("argv", "code", "message"), [
    (["-c", "import sys; sys.exit(3)"], 1, "the eval command exited with status 3"),
    (["-c", "import time; time.sleep(30)"], 1, "did not finish within 1 s"),
    (["-c", "print('not json')"], 2, ":1:1: malformed JSON line in the outputs file"),
])
def test_llm_run_failures(tmp_path: Path, argv: list[str], code: int, message: str) -> None:
    out = tmp_path / "outputs.jsonl"
    result = gate("llm-run", "--seed", "1", "--out", str(out), "--timeout", "1", "--",
                  sys.executable, *argv)
    assert result.returncode == code, result.stdout + result.stderr
    assert message in result.stdout + result.stderr
    assert not (tmp_path / ".outputs.jsonl.partial").exists()


def test_llm_run_without_a_command_or_with_a_missing_one_exits_2(tmp_path: Path) -> None:
    result = gate("llm-run", "--seed", "1", "--out", str(tmp_path / "o.jsonl"), "--",
                  str(tmp_path / "no-such-eval"))
    assert result.returncode == 2 and "was not found" in result.stderr
    result = gate("llm-run", "--seed", "1", "--out", str(tmp_path / "o.jsonl"))
    assert result.returncode == 2 and "Missing argument" in result.stderr


def test_every_llm_verb_has_help_with_an_example() -> None:
    for verb in ("llm-run", "llm-score"):
        result = gate(verb, "--help")
        assert result.returncode == 0 and "Example" in result.stdout
        assert f"harden-ci gate {verb}" in result.stdout


# --- the whole LLM check against a model endpoint on 127.0.0.1 ---------------------------------

class ModelServer(ThreadingHTTPServer):
    """A stand-in model API: answers each case from one of the outputs fixtures (its
    `variant`) and records the seeds it was sent."""

    daemon_threads = True

    def __init__(self, variant: str) -> None:
        super().__init__(("127.0.0.1", 0), ModelHandler)
        self.answers = {o.id: o for o in inputs.load_outputs(FIXTURES / f"outputs-{variant}.jsonl")}
        self.seeds: list[int] = []


class ModelHandler(BaseHTTPRequestHandler):
    server: ModelServer

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_POST(self) -> None:
        request = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.server.seeds.append(request["seed"])
        answer = self.server.answers[request["id"]]
        body = json.dumps({"output": answer.output, "usage": {
            "prompt_tokens": answer.prompt_tokens, "completion_tokens": answer.completion_tokens}}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


StartModel = Callable[[str], tuple[ModelServer, str]]


@pytest.fixture
def model() -> Iterator[StartModel]:
    """Starts model servers on ephemeral ports; shuts each down after the test."""
    started: list[tuple[ModelServer, threading.Thread]] = []

    def start(variant: str) -> tuple[ModelServer, str]:
        server = ModelServer(variant)
        thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                                  daemon=True)
        thread.start()
        started.append((server, thread))
        return server, f"http://127.0.0.1:{server.server_address[1]}/v1/complete"

    yield start
    for server, thread in started:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.mark.parametrize(("variant", "code", "rule"), [
    ("pass", 0, "LLM eval: PASS"),
    ("token-growth", 1, "FAIL token budget: 1170 tokens over 8 case(s) is +30.0%"),
    ("score-drop", 1, "FAIL score: pass rate 0.750 (6/8)"),
    ("schema-violation", 1, "FAIL schema: 2 output(s) violate"),
])
def test_llm_run_then_score_against_a_local_model(tmp_path: Path, model: StartModel, variant: str,
                                                  code: int, rule: str) -> None:
    server, url = model(variant)
    outputs = tmp_path / "outputs.jsonl"
    env = {**_env(), "GITHUB_STEP_SUMMARY": str(tmp_path / "summary.md")}
    ran = gate("llm-run", "--seed", "7", "--out", str(outputs), "--timeout", "60", "--",
               sys.executable, str(FIXTURES / "eval_client.py"), str(FIXTURES / "prompts.jsonl"), url,
               env=env)
    assert ran.returncode == 0, ran.stdout + ran.stderr
    assert server.seeds == [7] * 8
    scored = gate("llm-score", "--outputs", str(outputs), "--gold", str(GOLD), "--schema", str(SCHEMA),
                  env=env)
    assert scored.returncode == code, scored.stdout + scored.stderr
    assert rule in scored.stdout
    assert "| case | match kind | result | tokens |" in (tmp_path / "summary.md").read_text("utf-8")


def test_llm_run_stops_the_whole_command_tree_at_the_timeout(tmp_path: Path) -> None:
    result = gate("llm-run", "--seed", "1", "--out", str(tmp_path / "o.jsonl"), "--timeout", "1", "--",
                  "sh", "-c", "sleep 60 & sleep 60")
    assert result.returncode == 1 and "did not finish within 1 s" in result.stdout


# --- matchers beyond string equality (issue 14, point 6) ---------------------------------------

def gold_case(match: str, expected: object, tmp_path: Path, **extra: object) -> inputs.GoldCase:
    [case] = inputs.load_gold(write_lines(tmp_path / f"gold-{match}.jsonl",
                                          [{"id": "c", "expected": expected, "match": match, **extra}]))
    return case


@pytest.mark.parametrize(("match", "expected", "extra", "output", "ok"), [
    ("regex", r"^Paris\b", {}, "Paris, of course.", True),
    ("regex", r"^Paris\b", {}, "It is Paris.", False),
    ("regex", r"^paris", {"ignore_case": True}, "PARIS", True),
    ("contains", "paris", {"ignore_case": True}, "The capital is PARIS.", True),
    ("similarity", "The capital of France is Paris.", {}, "the capital of france is Paris", True),
    ("similarity", "The capital of France is Paris.", {}, "Lyon", False),
    ("similarity", "Paris is the capital", {"threshold": 0.99}, "Paris is the capitol", False),
    ("tool_call", {"name": "get_weather", "arguments": {"type": "object", "required": ["city"],
                                                        "properties": {"city": {"type": "string"}}}},
     {}, {"tool_calls": [{"function": {"name": "get_weather", "arguments": '{"city": "Paris"}'}}]}, True),
    ("tool_call", {"name": "get_weather", "arguments": {"type": "object", "required": ["city"]}},
     {}, {"tool_calls": [{"function": {"name": "get_weather", "arguments": "{}"}}]}, False),
    ("tool_call", {"name": "get_weather"}, {}, [{"name": "get_time", "arguments": {}}], False),
    ("tool_call", {"name": "get_weather"}, {}, "I would call get_weather", False),
])
def test_new_matchers(tmp_path: Path, match: str, expected: object, extra: dict[str, object],
                      output: object, ok: bool) -> None:
    passed, detail = llm_scoring.match_case(gold_case(match, expected, tmp_path, **extra), output)
    assert passed is ok, detail


def test_a_correct_paraphrase_passes_similarity_where_exact_failed(tmp_path: Path) -> None:
    answer = "Paris is the capital of France."
    paraphrase = "The capital of France is Paris."
    assert not llm_scoring.match_case(gold_case("exact", answer, tmp_path), paraphrase)[0]
    case = gold_case("similarity", answer, tmp_path, threshold=0.6)
    assert llm_scoring.match_case(case, paraphrase)[0]


def judge_script(tmp_path: Path, body: str) -> tuple[str, Path, str]:
    script = tmp_path / "judge.py"
    script.write_text("import json, os, sys\nrequest = json.load(sys.stdin)\n" + body, encoding="utf-8")
    prompt = tmp_path / "judge-prompt.txt"
    prompt.write_text("Score the answer against the rubric from 0 to 1.\n", encoding="utf-8")
    return json.dumps([sys.executable, str(script)]), prompt, hashlib.sha256(prompt.read_bytes()).hexdigest()


def test_a_rubric_is_judged_by_the_judge_command_with_its_seed_and_prompt(tmp_path: Path) -> None:
    from harden_ci.gates.auth_http import parse_argv
    from harden_ci.gates.llm_matchers import Judge

    command, prompt, digest = judge_script(tmp_path, (
        "assert os.environ['HARDEN_CI_SEED'] == '11' and request['prompt'].startswith('Score')\n"
        "print(json.dumps({'score': 0.9 if 'Paris' in request['output'] else 0.1, 'reason': 'r'}))\n"))
    judge = Judge.load(parse_argv(command, "x"), 11, prompt, digest)
    case = gold_case("rubric", "Names Paris as the capital", tmp_path, threshold=0.7)
    assert llm_scoring.match_case(case, "Paris", judge) == (True, "match")
    assert llm_scoring.match_case(case, "Lyon", judge) == (False, "judge score 0.1 < 0.7 (\"r\")")
    with pytest.raises(SpecError, match="not the pinned"):
        Judge.load(parse_argv(command, "x"), 11, prompt, "0" * 64)
    with pytest.raises(SpecError, match="a judge command is needed"):
        llm_scoring.match_case(case, "Paris", None)


def test_a_judge_printing_garbage_is_exit_2_not_a_pass(tmp_path: Path) -> None:
    from harden_ci.gates.auth_http import parse_argv
    from harden_ci.gates.llm_matchers import Judge

    command, prompt, digest = judge_script(tmp_path, "print(json.dumps({'score': 7}))\n")
    judge = Judge.load(parse_argv(command, "x"), 1, prompt, digest)
    with pytest.raises(SpecError, match=r'must print \{"score": 0..1\}'):
        llm_scoring.match_case(gold_case("rubric", "r", tmp_path), "x", judge)


def test_wilson_interval() -> None:
    low, high = llm_scoring.wilson(6, 8)
    assert (round(low, 3), round(high, 3)) == (0.409, 0.929)
    assert llm_scoring.wilson(20, 20)[1] == 1.0 and llm_scoring.wilson(0, 0) == (0.0, 1.0)


def test_repeated_samples_read_the_interval_against_the_band() -> None:
    gold = [inputs.GoldCase(str(i), "x", "exact", Tolerance(), (), False, 12, i) for i in range(10)]

    def outputs(fails: int) -> list[inputs.EvalOutput]:
        return [inputs.EvalOutput(str(i), "y" if n < fails and i == 0 else "x", 10, 2, i)
                for i in range(10) for n in range(5)]

    def run(outs: list[inputs.EvalOutput]) -> llm_scoring.Verdict:
        return score(gold, outs, baseline=inputs.Baseline(1.0, {}, "t"), tolerance=0.05,
                     token_budget=0.2, samples=5, allow_no_token_baseline=True)

    # 2 failed samples of 50 (0.96): noise, passes; half the samples of every case fail: fails.
    assert run(outputs(2)).passed
    noisy = [o if n % 2 else inputs.EvalOutput(o.id, "y", 10, 2, o.line)
             for n, o in enumerate(outputs(0))]
    verdict = run(noisy)
    assert not verdict.passed
    assert verdict.failures[0].startswith("score: pass rate 0.500 (25/50 samples, 95% CI 0.366-0.634)")
    assert "the whole interval is below the tolerance band" in verdict.failures[0]
    missing = [o for n, o in enumerate(outputs(0)) if not (o.id == "3" and n % 5 < 2)]
    assert {c.id: c.detail for c in run(missing).cases if not c.passed} == {
        "3": "3/5 samples pass; 2 of 5 samples missing"}


def test_more_samples_than_declared_is_bad_input(tmp_path: Path) -> None:
    line = {"id": "a", "output": "x", "usage": {"prompt_tokens": 1, "completion_tokens": 1}}
    path = write_lines(tmp_path / "o.jsonl", [line, line, line])
    assert len(inputs.load_outputs(path, samples=3)) == 3
    with pytest.raises(SpecError, match="more than the 2 samples per case"):
        inputs.load_outputs(path, samples=2)


# --- malformed input fails safe (issue 14, point 9) ----------------------------------------------

def test_llm_score_on_deeply_nested_json_exits_2_not_3(tmp_path: Path) -> None:
    outputs = tmp_path / "deep.jsonl"
    outputs.write_text('{"id": "a", "output": ' + "[" * 100_000 + "]" * 100_000 + "}\n", encoding="utf-8")
    result = gate_invoke("llm-score", "--outputs", str(outputs), "--gold", str(GOLD))
    assert result.exit_code == 2, result.output
    assert "nested deeper than 64 levels" in result.output


def test_llm_score_on_a_redos_schema_pattern_returns_within_a_bound(tmp_path: Path) -> None:
    schema = tmp_path / "redos.schema.json"
    schema.write_text(json.dumps({"properties": {"answer": {"pattern": "^(a|aa)+$"}}}), encoding="utf-8")
    outputs = write_lines(tmp_path / "o.jsonl", [{"id": "capital-fr", "output": {"answer": "a" * 60 + "b"},
                                                  "usage": {"prompt_tokens": 1, "completion_tokens": 1}}])
    started = time.monotonic()
    result = gate_invoke("llm-score", "--outputs", str(outputs), "--gold", str(GOLD), "--schema", str(schema))
    assert time.monotonic() - started < 30  # the pattern alone would run for hours
    assert result.exit_code == 2, result.output
    assert "ran longer than 0.25 s (catastrophic backtracking?)" in result.output


@pytest.mark.parametrize("kind", ["dev-zero", "fifo", "directory"])
def test_llm_score_refuses_non_regular_files_at_once(tmp_path: Path, kind: str) -> None:
    if kind == "dev-zero":
        path = Path("/dev/zero")
    elif kind == "fifo":
        path = tmp_path / "outputs.fifo"
        os.mkfifo(path)  # opening it would block until a writer comes
    else:
        path = tmp_path
    with pytest.raises(SpecError, match="is not a regular file"):
        inputs.load_outputs(path)
    result = gate_invoke("llm-score", "--outputs", str(GOLD), "--gold", str(path)) if kind != "directory" \
        else None
    assert result is None or (result.exit_code == 2 and "not a regular file" in result.output)


# --- shadow traffic compares with the live answers (issue 14, point 4) ----------------------------

def shadow_files(tmp_path: Path, live: dict[str, object], candidate: dict[str, object]) -> list[str]:
    usage = {"prompt_tokens": 1, "completion_tokens": 1}
    live_path = write_lines(tmp_path / "live.jsonl", [{"id": k, "output": v, "usage": usage}
                                                      for k, v in live.items()])
    new_path = write_lines(tmp_path / "shadow.jsonl", [{"id": k, "output": v, "usage": usage}
                                                       for k, v in candidate.items()])
    return ["--live", str(live_path), "--candidate", str(new_path)]


def test_shadow_answers_that_agree_with_the_live_ones_pass_without_gold(tmp_path: Path) -> None:
    # Live prompts have no gold ids: the old scorer read 0 of N as scored and failed every time.
    files = shadow_files(tmp_path, {"p1": "Paris is the capital of France.", "p2": "42"},
                         {"p1": "Paris is the capital of France", "p2": "42"})
    result = gate_invoke("llm-shadow", *files)
    assert result.exit_code == 0, result.output
    assert "LLM shadow: PASS (100.0% of 2 prompt(s) agree)" in result.output


def test_shadow_answers_that_drift_fail(tmp_path: Path) -> None:
    files = shadow_files(tmp_path, {"p1": "Paris is the capital of France.", "p2": "42"},
                         {"p1": "I cannot help with that.", "p2": "42"})
    result = gate_invoke("llm-shadow", *files)
    assert result.exit_code == 1
    assert "agrees with the live one on 50.0% of 2 prompt(s), below 90.0%" in result.output


def test_shadow_with_no_shared_prompt_fails_and_schema_is_checked(tmp_path: Path) -> None:
    result = gate_invoke("llm-shadow", *shadow_files(tmp_path, {"p1": "a"}, {"other": "a"}))
    assert result.exit_code == 1 and "nothing was compared" in result.output
    schema = tmp_path / "s.json"
    schema.write_text('{"type": "object"}', encoding="utf-8")
    result = gate_invoke("llm-shadow", *shadow_files(tmp_path, {"p1": "a"}, {"p1": "a"}),
                         "--schema", str(schema))
    assert result.exit_code == 1 and "schema: $: 'a' is not of type 'object'" in result.output
