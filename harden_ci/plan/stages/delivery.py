"""Load budgets and progressive delivery on the default branch: a soak against staging
judged by k6 thresholds, then the canary rollout to production in steps, each baked and
analysed by harden-ci's gate, with automatic rollback."""

from __future__ import annotations

from harden_ci.model.delivery import Canary
from harden_ci.plan.context import PlanContext, load_script
from harden_ci.plan.model import Job, Step, read
from harden_ci.plan.stages.environments import deploy_env
from harden_ci.plan.steps import (
    action_step,
    checkout,
    install_harden_ci,
    run_command,
    upload_artifact,
)
from harden_ci.plan.tools import version

SOAK_JOB = "soak"
CANARY_JOB = "canary"
_MINUTES = 60


def soak_job(ctx: PlanContext, needs: list[str]) -> Job | None:
    soak = ctx.spec.load.soak if ctx.spec.load else None
    if soak is None:
        return None
    env = ctx.spec.environments[soak.environment]
    values = deploy_env(ctx, soak.environment, env, pr=False)
    steps = [
        checkout(ctx),
        action_step(ctx, "Set up k6", "grafana/setup-k6-action", {"k6-version": version("k6")}),
        install_harden_ci(ctx),
        Step(name="Soak the journeys against their budgets", run=load_script("soak.sh"), env={
            **values,
            "BASE_URL": values.get("HARDEN_CI_URL", ""),
            "HARDEN_CI_SOAK_SCRIPTS": " ".join(soak.scripts),
            "HARDEN_CI_SOAK_BUDGETS": soak.budgets.model_dump_json(exclude_none=True),
            "HARDEN_CI_SOAK_DURATION": f"{soak.duration}s",
            "HARDEN_CI_SOAK_DIR": "soak-results",
        }),
        upload_artifact(ctx, "soak-results", "soak-results"),
    ]
    return Job(id=SOAK_JOB, name=f"Soak ({soak.environment})", runs_on=ctx.runner,
               timeout_minutes=soak.duration // _MINUTES + 20, needs=needs,
               environment=soak.environment,
               permissions={"contents": read("check out the journey scripts")},
               steps=steps,
               control="Latency and error budgets hold for the whole soak (k6 thresholds)")


def _weight_steps(ctx: PlanContext, canary: Canary, percent: int) -> list[Step]:
    steps: list[Step] = []
    if canary.provider == "command":
        assert canary.shift is not None
        steps.append(run_command(f"Shift {percent}% of traffic to the canary", canary.shift,
                                 env={"HARDEN_CI_CANARY_WEIGHT": str(percent)}))
    else:
        steps.append(Step(name=f"Promote the rollout to {percent}%",
                          run=load_script("argo-rollouts.sh"),
                          env={"ROLLOUT": canary.rollout or "", "ACTION": "promote"}))
    if canary.feature_flag:
        steps.append(_flag_step(canary, percent))
    return steps


def _flag_step(canary: Canary, percent: int) -> Step:
    assert canary.feature_flag is not None
    env = {"HARDEN_CI_FLAG": canary.feature_flag, "HARDEN_CI_FLAG_PERCENT": str(percent)}
    if canary.flag_provider == "flagd":
        env["FLAG_FILE"] = canary.flag_file or ""
        env["PUBLISH_COMMAND"] = canary.flag_command or ""
        return Step(name=f"Ramp {canary.feature_flag} to {percent}% (flagd)",
                    run=load_script("flagd-ramp.sh"), env=env)
    assert canary.flag_command is not None
    return run_command(f"Ramp {canary.feature_flag} to {percent}%", canary.flag_command, env=env)


def _analysis(ctx: PlanContext, canary: Canary, percent: int) -> Step:
    assert canary.metrics is not None
    env = {
        "HARDEN_CI_PROMETHEUS_URL": canary.metrics.prometheus,
        "HARDEN_CI_CANARY_ROLLBACK_ON": canary.rollback_on.model_dump_json(),
        "HARDEN_CI_CANARY_STEP": str(percent),
        "BAKE": f"{canary.bake}s",
        "REPORT": f"canary-{percent}.json",
    }
    if canary.metrics.cost_metric:
        env["HARDEN_CI_CANARY_COST_METRIC"] = canary.metrics.cost_metric
    if canary.metrics.selector:
        env["HARDEN_CI_CANARY_SELECTOR"] = canary.metrics.selector
    return Step(name=f"Bake and analyse at {percent}%", run=load_script("canary-analyze.sh"),
                env=env)


def _shadow(ctx: PlanContext, canary: Canary) -> list[Step]:
    llm = ctx.spec.tests.llm if ctx.spec.tests else None
    if not canary.shadow_traffic or canary.shadow is None or llm is None:
        return []
    outputs = "shadow-outputs.jsonl"
    score_env = {"HARDEN_CI_LLM_OUTPUTS": outputs, "HARDEN_CI_LLM_GOLD": llm.gold,
                 "TOLERANCE": str(llm.tolerance), "TOKEN_BUDGET": str(llm.token_budget)}
    if llm.schema_:
        score_env["HARDEN_CI_LLM_SCHEMA"] = llm.schema_
    return [
        run_command("Mirror live prompts to the new version (shadow)", canary.shadow,
                    env={"HARDEN_CI_LLM_OUTPUTS": outputs}),
        Step(name="Score the shadow answers", run=load_script("llm-score.sh"), env=score_env),
    ]


def canary_job(ctx: PlanContext, needs: list[str],
               extra_env: dict[str, str] | None = None) -> Job | None:
    canary = ctx.spec.delivery.canary if ctx.spec.delivery else None
    if canary is None:
        return None
    env = ctx.spec.environments[canary.environment]
    values = deploy_env(ctx, canary.environment, env, pr=False)
    steps: list[Step] = [checkout(ctx), install_harden_ci(ctx)]
    if env.deploy:
        steps.append(run_command(f"Deploy the canary to {canary.environment}", env.deploy,
                                 env={**values, **(extra_env or {}),
                                      "HARDEN_CI_CANARY": "true"}))
    steps += _shadow(ctx, canary)
    for percent in canary.steps:
        steps += _weight_steps(ctx, canary, percent)
        steps.append(_analysis(ctx, canary, percent))
    steps.append(_rollback(canary))
    steps.append(upload_artifact(ctx, "canary-analysis", "canary-*.json"))
    bake_minutes = len(canary.steps) * (canary.bake // _MINUTES + 2)
    return Job(id=CANARY_JOB, name=f"Canary to {canary.environment}", runs_on=ctx.runner,
               timeout_minutes=bake_minutes + 30, needs=needs,
               environment=canary.environment, environment_url=env.url,
               concurrency_group=f"canary-{canary.environment}",
               permissions={"contents": read("check out the rollout scripts")},
               steps=steps,
               control="Production changes roll out in canary steps and roll back "
                       "automatically on error rate, p95 or cost regression")


def _rollback(canary: Canary) -> Step:
    env = {"ROLLBACK_COMMAND": canary.rollback or "", "SHIFT_COMMAND": canary.shift or "",
           "ROLLOUT": canary.rollout or "", "PROVIDER": canary.provider,
           "HARDEN_CI_FLAG": canary.feature_flag or "", "FLAG_COMMAND": canary.flag_command or "",
           "FLAG_FILE": canary.flag_file or ""}
    return Step(name="Roll back (the rollout failed)", run=load_script("canary-rollback.sh"),
                env=env, if_="${{ failure() }}")
