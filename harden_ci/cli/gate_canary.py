"""`harden-ci gate canary-analyze`, `flag-set` and `flag-publish`: the canary's decision and
its feature-flag ramp (a flagd file, or an OpenFeature-compatible service read back over OFREP)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

import click

from harden_ci.cli.step_summary import append_step_summary

if TYPE_CHECKING:
    from pydantic import BaseModel

M = TypeVar("M", bound="BaseModel")

TOKEN_ENV = "HARDEN_CI_PROMETHEUS_TOKEN"


def _validated(model: type[M], text: str | None, option: str, hint: str) -> M:
    from pydantic import ValidationError

    from harden_ci.errors import SpecError

    try:
        return model.model_validate_json(text) if text and text.strip() else model()
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc']) or '(top)'}: {e['msg']}"
                             for e in exc.errors())
        raise SpecError(f"{option} is not valid: {problems}", field=option, hint=hint) from None


def _seconds(text: str, option: str) -> int:
    from harden_ci.gates.soak_budgets import parse_duration

    return 0 if text.strip() in ("0", "0s") else parse_duration(text, option)


@click.command("canary-analyze")
@click.option("--prometheus", required=True, envvar="HARDEN_CI_PROMETHEUS_URL",
              help="Prometheus base URL (…/api/v1/query is added). Env: HARDEN_CI_PROMETHEUS_URL. "
                   f"A bearer token, if needed, comes from ${TOKEN_ENV}.")
@click.option("--rollback-on", "rollback_on", default=None, envvar="HARDEN_CI_CANARY_ROLLBACK_ON",
              help='The spec\'s delivery.canary.rollback_on as JSON, e.g. {"error_rate": 0.01, '
                   '"p95_ms": 300, "cost_regression": 0.1, "failure_limit": 2}; omitted fields take '
                   "the spec defaults. Env: HARDEN_CI_CANARY_ROLLBACK_ON.")
@click.option("--metrics", "metrics", default=None, envvar="HARDEN_CI_CANARY_METRICS",
              help="The spec's metric names and labels as JSON (delivery.canary.metrics without "
                   "prometheus, token_secret and window); the options below override it. "
                   "Env: HARDEN_CI_CANARY_METRICS.")
@click.option("--cost-metric", default=None, help="Counter of cost (e.g. llm_cost_usd_total); "
              "unset skips the cost rules.")
@click.option("--step", type=click.IntRange(0, 100), default=None, envvar="HARDEN_CI_CANARY_STEP",
              help="The traffic percentage being analysed (for the report). Env: HARDEN_CI_CANARY_STEP.")
@click.option("--window", default="1m", show_default=True, envvar="HARDEN_CI_CANARY_WINDOW",
              help="One analysis window (the PromQL range); the bake is judged window by window. "
                   "Env: HARDEN_CI_CANARY_WINDOW.")
@click.option("--requests-metric", default=None, help="Counter of requests, labelled by status and "
              "track [default: http_requests_total].")
@click.option("--duration-metric", default=None, help="Latency histogram (its _bucket series are "
              "used) [default: http_request_duration_seconds].")
@click.option("--duration-unit", type=click.Choice(["seconds", "milliseconds"]), default=None,
              help="Unit of the histogram's bounds [default: seconds].")
@click.option("--status-label", default=None, help="Label holding the HTTP status [default: status].")
@click.option("--error-status", default=None, help="Regex of error statuses [default: 5..].")
@click.option("--track-label", default=None, help="Label telling canary from baseline [default: track].")
@click.option("--canary-track", default=None, help="Value of the canary [default: canary].")
@click.option("--baseline-track", default=None, help="Value of the baseline [default: baseline].")
@click.option("--live-track", default=None, help="With --live: the live version's track value "
              "(default: every series the selector matches).")
@click.option("--selector", default=None, help='More label matchers for every query, e.g. '
              'service="api",namespace="prod".')
@click.option("--baseline-at", type=click.IntRange(1), default=None, envvar="HARDEN_CI_CANARY_BASELINE_AT",
              help="Epoch seconds when the rollout began: the baseline is the previous version's "
                   "window ending then (so the 100% step still has one). Env: HARDEN_CI_CANARY_BASELINE_AT.")
@click.option("--live", is_flag=True, envvar="HARDEN_CI_CANARY_LIVE",
              help="Judge the live version alone against the budgets "
              "(the nightly re-analysis): no track matcher unless --live-track, no baseline. "
              "Env: HARDEN_CI_CANARY_LIVE.")
@click.option("--bake", default="0", show_default=True,
              help="Analyse window after window for this long (`10m`); the rollback_on rules "
                   "decide. 0: one window ending now.")
@click.option("--bake-start", type=click.IntRange(1), default=None, envvar="HARDEN_CI_CANARY_BAKE_START",
              help="Epoch seconds when the bake began (default: now); windows already over are "
                   "analysed at once. Env: HARDEN_CI_CANARY_BAKE_START.")
@click.option("--timeout", type=click.FloatRange(0.1, 300), default=10.0, show_default=True,
              help="Seconds per HTTP request.")
@click.option("--attempts", type=click.IntRange(1, 10), default=3, show_default=True,
              help="Tries per query on connection errors and HTTP 5xx.")
@click.option("--report", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="Write the decision, every window and every number used as JSON.")
def canary_analyze(prometheus: str, rollback_on: str | None, metrics: str | None, step: int | None,
                   window: str, baseline_at: int | None, live: bool, bake: str, bake_start: int | None,
                   timeout: float, attempts: int, report: Path | None, **series: str | None) -> None:
    """Judge the canary window by window in Prometheus and decide: promote or roll back.

    A window with fewer than min_requests canary requests is inconclusive; one whose error
    rate or p95 passes its limit, whose cost per request grows more than cost_regression over
    the previous version (or passes cost_per_request), or whose numbers are NaN, negative or
    -Inf, failed. More failed windows than failure_limit, consecutive_failures in a row, or
    more inconclusive windows than inconclusive_limit roll back. Prints the decision and the
    numbers, appends them to $GITHUB_STEP_SUMMARY and writes --report. Exit 0 promote,
    1 roll back, 2 bad input.

    \b
    Example:
      harden-ci gate canary-analyze --prometheus https://prom.example.com --step 5 \\
        --rollback-on '{"error_rate": 0.01, "p95_ms": 300, "cost_regression": 0.1}' \\
        --cost-metric llm_cost_usd_total --baseline-at 1767225600 --bake 10m --report canary-5.json
    """
    from harden_ci.cli import _run

    def run() -> int:
        from harden_ci.errors import SpecError
        from harden_ci.gates import canary_analysis, canary_bake, canary_report
        from harden_ci.gates.canary_prometheus import Prometheus
        from harden_ci.model.delivery import RollbackRules, Series

        if not prometheus.startswith(("http://", "https://")):
            raise SpecError(f"`{prometheus}` is not an http(s) URL", field="--prometheus")
        if "@" in prometheus.split("/")[2]:
            raise SpecError("the Prometheus URL may not carry credentials (they would be printed)",
                            field="--prometheus", hint=f"put a bearer token in ${TOKEN_ENV}")
        rules = _validated(RollbackRules, rollback_on, "--rollback-on",
                           'write them like {"error_rate": 0.01, "p95_ms": 300, "cost_regression": 0.1}')
        spec = _validated(Series, metrics, "--metrics",
                          'write them like {"requests_metric": "app_requests_total"}')
        given = {name: value for name, value in series.items() if value is not None}
        names = {**spec.model_dump(exclude_none=True), **given}
        names["selector"] = names.get("selector") or ""
        sel = canary_analysis.Selectors(**names, window=window, baseline_at=None if live else baseline_at,
                                        live=live)
        sel.validate()
        bake_s, window_s = _seconds(bake, "--bake"), _seconds(window, "--window")
        prom = Prometheus(prometheus, timeout_s=timeout, attempts=attempts,
                          token=os.environ.get(TOKEN_ENV) or None)

        def progress(n: int, result: canary_analysis.Window) -> None:
            why = f": {'; '.join(result.reasons)}" if result.reasons else ""
            click.echo(f"window {n}: {result.verdict}{why}", err=True)

        analysis = canary_bake.analyze_over_bake(prom, sel, rules, step, bake_s, window_s,
                                                 start=bake_start, on_window=progress)
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


FLAG_TOKEN_ENV = "HARDEN_CI_FLAG_TOKEN"
OFREP_TOKEN_ENV = "HARDEN_CI_OFREP_TOKEN"


@click.command("flag-publish")
@click.option("--api", "api", required=True, envvar="HARDEN_CI_FLAG_API",
              help="The spec's delivery.canary.flag_api as JSON (url, method, body, ofrep_url, "
                   f"variant, samples, settle). Tokens come from ${FLAG_TOKEN_ENV} (the write) "
                   f"and ${OFREP_TOKEN_ENV} (the read-back). Env: HARDEN_CI_FLAG_API.")
@click.option("--flag", required=True, help="The flag key.")
@click.option("--percent", type=click.IntRange(0, 100), required=True,
              help="Share of evaluations on the variant (0-100).")
@click.option("--timeout", type=click.FloatRange(0.1, 300), default=10.0, show_default=True,
              help="Seconds per HTTP request.")
@click.option("--attempts", type=click.IntRange(1, 10), default=3, show_default=True,
              help="Tries per request on connection errors, HTTP 429 and 5xx.")
def flag_publish(api: str, flag: str, percent: int, timeout: float, attempts: int) -> None:
    """Ramp a flag in an OpenFeature-compatible service and read the ramp back over OFREP.

    Sends the flag_api call with the body template filled in, then evaluates the flag for
    `samples` synthetic targeting keys at OFREP's /ofrep/v1/evaluate/flags/KEY until the share
    on `variant` matches PERCENT (within four standard deviations; exactly at 0 and 100) or
    `settle` passes. Exit 0 ramped and seen, 1 the service refused or does not show the ramp,
    2 bad input.

    \b
    Example:
      HARDEN_CI_FLAG_API='{"url": "https://flags.example.com/api/flags/{flag}",
        "body": {"rollout": "{percent}"}, "ofrep_url": "https://flags.example.com"}' \\
      harden-ci gate flag-publish --flag new-checkout --percent 25
    """
    from harden_ci.cli import _run

    def run() -> int:
        from harden_ci.gates.flag_ofrep import FlagService, FlagServiceError
        from harden_ci.model.flag_api import FlagApi

        spec = _validated(FlagApi, api, "--api",
                          'write it like {"url": "https://…/{flag}", "body": {"rollout": '
                          '"{percent}"}, "ofrep_url": "https://…"}')
        service = FlagService(spec, token=os.environ.get(FLAG_TOKEN_ENV) or None,
                              ofrep_token=os.environ.get(OFREP_TOKEN_ENV) or None,
                              timeout_s=timeout, attempts=attempts)
        try:
            service.publish(flag, percent)
            click.echo(f"{flag}: {spec.method} {percent}% on `{spec.variant}` accepted", err=True)
            seen = service.verify(flag, percent)
        except FlagServiceError as exc:
            click.echo(f"harden-ci: {flag}: {exc}", err=True)
            append_step_summary(f"Flag `{flag}` at {percent}%: **failed**: {exc}\n")
            return 1
        line = f"{flag}: ramped to {percent}%, read back over OFREP: {seen.describe(spec.variant)}"
        click.echo(line)
        append_step_summary(line + "\n")
        return 0

    _run(run)


COMMANDS: list[click.Command] = [canary_analyze, flag_set, flag_publish]
