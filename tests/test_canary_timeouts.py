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
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from strategies import canaries, canary_steps
from test_scripts import learnhub

from harden_ci import pipeline
from harden_ci.cli import cli as cli_group
from harden_ci.errors import SpecError
from harden_ci.model import Spec
from harden_ci.plan import limits
from harden_ci.plan.context import make_context
from harden_ci.plan.model import Job
from harden_ci.plan.stages import delivery
from harden_ci.plan.workflows import plan

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
       flag=st.booleans(), provider=st.sampled_from(("command", "argo-rollouts", "gateway-api")))
def test_bakes_and_steps_in_any_provider(steps: list[int], bake: int, flag: bool,
                                         provider: str) -> None:
    canary: dict[str, Any] = {"environment": "production", "steps": steps, "bake": bake,
                              "metrics": {"prometheus": "https://prometheus.example.com"},
                              "provider": provider}
    argo = provider == "argo-rollouts"
    if argo:
        canary["rollout"] = "api"
    elif provider == "gateway-api":
        canary["route"] = {"name": "api", "parent": "public", "stable_service": "api",
                           "canary_service": "api-canary", "port": 80}
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


# A job's budget against its runner's limit (harden_ci/plan/limits.py): GitHub stops a job
# after 6 hours on its hosted runners and 5 days on self-hosted ones, whatever the job's
# `timeout-minutes`, and skips what is left, the rollback included.

def _write(tmp_path: Path, canary: dict[str, Any], *, runner: str | None = None,
           soak: dict[str, Any] | None = None) -> Path:
    spec = _spec(canary)
    if runner:
        spec["project"]["runner"] = runner
    if soak:
        spec["environments"]["staging"] = {"deploy": "./deploy.sh staging",
                                           "url": "https://staging.example.com"}
        spec["load"] = {"soak": soak}
    path = tmp_path / "harden-ci.yaml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False), encoding="utf-8")
    return path


_LONG_BAKES = {"environment": "production", "shift": "./shift.sh", "steps": [5, 25, 50, 100],
               "bake": "2h", "metrics": {"prometheus": "https://prometheus.example.com"}}


@pytest.mark.parametrize("verb", ["validate", "render"])
def test_a_canary_longer_than_a_hosted_runner_allows_is_refused(tmp_path: Path,
                                                                 verb: str) -> None:
    spec = _write(tmp_path, _LONG_BAKES)
    before = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*"))
    result = CliRunner().invoke(cli_group, [verb, str(spec)])
    assert result.exit_code == 2, result.output
    line = next(i for i, text in enumerate(spec.read_text().splitlines(), 1)
                if text.strip().startswith("bake:"))
    assert f"{spec}:{line}:" in result.stderr, result.stderr
    assert "delivery.canary.bake" in result.stderr
    assert "a GitHub-hosted runner stops a job after 360" in result.stderr
    assert "self-hosted runner" in result.stderr  # the hint names a way out
    assert sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*")) == before


def test_the_same_canary_renders_on_a_self_hosted_runner(tmp_path: Path) -> None:
    spec = _write(tmp_path, _LONG_BAKES, runner="self-hosted")
    rendered = pipeline.render_spec(spec).files[RELEASE]
    job = yaml.safe_load(rendered)["jobs"]["canary"]
    assert job["runs-on"] == "self-hosted"
    assert limits.HOSTED_LIMIT_MINUTES < job["timeout-minutes"] <= limits.SELF_HOSTED_LIMIT_MINUTES


def test_a_canary_past_five_days_is_refused_on_a_self_hosted_runner(tmp_path: Path) -> None:
    spec = _write(tmp_path, {**_LONG_BAKES, "bake": "48h"}, runner="self-hosted")
    with pytest.raises(SpecError) as refused:
        pipeline.render_spec(spec)
    assert refused.value.field == "delivery.canary.bake"
    assert "a self-hosted runner stops a job after 7200" in refused.value.message


def test_a_soak_longer_than_a_hosted_runner_allows_is_refused(tmp_path: Path) -> None:
    spec = _write(tmp_path, {**_LONG_BAKES, "bake": "10m"},
                  soak={"environment": "staging", "duration": "6h",
                        "scripts": ["load/checkout.js"]})
    with pytest.raises(SpecError) as refused:
        pipeline.render_spec(spec)
    assert refused.value.field == "load.soak.duration"
    assert refused.value.location is not None and refused.value.location.line is not None


@settings(max_examples=40, deadline=None)
@given(steps=canary_steps(), bake=st.integers(90, 7 * 24 * 3600), flag=st.booleans())
def test_the_plan_refuses_exactly_the_canaries_a_hosted_runner_would_cut(
        steps: list[int], bake: int, flag: bool) -> None:
    canary: dict[str, Any] = {**_LONG_BAKES, "steps": steps, "bake": bake}
    if flag:
        canary |= {"feature_flag": "new-ui", "flag_command": "./flag.sh"}
    minutes = _job(canary).timeout_minutes
    spec = Spec.model_validate(_spec(canary))
    if isinstance(minutes, int) and minutes <= limits.HOSTED_LIMIT_MINUTES:
        plan(spec, "harden-ci.yaml")  # accepted: the job fits
    else:
        with pytest.raises(SpecError, match="stops a job after 360"):
            plan(spec, "harden-ci.yaml")


def test_a_schedule_longer_than_a_hosted_runner_allows_is_refused(tmp_path: Path) -> None:
    spec = _spec({**_LONG_BAKES, "bake": "10m"})
    spec["schedules"] = {"reindex": {"cron": "0 3 * * *", "command": "./reindex.sh",
                                     "timeout": "8h"}}
    path = tmp_path / "harden-ci.yaml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False), encoding="utf-8")
    with pytest.raises(SpecError) as refused:
        pipeline.render_spec(path)
    assert refused.value.field == "schedules.reindex.timeout"
    assert "job `schedule-reindex` may need 480 minutes" in refused.value.message
    spec["schedules"]["reindex"]["timeout"] = "6h"  # exactly the limit fits
    path.write_text(yaml.safe_dump(spec, sort_keys=False), encoding="utf-8")
    pipeline.render_spec(path)
