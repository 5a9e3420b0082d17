"""Fork pull requests never run on self-hosted runners.

A pull request from a fork runs code its author controls; on a self-hosted runner that code
reaches the runner's network and whatever later jobs leave on it. So every job of a
pull-request workflow that would run on a label GitHub does not host (a self-hosted or
scale-set label) runs on a GitHub-hosted image instead when the pull request comes from a
fork. Static `runs-on:` values get an expression; matrix entries get the hosted labels from
the affected-services script (`fork_runs_on`).
"""

from __future__ import annotations

import json

from harden_ci.model.runners import HOSTED_LABELS
from harden_ci.plan.context import PlanContext
from harden_ci.plan.model import Workflow

HOSTED_FALLBACK = "ubuntu-24.04"
FORK_PR = ("github.event_name == 'pull_request' && "
           "github.event.pull_request.head.repo.full_name != github.repository")


def self_hosted(labels: list[str]) -> bool:
    return any(label not in HOSTED_LABELS for label in labels)


def hosted_labels(ctx: PlanContext) -> list[str]:
    """What a fork's pull request runs on instead: the project's runner when GitHub hosts
    it, else ubuntu-24.04."""
    return [ctx.runner] if ctx.runner in HOSTED_LABELS else [HOSTED_FALLBACK]


def fork_runs_on(ctx: PlanContext, labels: list[str]) -> list[str]:
    return hosted_labels(ctx) if self_hosted(labels) else labels


def _expression(ctx: PlanContext, labels: list[str]) -> str:
    # Labels match RUNNER_PATTERN (letters, digits, `.`, `_`, `-`): safe inside '...'.
    hosted = hosted_labels(ctx)
    if len(labels) == 1 and len(hosted) == 1:
        return f"${{{{ ({FORK_PR}) && '{hosted[0]}' || '{labels[0]}' }}}}"
    return (f"${{{{ fromJSON(({FORK_PR}) && '{json.dumps(hosted)}' || "
            f"'{json.dumps(labels, separators=(',', ':'))}') }}}}")


def keep_forks_off_self_hosted(ctx: PlanContext, workflow: Workflow) -> None:
    """Rewrite every static self-hosted `runs-on:` of a pull-request workflow."""
    if not workflow.on.pull_request:
        return
    for job in workflow.jobs:
        if job.uses is not None or (isinstance(job.runs_on, str) and "${{" in job.runs_on):
            continue  # reusable workflows, and matrix entries (fork_runs_on) decide their own
        labels = [job.runs_on] if isinstance(job.runs_on, str) else list(job.runs_on)
        if self_hosted(labels):
            job.runs_on = _expression(ctx, labels)
