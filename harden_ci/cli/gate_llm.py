"""`harden-ci gate llm-run` and `harden-ci gate llm-score`: the LLM checks of `tests.llm`.

The workflow runs the eval command through `llm-run` (fixed seed, outputs captured), then
scores the outputs with `llm-score` (schema, gold answers, tolerance band, token budget).
File formats: harden_ci/gates/llm_inputs.py; rules: harden_ci/gates/llm_scoring.py.
"""

from __future__ import annotations

from pathlib import Path

import click

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
def llm_score(outputs: Path, gold: Path, schema: Path | None, tolerance: float, token_budget: float,
              baseline: Path | None, report: Path | None, write_baseline: Path | None,
              title: str) -> None:
    """Score eval outputs against the gold answers and the JSON Schema.

    Fails (exit 1) when an output violates the schema, when the pass rate falls below the
    baseline score minus the tolerance, or when the tokens grow more than the budget over
    the baseline. Writes a table to $GITHUB_STEP_SUMMARY when it is set. Exit 2: a
    malformed input file (named file:line).

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
        results = inputs.load_outputs(outputs)
        validator = inputs.load_schema(schema) if schema else None
        baseline_path = baseline or inputs.default_baseline_path(gold)
        recorded = (inputs.load_baseline(baseline_path)
                    if baseline is not None or baseline_path.is_file() else None)
        verdict = llm_scoring.score(
            gold_cases, results, schema=validator, tolerance=tolerance, token_budget=token_budget,
            baseline=inputs.resolve_baseline(gold_cases, gold, recorded))
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


COMMANDS: list[click.Command] = [llm_run, llm_score]
