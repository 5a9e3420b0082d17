"""The canary job's rollback survives cancellation and timeouts.

The rollback and the flag ramp-back run on `failure() || cancelled()` (never on success);
every step has its own `timeout-minutes`, each bake its bake plus a margin, so an overrun
fails its step (and rolls back) long before the job's timeout, which is the sum of every
step's timeout, the rollback's included, plus the runner's slack. Checked on the planned
job for many bakes, step lists and providers, and on learnhub's rendered workflow.

Not run through act: a cancelled run or a tripped step timeout under act is minutes per
case; the conditions and numbers are GitHub's documented semantics, checked here."""

from __future__ import annotations

import math
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from strategies import canaries, canary_steps
from test_scripts import learnhub

from harden_ci.model import Spec
from harden_ci.plan.context import make_context
from harden_ci.plan.model import Job
from harden_ci.plan.stages import delivery

RELEASE = "harden-ci-release.yml"
ROLLBACK = "${{ failure() || cancelled() }}"


def _spec(canary: dict[str, Any]) -> dict[str, Any]:
    return {"version": 1, "project": {"name": "canary"},
            "services": {"api": {"path": "api", "language": "python"}},
            "environments": {"production": {"deploy": "./deploy.sh prod",
                                            "url": "https://example.com"}},
            "delivery": {"canary": canary}}


def _job(canary: dict[str, Any]) -> Job:
    ctx = make_context(Spec.model_validate(_spec(canary)), "harden-ci.yaml")
    job = delivery.canary_job(ctx, needs=[])
    assert job is not None
    return job


def _is_rollback(if_: str | None) -> bool:
    return if_ == ROLLBACK


def _check_budget(job: Job, bake: int, percents: int) -> None:
    steps = job.steps
    assert all(step.timeout_minutes for step in steps), [s.name for s in steps
                                                         if not s.timeout_minutes]
    first_rollback = next(i for i, s in enumerate(steps) if _is_rollback(s.if_))
    before = sum(s.timeout_minutes or 0 for s in steps[:first_rollback])
    rollback_margin = sum(s.timeout_minutes or 0 for s in steps[first_rollback:])
    # The last possible step timeout still leaves the rollback (and the upload) its time.
    assert before + rollback_margin <= job.timeout_minutes
    assert job.timeout_minutes - before >= delivery.ROLLBACK_MINUTES
    for step in steps:
        if step.name.startswith("Bake and analyse"):
            assert step.timeout_minutes == math.ceil(bake / 60) + delivery.ANALYSIS_MARGIN
            assert step.timeout_minutes * 60 > bake  # never shorter than the bake
        if step.name.startswith("Follow the Rollout"):
            # The script's own deadline (it reports the Rollout's state) comes first.
            assert step.timeout_minutes * 60 > int(step.env["TIMEOUT_SECONDS"])
            assert int(step.env["TIMEOUT_SECONDS"]) >= percents * bake


def _check_conditions(job: Job, canary: dict[str, Any]) -> None:
    rollbacks = [s for s in job.steps if _is_rollback(s.if_)]
    names = [s.name for s in rollbacks]
    assert names[0] == "Roll back (the rollout failed or was cancelled)"
    assert len(rollbacks) == (2 if canary.get("feature_flag") else 1), names
    if canary.get("feature_flag"):
        assert "back to 0%" in names[1]
    # Nothing else runs on failure, and nothing rolls back on success: every other step
    # runs on success only (no condition) but the upload, on anything but a cancel.
    for step in job.steps:
        if step in rollbacks:
            continue
        assert step.if_ in (None, "${{ !cancelled() }}"), (step.name, step.if_)
        assert "failure()" not in str(step.if_) and "always()" not in str(step.if_)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(canary=canaries("production", llm_checks=False))
def test_every_canary_fits_its_rollback_in_the_job(canary: dict[str, Any]) -> None:
    job = _job(canary)
    model = Spec.model_validate(_spec(canary)).delivery
    assert model is not None and model.canary is not None
    _check_budget(job, model.canary.bake, len(model.canary.steps))
    _check_conditions(job, canary)


@settings(max_examples=60, deadline=None)
@given(steps=canary_steps(), bake=st.integers(90, 7 * 24 * 3600),
       flag=st.booleans(), argo=st.booleans())
def test_bakes_and_steps_in_either_provider(steps: list[int], bake: int, flag: bool,
                                            argo: bool) -> None:
    canary: dict[str, Any] = {"environment": "production", "steps": steps, "bake": bake,
                              "metrics": {"prometheus": "https://prometheus.example.com"}}
    if argo:
        canary |= {"provider": "argo-rollouts", "rollout": "api"}
    else:
        canary["shift"] = "./shift.sh"
    if flag:
        canary |= {"feature_flag": "new-ui", "flag_command": "./flag.sh"}
    job = _job(canary)
    _check_budget(job, bake, len(steps))
    _check_conditions(job, canary)
    bakes = [s for s in job.steps if s.name.startswith("Bake and analyse")]
    assert len(bakes) == (0 if argo else len(steps))
    # The job is exactly the steps' budget and the slack: nothing hidden, nothing short.
    assert job.timeout_minutes == sum(s.timeout_minutes or 0 for s in job.steps) \
        + delivery.RUNNER_SLACK


def test_learnhub_s_rendered_canary() -> None:
    job = learnhub()[RELEASE]["jobs"]["canary"]
    steps = job["steps"]
    assert all("timeout-minutes" in step for step in steps), [s["name"] for s in steps]
    rollback = [s for s in steps if s.get("if") == ROLLBACK]
    assert rollback[0]["name"] == "Roll back (the rollout failed or was cancelled)"
    bakes = [s for s in steps if s["name"].startswith("Bake and analyse")]
    assert bakes and all(s["timeout-minutes"] == 10 + delivery.ANALYSIS_MARGIN for s in bakes)
    before = sum(s["timeout-minutes"] for s in steps[:steps.index(rollback[0])])
    after = sum(s["timeout-minutes"] for s in steps[steps.index(rollback[0]):])
    assert before + after + delivery.RUNNER_SLACK == job["timeout-minutes"]
    assert "failure()" not in str([s.get("if") for s in steps if s not in rollback])
