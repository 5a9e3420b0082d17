"""Dependency review on pull requests: new dependencies with known vulnerabilities at or
above the spec's `fail_on` severity block the change.

It asks GitHub's dependency graph for the diff between base and head directly (the `gh`
CLI on the runner), because the only pinned release of actions/dependency-review-action
runs on Node 20, which hosted runners no longer have.
"""

from __future__ import annotations

from harden_ci.plan.context import PlanContext, load_script
from harden_ci.plan.model import Job, Step, read

CONTROL = "New dependencies with known vulnerabilities are blocked"
JOB_ID = "dependency-review"
PULL_REQUEST_OR_QUEUE = "${{ github.event_name == 'pull_request' || github.event_name == 'merge_group' }}"


def build(ctx: PlanContext) -> list[Job]:
    vulns = ctx.spec.gates.vulnerabilities if ctx.spec.gates else None
    if vulns is None:
        return []
    step = Step(name="Review dependency changes", run=load_script("dependency-review.sh"), env={
        "GH_TOKEN": "${{ github.token }}",
        "BASE_SHA": "${{ github.event.pull_request.base.sha || github.event.merge_group.base_sha }}",
        "HEAD_SHA": "${{ github.event.pull_request.head.sha || github.event.merge_group.head_sha }}",
        "FAIL_ON": vulns.fail_on,
    })
    return [Job(id=JOB_ID, name="Dependency review", runs_on=ctx.runner, timeout_minutes=10,
                if_=PULL_REQUEST_OR_QUEUE,
                permissions={"contents": read("read the dependency graph of both commits")},
                steps=[step], control=CONTROL)]
