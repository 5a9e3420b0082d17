"""What a job that deploys to an environment gets before its deploy command runs: proof
that the environment is protected (with `reviewers: true`), and a cloud login through
GitHub's OIDC token (with `cloud:`).

Only these jobs get `id-token: write`, and only for an environment with `cloud:`: the
token can mint cloud credentials, so no other job may ask for one. The protection check
reads the environment through the REST API with the job's own token (`actions: read`).
"""

from __future__ import annotations

from harden_ci.model.cloud import AwsLogin, AzureLogin, GcpLogin
from harden_ci.model.environments import Environment
from harden_ci.plan.context import PlanContext, load_script
from harden_ci.plan.model import Grant, Job, Scalar, Step, read, write
from harden_ci.plan.steps import action_step

CHECK_SCRIPT = "check-environment.sh"
STEP_MINUTES = 5  # one API read with retries; one token exchange
TITLES = {"aws": "AWS", "gcp": "Google Cloud", "azure": "Azure"}


def protection_check(name: str) -> Step:
    """Fails the job unless environment `name` has required reviewers and a branch policy."""
    return Step(name=f"Check that environment {name} requires reviewers and a branch policy",
                run=load_script(CHECK_SCRIPT), timeout_minutes=STEP_MINUTES, env={
                    "GH_TOKEN": "${{ github.token }}",
                    "HARDEN_CI_API_URL": "${{ github.api_url }}",
                    "HARDEN_CI_REPOSITORY": "${{ github.repository }}",
                    "HARDEN_CI_ENVIRONMENT": name,
                })


def cloud_login(ctx: PlanContext, env: Environment) -> list[Step]:
    """The login step for `env.cloud`, or nothing. Only identity inputs are set: no key,
    secret or credentials input, so each action takes its OIDC path."""
    cloud = env.cloud
    if cloud is None:
        return []
    with_: dict[str, Scalar]
    if isinstance(cloud, AwsLogin):
        action = "aws-actions/configure-aws-credentials"
        with_ = {"role-to-assume": cloud.role_arn, "aws-region": cloud.region}
        if cloud.session_duration is not None:
            with_["role-duration-seconds"] = cloud.session_duration
    elif isinstance(cloud, GcpLogin):
        action = "google-github-actions/auth"
        with_ = {"workload_identity_provider": cloud.workload_identity_provider,
                 "service_account": cloud.service_account}
    else:
        assert isinstance(cloud, AzureLogin)
        action = "Azure/login"
        with_ = {"client-id": cloud.client_id, "tenant-id": cloud.tenant_id,
                 "subscription-id": cloud.subscription_id}
    return [action_step(ctx, f"Log in to {TITLES[cloud.provider]} (OIDC, short-lived credentials)", action,
                        with_, timeout_minutes=STEP_MINUTES)]


def permissions(name: str, env: Environment) -> dict[str, Grant]:
    grants: dict[str, Grant] = {}
    if env.reviewers:
        grants["actions"] = read(f"read environment {name}'s protection rules")
    if env.cloud is not None:
        grants["id-token"] = write(f"log in to {TITLES[env.cloud.provider]} through OIDC")
    return grants


def before(ctx: PlanContext, env: Environment, command: Step) -> list[Step]:
    """`command` (a deploy or teardown step) with the cloud login right before it."""
    return [*cloud_login(ctx, env), command]


def guard(ctx: PlanContext, job: Job, name: str, env: Environment) -> None:
    """Make `job`, which deploys to `name`, check the environment's protection first (the
    job's first step: nothing of the repository has run yet) and grant what its login and
    check need. Call it after the deploy steps are in place (see `before`)."""
    if env.reviewers:
        job.steps.insert(0, protection_check(name))
        if isinstance(job.timeout_minutes, int):
            job.timeout_minutes += STEP_MINUTES
    job.permissions = {**job.permissions, **permissions(name, env)}
