"""Verification after unit tests: e2e against an environment, LLM evals scored by
harden-ci's gate, and the auth probes in staging."""

from __future__ import annotations

import json

from harden_ci.model.verification import LlmJudge
from harden_ci.plan.context import PlanContext, load_script
from harden_ci.plan.model import Job, Step, read
from harden_ci.plan.stages.environments import target_env
from harden_ci.plan.steps import (
    checkout,
    install_harden_ci,
    run_command,
    secret_env,
    secrets_environment,
    setup_toolchain,
    upload_artifact,
)

E2E_JOB = "e2e"
LLM_JOB = "llm-checks"
AUTH_JOB = "auth-e2e"


def e2e_job(ctx: PlanContext, needs: list[str], if_: str | None = None) -> Job | None:
    e2e = ctx.spec.tests.e2e if ctx.spec.tests else None
    if e2e is None:
        return None
    env = ctx.spec.environments[e2e.environment]
    values = target_env(ctx, e2e.environment, env, pr=env.per_pull_request)
    return Job(
        id=E2E_JOB, name=f"End-to-end tests ({e2e.environment})", runs_on=ctx.runner,
        timeout_minutes=30, needs=needs, if_=if_, environment=e2e.environment,
        permissions={"contents": read("check out the e2e suite")},
        steps=[checkout(ctx), run_command("Run the end-to-end suite", e2e.command, env=values),
               upload_artifact(ctx, "e2e-reports", e2e.reports)],
        control="End-to-end tests pass against a deployed environment, after the contracts",
    )


def llm_job(ctx: PlanContext) -> Job | None:
    llm = ctx.spec.tests.llm if ctx.spec.tests else None
    if llm is None:
        return None
    service = next(s for s in ctx.spec.services.values() if s.kind == "llm")
    outputs = "llm-outputs.jsonl"
    score_env = {"HARDEN_CI_LLM_OUTPUTS": outputs, "HARDEN_CI_LLM_GOLD": llm.gold,
                 "TOLERANCE": str(llm.tolerance), "TOKEN_BUDGET": str(llm.token_budget)}
    if llm.schema_:
        score_env["HARDEN_CI_LLM_SCHEMA"] = llm.schema_
    if llm.baseline:
        score_env["BASELINE"] = llm.baseline
    if llm.samples > 1:
        score_env["HARDEN_CI_LLM_SAMPLES"] = str(llm.samples)
    if llm.allow_no_token_baseline:
        score_env["ALLOW_NO_TOKEN_BASELINE"] = "true"
    if llm.judge:
        score_env.update(judge_env(llm.judge))
    # harden-ci goes in before any repository code runs, so that code cannot touch its venv.
    steps: list[Step] = [checkout(ctx), install_harden_ci(ctx), *setup_toolchain(ctx, service)]
    if service.install_command:
        steps.append(run_command("Install dependencies", service.install_command,
                                 working_directory=service.install_dir))
    steps += [
        Step(name="Run the evals with a fixed seed", run=load_script("llm-run.sh"),
             env={"LLM_COMMAND": llm.command, "HARDEN_CI_SEED": str(llm.seed),
                  "HARDEN_CI_SAMPLES": str(llm.samples),
                  "HARDEN_CI_LLM_OUTPUTS": outputs, **secret_env(llm.secrets)}),
        Step(name="Score the outputs (schema, gold, tolerance, tokens)",
             run=load_script("llm-score.sh"), env=score_env),
        upload_artifact(ctx, "llm-eval", f"{outputs}\nllm-report.json"),
    ]
    return Job(id=LLM_JOB, name="LLM evals", runs_on=ctx.runner, timeout_minutes=60,
               environment=secrets_environment(ctx, bool(llm.secrets)),
               permissions={"contents": read("check out the evals and gold answers")},
               steps=steps,
               control="LLM answers match their schema and gold set within tolerance and token "
                       "budget")


def auth_job(ctx: PlanContext, needs: list[str]) -> Job | None:
    auth = ctx.spec.tests.auth if ctx.spec.tests else None
    if auth is None:
        return None
    env = ctx.spec.environments[auth.environment]
    values = target_env(ctx, auth.environment, env, pr=False)
    probe_env = {
        **values,
        "HARDEN_CI_AUTH_ISSUER": auth.issuer,
        "HARDEN_CI_AUTH_PROTECTED_PATH": auth.protected_path,
        "HARDEN_CI_TOKEN_COMMAND": _argv(auth.token_command),
        "MAX_TOKEN_LIFETIME": str(auth.max_token_lifetime),
        "PROBES": " ".join(flag for flag, on in (
            ("--key-rotation", auth.key_rotation), ("--token-replay", auth.token_replay),
            ("--tenant-isolation", auth.tenant_isolation),
            ("--forged-tokens", auth.forged_tokens)) if on),
    }
    if auth.rotate_command:
        probe_env["HARDEN_CI_ROTATE_COMMAND"] = _argv(auth.rotate_command)
    if auth.rotation_grace is not None:
        probe_env["HARDEN_CI_AUTH_ROTATION_GRACE"] = str(auth.rotation_grace)
    if auth.revoked_token_command:
        probe_env["HARDEN_CI_REVOKED_TOKEN_COMMAND"] = _argv(auth.revoked_token_command)
    for variable, value in (("HARDEN_CI_AUTH_TENANT_A_PATH", auth.tenant_a_path),
                            ("HARDEN_CI_AUTH_TENANT_B_PATH", auth.tenant_b_path),
                            ("HARDEN_CI_AUTH_TENANT_B_QUERY", auth.tenant_b_query),
                            ("HARDEN_CI_AUTH_TENANT_B_HEADER", auth.tenant_b_header)):
        if value:
            probe_env[variable] = value
    for variable, command in (("HARDEN_CI_TENANT_B_TOKEN_COMMAND", auth.tenant_b_token_command),
                              ("HARDEN_CI_WRONG_AUDIENCE_TOKEN_COMMAND", auth.wrong_audience_token_command),
                              ("HARDEN_CI_WRONG_ISSUER_TOKEN_COMMAND", auth.wrong_issuer_token_command),
                              ("HARDEN_CI_EXPIRED_TOKEN_COMMAND", auth.expired_token_command),
                              ("HARDEN_CI_REFRESH_TOKEN_COMMAND", auth.refresh_token_command)):
        if command:
            probe_env[variable] = _argv(command)
    if auth.client_id:
        probe_env["HARDEN_CI_AUTH_CLIENT_ID"] = auth.client_id
    if auth.client_secret:
        probe_env["HARDEN_CI_AUTH_CLIENT_SECRET"] = f"${{{{ secrets.{auth.client_secret} }}}}"
    return Job(
        id=AUTH_JOB, name=f"Auth probes ({auth.environment})", runs_on=ctx.runner,
        timeout_minutes=20, needs=needs, environment=auth.environment,
        permissions={"contents": read("check out the token and rotation scripts")},
        steps=[checkout(ctx), install_harden_ci(ctx),
               Step(name="Probe keys, tokens and tenants", run=load_script("auth-probe.sh"),
                    env=probe_env),
               upload_artifact(ctx, "auth-report", "auth-report.json")],
        control="Auth holds in staging: key rotation, token replay, lifetime, tenant isolation",
    )


def judge_env(judge: LlmJudge) -> dict[str, str]:
    """The judge command, seed and pinned prompt, as the LLM gates read them."""
    return {"HARDEN_CI_JUDGE_COMMAND": _argv(judge.command),
            "HARDEN_CI_JUDGE_SEED": str(judge.seed), "HARDEN_CI_JUDGE_PROMPT": judge.prompt,
            "HARDEN_CI_JUDGE_PROMPT_SHA256": judge.prompt_sha256}


def _argv(command: str) -> str:
    # The probes take commands as a JSON argv, never as shell text they build themselves.
    return json.dumps(["bash", "-c", command])
