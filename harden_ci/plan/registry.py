"""The stages, in pipeline order. Adding a stage is one module plus one line here.

`workflow` names the generated file a stage's jobs go into: `ci` runs on pull requests,
the merge queue and pushes (read-only); `preview` on pull-request activity (deploy,
verify, teardown); `release` on pushes to the default branch (publish, deploy, soak,
canary: the only write permissions); `nightly` and `sweeper` on schedules.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from harden_ci.plan.context import PlanContext
from harden_ci.plan.model import Job
from harden_ci.plan.stages import (
    build_test,
    changes,
    dependency_review,
    drift_guard,
    flows,
    iac_lint,
    images,
    publish,
    scheduled,
    schema_drift,
    secret_scan,
    signing,
)

WorkflowKey = Literal["ci", "preview", "release", "nightly", "sweeper"]


@dataclass(frozen=True)
class Stage:
    name: str
    workflow: WorkflowKey
    build: Callable[[PlanContext], list[Job]]


STAGES: tuple[Stage, ...] = (
    Stage("changes", "ci", changes.build),
    Stage("secret-scan", "ci", secret_scan.build),
    Stage("iac-lint", "ci", iac_lint.build),
    Stage("schema-drift", "ci", schema_drift.build),
    Stage("dependency-review", "ci", dependency_review.build),
    Stage("unit-tests", "ci", build_test.build),
    Stage("images", "ci", images.build),
    Stage("contract", "ci", flows.ci_contract),
    Stage("llm-evals", "ci", flows.ci_llm),
    Stage("drift-guard", "ci", drift_guard.build),
    Stage("preview", "preview", flows.preview),
    Stage("publish", "release", publish.build),
    Stage("signing", "release", signing.build),
    Stage("delivery", "release", flows.delivery_chain),
    Stage("schedules", "nightly", scheduled.nightly),
    Stage("sweeper", "sweeper", scheduled.sweeper),
)
