"""The release workflow's first job: wait for the same commit's CI run, and publish
nothing unless it succeeded.

The release workflow runs on the same push as the CI workflow (or on a tag push, which
the CI workflow then also runs on), and GitHub does not order two workflows of one push:
without this job a commit that fails its checks would still be pushed, signed and
deployed. `workflow_run` would order them, but it runs with the default branch's
workflow file and a write-capable token whatever the commit, which is the privileged
trigger harden-ci never emits; polling the runs API with a read-only token is not.
"""

from __future__ import annotations

from harden_ci.plan.context import PlanContext, load_script
from harden_ci.plan.model import Job, Step, read

JOB_ID = "await-checks"
CONTROL = "Nothing is published until the same commit's CI run has succeeded"
POLL_SECONDS = 15
# The job's own limit sits above the script's, so the script's own message (which run,
# which state) is what a timeout reports, not GitHub's cancellation.
_JOB_MARGIN_MINUTES = 5


def await_job(ctx: PlanContext, ci_file: str) -> Job:
    timeout = ctx.spec.project.release.checks_timeout
    return Job(
        id=JOB_ID,
        name="Await this commit's checks",
        runs_on=ctx.runner,
        timeout_minutes=-(-timeout // 60) + _JOB_MARGIN_MINUTES,
        permissions={"actions": read(f"read the runs of {ci_file} for this commit")},
        steps=[Step(name=f"Wait for {ci_file} on this commit to succeed",
                    run=load_script("await-checks.sh"), env={
                        "GH_TOKEN": "${{ github.token }}",
                        "HARDEN_CI_API_URL": "${{ github.api_url }}",
                        "HARDEN_CI_REPOSITORY": "${{ github.repository }}",
                        "HARDEN_CI_SHA": "${{ github.sha }}",
                        "HARDEN_CI_CI_WORKFLOW": ci_file,
                        # Both workflows run on the push (branch or tag) itself.
                        "HARDEN_CI_EVENT": "push",
                        "HARDEN_CI_POLL_SECONDS": str(POLL_SECONDS),
                        "HARDEN_CI_TIMEOUT_SECONDS": str(timeout),
                    })],
        control=CONTROL,
    )


def gate(jobs: list[Job], gate_job: Job) -> list[Job]:
    """`gate_job` first, and every job that waited for nothing now waits for it: every
    other job already waits for one of those, so all of them run after it."""
    for job in jobs:
        if not job.needs:
            job.needs = [gate_job.id]
    return [gate_job, *jobs]
