"""Scheduled work: the spec's recurring jobs (one run at a time, with a timeout and a cost
budget), the nightly re-analysis of the live version, and the preview sweeper."""

from __future__ import annotations

from harden_ci.model.delivery import Schedule
from harden_ci.plan.context import PlanContext, load_script
from harden_ci.plan.model import Job, Step, read
from harden_ci.plan.stages import deploy_access
from harden_ci.plan.stages.delivery import metrics_env
from harden_ci.plan.stages.environments import deploy_env, preview_environment, target_env
from harden_ci.plan.steps import (
    checkout,
    install_harden_ci,
    run_command,
    secret_env,
    secrets_environment,
)

REANALYSIS_CRON = "30 4 * * *"
SWEEP_CRON = "17 */6 * * *"
_MINUTES = 60


def _when(cron: str) -> str:
    # One workflow holds every schedule; each job runs on its own cron (or by hand).
    return (f"${{{{ github.event.schedule == '{cron}' || "
            "github.event_name == 'workflow_dispatch' }}")


SCHEDULE_PREFIX = "schedule-"


def _schedule_job(ctx: PlanContext, name: str, schedule: Schedule) -> Job:
    values = {**secret_env(schedule.secrets), "HARDEN_CI_COST_FILE": "cost.txt"}
    if schedule.environment:
        env = ctx.spec.environments[schedule.environment]
        values = {**target_env(ctx, schedule.environment, env, pr=False), **values}
    steps: list[Step] = [checkout(ctx), run_command(f"Run {name}", schedule.command, env=values)]
    if schedule.cost_budget:
        steps.append(Step(name="Check the run's cost against its budget",
                          run=load_script("cost-budget.sh"),
                          env={"HARDEN_CI_COST_FILE": "cost.txt",
                               "COST_BUDGET": repr(schedule.cost_budget.max)}))
    return Job(id=f"{SCHEDULE_PREFIX}{name}", name=f"Scheduled: {name}", runs_on=ctx.runner,
               timeout_minutes=max(1, schedule.timeout // _MINUTES), if_=_when(schedule.cron),
               environment=schedule.environment or secrets_environment(ctx, bool(schedule.secrets)),
               concurrency_group=f"schedule-{name}",
               permissions={"contents": read("check out the job's code")}, steps=steps,
               control="Recurring jobs run one at a time, within their time and cost budgets")


def _reanalysis(ctx: PlanContext) -> Job | None:
    canary = ctx.spec.delivery.canary if ctx.spec.delivery else None
    if canary is None or canary.metrics is None:
        return None
    # The live version's own series (a finished rollout leaves nothing on the canary track),
    # over the last hour, against the absolute budgets.
    env = {**metrics_env(canary.metrics, "1h"), "HARDEN_CI_CANARY_LIVE": "true",
           "HARDEN_CI_CANARY_ROLLBACK_ON": canary.rollback_on.model_dump_json(exclude_none=True),
           "BAKE": "0s", "REPORT": "live-analysis.json"}
    return Job(id="reanalyse-live", name="Nightly analysis of the live version",
               runs_on=ctx.runner, timeout_minutes=15, if_=_when(REANALYSIS_CRON),
               environment=secrets_environment(ctx, canary.metrics.token_secret is not None),
               permissions={"contents": read("check out harden-ci's hashed lock")},
               steps=[checkout(ctx), install_harden_ci(ctx),
                      Step(name="Analyse the live version against the budgets",
                           run=load_script("canary-analyze.sh"), env=env)],
               control="The live version is re-checked nightly against the rollback rules")


def nightly(ctx: PlanContext) -> list[Job]:
    """The spec's scheduled jobs and the nightly re-analysis."""
    jobs = [_schedule_job(ctx, name, s) for name, s in ctx.spec.schedules.items()]
    live = _reanalysis(ctx)
    return jobs + ([live] if live is not None else [])


def nightly_crons(ctx: PlanContext) -> list[str]:
    crons = [s.cron for s in ctx.spec.schedules.values()]
    if _reanalysis(ctx) is not None:
        crons.append(REANALYSIS_CRON)
    return list(dict.fromkeys(crons))


def sweeper(ctx: PlanContext) -> list[Job]:
    found = preview_environment(ctx)
    if found is None or found[1].teardown is None:
        return []  # a kind preview dies with its job: nothing to sweep
    name, env = found
    assert env.teardown is not None
    values = {**deploy_env(ctx, name, env, pr=False), "TEARDOWN_COMMAND": env.teardown,
              "TTL_SECONDS": str(env.ttl), "GH_TOKEN": "${{ github.token }}",
              "URL_TEMPLATE": env.url or ""}
    values.pop("HARDEN_CI_URL", None)  # the script sets each preview's own URL
    sweep = Step(name="Tear down closed or expired previews",
                 run=load_script("sweep-previews.sh"), env=values)
    job = Job(id="sweep-previews", name=f"Sweep stale previews ({name})", runs_on=ctx.runner,
              timeout_minutes=30, environment=name,
              permissions={"contents": read("check out the teardown scripts"),
                           "pull-requests": read("list closed and stale pull requests")},
              steps=[checkout(ctx), *deploy_access.before(ctx, env, sweep)],
              control="Previews of closed or stale pull requests are always torn down")
    deploy_access.guard(ctx, job, name, env)
    return [job]
