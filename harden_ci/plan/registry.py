"""The stages, in pipeline order. Adding a stage is one module plus one line here."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from harden_ci.plan.context import PlanContext
from harden_ci.plan.model import Job
from harden_ci.plan.stages import build_test, drift_guard, secret_scan


@dataclass(frozen=True)
class Stage:
    name: str
    workflow: str  # which generated workflow its jobs go into
    build: Callable[[PlanContext], list[Job]]


STAGES: tuple[Stage, ...] = (
    Stage("secret-scan", "ci", secret_scan.build),
    Stage("unit-tests", "ci", build_test.build),
    Stage("drift-guard", "ci", drift_guard.build),
)
