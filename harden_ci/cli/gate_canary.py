"""`harden-ci gate canary-analyze` and `harden-ci gate flag-set`: the canary's decision and
its feature-flag ramp."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

import click

from harden_ci.cli.step_summary import append_step_summary

if TYPE_CHECKING:
    from harden_ci.model.delivery import RollbackRules

TOKEN_ENV = "HARDEN_CI_PROMETHEUS_TOKEN"


def _rules(text: str | None) -> RollbackRules:
    from pydantic import ValidationError

    from harden_ci.errors import SpecError
    from harden_ci.model.delivery import RollbackRules

    if text is None or not text.strip():
        return RollbackRules()
    try:
        return RollbackRules.model_validate_json(text)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc']) or '(top)'}: {e['msg']}"
                             for e in exc.errors())
        raise SpecError(f"the rollback rules are not valid: {problems}", field="--rollback-on",
                        hint='write them like {"error_rate": 0.01, "p95_ms": 300, "cost_regression": 0.1}'
                        ) from None


def _seconds(text: str, option: str) -> int:
    from harden_ci.gates.soak_budgets import parse_duration

    return 0 if text.strip() in ("0", "0s") else parse_duration(text, option)


@click.command("canary-analyze")
@click.option("--prometheus", required=True, envvar="HARDEN_CI_PROMETHEUS_URL",
              help="Prometheus base URL (…/api/v1/query is added). Env: HARDEN_CI_PROMETHEUS_URL. "
                   f"A bearer token, if needed, comes from ${TOKEN_ENV}.")
@click.option("--rollback-on", "rollback_on", default=None, envvar="HARDEN_CI_CANARY_ROLLBACK_ON",
              help='The spec\'s delivery.canary.rollback_on as JSON, e.g. {"error_rate": 0.01, '
                   '"p95_ms": 300, "cost_regression": 0.1}; omitted fields take the spec defaults. '
                   "Env: HARDEN_CI_CANARY_ROLLBACK_ON.")
@click.option("--cost-metric", default=None, envvar="HARDEN_CI_CANARY_COST_METRIC",
              help="Counter of cost (e.g. llm_cost_usd_total); unset skips the cost rule. "
                   "Env: HARDEN_CI_CANARY_COST_METRIC.")
@click.option("--step", type=click.IntRange(0, 100), default=None, envvar="HARDEN_CI_CANARY_STEP",
              help="The traffic percentage being analysed (for the report). Env: HARDEN_CI_CANARY_STEP.")
@click.option("--window", default="5m", show_default=True, help="PromQL rate() window.")
@click.option("--requests-metric", default="http_requests_total", show_default=True,
              help="Counter of requests, labelled by status and track.")
@click.option("--duration-metric", default="http_request_duration_seconds", show_default=True,
              help="Latency histogram in seconds (its _bucket series are used).")
@click.option("--status-label", default="status", show_default=True, help="Label holding the HTTP status.")
@click.option("--error-status", default="5..", show_default=True, help="Regex of error statuses.")
@click.option("--track-label", default="track", show_default=True,
              help="Label telling canary from baseline.")
@click.option("--canary-track", default="canary", show_default=True, help="Value of the canary.")
@click.option("--baseline-track", default="baseline", show_default=True, help="Value of the baseline.")
@click.option("--selector", default="", envvar="HARDEN_CI_CANARY_SELECTOR",
              help='More label matchers for both tracks, e.g. service="api",namespace="prod". '
                   "Env: HARDEN_CI_CANARY_SELECTOR.")
@click.option("--bake", default="0", show_default=True,
              help="Keep analysing for this long (`10m`); a breach rolls back at once, the last "
                   "round decides. 0: one analysis now.")
@click.option("--interval", default="1m", show_default=True, help="Time between rounds during --bake.")
@click.option("--timeout", type=click.FloatRange(0.1, 300), default=10.0, show_default=True,
              help="Seconds per HTTP request.")
@click.option("--attempts", type=click.IntRange(1, 10), default=3, show_default=True,
              help="Tries per query on connection errors and HTTP 5xx.")
@click.option("--report", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="Write the decision and every number used as JSON.")
def canary_analyze(prometheus: str, rollback_on: str | None, cost_metric: str | None, step: int | None,
                   window: str, requests_metric: str, duration_metric: str, status_label: str,
                   error_status: str, track_label: str, canary_track: str, baseline_track: str,
                   selector: str, bake: str, interval: str, timeout: float, attempts: int,
                   report: Path | None) -> None:
    """Compare canary with baseline in Prometheus and decide: promote or roll back.

    Rolls back when the canary's error rate or p95 passes its limit, or its cost per request
    grows more than cost_regression over the baseline; when a number is missing it rolls back
    too, saying "no data". Prints the decision and the numbers, appends them to
    $GITHUB_STEP_SUMMARY and writes --report. Exit 0 promote, 1 roll back, 2 bad input.

    \b
    Example:
      harden-ci gate canary-analyze --prometheus https://prom.example.com --step 5 \\
        --rollback-on '{"error_rate": 0.01, "p95_ms": 300, "cost_regression": 0.1}' \\
        --cost-metric llm_cost_usd_total --bake 10m --report canary-5.json
    """
    from harden_ci.cli import _run

    def run() -> int:
        from harden_ci.errors import SpecError
        from harden_ci.gates import canary_analysis, canary_report
        from harden_ci.gates.canary_prometheus import Prometheus

        if not prometheus.startswith(("http://", "https://")):
            raise SpecError(f"`{prometheus}` is not an http(s) URL", field="--prometheus")
        if "@" in prometheus.split("/")[2]:
            raise SpecError("the Prometheus URL may not carry credentials (they would be printed)",
                            field="--prometheus", hint=f"put a bearer token in ${TOKEN_ENV}")
        rules = _rules(rollback_on)
        sel = canary_analysis.Selectors(
            requests_metric=requests_metric, duration_metric=duration_metric, status_label=status_label,
            error_status=error_status, track_label=track_label, canary_track=canary_track,
            baseline_track=baseline_track, selector=selector, window=window,
            cost_metric=cost_metric or None)
        sel.validate()
        bake_s, interval_s = _seconds(bake, "--bake"), _seconds(interval, "--interval")
        prom = Prometheus(prometheus, timeout_s=timeout, attempts=attempts,
                          token=os.environ.get(TOKEN_ENV) or None)

        def progress(n: int, result: canary_analysis.Analysis) -> None:
            click.echo(f"round {n}: {canary_report.headline(result)}", err=True)

        analysis = canary_analysis.analyze_over_bake(prom, sel, rules, step, bake_s, interval_s,
                                                     on_round=progress)
        markdown = canary_report.to_markdown(analysis)
        if report is not None:
            try:
                report.write_text(canary_report.to_json(analysis), encoding="utf-8")
            except OSError as exc:
                raise SpecError(f"cannot write the report: {exc}", field="--report") from None
        click.echo(markdown, nl=False)
        append_step_summary(markdown)
        click.echo(canary_report.headline(analysis), err=True)
        return 0 if analysis.decision == "promote" else 1

    _run(run)


@click.command("flag-set")
@click.option("--file", "path", required=True, type=click.Path(path_type=Path, dir_okay=False),
              help="The flagd flag file (JSON) in the repository.")
@click.option("--flag", required=True, help="The flag key.")
@click.option("--percent", type=int, required=True, help="Share of evaluations on the new variant (0-100).")
@click.option("--on-variant", default="on", show_default=True, help="The variant of the new code path.")
@click.option("--off-variant", default="off", show_default=True, help="The variant of the old code path.")
def flag_set(path: Path, flag: str, percent: int, on_variant: str, off_variant: str) -> None:
    """Ramp a flagd flag: set its `fractional` split to PERCENT% on, the rest off.

    Keeps a bucketing expression already in the flag; refuses to overwrite other targeting.
    Writes the file atomically. Exit 0 written, 2 bad input.

    \b
    Example:
      harden-ci gate flag-set --file flags/flags.json --flag new-checkout --percent 25
    """
    from harden_ci.cli import _run

    def run() -> int:
        from harden_ci.gates.canary_flagd import set_fraction

        definition = set_fraction(path, flag, percent, on_variant, off_variant)
        click.echo(f"{flag}: {on_variant} {percent}% / {off_variant} {100 - percent}% in {path}")
        if definition.get("state", "ENABLED") != "ENABLED":
            click.echo(f"harden-ci: warning: flag `{flag}` is {definition.get('state')}; flagd ignores "
                       "its targeting until it is ENABLED", err=True)
        return 0

    _run(run)


COMMANDS: list[click.Command] = [canary_analyze, flag_set]
