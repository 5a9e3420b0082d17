"""A job's own time budget must fit its runner's execution limit.

GitHub stops a job at the runner's limit whatever its `timeout-minutes` says: 6 hours on
GitHub-hosted runners (larger runners included), 5 days on self-hosted runners (GitHub's
"Usage limits" for Actions). A canary whose bakes add up past that would be killed with
its rollback step still waiting, so a plan whose budget does not fit is refused.
"""

from __future__ import annotations

from harden_ci.errors import SpecError
from harden_ci.model.runners import SELF_HOSTED_DEFAULTS
from harden_ci.plan.model import Job, Workflow
from harden_ci.plan.stages.delivery import CANARY_JOB, SOAK_JOB
from harden_ci.plan.stages.scheduled import SCHEDULE_PREFIX

HOSTED_LIMIT_MINUTES = 6 * 60
SELF_HOSTED_LIMIT_MINUTES = 5 * 24 * 60

# The spec field a long job's budget follows, and what shortens it.
_BUDGETS = {
    CANARY_JOB: ("delivery.canary.bake",
                 "shorten `bake`, use fewer `steps`, or run the release on a self-hosted "
                 "runner (`project.runner`); the job's budget is each step's bake and "
                 "analysis plus the deploy, shifts and rollback"),
    SOAK_JOB: ("load.soak.duration",
               "shorten the soak or its `cold_start.after_idle`, or run the release on a "
               "self-hosted runner (`project.runner`)"),
}


def _budget_field(job_id: str) -> tuple[str, str]:
    if job_id in _BUDGETS:
        return _BUDGETS[job_id]
    if job_id.startswith(SCHEDULE_PREFIX):
        return (f"schedules.{job_id.removeprefix(SCHEDULE_PREFIX)}.timeout",
                "lower the schedule's `timeout`, or split the job")
    return ("project.timeouts", "lower the stage's timeout")


def runner_limit(job: Job) -> int | None:
    """The job's execution limit in minutes; None when `runs-on` is an expression."""
    labels = job.runs_on
    if isinstance(labels, list):
        return SELF_HOSTED_LIMIT_MINUTES  # a label list is a self-hosted runner's
    if "${{" in labels:
        return None
    # One label is a GitHub-hosted or larger runner's, unless it is a self-hosted default.
    return SELF_HOSTED_LIMIT_MINUTES if labels in SELF_HOSTED_DEFAULTS else HOSTED_LIMIT_MINUTES


def check_runner_limits(workflow: Workflow) -> None:
    """Refuse a job whose timeout passes its runner's limit (SpecError naming the field)."""
    for job in workflow.jobs:
        limit = runner_limit(job)
        if limit is None or not isinstance(job.timeout_minutes, int) or job.timeout_minutes <= limit:
            continue
        field, hint = _budget_field(job.id)
        kind = "a self-hosted" if limit == SELF_HOSTED_LIMIT_MINUTES else "a GitHub-hosted"
        raise SpecError(
            f"job `{job.id}` may need {job.timeout_minutes} minutes, but {kind} runner stops "
            f"a job after {limit}, skipping whatever is left (a canary's rollback included)",
            field=field, hint=hint)
