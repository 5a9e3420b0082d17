"""`harden-ci gate soak-*`: the soak's budgets as k6 thresholds, the k6 run, and its verdict.

All three share one results folder (`--out-dir`, default `soak-results`), which the
workflow uploads as the artifact:

    soak.js             the generated k6 entry script (imports the journey scripts)
    soak-plan.json      budgets, journeys, thresholds: what the report judges against
    k6-summary.json     k6's --summary-export
    soak-report.md      the table (also appended to $GITHUB_STEP_SUMMARY)
    soak-report.json    the same, for machines

`soak-run` is what a workflow calls; `soak-thresholds` and `soak-report` are its two halves
for running k6 some other way.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from harden_ci.cli.step_summary import append_step_summary

PLAN_FILE = "soak-plan.json"
WRAPPER_FILE = "soak.js"
SUMMARY_FILE = "k6-summary.json"
REPORT_MD = "soak-report.md"
REPORT_JSON = "soak-report.json"

_out_dir = click.option(
    "--out-dir", type=click.Path(path_type=Path, file_okay=False), default=Path("soak-results"),
    show_default=True, envvar="HARDEN_CI_SOAK_DIR",
    help="Results folder (wrapper, plan, k6 summary, reports). Env: HARDEN_CI_SOAK_DIR.")


def _plan_options(func: click.decorators.FC) -> click.decorators.FC:
    options = [
        click.option("--script", "scripts", multiple=True, envvar="HARDEN_CI_SOAK_SCRIPTS",
                     help="A journey script (repeat for more); relative to the current directory. "
                          "Env: HARDEN_CI_SOAK_SCRIPTS (space-separated)."),
        click.option("--journeys", default=None, envvar="HARDEN_CI_SOAK_JOURNEYS",
                     help='The spec\'s load.soak.scripts as JSON: paths and load models, e.g. '
                          '["load/a.js", {"script": "load/b.js", "rate": 10, '
                          '"pre_allocated_vus": 5}]; they follow any --script. '
                          "Env: HARDEN_CI_SOAK_JOURNEYS."),
        click.option("--cold-after-idle", default=None, envvar="HARDEN_CI_SOAK_COLD_AFTER_IDLE",
                     help="Measure cold start after this long with no traffic (`5m`): one "
                          "iteration per journey once the soak and the idle gap are over. "
                          "Env: HARDEN_CI_SOAK_COLD_AFTER_IDLE."),
        click.option("--budgets", envvar="HARDEN_CI_SOAK_BUDGETS", default=None,
                     help='The spec\'s load.soak.budgets as JSON, e.g. {"api_p95_ms": 300, '
                          '"error_rate": 0.01}; omitted fields take the spec defaults. '
                          "Env: HARDEN_CI_SOAK_BUDGETS."),
        click.option("--duration", default="15m", show_default=True, envvar="HARDEN_CI_SOAK_DURATION",
                     help="How long each journey runs (`90s`, `15m`, `1h`). Env: HARDEN_CI_SOAK_DURATION."),
        click.option("--vus", type=int, default=5, show_default=True, envvar="HARDEN_CI_SOAK_VUS",
                     help="Virtual users per journey. Env: HARDEN_CI_SOAK_VUS."),
        click.option("--cold-iterations", type=int, default=None, envvar="HARDEN_CI_SOAK_COLD_ITERATIONS",
                     help="Iterations per VU tagged phase:cold (default 1 with a cold_start_ms budget, "
                          "else 0)."),
        _out_dir,
    ]
    for option in reversed(options):
        func = option(func)
    return func


def _write_plan(scripts: tuple[str, ...], journeys: str | None, budgets: str | None,
                duration: str, vus: int, cold_iterations: int | None, cold_after_idle: str | None,
                out_dir: Path) -> tuple[Path, int]:
    from harden_ci.errors import SpecError
    from harden_ci.gates import soak_budgets, soak_k6, soak_scenarios

    duration_s = soak_budgets.parse_duration(duration)
    idle = (None if cold_after_idle is None
            else soak_budgets.parse_duration(cold_after_idle, "--cold-after-idle"))
    entries = [*scripts, *soak_scenarios.parse_journeys(journeys, duration_s)]
    plan = soak_budgets.build_plan(entries, soak_budgets.parse_budgets(budgets), duration_s, vus,
                                   cold_iterations, idle)
    wrapper = out_dir / WRAPPER_FILE
    text = soak_k6.render_wrapper(plan, wrapper)
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        wrapper.write_text(text, encoding="utf-8")
        (out_dir / PLAN_FILE).write_text(plan.to_json(), encoding="utf-8")
    except OSError as exc:
        raise SpecError(f"cannot write the soak files: {exc}", field="--out-dir") from None
    return wrapper, plan.run_s


def _report(out_dir: Path, summary: Path, k6_exit_code: int | None) -> int:
    from harden_ci.errors import SpecError
    from harden_ci.gates import soak_budgets, soak_report

    plan = soak_budgets.load_plan(out_dir / PLAN_FILE)
    # k6 failing before it wrote its summary is a failed soak, not bad input.
    failed_early = not summary.is_file() and k6_exit_code not in (None, 0)
    metrics = None if failed_early else soak_report.load_summary(summary)
    report = soak_report.judge(plan, metrics, k6_exit_code)
    markdown = soak_report.to_markdown(report)
    try:
        (out_dir / REPORT_MD).write_text(markdown, encoding="utf-8")
        (out_dir / REPORT_JSON).write_text(soak_report.to_json(report), encoding="utf-8")
    except OSError as exc:
        raise SpecError(f"cannot write the soak report: {exc}", field="--out-dir") from None
    click.echo(markdown, nl=False)
    append_step_summary(markdown)
    click.echo(f"soak: {'PASS' if report.passed else 'FAIL'} ({soak_report.limits_line(plan)}); "
               f"report in {out_dir / REPORT_MD}", err=True)
    return 0 if report.passed else 1


@click.command("soak-thresholds")
@_plan_options
def soak_thresholds(scripts: tuple[str, ...], journeys: str | None, budgets: str | None,
                    duration: str, vus: int, cold_iterations: int | None,
                    cold_after_idle: str | None, out_dir: Path) -> None:
    """Write the k6 entry script that holds the journeys to the soak budgets.

    Writes OUT_DIR/soak.js and OUT_DIR/soak-plan.json. Run the script with
    `k6 run --summary-export OUT_DIR/k6-summary.json OUT_DIR/soak.js` (no --duration or
    --vus: the script sets them), then judge it with `soak-report`.

    \b
    Example:
      harden-ci gate soak-thresholds --script load/journeys.js \\
        --budgets '{"api_p95_ms": 300, "error_rate": 0.01}' --duration 15m
    """
    from harden_ci.cli import _run

    def run() -> int:
        wrapper, _ = _write_plan(scripts, journeys, budgets, duration, vus, cold_iterations,
                                 cold_after_idle, out_dir)
        click.echo(f"wrote {wrapper} and {out_dir / PLAN_FILE}")
        click.echo(f"run: k6 run --summary-export {out_dir / SUMMARY_FILE} {wrapper}")
        return 0

    _run(run)


@click.command("soak-report")
@_out_dir
@click.option("--summary", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="k6's --summary-export file (default: OUT_DIR/k6-summary.json).")
@click.option("--k6-exit-code", type=int, default=None, envvar="HARDEN_CI_K6_EXIT_CODE",
              help="k6's exit code: 99 (thresholds crossed) or any other non-zero fails the soak. "
                   "Env: HARDEN_CI_K6_EXIT_CODE.")
def soak_report_cmd(out_dir: Path, summary: Path | None, k6_exit_code: int | None) -> None:
    """Judge a k6 run against the soak budgets: table to stdout, the job summary and
    OUT_DIR/soak-report.{md,json}.

    Exit 0 when every budget held, 1 when one broke (or k6 failed, or a journey sent no
    request), 2 on bad input (no plan, unreadable summary).

    \b
    Example:
      k6 run --summary-export soak-results/k6-summary.json soak-results/soak.js; rc=$?
      harden-ci gate soak-report --k6-exit-code "$rc"
    """
    from harden_ci.cli import _run

    _run(lambda: _report(out_dir, summary or out_dir / SUMMARY_FILE, k6_exit_code))


@click.command("soak-run")
@_plan_options
@click.option("--k6", "k6_binary", default=None, envvar="HARDEN_CI_K6",
              help="The k6 binary (default: k6 next to this Python, then PATH). Env: HARDEN_CI_K6.")
def soak_run(scripts: tuple[str, ...], journeys: str | None, budgets: str | None, duration: str,
             vus: int, cold_iterations: int | None, cold_after_idle: str | None, out_dir: Path,
             k6_binary: str | None) -> None:
    """Run the journey scripts under k6 for the soak's duration and judge the budgets.

    soak-thresholds, `k6 run`, then soak-report, in one step. The scripts read the target
    from the environment (e.g. __ENV.BASE_URL); k6's output streams to the log.
    Exit 0 when every budget held, 1 when one broke or k6 failed, 2 on bad input.

    \b
    Example:
      BASE_URL=https://staging.example.com harden-ci gate soak-run \\
        --script load/journeys.js --budgets '{"api_p95_ms": 300, "error_rate": 0.01}' --duration 15m
    """
    from harden_ci.cli import _run
    from harden_ci.gates import soak_k6

    def run() -> int:
        k6 = soak_k6.find_k6(k6_binary)
        wrapper, run_s = _write_plan(scripts, journeys, budgets, duration, vus, cold_iterations,
                                     cold_after_idle, out_dir)
        code = soak_k6.run_k6(k6, wrapper, out_dir / SUMMARY_FILE, run_s)
        sys.stdout.flush()
        return _report(out_dir, out_dir / SUMMARY_FILE, code)

    _run(run)


COMMANDS: list[click.Command] = [soak_thresholds, soak_report_cmd, soak_run]
