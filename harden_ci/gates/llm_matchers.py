"""The LLM scorer's matchers beyond string equality: `regex`, `similarity`, `tool_call` and
`rubric` (judged by the user's own judge command).

* regex      — the expected string is a pattern (the `regex` engine, bounded in time); the
               output matches when the pattern is found anywhere in it (`ignore_case` allowed;
               anchor with ^…$ for a full match). A pattern that runs past its time limit stops
               the gate with exit 2, not a hang.
* similarity — difflib's SequenceMatcher ratio (Ratcliff/Obershelp, 0..1) between the output
               and the expected string, after folding case and whitespace, must reach the case's
               `threshold` (default 0.8). The standard library is enough here: the ratio is the
               metric rapidfuzz's `ratio` computes too, and outputs are short, so the extra
               binary dependency would buy speed the gate does not need. Inputs past
               MAX_SIMILARITY_CHARS are cut, which bounds the quadratic worst case.
* tool_call  — the output holds a tool call (OpenAI style `tool_calls: [{function: {name,
               arguments}}]`, or `{name, arguments}` items, or one such object) whose function
               name equals `expected.name` and whose arguments (an object, or a string holding
               one) match the JSON Schema `expected.arguments` (draft 2020-12), when given.
* rubric     — the judge command reads one JSON object on stdin ({"id", "rubric", "output",
               "prompt"}: the pinned prompt file's text) with HARDEN_CI_SEED set to the judge's
               own seed, and prints {"score": 0..1, "reason": "…"}; the case passes when the
               score reaches its `threshold` (default 0.5). The prompt file is pinned by its
               SHA-256: a different file is refused (exit 2), so a silent prompt edit cannot move
               the verdicts. A judge that fails or prints anything else stops the gate (exit 2).
"""

from __future__ import annotations

import difflib
import hashlib
import json
import math
from dataclasses import dataclass
from pathlib import Path

from harden_ci.errors import SpecError
from harden_ci.gates import auth_http, bounded_input
from harden_ci.gates.llm_schema import SchemaValidator, is_number, short, type_name

MAX_SIMILARITY_CHARS = 4000


def _text(value: object) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, sort_keys=True)


def match_regex(output: object, pattern: str, ignore_case: bool = False) -> tuple[bool, str]:
    compiled = bounded_input.compile_pattern(("(?i)" if ignore_case else "") + pattern, "the pattern")
    text = _text(output)
    try:
        found = bounded_input.search(compiled, text)
    except bounded_input.PatternTimeout as exc:
        raise SpecError(f"{exc}; simplify the gold case's pattern") from None
    return (True, "match") if found else (False, f"pattern {pattern!r} not found in {short(text, 40)}")


def _fold(text: str) -> str:
    return " ".join(text.casefold().split())[:MAX_SIMILARITY_CHARS]


def similarity(a: str, b: str) -> float:
    return difflib.SequenceMatcher(None, _fold(a), _fold(b), autojunk=False).ratio()


def match_similarity(output: object, expected: str, threshold: float) -> tuple[bool, str]:
    ratio = similarity(_text(output), expected)
    verdict = ratio + 1e-9 >= threshold
    return verdict, ("match" if verdict else
                     f"similarity {ratio:.2f} < {threshold:g} to {short(expected, 40)}")


def _calls(output: object) -> list[dict[str, object]]:
    from harden_ci.gates.llm_inputs import decode_structured

    value = decode_structured(output)
    if isinstance(value, dict) and isinstance(value.get("tool_calls"), list):
        value = value["tool_calls"]
    items = value if isinstance(value, list) else [value]
    calls = []
    for item in items:
        if isinstance(item, dict) and isinstance(item.get("function"), dict):
            item = item["function"]
        if isinstance(item, dict) and isinstance(item.get("name"), str):
            calls.append(item)
    return calls


def match_tool_call(output: object, name: str, arguments: SchemaValidator | None) -> tuple[bool, str]:
    from harden_ci.gates.llm_inputs import decode_structured

    calls = _calls(output)
    if not calls:
        return False, f"no tool call in the output ({type_name(output)} {short(output, 40)})"
    named = [c for c in calls if c["name"] == name]
    if not named:
        return False, f"no call to {name!r} (called: {', '.join(str(c['name']) for c in calls)})"
    problems = ""
    for call in named:
        args = decode_structured(call.get("arguments", {}))
        if not isinstance(args, dict):
            problems = f"arguments are {type_name(args)}, not an object"
            continue
        errors = arguments.errors(args) if arguments else []
        if not errors:
            return True, "match"
        problems = f"arguments: {errors[0]}"
    return False, f"call to {name!r}: {problems}"


@dataclass(frozen=True)
class Judge:
    """The user's judge command, its own seed and its pinned prompt."""

    argv: list[str]
    seed: int
    prompt_path: Path
    prompt: str
    prompt_sha256: str
    timeout: float = 120.0

    @classmethod
    def load(cls, argv: list[str], seed: int, prompt_path: Path, pinned_sha256: str,
             timeout: float = 120.0) -> Judge:
        data = bounded_input.read_bytes(prompt_path, "judge prompt", 1 << 20)
        digest = hashlib.sha256(data).hexdigest()
        if digest != pinned_sha256.strip().lower():
            raise SpecError(f"the judge prompt {prompt_path} has SHA-256 {digest}, not the pinned "
                            f"{pinned_sha256}", hint="review the prompt change, then update the "
                                                    "pinned hash in the spec")
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            raise SpecError(f"the judge prompt {prompt_path} is not UTF-8") from None
        return cls(argv, seed, prompt_path, text, digest, timeout)

    def score(self, case_id: str, rubric: str, output: object) -> tuple[float, str]:
        request = json.dumps({"id": case_id, "rubric": rubric, "output": output,
                              "prompt": self.prompt}, ensure_ascii=False)
        result = auth_http.run_command(self.argv, timeout=self.timeout, what="judge command",
                                       stdin_text=request, env={"HARDEN_CI_SEED": str(self.seed)})
        if result.returncode != 0:
            status = "timed out" if result.returncode is None else f"exited {result.returncode}"
            raise SpecError(f"the judge command {status} on case {case_id!r} "
                            f"({result.tail() or 'no stderr'})")
        try:
            answer = bounded_input.loads(result.stdout[: 1 << 20])
        except ValueError as exc:
            raise SpecError(f"the judge command printed no JSON object for case {case_id!r} "
                            f"({exc})") from None
        value = answer.get("score") if isinstance(answer, dict) else None
        if not (is_number(value) and math.isfinite(value) and 0 <= value <= 1):
            raise SpecError(f"the judge command must print {{\"score\": 0..1}} for case {case_id!r}, "
                            f"not {short(answer, 60)}")
        reason = answer.get("reason") if isinstance(answer, dict) else None
        return float(value), str(reason) if isinstance(reason, str) else ""


def match_rubric(judge: Judge | None, case_id: str, rubric: str, output: object,
                 threshold: float) -> tuple[bool, str]:
    if judge is None:
        raise SpecError(f"gold case {case_id!r} is a rubric case, so a judge command is needed",
                        hint="pass --judge-command, --judge-prompt and --judge-prompt-sha256")
    value, reason = judge.score(case_id, rubric, output)
    if value + 1e-9 >= threshold:
        return True, "match"
    return False, f"judge score {value:g} < {threshold:g}" + (f" ({short(reason, 60)})" if reason else "")
