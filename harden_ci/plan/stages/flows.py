"""The ordered flows whose jobs depend on each other: the per-pull-request preview
(deploy → contract fuzzing → e2e, teardown on close) and the default-branch delivery chain
(publish → deploy each environment → auth probes → soak → canary)."""

from __future__ import annotations

from harden_ci.plan.context import PlanContext
from harden_ci.plan.model import Job, read
from harden_ci.plan.stages import (
    contract,
    delivery,
    environments,
    publish,
    verification,
    verify_deploy,
)
from harden_ci.plan.steps import checkout, environment_url


def preview(ctx: PlanContext) -> list[Job]:
    kind = kind_preview(ctx)
    if kind is not None:
        return [kind]
    jobs = environments.preview_jobs(ctx)
    if not jobs:
        return []
    name, env = environments.preview_environment(ctx) or ("", None)
    assert env is not None
    gate = f"${{{{ github.event.action != 'closed' && {environments.SAME_REPOSITORY} }}}}"
    deploy_id = environments.PREVIEW_JOB
    checks = contract.contract_job(ctx, base_url=environment_url(env.url), needs=[deploy_id])
    if checks is not None:
        checks.if_ = gate
        jobs.append(checks)
    e2e = ctx.spec.tests.e2e if ctx.spec.tests else None
    if e2e is not None and e2e.environment == name:
        job = verification.e2e_job(ctx, needs=[checks.id if checks else deploy_id], if_=gate)
        if job is not None:
            jobs.append(job)
    return jobs


def delivery_chain(ctx: PlanContext) -> list[Job]:
    """Jobs after publishing, each waiting for the one before it."""
    images = publish.published(ctx)
    digests = {f"HARDEN_CI_DIGEST_{name.upper().replace('-', '_')}": publish.digest_of(name)
               for name in images}
    # The digest map's job waits for every publish leg.
    published = [publish.DIGESTS_JOB_ID] if images else []
    jobs: list[Job] = []
    previous = published
    tests = ctx.spec.tests
    soak_env = ctx.spec.load.soak.environment if ctx.spec.load and ctx.spec.load.soak else None
    def with_images(needs: list[str]) -> list[str]:
        # Deploys read the published digests, so they wait for publishing directly.
        return needs + [pid for pid in published if pid not in needs]

    for name, env in environments.long_lived(ctx):
        deploy = environments.deploy_job(ctx, name, env, needs=with_images(previous),
                                         extra_env=digests)
        if images:
            verify_deploy.guard(ctx, deploy)
        jobs.append(deploy)
        previous = [deploy.id]
        if tests and tests.e2e and tests.e2e.environment == name:
            e2e = verification.e2e_job(ctx, needs=previous)
            if e2e is not None:
                jobs.append(e2e)
                previous = [e2e.id]
        if tests and tests.auth and tests.auth.environment == name:
            auth = verification.auth_job(ctx, needs=previous)
            if auth is not None:
                jobs.append(auth)
                previous = [auth.id]
        if soak_env == name:
            soak = delivery.soak_job(ctx, needs=previous)
            if soak is not None:
                jobs.append(soak)
                previous = [soak.id]
    canary = delivery.canary_job(ctx, needs=with_images(previous), extra_env=digests)
    if canary is not None:
        if images:
            verify_deploy.guard(ctx, canary)
        jobs.append(canary)
    return jobs


def ci_contract(ctx: PlanContext) -> list[Job]:
    """The static contract checks gate merging: they run with the CI checks, preview or not."""
    job = contract.lint_job(ctx)
    return [job] if job is not None else []


def ci_llm(ctx: PlanContext) -> list[Job]:
    job = verification.llm_job(ctx)
    return [job] if job is not None else []


def kind_preview(ctx: PlanContext) -> Job | None:
    """With `provider: kind`, the preview lives only as long as one job: deploy, contracts
    and e2e run in it, in that order; the cluster goes away with the job."""
    found = environments.preview_environment(ctx)
    if found is None or found[1].provider != "kind":
        return None
    name, env = found
    steps = [checkout(ctx, full_history=True), *environments.kind_deploy_steps(ctx, name, env)]
    checks = contract.contract_job(ctx, base_url=env.url)
    if checks is not None:
        steps += checks.steps[1:]  # the checkout is already done
    e2e = verification.e2e_job(ctx, needs=[])
    if e2e is not None and ctx.spec.tests and ctx.spec.tests.e2e \
            and ctx.spec.tests.e2e.environment == name:
        steps += e2e.steps[1:]
    return Job(id="preview-kind", name=f"Preview in kind ({name}): deploy, contracts, e2e",
               runs_on=ctx.runner, timeout_minutes=45,
               if_=f"${{{{ github.event.action != 'closed' && {environments.SAME_REPOSITORY} }}}}",
               # The preview environment's own: its secrets reach the e2e steps from there,
               # behind its protection rules, as they reach the other providers' deploy job.
               environment=name,
               permissions={"contents": read("check out the app, manifests and suites")},
               steps=steps, control=environments.CONTROL_PREVIEW)
