"""The LLM scorer's outputs: a Markdown summary (for $GITHUB_STEP_SUMMARY), a JSON report,
and the plain-text lines printed to the log."""

from __future__ import annotations

import json
import os
from pathlib import Path

from harden_ci.errors import Location, SpecError
from harden_ci.gates.llm_scoring import CaseResult, Verdict

MAX_ROWS = 500  # the step summary is capped at 1 MiB; the JSON report has every case


def cell(text: str, limit: int = 120) -> str:
    """Text safe inside a Markdown table cell: one line, pipes escaped, bounded length."""
    text = " ".join(text.split())
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("<", "&lt;")


def _tokens(case: CaseResult) -> str:
    if case.tokens is None:
        return "-"
    if case.baseline_tokens is None:
        return str(case.tokens)
    return f"{case.tokens} (baseline {case.baseline_tokens})"


def markdown(verdict: Verdict, title: str = "LLM eval") -> str:
    lines = [f"### {cell(title)}: {'✅ pass' if verdict.passed else '❌ fail'}", ""]
    lines += ["| rule | value | limit | result |", "|---|---|---|---|"]
    for rule in verdict.rules:
        lines.append(f"| {rule.name} | {cell(rule.value)} | {cell(rule.limit)} | "
                     f"{'✅ pass' if rule.passed else '❌ fail'} |")
    lines += ["", f"Baseline: {cell(verdict.baseline.source)}", ""]
    lines += [f"> ⚠️ {cell(note, 400)}" for note in verdict.notes]
    if verdict.notes:
        lines.append("")
    lines += ["| case | match kind | result | tokens |", "|---|---|---|---|"]
    rows = [*verdict.cases, *verdict.extra]
    for case in rows[:MAX_ROWS]:
        result = "✅ pass" if case.passed and case.match else "❌ " + case.detail
        if case.match is None:
            result = ("⚠️ " if case.passed else "❌ ") + case.detail
        lines.append(f"| {cell(case.id, 60)} | {case.match or '-'} | {cell(result)} | "
                     f"{_tokens(case)} |")
    if len(rows) > MAX_ROWS:
        lines.append(f"\n… {len(rows) - MAX_ROWS} more cases in the JSON report.")
    return "\n".join(lines) + "\n"


def report(verdict: Verdict) -> dict[str, object]:
    def case(c: CaseResult) -> dict[str, object]:
        return {"id": c.id, "match": c.match, "passed": c.passed, "detail": c.detail,
                "schema_errors": list(c.schema_errors), "tokens": c.tokens,
                "baseline_tokens": c.baseline_tokens}

    return {
        "gate": "llm-score",
        "passed": verdict.passed,
        "failures": verdict.failures,
        "rules": [{"name": r.name, "passed": r.passed, "value": r.value, "limit": r.limit,
                   "message": r.message} for r in verdict.rules],
        "pass_rate": verdict.pass_rate,
        "samples": verdict.samples,
        "pass_rate_interval": list(verdict.interval),
        "passed_cases": verdict.passed_cases,
        "total_cases": len(verdict.cases),
        "baseline": {"source": verdict.baseline.source, "score": verdict.baseline.score},
        "tolerance": verdict.tolerance,
        "tokens": {"total": verdict.total_tokens, "baseline": verdict.baseline_tokens,
                   "budget": verdict.token_budget, "limit": verdict.token_limit},
        "schema": verdict.schema_source,
        "notes": verdict.notes,
        "cases": [case(c) for c in verdict.cases],
        "extra_outputs": [case(c) for c in verdict.extra],
    }


def log_lines(verdict: Verdict) -> list[str]:
    """What the step prints: one line per rule, failing cases, then the verdict.

    Failures and warnings also go out as GitHub workflow commands (`::error::`) so they show
    as annotations; the messages hold no secrets and are single lines.
    """
    lines = [f"{'ok  ' if r.passed else 'FAIL'} {r.message}" for r in verdict.rules]
    lines += [f"     case {c.id}: {c.detail}" for c in verdict.cases if not c.passed][:20]
    lines += [f"::warning title=LLM eval::{_command_text(n)}" for n in verdict.notes]
    lines += [f"::error title=LLM eval::{_command_text(m)}" for m in verdict.failures]
    lines.append(f"LLM eval: {'PASS' if verdict.passed else 'FAIL'}")
    return lines


def _command_text(text: str) -> str:
    """Escape a message for a workflow command (GitHub's own escaping of %, CR and LF)."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def append_step_summary(text: str) -> bool:
    """Append Markdown to $GITHUB_STEP_SUMMARY when the variable is set; True if written."""
    target = os.environ.get("GITHUB_STEP_SUMMARY")
    if not target:
        return False
    write_text(Path(target), text, append=True)
    return True


def write_text(path: Path, text: str, *, append: bool = False) -> None:
    try:
        if append:
            with path.open("a", encoding="utf-8") as handle:
                handle.write(text)
        else:
            tmp = path.with_name(f".{path.name}.tmp")
            tmp.write_text(text, encoding="utf-8")
            os.replace(tmp, path)
    except OSError as exc:
        raise SpecError(f"cannot write ({exc.strerror})", location=Location(str(path))) from None


def write_json(path: Path, data: object) -> None:
    write_text(path, json.dumps(data, indent=2, ensure_ascii=False) + "\n")
