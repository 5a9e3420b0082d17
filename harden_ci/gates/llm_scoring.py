"""The LLM eval scorer: match each output against its gold answer, check every output against
the JSON Schema, and decide the gate from three rules.

Rules (each is reported, with its numbers, in the summary and the JSON report):
* schema — every output (gold case or not) matches the schema, when one is given;
* score  — the pass rate (cases that match their gold answer and the schema, over all gold
  cases; a gold case with no output fails) is at least baseline score - tolerance;
* tokens — the total tokens (prompt + completion) of the cases that have a baseline token
  count is at most the sum of those baselines x (1 + token budget). Cases without a baseline
  count are not compared; with none at all the rule is skipped with a warning.

Match kinds:
* exact — strings equal after trimming surrounding whitespace (and case, with
  `ignore_case`); any other expected value equals the output as JSON (1 == 1.0, a string
  output holding a JSON object or array is decoded first);
* contains — the expected string occurs in the output (a non-string output is compared as
  compact JSON);
* numeric — the output is a number, or a string that is exactly one number (`42`, `-1.5e3`),
  within the case's tolerance of the expected number (default: equal up to 1e-9 relative);
* json_fields — the output is an object (or a string holding one) whose values at each of
  the case's `fields` equal the expected ones (numbers within the tolerance).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

from harden_ci.gates.llm_inputs import (
    Baseline,
    EvalOutput,
    GoldCase,
    MatchKind,
    Tolerance,
    decode_structured,
    lookup,
)
from harden_ci.gates.llm_schema import SchemaValidator, is_number, json_equal, short, type_name

_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
EPSILON = 1e-9  # float noise in rate and budget comparisons (0.95 vs 1 - 0.05)


@dataclass(frozen=True)
class CaseResult:
    id: str
    match: MatchKind | None  # None for an output that has no gold case
    passed: bool
    detail: str  # "match", or why the case failed
    schema_errors: tuple[str, ...] = ()
    tokens: int | None = None  # None when the case produced no output
    baseline_tokens: int | None = None


@dataclass(frozen=True)
class Rule:
    name: str  # schema | score | tokens
    passed: bool
    value: str
    limit: str
    message: str


@dataclass(frozen=True)
class Verdict:
    cases: list[CaseResult]
    extra: list[CaseResult]  # outputs whose id is not in the gold file
    rules: list[Rule]
    passed_cases: int
    pass_rate: float
    total_tokens: int  # of the compared cases
    baseline_tokens: int | None
    token_limit: float | None
    baseline: Baseline
    tolerance: float
    token_budget: float
    schema_source: str | None
    notes: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return all(rule.passed for rule in self.rules)

    @property
    def failures(self) -> list[str]:
        return [rule.message for rule in self.rules if not rule.passed]


# --- match kinds ----------------------------------------------------------------------------

def _norm(text: str, ignore_case: bool) -> str:
    text = text.strip()
    return text.casefold() if ignore_case else text


def match_exact(output: object, expected: object, ignore_case: bool = False) -> tuple[bool, str]:
    if isinstance(expected, str):
        if not isinstance(output, str):
            return False, f"expected a string, got {type_name(output)} {short(output, 40)}"
        if _norm(output, ignore_case) == _norm(expected, ignore_case):
            return True, "match"
        return False, f"expected {short(expected, 40)}, got {short(output, 40)}"
    got = decode_structured(output)
    if json_equal(got, expected):
        return True, "match"
    return False, f"expected {short(expected, 40)}, got {short(got, 40)}"


def match_contains(output: object, expected: str, ignore_case: bool = False) -> tuple[bool, str]:
    text = output if isinstance(output, str) else short(output, 1 << 30)
    if _norm(expected, ignore_case) in (text.casefold() if ignore_case else text):
        return True, "match"
    return False, f"{short(expected, 40)} not found in {short(text, 40)}"


def as_number(value: object) -> float | None:
    """A number, or a string that is exactly one decimal number; anything else is None."""
    if is_number(value):
        return float(value)
    if isinstance(value, str) and _NUMBER.fullmatch(value.strip()):
        number = float(value.strip())
        return number if math.isfinite(number) else None
    return None


def match_numeric(output: object, expected: float, tolerance: Tolerance | None = None) -> tuple[bool, str]:
    tolerance = tolerance or Tolerance()
    got = as_number(output)
    if got is None:
        return False, f"expected a number, got {type_name(output)} {short(output, 40)}"
    if tolerance.close(got, float(expected)):
        return True, "match"
    return False, f"expected {expected:g} ({tolerance}), got {got:g}"


def _has_number(value: object) -> bool:
    if isinstance(value, dict):
        return any(_has_number(v) for v in value.values())
    if isinstance(value, list):
        return any(_has_number(v) for v in value)
    return is_number(value)


def _close(got: object, want: object, tolerance: Tolerance | None, ignore_case: bool) -> bool:
    """JSON equality, with numbers (at any depth) within the tolerance when one is given and
    strings compared without case when asked."""
    if is_number(want) and tolerance is not None:
        number = as_number(got) if not isinstance(got, bool) else None
        return number is not None and tolerance.close(number, float(want))
    if isinstance(want, str) and isinstance(got, str) and ignore_case:
        return got.casefold() == want.casefold()
    if isinstance(want, dict) and isinstance(got, dict):
        return got.keys() == want.keys() and all(
            _close(got[k], want[k], tolerance, ignore_case) for k in want)
    if isinstance(want, list) and isinstance(got, list):
        return len(got) == len(want) and all(
            _close(g, w, tolerance, ignore_case) for g, w in zip(got, want, strict=True))
    return json_equal(got, want)


def match_json_fields(output: object, expected: dict[str, object], fields: tuple[str, ...],
                      tolerance: Tolerance | None = None, ignore_case: bool = False) -> tuple[bool, str]:
    got = decode_structured(output)
    if not isinstance(got, dict):
        return False, f"expected a JSON object, got {type_name(got)} {short(got, 40)}"
    problems: list[str] = []
    for name in fields:
        want = lookup(expected, name)[1]
        found, value = lookup(got, name)
        if not found:
            problems.append(f"{name}: missing")
        elif not _close(value, want, tolerance, ignore_case):
            how = f" ({tolerance})" if tolerance is not None and _has_number(want) else ""
            problems.append(f"{name}: expected {short(want, 30)}{how}, got {short(value, 30)}")
    if problems:
        more = f" (+{len(problems) - 3} more)" if len(problems) > 3 else ""
        return False, "; ".join(problems[:3]) + more
    return True, "match"


def match_case(case: GoldCase, output: object) -> tuple[bool, str]:
    """(passed, detail) for one output against its gold case."""
    if case.match == "exact":
        return match_exact(output, case.expected, case.ignore_case)
    if case.match == "contains":
        assert isinstance(case.expected, str)
        return match_contains(output, case.expected, case.ignore_case)
    if case.match == "numeric":
        assert is_number(case.expected)
        return match_numeric(output, case.expected, case.tolerance)
    assert isinstance(case.expected, dict)
    explicit = case.tolerance if case.tolerance != Tolerance() else None
    return match_json_fields(output, case.expected, case.fields, explicit, case.ignore_case)


# --- the verdict ----------------------------------------------------------------------------

def _pct(value: float) -> str:
    return f"{value * 100:.1f}%"


def score(gold: list[GoldCase], outputs: list[EvalOutput], *, baseline: Baseline,
          tolerance: float, token_budget: float, schema: SchemaValidator | None = None) -> Verdict:
    """Score every gold case and apply the three rules."""
    by_id = {o.id: o for o in outputs}
    gold_ids = {c.id for c in gold}

    def schema_errors(output: EvalOutput) -> tuple[str, ...]:
        return tuple(schema.errors(decode_structured(output.output))) if schema else ()

    cases: list[CaseResult] = []
    for case in gold:
        out = by_id.get(case.id)
        base = baseline.tokens.get(case.id)
        if out is None:
            cases.append(CaseResult(case.id, case.match, False, "no output for this case",
                                    baseline_tokens=base))
            continue
        errors = schema_errors(out)
        ok, detail = match_case(case, out.output)
        if errors:
            ok, detail = False, f"schema: {errors[0]}" + (f"; {detail}" if detail != "match" else "")
        cases.append(CaseResult(case.id, case.match, ok, detail, errors, out.tokens, base))
    extra = [CaseResult(o.id, None, not errs, "not in the gold file", errs, o.tokens)
             for o in outputs if o.id not in gold_ids for errs in [schema_errors(o)]]

    rules: list[Rule] = []
    notes: list[str] = []
    violating = [c for c in [*cases, *extra] if c.schema_errors]
    if schema is not None:
        listed = "; ".join(f"{c.id}: {c.schema_errors[0]}" for c in violating[:3])
        rules.append(Rule("schema", not violating, f"{len(violating)} violating",
                          "0 violating",
                          f"schema: {len(violating)} output(s) violate {schema.source} ({listed})"
                          if violating else f"schema: every output matches {schema.source}"))

    passed_cases = sum(c.passed for c in cases)
    rate = passed_cases / len(cases)
    floor = baseline.score - tolerance
    rate_text = f"{rate:.3f} ({passed_cases}/{len(cases)})"
    floor_text = f"≥ {max(floor, 0):.3f} (baseline {baseline.score:.3f} - tolerance {tolerance:g})"
    rule_ok = rate + EPSILON >= floor
    rules.append(Rule("score", rule_ok, rate_text, floor_text,
                      f"score: pass rate {rate_text} is "
                      + ("within" if rule_ok else "below") + f" the tolerance band {floor_text}"))

    compared = [c for c in cases if c.tokens is not None and c.baseline_tokens is not None]
    total = sum(c.tokens or 0 for c in compared)
    base_total: int | None = None
    limit: float | None = None
    if compared:
        base_total = sum(c.baseline_tokens or 0 for c in compared)
        limit = base_total * (1 + token_budget)
        growth = (total - base_total) / base_total if base_total else (math.inf if total else 0.0)
        ok = total <= limit + EPSILON
        rules.append(Rule(
            "tokens", ok, f"{total} ({'+' if growth >= 0 else ''}{_pct(growth)})",
            f"≤ {limit:.0f} (baseline {base_total} + {_pct(token_budget)})",
            f"token budget: {total} tokens over {len(compared)} case(s) is "
            f"{'+' if growth >= 0 else ''}{_pct(growth)} against the baseline {base_total}; "
            f"the budget allows +{_pct(token_budget)} (at most {limit:.0f})"))
    else:
        total = sum(c.tokens or 0 for c in cases)
        notes.append("no case has a baseline token count, so the token budget was not checked; "
                     "add `tokens` to the gold lines or commit a baseline file "
                     "(harden-ci gate llm-score --write-baseline)")
    if extra:
        notes.append(f"{len(extra)} output(s) have no gold case and were not scored: "
                     + ", ".join(c.id for c in extra[:5]) + ("…" if len(extra) > 5 else ""))
    return Verdict(cases=cases, extra=extra, rules=rules, passed_cases=passed_cases, pass_rate=rate,
                   total_tokens=total, baseline_tokens=base_total, token_limit=limit,
                   baseline=baseline, tolerance=tolerance, token_budget=token_budget,
                   schema_source=schema.source if schema else None, notes=notes)


def baseline_from(verdict: Verdict, outputs: list[EvalOutput]) -> dict[str, object]:
    """A baseline file's content recording this run: its pass rate and per-case tokens."""
    gold_ids = {c.id for c in verdict.cases}
    return {"score": round(verdict.pass_rate, 6),
            "tokens": {o.id: o.tokens for o in outputs if o.id in gold_ids}}
