"""`harden-ci gate llm-run` and `harden-ci gate llm-score`: the LLM checks of `tests.llm`.

The workflow runs the eval command through `llm-run` (fixed seed, outputs captured), then
scores the outputs with `llm-score` (schema, gold answers, tolerance band, token budget).
File formats: harden_ci/gates/llm_inputs.py; rules: harden_ci/gates/llm_scoring.py.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from harden_ci.gates.llm_matchers import Judge

_FILE = click.Path(path_type=Path, dir_okay=False)


@click.command("llm-run", context_settings={"ignore_unknown_options": True})
@click.option("--seed", type=click.IntRange(0, 2**31 - 1), required=True, envvar="HARDEN_CI_SEED",
              show_envvar=True, help="The fixed seed, passed to the command as HARDEN_CI_SEED.")
@click.option("--out", type=_FILE, required=True, envvar="HARDEN_CI_LLM_OUTPUTS", show_envvar=True,
              help="Where the command's stdout (the outputs, JSON lines) is written.")
@click.option("--timeout", type=click.FloatRange(min=1), default=3600.0, show_default=True,
              help="Seconds before the command is stopped and the gate fails.")
@click.argument("argv", nargs=-1, required=True, type=click.UNPROCESSED)
def llm_run(seed: int, out: Path, timeout: float, argv: tuple[str, ...]) -> None:
    """Run the eval command (the argv after `--`) with the fixed seed; its stdout becomes the
    outputs file. Exit 0 when it succeeds and prints well-formed outputs, 1 when it fails or
    times out, 2 when it cannot start or its output is malformed (file:line).

    \b
    Example:
      harden-ci gate llm-run --seed 7 --out outputs.jsonl -- python evals/run.py
      harden-ci gate llm-run --seed 7 --out outputs.jsonl -- bash -c "$LLM_COMMAND"
    """
    from harden_ci.cli import _run

    def verb() -> int:
        from harden_ci.gates.llm_run import run_eval

        result = run_eval(list(argv), seed=seed, out=out, timeout=timeout)
        if result.ok:
            click.echo(result.message)
            return 0
        click.echo(f"::error title=LLM eval::{result.message}")
        return 1

    _run(verb)


@click.command("llm-score")
@click.option("--outputs", type=_FILE, required=True, envvar="HARDEN_CI_LLM_OUTPUTS",
              show_envvar=True, help="The eval outputs (JSON lines: id, output, usage).")
@click.option("--gold", type=_FILE, required=True, envvar="HARDEN_CI_LLM_GOLD", show_envvar=True,
              help="The gold answers (JSON lines: id, expected, match, …).")
@click.option("--schema", type=_FILE, envvar="HARDEN_CI_LLM_SCHEMA", show_envvar=True,
              help="A JSON Schema every output must match.")
@click.option("--tolerance", type=click.FloatRange(0, 1), default=0.05, show_default=True,
              help="How far the pass rate may fall below the baseline score.")
@click.option("--token-budget", type=click.FloatRange(min=0), default=0.25, show_default=True,
              help="Allowed token growth over the baseline (0.25: more than +25% fails).")
@click.option("--baseline", type=_FILE,
              help="Baseline file {score, tokens}; default: <gold>.baseline.json beside the gold "
                   "file when it exists, else score 1.0 and the gold lines' `tokens`.")
@click.option("--report", type=_FILE, help="Write the full result as JSON here.")
@click.option("--write-baseline", type=_FILE,
              help="Also record this run's pass rate and per-case tokens as a new baseline.")
@click.option("--title", default="LLM eval", show_default=True, help="Heading of the summary.")
@click.option("--samples", type=click.IntRange(1, 1000), default=1, show_default=True,
              envvar="HARDEN_CI_LLM_SAMPLES", show_envvar=True,
              help="Outputs per case (the eval repeats each case); the score reads the Wilson "
                   "interval of the pass rate when above 1.")
@click.option("--confidence", type=click.FloatRange(0.5, 0.999), default=0.95, show_default=True,
              help="Confidence level of the pass rate's interval.")
@click.option("--allow-no-token-baseline", is_flag=True,
              help="Pass the token budget when no case has a baseline token count (default: fail).")
@click.option("--judge-command", envvar="HARDEN_CI_JUDGE_COMMAND", show_envvar=True,
              help="Scores rubric cases: a JSON argv or plain words (no shell).")
@click.option("--judge-seed", type=click.IntRange(0, 2**31 - 1), default=7, show_default=True,
              envvar="HARDEN_CI_JUDGE_SEED", show_envvar=True, help="The judge's own seed.")
@click.option("--judge-prompt", type=_FILE, envvar="HARDEN_CI_JUDGE_PROMPT", show_envvar=True,
              help="The judge's prompt file, pinned by --judge-prompt-sha256.")
@click.option("--judge-prompt-sha256", envvar="HARDEN_CI_JUDGE_PROMPT_SHA256", show_envvar=True,
              help="The SHA-256 the judge prompt file must have.")
def llm_score(outputs: Path, gold: Path, schema: Path | None, tolerance: float, token_budget: float,
              baseline: Path | None, report: Path | None, write_baseline: Path | None,
              title: str, samples: int, confidence: float, allow_no_token_baseline: bool,
              judge_command: str | None, judge_seed: int, judge_prompt: Path | None,
              judge_prompt_sha256: str | None) -> None:
    """Score eval outputs against the gold answers and the JSON Schema.

    Fails (exit 1) when an output violates the schema, when the pass rate falls below the
    baseline score minus the tolerance (with --samples above 1: when its whole confidence
    interval does), when the tokens grow more than the budget over the baseline, or when
    there is no token baseline at all (unless --allow-no-token-baseline). Writes a table to
    $GITHUB_STEP_SUMMARY when it is set. Exit 2: a malformed input file (named file:line),
    a judge that fails, a pattern that runs past its time limit.

    \b
    Example:
      harden-ci gate llm-score --outputs outputs.jsonl --gold evals/gold.jsonl \\
        --schema evals/answer.schema.json --tolerance 0.05 --token-budget 0.25
    """
    from harden_ci.cli import _run

    def verb() -> int:
        from harden_ci.gates import llm_inputs as inputs
        from harden_ci.gates import llm_report, llm_scoring

        gold_cases = inputs.load_gold(gold)
        results = inputs.load_outputs(outputs, samples)
        judge = _judge(judge_command, judge_seed, judge_prompt, judge_prompt_sha256)
        validator = inputs.load_schema(schema) if schema else None
        baseline_path = baseline or inputs.default_baseline_path(gold)
        recorded = (inputs.load_baseline(baseline_path)
                    if baseline is not None or baseline_path.is_file() else None)
        verdict = llm_scoring.score(
            gold_cases, results, schema=validator, tolerance=tolerance, token_budget=token_budget,
            baseline=inputs.resolve_baseline(gold_cases, gold, recorded), judge=judge,
            samples=samples, confidence=confidence, allow_no_token_baseline=allow_no_token_baseline)
        for line in llm_report.log_lines(verdict):
            click.echo(line)
        llm_report.append_step_summary(llm_report.markdown(verdict, title))
        if report:
            llm_report.write_json(report, llm_report.report(verdict))
        if write_baseline:
            llm_report.write_json(write_baseline, llm_scoring.baseline_from(verdict, results))
            click.echo(f"baseline written to {write_baseline}")
        return 0 if verdict.passed else 1

    _run(verb)


@click.command("llm-shadow")
@click.option("--live", type=_FILE, required=True, envvar="HARDEN_CI_SHADOW_LIVE", show_envvar=True,
              help="The live version's answers to the mirrored prompts (JSON lines: id, output, usage).")
@click.option("--candidate", type=_FILE, required=True, envvar="HARDEN_CI_SHADOW_CANDIDATE",
              show_envvar=True, help="The new version's answers to the same prompts.")
@click.option("--schema", type=_FILE, envvar="HARDEN_CI_LLM_SCHEMA", show_envvar=True,
              help="A JSON Schema every new answer must match.")
@click.option("--threshold", type=click.FloatRange(0, 1), default=0.8, show_default=True,
              help="Similarity (or judge score) a new answer must reach against the live one.")
@click.option("--min-agreement", type=click.FloatRange(0, 1), default=0.9, show_default=True,
              help="The share of prompts on which both versions must agree.")
@click.option("--judge-command", envvar="HARDEN_CI_JUDGE_COMMAND", show_envvar=True,
              help="Compare through this judge instead of string similarity.")
@click.option("--judge-seed", type=click.IntRange(0, 2**31 - 1), default=7, show_default=True)
@click.option("--judge-prompt", type=_FILE, envvar="HARDEN_CI_JUDGE_PROMPT", show_envvar=True)
@click.option("--judge-prompt-sha256", envvar="HARDEN_CI_JUDGE_PROMPT_SHA256", show_envvar=True)
def llm_shadow(live: Path, candidate: Path, schema: Path | None, threshold: float,
               min_agreement: float, judge_command: str | None, judge_seed: int,
               judge_prompt: Path | None, judge_prompt_sha256: str | None) -> None:
    """Compare the new version's answers to mirrored live prompts with the live version's
    answers on the same prompts (schema, similarity or judge). Exit 0 when they agree often
    enough, 1 when not or when no prompt was answered by both, 2 on malformed input.

    \b
    Example:
      harden-ci gate llm-shadow --live live.jsonl --candidate shadow.jsonl --min-agreement 0.9
    """
    from harden_ci.cli import _run

    def verb() -> int:
        from harden_ci.gates import llm_inputs as inputs
        from harden_ci.gates.llm_shadow import compare

        verdict = compare(inputs.load_outputs(live), inputs.load_outputs(candidate),
                          threshold=threshold, floor=min_agreement,
                          schema=inputs.load_schema(schema) if schema else None,
                          judge=_judge(judge_command, judge_seed, judge_prompt, judge_prompt_sha256))
        for pair in verdict.pairs:
            if not pair.agrees:
                click.echo(f"     prompt {pair.id}: {pair.detail}")
        for reason in verdict.reasons:
            click.echo(f"::error title=LLM shadow::{reason}")
        click.echo(f"LLM shadow: {'PASS' if verdict.passed else 'FAIL'} ({verdict.rate:.1%} of "
                   f"{len(verdict.pairs)} prompt(s) agree)")
        return 0 if verdict.passed else 1

    _run(verb)


def _judge(command: str | None, seed: int, prompt: Path | None, sha256: str | None) -> Judge | None:
    """The judge of rubric cases, or None; SpecError when it is half configured."""
    from harden_ci.errors import SpecError
    from harden_ci.gates.auth_http import parse_argv
    from harden_ci.gates.llm_matchers import Judge

    if not command:
        if prompt or sha256:
            raise SpecError("--judge-prompt needs --judge-command")
        return None
    if prompt is None or not sha256:
        raise SpecError("a judge command needs its pinned prompt: --judge-prompt FILE and "
                        "--judge-prompt-sha256 HEX")
    return Judge.load(parse_argv(command, "--judge-command"), seed, prompt, sha256)


COMMANDS: list[click.Command] = [llm_run, llm_score, llm_shadow]
