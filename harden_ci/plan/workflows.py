"""Assemble the stages' jobs into workflows: triggers, concurrency, the required-check job."""

from __future__ import annotations

from harden_ci.model import Spec
from harden_ci.model.runners import custom_labels
from harden_ci.plan.context import PlanContext, load_script, make_context
from harden_ci.plan.model import Companion, Job, Plan, Step, Trigger, Workflow
from harden_ci.plan.registry import STAGES, WorkflowKey
from harden_ci.plan.stages import changes, scheduled
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
        on=Trigger(pull_request=True, pull_request_branches=[branch], merge_group=True,
                   push_branches=[branch]),
        jobs=jobs,
    )


def release_workflow(ctx: PlanContext) -> Workflow | None:
    jobs = _jobs(ctx, "release")
    if not jobs:
        return None
    return Workflow(
        filename=RELEASE_FILE,
        name=f"harden-ci release: {ctx.spec.project.name}",
        on=Trigger(push_branches=[ctx.spec.project.default_branch]),
        jobs=jobs,
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


def plan(spec: Spec, spec_file: str) -> Plan:
    """Every workflow and companion file the spec produces, in a stable order."""
    ctx = make_context(spec, spec_file)
    candidates = (
        ci_workflow(ctx),
        preview_workflow(ctx),
        release_workflow(ctx),
        _scheduled(ctx, "nightly", NIGHTLY_FILE, "nightly", scheduled.nightly_crons(ctx)),
        _scheduled(ctx, "sweeper", SWEEPER_FILE, "preview sweeper", [scheduled.SWEEP_CRON]),
    )
    workflows = [wf for wf in candidates if wf is not None]
    uses_changes = any(job.id == changes.JOB_ID for wf in workflows for job in wf.jobs)
    companions = [changes.companion(ctx)] if uses_changes else []
    labels = custom_labels(spec)
    if labels:
        companions.append(Companion(filename=ACTIONLINT_CONFIG, template="actionlint.yaml.j2",
                                    context={"labels": labels}))
    return Plan(workflows=workflows, companions=companions)
