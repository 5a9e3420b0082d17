"""Deploying environments: a preview per pull request (deploy on open and push, teardown
on close, never for forks), and the long-lived environments (staging, production) in
order on the default branch, each behind GitHub environment protection."""

from __future__ import annotations

from harden_ci.model.environments import Environment
from harden_ci.plan.context import PlanContext, load_script
from harden_ci.plan.model import Job, Step, read
from harden_ci.plan.stages import deploy_access
from harden_ci.plan.steps import (
    PR_NUMBER,
    action_step,
    checkout,
    environment_url,
    run_command,
    secret_env,
    var_env,
)

CONTROL_PREVIEW = "An ephemeral environment per pull request, torn down when it closes"
CONTROL_DEPLOY = "Deploys go through protected GitHub environments, in order"
# Fork pull requests never deploy and never see secrets.
SAME_REPOSITORY = "github.event.pull_request.head.repo.full_name == github.repository"
PREVIEW_JOB = "deploy-preview"
TEARDOWN_JOB = "teardown-preview"


def preview_environment(ctx: PlanContext) -> tuple[str, Environment] | None:
    for name, env in ctx.spec.environments.items():
        if env.per_pull_request:
            return name, env
    return None


def target_env(ctx: PlanContext, name: str, env: Environment, *, pr: bool,
               secrets: bool = False) -> dict[str, str]:
    """What a job that works against environment `name` without deploying to it gets (e2e,
    auth probes, soak, schedules): its name, URL and variables, never the deploy's secrets
    (`secrets`: the deploy's own env, see deploy_env)."""
    values = {"HARDEN_CI_ENVIRONMENT": name, **secret_env(env.secrets if secrets else []),
              **var_env(env.vars)}
    url = environment_url(env.url)
    if url:
        values["HARDEN_CI_URL"] = url
    if pr:
        values["HARDEN_CI_PR_NUMBER"] = PR_NUMBER
    return values


def deploy_env(ctx: PlanContext, name: str, env: Environment, *, pr: bool) -> dict[str, str]:
    """The deploy's (and teardown's) env: the target's, and the secrets the deploy needs."""
    return target_env(ctx, name, env, pr=pr, secrets=True)


KIND_CLUSTER = "harden-ci"


def kind_deploy_steps(ctx: PlanContext, name: str, env: Environment) -> list[Step]:
    """A kind cluster inside the job, the service images loaded into it, the app applied
    and exposed on localhost: a real ephemeral environment on the runner itself."""
    images = "\n".join(f"{svc}|{s.path}|{s.dockerfile}"
                       for svc, s in ctx.spec.services.items() if s.dockerfile)
    return [
        action_step(ctx, "Create a kind cluster", "helm/kind-action",
                    {"cluster_name": KIND_CLUSTER}),
        Step(name=f"Deploy into kind ({name})", run=load_script("kind-deploy.sh"), env={
            "CLUSTER": KIND_CLUSTER, "IMAGES": images, "MANIFESTS": env.manifests or "",
            "PORT_FORWARD": env.port_forward or "", "HARDEN_CI_URL": env.url or ""}),
    ]


def preview_jobs(ctx: PlanContext) -> list[Job]:
    found = preview_environment(ctx)
    if found is None:
        return []
    name, env = found
    if env.provider == "kind":
        return []  # the kind preview is one job with its checks: see flows.preview
    assert env.deploy is not None and env.teardown is not None  # the model requires both
    values = deploy_env(ctx, name, env, pr=True)
    deploy = Job(
        id=PREVIEW_JOB, name=f"Deploy the preview ({name})", runs_on=ctx.runner,
        timeout_minutes=30,
        if_=f"${{{{ github.event.action != 'closed' && {SAME_REPOSITORY} }}}}",
        environment=name, environment_url=environment_url(env.url),
        permissions={"contents": read("check out the deploy scripts")},
        steps=[checkout(ctx), *deploy_access.before(
            ctx, env, run_command("Deploy the preview", env.deploy, env=values))],
        control=CONTROL_PREVIEW,
    )
    teardown = Job(
        id=TEARDOWN_JOB, name=f"Tear down the preview ({name})", runs_on=ctx.runner,
        timeout_minutes=20,
        if_=f"${{{{ github.event.action == 'closed' && {SAME_REPOSITORY} }}}}",
        environment=name,
        permissions={"contents": read("check out the teardown scripts")},
        steps=[checkout(ctx), *deploy_access.before(
            ctx, env, run_command("Tear down the preview", env.teardown, env=values))],
        control=CONTROL_PREVIEW,
    )
    for job in (deploy, teardown):
        deploy_access.guard(ctx, job, name, env)
    return [deploy, teardown]


def deploy_job_id(name: str) -> str:
    return f"deploy-{name}"


def long_lived(ctx: PlanContext) -> list[tuple[str, Environment]]:
    """Environments deployed from the default branch, in spec order (the canary's own
    environment is rolled out by the canary job instead)."""
    canary = ctx.spec.delivery.canary if ctx.spec.delivery else None
    return [(name, env) for name, env in ctx.spec.environments.items()
            if not env.per_pull_request and env.deploy
            and (canary is None or canary.environment != name)]


def deploy_job(ctx: PlanContext, name: str, env: Environment, needs: list[str],
               extra_env: dict[str, str]) -> Job:
    assert env.deploy is not None
    command = run_command(f"Deploy {name}", env.deploy,
                          env={**deploy_env(ctx, name, env, pr=False), **extra_env})
    job = Job(
        id=deploy_job_id(name), name=f"Deploy {name}", runs_on=ctx.runner, timeout_minutes=30,
        needs=needs, environment=name, environment_url=env.url,
        permissions={"contents": read("check out the deploy scripts")},
        steps=[checkout(ctx), *deploy_access.before(ctx, env, command)],
        control=CONTROL_DEPLOY,
    )
    deploy_access.guard(ctx, job, name, env)
    return job


def preview_step_env(ctx: PlanContext) -> dict[str, str]:
    found = preview_environment(ctx)
    return deploy_env(ctx, *found, pr=True) if found else {}
