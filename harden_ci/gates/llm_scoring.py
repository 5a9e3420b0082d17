"""The LLM eval scorer: match each output against its gold answer, check every output against
the JSON Schema, and decide the gate from three rules.

Rules (each is reported, with its numbers, in the summary and the JSON report):
* schema — every output (gold case or not) matches the schema, when one is given;
* score  — the pass rate (cases that match their gold answer and the schema, over all gold
  cases; a gold case with no output fails) is at least baseline score - tolerance. With
  repeated sampling (`samples` > 1) every output of a case is scored and the rule reads the
  Wilson interval of the sample pass rate: it fails when the whole interval lies below the
  band, so one unlucky sample does not fail a release while a real regression does;
* tokens — the total tokens (prompt + completion; per case, the mean over its samples) of the
  cases that have a baseline token count is at most the sum of those baselines x (1 + token
  budget). With no baseline token count at all the rule FAILS, unless the spec allows it
  (`allow_no_token_baseline`): an unchecked budget must not read as a kept one.

Match kinds:
* exact — strings equal after trimming surrounding whitespace (and case, with
  `ignore_case`); any other expected value equals the output as JSON (1 == 1.0, a string
  output holding a JSON object or array is decoded first);
* contains — the expected string occurs in the output (a non-string output is compared as
  compact JSON);
* numeric — the output is a number, or a string that is exactly one number (`42`, `-1.5e3`),
  within the case's tolerance of the expected number (default: equal up to 1e-9 relative);
* json_fields — the output is an object (or a string holding one) whose values at each of
  the case's `fields` equal the expected ones (numbers within the tolerance);
* regex, similarity, tool_call, rubric — harden_ci/gates/llm_matchers.py.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from statistics import NormalDist

from harden_ci.gates.llm_inputs import (
    Baseline,
    EvalOutput,
    GoldCase,
    MatchKind,
    Tolerance,
    decode_structured,
    lookup,
)
from harden_ci.gates.llm_matchers import (
    Judge,
    match_regex,
    match_rubric,
    match_similarity,
    match_tool_call,
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
    tokens: int | None = None  # None when the case produced no output (per sample, the mean)
    baseline_tokens: int | None = None
    samples: int = 1  # how many samples were expected
    samples_passed: int = 0


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
    interval: tuple[float, float] = (0.0, 1.0)  # Wilson interval of the sample pass rate
    samples: int = 1

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


def match_case(case: GoldCase, output: object, judge: Judge | None = None) -> tuple[bool, str]:
    """(passed, detail) for one output against its gold case."""
    if case.match in ("regex", "similarity", "rubric"):
        assert isinstance(case.expected, str)
        if case.match == "regex":
            return match_regex(output, case.expected, case.ignore_case)
        if case.match == "similarity":
            return match_similarity(output, case.expected, case.threshold)
        return match_rubric(judge, case.id, case.expected, output, case.threshold)
    if case.match == "tool_call":
        assert isinstance(case.expected, dict)
        return match_tool_call(output, str(case.expected["name"]), case.arguments)
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


def wilson(successes: int, trials: int, confidence: float = 0.95) -> tuple[float, float]:
    """The Wilson score interval of a pass rate (sound at 0 and n successes, unlike the
    normal approximation); (0, 1) when there are no trials."""
    if trials == 0:
        return 0.0, 1.0
    z = NormalDist().inv_cdf(0.5 + confidence / 2)
    p = successes / trials
    denominator = 1 + z * z / trials
    centre = (p + z * z / (2 * trials)) / denominator
    half = z * math.sqrt(p * (1 - p) / trials + z * z / (4 * trials * trials)) / denominator
    return max(0.0, centre - half), min(1.0, centre + half)


def _judge_case(case: GoldCase, outs: list[EvalOutput], samples: int,
                schema: SchemaValidator | None, judge: Judge | None,
                base: int | None) -> CaseResult:
    if not outs:
        return CaseResult(case.id, case.match, False, "no output for this case",
                          baseline_tokens=base, samples=samples)
    passed = 0
    details: list[str] = []
    errors: tuple[str, ...] = ()
    for out in outs:
        found = tuple(schema.errors(decode_structured(out.output))) if schema else ()
        ok, detail = match_case(case, out.output, judge)
        if found:
            errors = errors or found
            ok, detail = False, f"schema: {found[0]}" + (f"; {detail}" if detail != "match" else "")
        passed += ok
        if not ok:
            details.append(detail)
    missing = samples - len(outs)
    if missing:
        details.append(f"{missing} of {samples} samples missing")
    tokens = round(sum(o.tokens for o in outs) / len(outs))
    if samples == 1:
        detail = details[0] if details else "match"
    else:
        detail = f"{passed}/{samples} samples pass" + (f"; {details[0]}" if details else "")
    return CaseResult(case.id, case.match, passed == samples, detail, errors, tokens, base,
                      samples, passed)


def score(gold: list[GoldCase], outputs: list[EvalOutput], *, baseline: Baseline,
          tolerance: float, token_budget: float, schema: SchemaValidator | None = None,
          judge: Judge | None = None, samples: int = 1, confidence: float = 0.95,
          allow_no_token_baseline: bool = False) -> Verdict:
    """Score every gold case (each `samples` times) and apply the three rules."""
    by_id: dict[str, list[EvalOutput]] = {}
    for o in outputs:
        by_id.setdefault(o.id, []).append(o)
    gold_ids = {c.id for c in gold}

    def schema_errors(output: EvalOutput) -> tuple[str, ...]:
        return tuple(schema.errors(decode_structured(output.output))) if schema else ()

    cases = [_judge_case(case, by_id.get(case.id, []), samples, schema, judge,
                         baseline.tokens.get(case.id)) for case in gold]
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
    trials = len(cases) * samples
    passed_samples = sum(c.samples_passed for c in cases)
    rate = passed_samples / trials
    floor = baseline.score - tolerance
    floor_text = f"≥ {max(floor, 0):.3f} (baseline {baseline.score:.3f} - tolerance {tolerance:g})"
    if samples == 1:
        interval = wilson(passed_samples, trials, confidence)
        rate_text = f"{rate:.3f} ({passed_cases}/{len(cases)})"
        rule_ok = rate + EPSILON >= floor
        message = (f"score: pass rate {rate_text} is " + ("within" if rule_ok else "below")
                   + f" the tolerance band {floor_text}")
    else:
        # Repeated samples: the verdict reads the pass rate's Wilson interval. It fails when
        # the whole interval lies below the band (a regression beyond sampling noise).
        interval = wilson(passed_samples, trials, confidence)
        low, high = interval
        rate_text = (f"{rate:.3f} ({passed_samples}/{trials} samples, {confidence:.0%} CI "
                     f"{low:.3f}-{high:.3f})")
        rule_ok = high + EPSILON >= floor
        message = (f"score: pass rate {rate_text}: " + (
            "the interval reaches" if rule_ok else "the whole interval is below")
            + f" the tolerance band {floor_text}")
    rules.append(Rule("score", rule_ok, rate_text, floor_text, message))

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
        how = ("add `tokens` to the gold lines or commit a baseline file "
               "(harden-ci gate llm-score --write-baseline)")
        if allow_no_token_baseline:
            notes.append(f"no case has a baseline token count, so the token budget was not "
                         f"checked (allowed by the spec); {how}")
        else:
            rules.append(Rule("tokens", False, f"{total} (no baseline)", "a baseline is needed",
                              f"token budget: no case has a baseline token count, so the budget "
                              f"cannot be checked; {how}, or allow it explicitly "
                              "(--allow-no-token-baseline)"))
    if extra:
        notes.append(f"{len(extra)} output(s) have no gold case and were not scored: "
                     + ", ".join(c.id for c in extra[:5]) + ("…" if len(extra) > 5 else ""))
    return Verdict(cases=cases, extra=extra, rules=rules, passed_cases=passed_cases, pass_rate=rate,
                   total_tokens=total, baseline_tokens=base_total, token_limit=limit,
                   baseline=baseline, tolerance=tolerance, token_budget=token_budget,
                   schema_source=schema.source if schema else None, notes=notes,
                   interval=interval, samples=samples)


def baseline_from(verdict: Verdict, outputs: list[EvalOutput]) -> dict[str, object]:
    """A baseline file's content recording this run: its pass rate and per-case tokens."""
    gold_ids = {c.id for c in verdict.cases}
    return {"score": round(verdict.pass_rate, 6),
            "tokens": {o.id: o.tokens for o in outputs if o.id in gold_ids}}
