"""The drift guard: the repository's CI fails when a generated workflow was hand-edited
or the spec changed without re-rendering."""

from __future__ import annotations

from harden_ci.plan.context import PlanContext, load_script
from harden_ci.plan.model import Job, Step, read
from harden_ci.plan.steps import action_step, checkout, install_harden_ci

CONTROL = "Generated workflows match the reviewed spec (drift guard)"
JOB_ID = "drift-guard"
PYTHON_VERSION = "3.12"


def build(ctx: PlanContext) -> list[Job]:
    steps = [
        checkout(ctx),
        action_step(ctx, "Set up Python", "actions/setup-python",
                    {"python-version": PYTHON_VERSION}),
        install_harden_ci(ctx),
        Step(name="Check the workflows against the spec", run=load_script("drift-guard.sh"),
             env={"HARDEN_CI_SPEC": ctx.spec_file}),
    ]
    return [Job(id=JOB_ID, name="Drift guard", runs_on=ctx.runner, timeout_minutes=10,
                permissions={"contents": read("check out the spec and workflows")},
                steps=steps, control=CONTROL)]
