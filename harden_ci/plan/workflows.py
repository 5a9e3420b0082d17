"""Assemble the stages' jobs into workflows: triggers, concurrency, the required-check job."""

from __future__ import annotations

from harden_ci.model import Spec
from harden_ci.model.runners import custom_labels
from harden_ci.plan import forks, limits, managers, release_gate, selfinstall
from harden_ci.plan.context import PlanContext, load_script, make_context
from harden_ci.plan.model import Companion, Job, Plan, Step, Trigger, Workflow
from harden_ci.plan.registry import STAGES, WorkflowKey
from harden_ci.plan.stages import (
    changes,
    contract,
    delivery,
    delivery_argo,
    delivery_gateway,
    scheduled,
)
from harden_ci.plan.stages.iac_lint import ACTIONLINT_CONFIG

CI_FILE = "harden-ci.yml"
PREVIEW_FILE = "harden-ci-preview.yml"
RELEASE_FILE = "harden-ci-release.yml"
NIGHTLY_FILE = "harden-ci-nightly.yml"
SWEEPER_FILE = "harden-ci-sweeper.yml"
REQUIRED_JOB_ID = "required"


def _jobs(ctx: PlanContext, key: WorkflowKey) -> list[Job]:
    return [job for stage in STAGES if stage.workflow == key for job in stage.build(ctx)]


def _required_job(ctx: PlanContext, jobs: list[Job]) -> Job:
    """One check name to require in branch protection, whatever the matrix looks like."""
    return Job(
        id=REQUIRED_JOB_ID,
        name="All required checks",
        runs_on=ctx.runner,
        timeout_minutes=5,
        permissions={},
        needs=[job.id for job in jobs],
        if_="${{ always() }}",
        steps=[Step(name="Require every job to succeed", run=load_script("require-success.sh"),
                    env={"NEEDS_JSON": "${{ toJSON(needs) }}"})],
        control="One stable check name for branch protection and merge queues",
    )


def ci_workflow(ctx: PlanContext) -> Workflow:
    branch = ctx.spec.project.default_branch
    jobs = _jobs(ctx, "ci")
    jobs.append(_required_job(ctx, jobs))
    return Workflow(
        filename=CI_FILE,
        name=f"harden-ci: {ctx.spec.project.name}",
        # Tag releases wait for this workflow's run on the tag push (release_gate).
        on=Trigger(pull_request=True, pull_request_branches=[branch], merge_group=True,
                   push_branches=[branch], push_tags=ctx.spec.project.release.tag_patterns),
        jobs=jobs,
    )


def release_workflow(ctx: PlanContext) -> Workflow | None:
    jobs = _jobs(ctx, "release")
    if not jobs:
        return None
    release = ctx.spec.project.release
    on = (Trigger(push_tags=release.tag_patterns) if release.trigger == "tags"
          else Trigger(push_branches=[ctx.spec.project.default_branch]))
    return Workflow(
        filename=RELEASE_FILE,
        name=f"harden-ci release: {ctx.spec.project.name}",
        on=on,
        jobs=release_gate.gate(jobs, release_gate.await_job(ctx, CI_FILE)),
        # A release in flight is never cancelled halfway; the next one waits.
        concurrency_group="${{ github.workflow }}-${{ github.ref }}",
        cancel_in_progress=False,
    )


def preview_workflow(ctx: PlanContext) -> Workflow | None:
    jobs = _jobs(ctx, "preview")
    if not jobs:
        return None
    return Workflow(
        filename=PREVIEW_FILE,
        name=f"harden-ci preview: {ctx.spec.project.name}",
        on=Trigger(pull_request=True, pull_request_branches=[ctx.spec.project.default_branch],
                   pull_request_types=["opened", "synchronize", "reopened", "closed"]),
        jobs=jobs,
        # One group per pull request; a teardown waits for a deploy in flight, never
        # cancels it halfway.
        concurrency_group="${{ github.workflow }}-${{ github.event.pull_request.number }}",
        cancel_in_progress=False,
    )


def _scheduled(ctx: PlanContext, key: WorkflowKey, filename: str, title: str,
               crons: list[str]) -> Workflow | None:
    jobs = _jobs(ctx, key)
    if not jobs:
        return None
    return Workflow(
        filename=filename, name=f"harden-ci {title}: {ctx.spec.project.name}",
        on=Trigger(schedule_crons=crons, workflow_dispatch=True), jobs=jobs,
        concurrency_group="${{ github.workflow }}", cancel_in_progress=False,
    )


def _stage_of(job_id: str) -> str:
    """The `project.timeouts` key of a job: `iac-terraform` is `iac-lint`, `publish-2` and
    `images-3` (a large monorepo's matrix chunks) are `publish` and `images`, `contract-lint`
    (CI) and the preview's fuzzing `contract` are both `contract`."""
    if job_id.startswith("iac-"):
        return "iac-lint"
    if job_id == contract.LINT_JOB_ID:
        return contract.JOB_ID
    head, _, tail = job_id.rpartition("-")
    return head if head in ("publish", "images") and tail.isdigit() else job_id


def _apply_timeouts(spec: Spec, workflow: Workflow) -> None:
    for job in workflow.jobs:
        minutes = spec.project.timeouts.get(_stage_of(job.id))  # type: ignore[call-overload]
        if minutes is not None and job.uses is None:
            job.timeout_minutes = minutes


def plan(spec: Spec, spec_file: str, wheel_sha256: str | None = None) -> Plan:
    """Every workflow and companion file the spec produces, in a stable order.
    `wheel_sha256` is the sha256 of the wheel `harden_ci.wheel` names (read by the caller)."""
    ctx = make_context(spec, spec_file, wheel_sha256)
    candidates = (
        ci_workflow(ctx),
        preview_workflow(ctx),
        release_workflow(ctx),
        _scheduled(ctx, "nightly", NIGHTLY_FILE, "nightly", scheduled.nightly_crons(ctx)),
        _scheduled(ctx, "sweeper", SWEEPER_FILE, "preview sweeper", [scheduled.SWEEP_CRON]),
    )
    workflows = [wf for wf in candidates if wf is not None]
    for workflow in workflows:
        forks.keep_forks_off_self_hosted(ctx, workflow)
        _apply_timeouts(spec, workflow)
        limits.check_runner_limits(workflow)
    uses_changes = any(job.id == changes.JOB_ID for wf in workflows for job in wf.jobs)
    companions = [changes.companion(ctx)] if uses_changes else []
    if selfinstall.installs_harden_ci(workflows):
        companions.append(selfinstall.companion(ctx))
    installer = managers.companion(ctx)
    if installer is not None:
        companions.append(installer)
    canary = spec.delivery.canary if spec.delivery else None
    rolled = any(job.id == delivery.CANARY_JOB for wf in workflows for job in wf.jobs)
    if canary is not None and canary.provider == "argo-rollouts" and rolled:
        companions += delivery_argo.companions(canary)
    if canary is not None and canary.provider == "gateway-api" and rolled:
        companions += delivery_gateway.companions(canary)
    companions += selfinstall.tool_companions(workflows)
    labels = custom_labels(spec)
    if labels:
        companions.append(Companion(filename=ACTIONLINT_CONFIG, template="actionlint.yaml.j2",
                                    context={"labels": labels}))
    return Plan(workflows=workflows, companions=companions)
