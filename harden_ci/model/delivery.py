"""`load:` and `delivery:`: soak budgets, and canary promotion with automatic rollback."""

from __future__ import annotations

import re
from itertools import pairwise
from typing import Annotated, Literal

from pydantic import (
    BeforeValidator,
    Field,
    StringConstraints,
    ValidationInfo,
    field_validator,
    model_validator,
)

from harden_ci.model.base import SpecModel
from harden_ci.model.cron import cron_problem
from harden_ci.model.flag_api import FlagApi
from harden_ci.model.soak_load import ColdStart, Journey, JourneyEntry, ramp_problem, soak_seconds
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
    """Budget (the slowest request) of the cold phase. Without `load.soak.cold_start`, the
    cold phase is each VU's first iteration: the first requests of the soak job after the
    deploy (the deploy's own probes may have warmed the server already). With
    `cold_start.after_idle`, it is one iteration per journey after that long with no
    traffic. A cold budget no request measured fails."""


class Soak(SpecModel):
    environment: Name
    """Where the soak runs (usually staging)."""
    duration: Seconds = 15 * 60
    """How long the journeys run (the soak job adds 20 minutes, and any `cold_start` idle
    period, and must fit the runner's limit: 6 hours on GitHub-hosted runners, 5 days on
    self-hosted ones)."""
    scripts: list[JourneyEntry] = Field(min_length=1)
    """k6 journey scripts: a path (5 constant VUs), or `{script, ...}` with its load model:
    `vus` (constant VUs), `stages` and `start_vus` (ramping VUs), `rate`, `time_unit`,
    `pre_allocated_vus` and `max_vus` (constant arrival rate), or `stages`, `start_rate`,
    `time_unit`, `pre_allocated_vus` and `max_vus` (ramping arrival rate)."""
    budgets: Budgets = Budgets()
    """Latency and error budgets the soak must hold."""
    cold_start: ColdStart | None = None
    """Measure cold start after an idle period (needs `budgets.cold_start_ms`)."""

    @field_validator("scripts")
    @classmethod
    def _ramps_fit(cls, scripts: list[str | Journey], info: ValidationInfo) -> list[str | Journey]:
        duration = info.data.get("duration")
        problem = ramp_problem(scripts, duration) if isinstance(duration, int) else None
        if problem:
            raise ValueError(problem)
        return scripts

    @model_validator(mode="after")
    def _cold_needs_budget(self) -> Soak:
        if self.cold_start is not None and self.budgets.cold_start_ms is None:
            raise ValueError("`cold_start` measures what `budgets.cold_start_ms` judges: set "
                             "that budget, or leave `cold_start` out")
        return self

    def run_seconds(self) -> int:
        """The k6 run: the journeys' duration, then any idle gap and cold phase."""
        return soak_seconds(self.duration, self.cold_start.after_idle if self.cold_start else None)


class Load(SpecModel):
    soak: Soak | None = None
    """A long run of journey scripts against an environment."""


METRIC_PATTERN = r"^[A-Za-z_:][A-Za-z0-9_:]*$"
LABEL_PATTERN = r"^[A-Za-z][A-Za-z0-9_]*$"  # `__` names are Prometheus's own
# PromQL label matchers (`service="api",namespace=~"prod-.*"`): a name, an operator and
# a double-quoted string with PromQL's escapes, comma-separated.
_PROMQL_STRING = r'"(?:[^"\\\n]|\\.)*"'
_MATCHER = rf"\s*{LABEL_PATTERN[1:-1]}\s*(?:=~|!~|!=|=)\s*{_PROMQL_STRING}\s*"
MATCHERS = re.compile(rf"^{_MATCHER}(?:,{_MATCHER})*,?\s*$")
MetricName = Annotated[str, StringConstraints(pattern=METRIC_PATTERN, max_length=200)]
LabelName = Annotated[str, StringConstraints(pattern=LABEL_PATTERN, max_length=100)]


def _float(value: object) -> object:
    # Strict models refuse ints where floats go; a budget of `1` is still a budget.
    return float(value) if isinstance(value, int) and not isinstance(value, bool) else value


Budget = Annotated[float, BeforeValidator(_float), Field(gt=0, allow_inf_nan=False)]


class FlagConfigMap(SpecModel):
    """A Kubernetes ConfigMap the flagd deployment mounts (or syncs) its flag file from."""

    name: Text
    """The ConfigMap's name."""
    namespace: Text = "default"
    """Its namespace."""
    key: Text = "flags.json"
    """The key holding the flag file (the file name flagd reads)."""


class Series(SpecModel):
    """Which series the analysis reads, and how they are named and labelled."""

    requests_metric: MetricName = "http_requests_total"
    """Counter of requests, labelled by status and track."""
    duration_metric: MetricName = "http_request_duration_seconds"
    """Latency histogram (its `_bucket` series are read)."""
    duration_unit: Literal["seconds", "milliseconds"] = "seconds"
    """The unit of the latency histogram's `le` bounds."""
    status_label: LabelName = "status"
    """Label holding the HTTP status."""
    error_status: Text = "5.."
    """Regular expression of the statuses counted as errors."""
    track_label: LabelName = "track"
    """Label telling the canary from the baseline."""
    canary_track: Text = "canary"
    """Value of `track_label` on the new version's series."""
    baseline_track: Text = "baseline"
    """Value of `track_label` on the previous version's series."""
    live_track: Text | None = None
    """Value of `track_label` on the live version once a rollout is complete; unset: the
    nightly re-analysis reads every series `selector` matches, whatever their track."""
    cost_metric: MetricName | None = None
    """A counter of cost spent (for example tokens times price), compared per request."""
    selector: Text | None = None
    """Extra label matchers for every query, e.g. `service="api"`."""

    @field_validator("selector")
    @classmethod
    def _label_matchers(cls, selector: str | None) -> str | None:
        # Checked here, not first in the gate: the Argo companion embeds it in its queries.
        if selector is not None and not MATCHERS.match(selector):
            raise ValueError('not a list of PromQL label matchers; write it like '
                             'service="api",namespace=~"prod-.*"')
        return selector


class CanaryMetrics(Series):
    prometheus: Url
    """The Prometheus that holds canary and baseline metrics."""
    token_secret: SecretName | None = None
    """A secret holding a bearer token for Prometheus (sent as `Authorization: Bearer`)."""
    window: Seconds = 60
    """One analysis window: the bake is judged window by window, and the rules below
    count failed and inconclusive windows."""


class RollbackRules(SpecModel):
    error_rate: Rate = 0.01
    """Roll back when the canary's error rate passes this."""
    p95_ms: Milliseconds = 300
    """Roll back when the canary's p95 latency passes this."""
    cost_regression: Rate = 0.10
    """Roll back when cost per request grows more than this over the previous version's,
    read in the window before the rollout began."""
    cost_per_request: Budget | None = None
    """An absolute budget of cost per request; it also judges cost when the previous
    version has no recorded cost, and in the nightly re-analysis."""
    min_requests: int = Field(default=50, ge=1, le=1_000_000_000)
    """Requests a window needs to count; below it the window is inconclusive."""
    failure_limit: int = Field(default=2, ge=0, le=1000)
    """Failed windows a bake tolerates; one more rolls back."""
    consecutive_failures: int = Field(default=3, ge=1, le=1000)
    """This many failed windows in a row roll back, whatever `failure_limit` says."""
    inconclusive_limit: int = Field(default=2, ge=0, le=1000)
    """Inconclusive windows (too few requests, no data) a bake tolerates; one more rolls back."""


# Kubernetes object names: a Service is a DNS-1035 label, a namespace a DNS-1123 label, an
# HTTPRoute a DNS-1123 subdomain (kubectl and the API server refuse anything else).
ServiceName = Annotated[str, StringConstraints(pattern=r"^[a-z]([-a-z0-9]*[a-z0-9])?$", max_length=63)]
Namespace = Annotated[str, StringConstraints(pattern=r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$", max_length=63)]
ObjectName = Annotated[str, StringConstraints(
    pattern=r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$", max_length=253)]


class GatewayRoute(SpecModel):
    """The HTTPRoute whose first rule splits traffic between the stable and canary Services."""

    name: ObjectName
    """The HTTPRoute's name."""
    namespace: Namespace = "default"
    """Its namespace (the two Services live there too)."""
    parent: ObjectName
    """What the route attaches to: a Gateway's name (north-south), or for a mesh (GAMMA)
    the Service whose traffic it routes, with `parent_kind: Service`."""
    parent_kind: Literal["Gateway", "Service"] = "Gateway"
    """The parent's kind: `Gateway`, or `Service` for a mesh route."""
    parent_namespace: Namespace | None = None
    """The parent's namespace, when it is not the route's."""
    stable_service: ServiceName
    """The Service of the version in production (backendRefs[0] of the first rule)."""
    canary_service: ServiceName
    """The Service the canary is deployed behind (backendRefs[1] of the first rule)."""
    port: int = Field(ge=1, le=65535)
    """The port of both Services that the route sends traffic to."""

    @model_validator(mode="after")
    def _two_services(self) -> GatewayRoute:
        if self.stable_service == self.canary_service:
            raise ValueError("`stable_service` and `canary_service` must be two Services "
                             "(the weights split traffic between them)")
        return self


class Canary(SpecModel):
    environment: Name
    """The production environment."""
    provider: Literal["command", "argo-rollouts", "gateway-api"] = "command"
    """How traffic shifts: your command (weight in env, harden-ci analyses each step), Argo
    Rollouts (its controller runs the steps and the analysis harden-ci generates), or the
    Kubernetes Gateway API (harden-ci's job sets an HTTPRoute's backend weights itself, no
    controller; see `route`)."""
    shift: Command | None = None
    """For `provider: command`: sets the canary's traffic share from HARDEN_CI_CANARY_WEIGHT."""
    rollback: Command | None = None
    """Undoes the rollout (default: `shift` with weight 0)."""
    rollout: Text | None = None
    """For `provider: argo-rollouts`: the Rollout's name. harden-ci writes its canary steps
    (a merge patch) and an AnalysisTemplate beside the workflows (`harden-ci/argo-NAME-*.yaml`);
    the canary job applies them, lets `deploy` set the image and follows the Rollout until
    it is Healthy or aborted (`kubectl` and cluster credentials on the runner)."""
    route: GatewayRoute | None = None
    """For `provider: gateway-api`: the HTTPRoute that splits traffic. harden-ci writes it
    beside the workflows (`harden-ci/gateway-httproute.yaml`, stable weight 100, canary 0;
    apply it once). Each step patches the first rule's weights (canary = step, stable =
    100 - step) with `kubectl patch --type=json`, whose `test` operations refuse the patch,
    writing nothing, when backendRefs 0 and 1 are not `stable_service` and `canary_service`
    on `port`; then the step bakes and is analysed as with `provider: command`. After the
    100% step passes, `deploy` runs again with HARDEN_CI_CANARY=false to update the stable
    workload to the new digest, and the weights go back to stable 100 / canary 0 (so the
    next rollout starts from the same route). A failed or cancelled run sets stable 100 /
    canary 0 from the job itself. Weighted backendRefs are core conformance for HTTPRoute
    (Gateway API v1.6.1, `Support for weight: Core`), so any conformant implementation
    applies it: for example Istio, Cilium, Envoy Gateway, Contour, NGINX Gateway Fabric,
    Kong, Traefik, GKE Gateway, and meshes through GAMMA HTTPRoutes (Istio, Linkerd).
    Needs the environment's `deploy` and cluster credentials on the runner; kubectl is
    installed by the job."""
    flag_provider: Literal["command", "flagd", "openfeature"] = "command"
    """How `feature_flag` ramps: your `flag_command`, a flagd JSON file in the repo, or an
    OpenFeature-compatible flag service's API (`flag_api`), read back through OFREP."""
    flag_command: Command | None = None
    """Sets the flag to HARDEN_CI_FLAG_PERCENT percent for HARDEN_CI_FLAG."""
    flag_file: RepoPath | None = None
    """For `flag_provider: flagd`: the flagd flags JSON file to ramp and publish."""
    flag_configmap: FlagConfigMap | None = None
    """For `flag_provider: flagd`: publish the ramped file into this ConfigMap, which the
    flagd deployment reads (`kubectl` and cluster credentials on the runner)."""
    flag_api: FlagApi | None = None
    """For `flag_provider: openfeature`: the API call that writes the ramp and the OFREP
    endpoint that reads it back (harden-ci makes both calls; a ramp the evaluations do not
    show fails the step)."""
    shadow: Command | None = None
    """Mirrors a sample of live prompts to the new version: writes the live version's
    answers to HARDEN_CI_SHADOW_LIVE and the new version's answers to the same prompts to
    HARDEN_CI_SHADOW_CANDIDATE (JSON lines: `id`, `output`, `usage` with `prompt_tokens`
    and `completion_tokens`). The new
    answers are compared with the live ones (`tests.llm`'s schema and judge apply when
    set), not with gold answers: live prompts have none."""
    shadow_similarity: Rate = 0.8
    """How close a new answer must be to the live one on its prompt: string similarity
    (0 to 1), or the judge's score with `tests.llm.judge`."""
    shadow_agreement: Rate = 0.9
    """The share of mirrored prompts on which the new answer must be close enough."""
    steps: list[Percent] = Field(default_factory=lambda: [5, 25, 100], min_length=1)
    """Traffic percentages, rising, ending at 100."""
    bake: Seconds = 10 * 60
    """How long each step holds while the analysis runs. The canary job's budget (every
    step's bake and analysis, the deploy, shifts and rollback) must fit the runner's limit:
    6 hours on GitHub-hosted runners, 5 days on self-hosted ones."""
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
        if self.provider == "gateway-api" and self.route is None:
            raise ValueError("`provider: gateway-api` needs `route: {name, parent, "
                             "stable_service, canary_service, port}` (the HTTPRoute)")
        if self.route is not None and self.provider != "gateway-api":
            raise ValueError("`route` is for `provider: gateway-api`")
        if self.metrics is None:
            raise ValueError("a canary needs `metrics: {prometheus: URL}` for its analysis")
        if self.feature_flag and self.flag_provider == "command" and self.flag_command is None:
            raise ValueError("`feature_flag` needs `flag_command`, `flag_provider: flagd` "
                             "with `flag_file`, or `flag_provider: openfeature` with `flag_api`")
        if self.flag_provider == "flagd" and (self.flag_file is None or not self.feature_flag):
            raise ValueError("`flag_provider: flagd` needs `feature_flag` and `flag_file`")
        if self.flag_provider == "flagd" and self.flag_command is None and self.flag_configmap is None:
            # Rewriting the file on the runner alone changes nothing in production.
            raise ValueError("a flagd ramp must reach flagd: add `flag_configmap` (the ConfigMap "
                             "the flagd deployment reads) or `flag_command` (publishes "
                             "`flag_file`, e.g. commits it where flagd syncs from)")
        if self.flag_configmap is not None and self.flag_provider != "flagd":
            raise ValueError("`flag_configmap` is for `flag_provider: flagd`")
        self._openfeature_fields()
        if self.bake < self.metrics.window:
            raise ValueError(f"`bake` ({self.bake}s) is shorter than one analysis window "
                             f"(`metrics.window`, {self.metrics.window}s)")
        if self.shadow_traffic and self.shadow is None:
            raise ValueError("`shadow_traffic: true` needs a `shadow` command")
        return self

    def _openfeature_fields(self) -> None:
        if self.flag_provider == "openfeature":
            if not self.feature_flag or self.flag_api is None:
                # Without the write call and the OFREP read-back the ramp reaches nothing.
                raise ValueError("`flag_provider: openfeature` needs `feature_flag` and `flag_api` "
                                 "(`url`, `body` with {percent}, and `ofrep_url`)")
            if self.flag_file is not None or self.flag_command is not None:
                raise ValueError("`flag_provider: openfeature` ramps through `flag_api`; drop "
                                 "`flag_file` and `flag_command`")
        elif self.flag_api is not None:
            raise ValueError("`flag_api` is for `flag_provider: openfeature`")

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
    """The longest one run may take: at most 6 hours on GitHub-hosted runners, 5 days on
    self-hosted ones."""
    cost_budget: CostBudget | None = None
    """Fail the run when the cost it reports passes the budget."""

    @field_validator("cron")
    @classmethod
    def _five_fields(cls, cron: str) -> str:
        problem = cron_problem(cron)
        if problem:
            raise ValueError(f"{problem}; e.g. `0 3 * * *` (03:00 UTC daily)")
        return " ".join(cron.split())
