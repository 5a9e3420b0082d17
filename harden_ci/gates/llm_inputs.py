"""The LLM scorer's input files: eval outputs and gold answers (JSON lines), the baseline
(JSON) and the output schema (JSON). Every problem is a SpecError naming file:line.

Eval outputs, one JSON object per line (what the eval command prints; blank lines skipped):
    {"id": "capital-fr", "output": "Paris", "usage": {"prompt_tokens": 52, "completion_tokens": 3}}
  `id` a non-empty string or an integer, unique (or, with `samples: N`, at most N lines per
  id, one per sample); `output` any JSON value (a string that
  starts with `{` or `[` is decoded as JSON for the schema and `json_fields`); `usage`
  required, two non-negative integers. Other keys (model, latency, …) are ignored.

Gold answers, one JSON object per line; unknown keys are errors:
    {"id": "capital-fr", "expected": "Paris", "match": "exact", "tokens": 55}
  `match` exact | contains | numeric | json_fields | regex | similarity | rubric | tool_call
  (default exact; the last four: harden_ci/gates/llm_matchers.py); `threshold` (similarity
  and rubric) the score to reach, 0..1; `tolerance` (numeric and
  json_fields only) a number (absolute) or {"abs": x, "rel": y}; `fields` (json_fields only)
  dotted paths into `expected` to compare, default its top-level keys; `ignore_case` (exact,
  contains, json_fields strings); `tokens` this case's baseline token count.

Baseline (optional, JSON): {"score": 0.9, "tokens": {"capital-fr": 55, …}}, written by
`harden-ci gate llm-score --write-baseline`. It overrides the gold file's `tokens`; without
it the baseline score is 1.0 (every gold answer is right by definition).
"""

from __future__ import annotations

import difflib
import json
import math
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, cast

from harden_ci.errors import Location, SpecError
from harden_ci.gates import bounded_input
from harden_ci.gates.llm_schema import SchemaValidator, is_number, short, type_name

MatchKind = Literal["exact", "contains", "numeric", "json_fields", "regex", "similarity", "rubric",
                    "tool_call"]
MATCH_KINDS: tuple[MatchKind, ...] = ("exact", "contains", "numeric", "json_fields", "regex",
                                      "similarity", "rubric", "tool_call")
GOLD_KEYS = ("id", "expected", "match", "tolerance", "fields", "ignore_case", "tokens", "threshold")
DEFAULT_THRESHOLD = {"similarity": 0.8, "rubric": 0.5}
MAX_FILE_BYTES = bounded_input.MAX_FILE_BYTES


@dataclass(frozen=True)
class Tolerance:
    """Numbers are close when |got - expected| <= max(abs, rel * |expected|)."""

    abs: float = 0.0
    rel: float = 1e-9

    def close(self, got: float, expected: float) -> bool:
        return abs(got - expected) <= max(self.abs, self.rel * abs(expected))

    def __str__(self) -> str:
        parts = [f"abs {self.abs:g}"] if self.abs else []
        if self.rel and self.rel != 1e-9:
            parts.append(f"rel {self.rel:g}")
        return ", ".join(parts) or "exact"


@dataclass(frozen=True)
class EvalOutput:
    id: str
    output: object
    prompt_tokens: int
    completion_tokens: int
    line: int

    @property
    def tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens


@dataclass(frozen=True)
class GoldCase:
    id: str
    expected: object
    match: MatchKind
    tolerance: Tolerance
    fields: tuple[str, ...]
    ignore_case: bool
    tokens: int | None
    line: int
    threshold: float = 0.0  # similarity and rubric: the score a case must reach
    arguments: SchemaValidator | None = None  # tool_call: the arguments' JSON Schema


@dataclass(frozen=True)
class Baseline:
    score: float
    tokens: dict[str, int]
    source: str


def _fail(path: Path, line: int | None, message: str, hint: str | None = None) -> SpecError:
    return SpecError(message, location=Location(str(path), line), hint=hint)


def _loads(text: str) -> object:
    return bounded_input.loads(text)


def _read_text(path: Path, what: str) -> str:
    return bounded_input.read_text(path, what, MAX_FILE_BYTES)


def read_json_lines(path: Path, what: str) -> Iterator[tuple[int, dict[str, object]]]:
    """(line number, object) for every non-blank line; a line that is not a JSON object fails."""
    for number, raw in enumerate(_read_text(path, what).splitlines(), start=1):
        if not raw.strip():
            continue
        try:
            value = _loads(raw)
        except json.JSONDecodeError as exc:
            raise SpecError(f"malformed JSON line in the {what} file: {exc.msg}",
                            location=Location(str(path), number, exc.colno),
                            hint="each line must be one complete JSON object") from None
        except ValueError as exc:
            raise _fail(path, number, f"malformed JSON line in the {what} file: {exc}") from None
        if not isinstance(value, dict):
            raise _fail(path, number, f"each line of the {what} file must be a JSON object, "
                                      f"not {type_name(value)}")
        yield number, value


def read_json(path: Path, what: str) -> object:
    try:
        return _loads(_read_text(path, what))
    except ValueError as exc:
        line = getattr(exc, "lineno", None)
        raise _fail(path, line, f"the {what} file is not valid JSON: {exc}") from None


def _case_id(path: Path, line: int, value: object) -> str:
    if isinstance(value, str) and value.strip():
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    raise _fail(path, line, f"`id` must be a non-empty string or an integer, not {short(value, 40)}")


def _count(path: Path, line: int | None, key: str, value: object) -> int:
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    raise _fail(path, line, f"`{key}` must be a non-negative integer, not {short(value, 40)}")


def load_outputs(path: Path, samples: int = 1) -> list[EvalOutput]:
    """The eval command's outputs; each id appears at most `samples` times (one line per
    sample of a case when the eval repeats every case)."""
    outputs: list[EvalOutput] = []
    seen: dict[str, int] = {}
    counts: dict[str, int] = {}
    for line, obj in read_json_lines(path, "outputs"):
        case_id = _case_id(path, line, obj.get("id"))
        counts[case_id] = counts.get(case_id, 0) + 1
        if counts[case_id] > samples:
            more = f", more than the {samples} samples per case" if samples > 1 else ""
            raise _fail(path, line, f"duplicate id {case_id!r} (first on line {seen[case_id]}{more})")
        seen.setdefault(case_id, line)
        if "output" not in obj:
            raise _fail(path, line, f"case {case_id!r} has no `output`")
        usage = obj.get("usage")
        if not isinstance(usage, dict):
            raise _fail(path, line, f"case {case_id!r} needs `usage`: "
                                    '{"prompt_tokens": N, "completion_tokens": N}',
                        "the token budget is checked from it")
        outputs.append(EvalOutput(
            id=case_id, output=obj["output"], line=line,
            prompt_tokens=_count(path, line, "usage.prompt_tokens", usage.get("prompt_tokens")),
            completion_tokens=_count(path, line, "usage.completion_tokens",
                                     usage.get("completion_tokens"))))
    return outputs


def _tolerance(path: Path, line: int, value: object) -> Tolerance:
    if is_number(value) and value >= 0 and math.isfinite(value):
        return Tolerance(abs=float(value), rel=0.0)
    if isinstance(value, dict) and value and set(value) <= {"abs", "rel"}:
        parts = {k: v for k, v in value.items() if is_number(v) and 0 <= v < math.inf}
        if len(parts) == len(value):
            return Tolerance(abs=float(parts.get("abs", 0.0)), rel=float(parts.get("rel", 0.0)))
    raise _fail(path, line, f"`tolerance` must be a non-negative number (absolute) or "
                            f'{{"abs": x, "rel": y}}, not {short(value, 40)}')


def lookup(value: object, dotted: str) -> tuple[bool, object]:
    """(found, value) at a dotted path; a numeric part indexes a list."""
    node = value
    for part in dotted.split("."):
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            return False, None
    return True, node


def _gold_case(path: Path, line: int, obj: dict[str, object]) -> GoldCase:
    unknown = [k for k in obj if k not in GOLD_KEYS]
    if unknown:
        close = difflib.get_close_matches(unknown[0], GOLD_KEYS, n=1)
        raise _fail(path, line, f"unknown key {unknown[0]!r} in a gold line",
                    f"did you mean {close[0]!r}?" if close else "keys: " + ", ".join(GOLD_KEYS))
    case_id = _case_id(path, line, obj.get("id"))
    if "expected" not in obj:
        raise _fail(path, line, f"gold case {case_id!r} has no `expected`")
    expected, match = obj["expected"], obj.get("match", "exact")
    if match not in MATCH_KINDS:
        close = difflib.get_close_matches(str(match), MATCH_KINDS, n=1)
        raise _fail(path, line, f"`match` must be one of {', '.join(MATCH_KINDS)}, not {short(match)}",
                    f"did you mean {close[0]!r}?" if close else None)
    kind: MatchKind = match
    needs = {"contains": (isinstance(expected, str), "a string"),
             "regex": (isinstance(expected, str), "a string (the pattern)"),
             "similarity": (isinstance(expected, str), "a string"),
             "rubric": (isinstance(expected, str) and bool(expected.strip()), "the rubric text"),
             "tool_call": (isinstance(expected, dict) and isinstance(expected.get("name"), str)
                           and set(expected) <= {"name", "arguments"},
                           '{"name": "<function>", "arguments": <JSON Schema>}'),
             "numeric": (is_number(expected) and math.isfinite(cast(float, expected)), "a number"),
             "json_fields": (isinstance(expected, dict) and bool(expected), "a non-empty object")}
    ok, noun = needs.get(kind, (True, ""))
    if not ok:
        raise _fail(path, line, f"gold case {case_id!r}: `expected` must be {noun} for match "
                                f"{kind}, not {type_name(expected)}")
    if "tolerance" in obj and kind not in ("numeric", "json_fields"):
        raise _fail(path, line, f"gold case {case_id!r}: `tolerance` only applies to numeric and "
                                "json_fields matches")
    tolerance = _tolerance(path, line, obj["tolerance"]) if "tolerance" in obj else Tolerance()
    fields: tuple[str, ...] = ()
    if kind == "json_fields":
        raw = obj.get("fields", sorted(cast(dict[str, object], expected)))
        if not (isinstance(raw, list) and raw and all(isinstance(f, str) and f for f in raw)):
            raise _fail(path, line, f"gold case {case_id!r}: `fields` must be a non-empty list of "
                                    "dotted paths")
        for field in raw:
            if not lookup(expected, field)[0]:
                raise _fail(path, line, f"gold case {case_id!r}: field {field!r} is not in `expected`")
        fields = tuple(raw)
    elif "fields" in obj:
        raise _fail(path, line, f"gold case {case_id!r}: `fields` only applies to json_fields")
    ignore_case = obj.get("ignore_case", False)
    if not isinstance(ignore_case, bool):
        raise _fail(path, line, "`ignore_case` must be true or false")
    tokens = _count(path, line, "tokens", obj["tokens"]) if "tokens" in obj else None
    threshold = _threshold(path, line, case_id, kind, obj)
    arguments = None
    if kind == "regex":
        assert isinstance(expected, str)
        bounded_input.compile_pattern(expected, f"{path}:{line}: the pattern of gold case {case_id!r}")
    if kind == "tool_call":
        schema = cast(dict[str, object], expected).get("arguments")
        if schema is not None:
            arguments = SchemaValidator(schema, source=f"{path}:{line} (arguments of {case_id!r})")
    return GoldCase(id=case_id, expected=expected, match=kind, tolerance=tolerance, fields=fields,
                    ignore_case=ignore_case, tokens=tokens, line=line, threshold=threshold,
                    arguments=arguments)


def _threshold(path: Path, line: int, case_id: str, kind: MatchKind, obj: dict[str, object]) -> float:
    if kind not in DEFAULT_THRESHOLD:
        if "threshold" in obj:
            raise _fail(path, line, f"gold case {case_id!r}: `threshold` only applies to "
                                    "similarity and rubric matches")
        return 0.0
    value = obj.get("threshold", DEFAULT_THRESHOLD[kind])
    if not (is_number(value) and 0 <= value <= 1):
        raise _fail(path, line, f"gold case {case_id!r}: `threshold` must be a number from 0 to 1, "
                                f"not {short(value, 40)}")
    return float(value)


def load_gold(path: Path) -> list[GoldCase]:
    cases: list[GoldCase] = []
    seen: dict[str, int] = {}
    for line, obj in read_json_lines(path, "gold"):
        case = _gold_case(path, line, obj)
        if case.id in seen:
            raise _fail(path, line, f"duplicate gold id {case.id!r} (first on line {seen[case.id]})")
        seen[case.id] = line
        cases.append(case)
    if not cases:
        raise _fail(path, None, "the gold file has no cases")
    return cases


def load_baseline(path: Path) -> Baseline:
    data = read_json(path, "baseline")
    if not isinstance(data, dict) or not set(data) <= {"score", "tokens"} or "score" not in data:
        raise _fail(path, None, 'the baseline must be {"score": 0..1, "tokens": {"<id>": N, …}}',
                    "write one with `harden-ci gate llm-score --write-baseline FILE`")
    score, tokens = data["score"], data.get("tokens", {})
    if not (is_number(score) and 0 <= score <= 1):
        raise _fail(path, None, f"baseline `score` must be a number from 0 to 1, not {short(score)}")
    if not isinstance(tokens, dict):
        raise _fail(path, None, "baseline `tokens` must map case ids to token counts")
    counts = {str(k): _count(path, None, f"tokens.{k}", v) for k, v in tokens.items()}
    return Baseline(score=float(score), tokens=counts, source=str(path))


def default_baseline_path(gold: Path) -> Path:
    """Where a committed baseline sits by convention: evals/gold.jsonl → evals/gold.baseline.json."""
    return gold.with_name(gold.name.removesuffix(".jsonl").removesuffix(".json") + ".baseline.json")


def resolve_baseline(gold: list[GoldCase], gold_path: Path, baseline: Baseline | None) -> Baseline:
    """The baseline file when there is one; otherwise score 1.0 and the gold file's `tokens`."""
    if baseline is not None:
        return baseline
    tokens = {c.id: c.tokens for c in gold if c.tokens is not None}
    return Baseline(score=1.0, tokens=tokens, source=f"{gold_path} (score 1.0, per-case tokens)")


def load_schema(path: Path) -> SchemaValidator:
    return SchemaValidator(read_json(path, "schema"), source=str(path))


def decode_structured(value: object) -> object:
    """A string holding a JSON object or array (what LLMs print) becomes that value."""
    if isinstance(value, str) and value.lstrip()[:1] in ("{", "["):
        try:
            return _loads(value)
        except ValueError:
            return value
    return value
