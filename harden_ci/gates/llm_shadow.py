"""Shadow traffic: the new version answers the live prompts, and its answers are compared
with the live version's answers on the same prompts, not with gold answers (live prompts
have none).

Both files are eval outputs (JSON lines: id, output, usage; harden_ci/gates/llm_inputs.py),
paired by id. A pair agrees when the candidate's answer matches the JSON Schema (when given)
and is close to the live answer: difflib similarity at least the threshold, or, with a judge
command, the judge's score (the live answer is the rubric) at least the threshold. The gate
fails when the agreement rate is below the floor, and when no prompt was answered by both
versions (nothing compared is not a pass).
"""

from __future__ import annotations

from dataclasses import dataclass

from harden_ci.gates.llm_inputs import EvalOutput, decode_structured
from harden_ci.gates.llm_matchers import Judge, match_similarity
from harden_ci.gates.llm_schema import SchemaValidator, short


@dataclass(frozen=True)
class Pair:
    id: str
    agrees: bool
    detail: str


@dataclass(frozen=True)
class ShadowVerdict:
    pairs: list[Pair]
    unpaired: int  # live prompts the candidate did not answer
    rate: float
    floor: float
    reasons: list[str]

    @property
    def passed(self) -> bool:
        return not self.reasons


def compare(live: list[EvalOutput], candidate: list[EvalOutput], *, threshold: float, floor: float,
            schema: SchemaValidator | None = None, judge: Judge | None = None) -> ShadowVerdict:
    answers = {o.id: o for o in candidate}
    pairs: list[Pair] = []
    for old in live:
        new = answers.get(old.id)
        if new is None:
            continue
        errors = schema.errors(decode_structured(new.output)) if schema else []
        if errors:
            pairs.append(Pair(old.id, False, f"schema: {errors[0]}"))
            continue
        if judge is not None:
            score, _reason = judge.score(old.id, f"Says the same as this answer: {short(old.output, 2000)}",
                                        new.output)
            ok = score + 1e-9 >= threshold
            pairs.append(Pair(old.id, ok, "agrees" if ok else f"judge score {score:g} < {threshold:g}"))
            continue
        text = old.output if isinstance(old.output, str) else short(old.output, 1 << 20)
        ok, detail = match_similarity(new.output, text, threshold)
        pairs.append(Pair(old.id, ok, "agrees" if ok else detail))
    unpaired = len(live) - len(pairs)
    reasons: list[str] = []
    rate = sum(p.agrees for p in pairs) / len(pairs) if pairs else 0.0
    if not pairs:
        reasons.append(f"no live prompt was answered by the new version ({len(live)} live, "
                       f"{len(candidate)} shadow answers, no shared id): nothing was compared")
    elif rate + 1e-9 < floor:
        reasons.append(f"the new version agrees with the live one on {rate:.1%} of "
                       f"{len(pairs)} prompt(s), below {floor:.1%}")
    if pairs and unpaired:
        reasons.append(f"{unpaired} live prompt(s) got no shadow answer")
    return ShadowVerdict(pairs, unpaired, rate, floor, reasons)


__all__ = ["Pair", "ShadowVerdict", "compare"]
