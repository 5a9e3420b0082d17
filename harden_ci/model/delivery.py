"""`load:` and `delivery:`: soak budgets, and canary promotion with automatic rollback."""

from __future__ import annotations

from itertools import pairwise
from typing import Literal

from pydantic import Field, field_validator, model_validator

from harden_ci.model.base import SpecModel
from harden_ci.model.cron import cron_problem
from harden_ci.model.types import (
    Command,
    Milliseconds,
    Name,
    Percent,
    Rate,
    RepoPath,
    Seconds,
    SecretName,
    Text,
    Url,
)


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
    """A counter of cost spent (for example tokens times price), compared per request."""
    selector: Text | None = None
    """Extra label matchers for every query, e.g. `service="api"`."""


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
    shift: Command | None = None
    """For `provider: command`: sets the canary's traffic share from HARDEN_CI_CANARY_WEIGHT."""
    rollback: Command | None = None
    """Undoes the rollout (default: `shift` with weight 0)."""
    rollout: Text | None = None
    """For `provider: argo-rollouts`: the Rollout's name (`kubectl argo rollouts` must be on
    the runner)."""
    flag_provider: Literal["command", "flagd"] = "command"
    """How `feature_flag` ramps: your `flag_command`, or a flagd JSON file in the repo."""
    flag_command: Command | None = None
    """Sets the flag to HARDEN_CI_FLAG_PERCENT percent for HARDEN_CI_FLAG."""
    flag_file: RepoPath | None = None
    """For `flag_provider: flagd`: the flagd flags JSON file to ramp and deploy."""
    shadow: Command | None = None
    """Mirrors a sample of live prompts to the new version and writes its answers (JSON
    lines) to HARDEN_CI_LLM_OUTPUTS, for the LLM scorer (needs `tests.llm`)."""
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

    @model_validator(mode="after")
    def _provider_fields(self) -> Canary:
        if self.provider == "command" and self.shift is None:
            raise ValueError("`provider: command` needs a `shift` command (it gets "
                             "HARDEN_CI_CANARY_WEIGHT)")
        if self.provider == "argo-rollouts" and self.rollout is None:
            raise ValueError("`provider: argo-rollouts` needs `rollout` (the Rollout's name)")
        if self.metrics is None:
            raise ValueError("a canary needs `metrics: {prometheus: URL}` for its analysis")
        if self.feature_flag and self.flag_provider == "command" and self.flag_command is None:
            raise ValueError("`feature_flag` needs `flag_command`, or `flag_provider: flagd` "
                             "with `flag_file`")
        if self.flag_provider == "flagd" and (self.flag_file is None or not self.feature_flag):
            raise ValueError("`flag_provider: flagd` needs `feature_flag` and `flag_file`")
        if self.shadow_traffic and self.shadow is None:
            raise ValueError("`shadow_traffic: true` needs a `shadow` command")
        return self

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


class CostBudget(SpecModel):
    max: float = Field(gt=0)
    """The most one run may cost; the command writes its cost to $HARDEN_CI_COST_FILE."""


class Schedule(SpecModel):
    cron: Text
    """When it runs (five cron fields, UTC), e.g. `0 3 * * *`."""
    command: Command
    """What runs."""
    environment: Name | None = None
    """The environment whose secrets and protection apply."""
    secrets: list[SecretName] = Field(default_factory=list)
    """Secrets the command needs, passed as env variables of the same name."""
    timeout: Seconds = 3600
    """The longest one run may take."""
    cost_budget: CostBudget | None = None
    """Fail the run when the cost it reports passes the budget."""

    @field_validator("cron")
    @classmethod
    def _five_fields(cls, cron: str) -> str:
        problem = cron_problem(cron)
        if problem:
            raise ValueError(f"{problem}; e.g. `0 3 * * *` (03:00 UTC daily)")
        return " ".join(cron.split())
