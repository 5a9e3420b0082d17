"""`load:` and `delivery:`: soak budgets, and canary promotion with automatic rollback."""

from __future__ import annotations

from itertools import pairwise
from typing import Literal

from pydantic import Field, field_validator

from harden_ci.model.base import SpecModel
from harden_ci.model.types import Milliseconds, Name, Percent, Rate, RepoPath, Seconds, Text, Url


class Budgets(SpecModel):
    api_p95_ms: Milliseconds = 300
    """p95 latency budget of API requests."""
    llm_tool_p95_ms: Milliseconds = 1500
    """p95 latency budget of LLM tool calls."""
    p50_ms: Milliseconds | None = None
    """Optional p50 budget of API requests."""
    error_rate: Rate = 0.01
    """The largest share of failed requests."""
    cold_start_ms: Milliseconds | None = None
    """Budget for the first requests right after a deploy."""


class Soak(SpecModel):
    environment: Name
    """Where the soak runs (usually staging)."""
    duration: Seconds = 15 * 60
    """How long the journeys run."""
    scripts: list[RepoPath] = Field(min_length=1)
    """k6 journey scripts."""
    budgets: Budgets = Budgets()
    """Latency and error budgets the soak must hold."""


class Load(SpecModel):
    soak: Soak | None = None
    """A long run of journey scripts against an environment."""


class CanaryMetrics(SpecModel):
    prometheus: Url
    """The Prometheus that holds canary and baseline metrics."""
    cost_metric: Text | None = None
    """A metric of cost per request (for example tokens times price)."""


class RollbackRules(SpecModel):
    error_rate: Rate = 0.01
    """Roll back when the canary's error rate passes this."""
    p95_ms: Milliseconds = 300
    """Roll back when the canary's p95 latency passes this."""
    cost_regression: Rate = 0.10
    """Roll back when cost per request grows more than this over baseline."""


class Canary(SpecModel):
    environment: Name
    """The production environment."""
    provider: Literal["command", "argo-rollouts"] = "command"
    """How traffic shifts: your command (weight in env) or Argo Rollouts."""
    steps: list[Percent] = Field(default_factory=lambda: [5, 25, 100], min_length=1)
    """Traffic percentages, rising, ending at 100."""
    bake: Seconds = 10 * 60
    """How long each step holds while the analysis runs."""
    feature_flag: Text | None = None
    """A flag ramped with the steps."""
    shadow_traffic: bool = False
    """Mirror live prompts to the new version and score them before the first step."""
    metrics: CanaryMetrics | None = None
    """Where canary and baseline metrics come from."""
    rollback_on: RollbackRules = RollbackRules()
    """Limits that roll the canary back automatically."""

    @field_validator("steps")
    @classmethod
    def _rising_to_100(cls, steps: list[int]) -> list[int]:
        if any(b <= a for a, b in pairwise(steps)):
            raise ValueError("canary steps must rise strictly, e.g. [5, 25, 100]")
        if steps[-1] != 100:
            raise ValueError("the last canary step must be 100")
        return steps


class Delivery(SpecModel):
    canary: Canary | None = None
    """Canary promotion in steps, with automatic rollback."""
