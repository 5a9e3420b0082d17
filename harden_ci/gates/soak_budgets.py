"""Soak budgets as k6 thresholds: the one definition the soak run and its report share.

The spec's `load.soak.budgets` (the `Budgets` model, same field names) become one k6
threshold per journey and budget. A *journey* is one script of `load.soak.scripts`; it
runs as its own k6 scenario whose metrics carry the tag `journey:<name>`. Inside a journey,
requests are told apart by the tag `kind`: `api` (the default the wrapper sets on every
request) or `llm_tool` (set by the script on LLM tool calls). Without a cold phase after
an idle gap, the first `cold_iterations` iterations of every VU carry `phase:cold` (the
first requests of the soak after the deploy), the rest `phase:steady`. With
`cold_after_idle_s`, every steady iteration is `phase:steady`; after the journeys end and
that many seconds pass with no traffic, each journey runs one iteration tagged `phase:cold`.

| budget            | k6 threshold (per journey J)                                       |
|-------------------|--------------------------------------------------------------------|
| `api_p95_ms`      | `http_req_duration{journey:J,kind:api,phase:steady}`: `p(95)<=N`      |
| `p50_ms`          | `http_req_duration{journey:J,kind:api,phase:steady}`: `med<=N`        |
| `llm_tool_p95_ms` | `http_req_duration{journey:J,kind:llm_tool,phase:steady}`: `p(95)<=N` |
| `error_rate`      | `http_req_failed{journey:J,kind:api}` and `{…,kind:llm_tool}`: `rate<=R` |
| `cold_start_ms`   | `http_req_duration{journey:J,phase:cold}`: `max<=N`                |

A budget is met when the observed value is at most the limit (`<=`), the same reading the
canary's rollback rules use ("roll back when it passes the limit").
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import ValidationError

from harden_ci.errors import SpecError
from harden_ci.gates import bounded_input
from harden_ci.gates.soak_scenarios import cold_scenario, steady_scenario
from harden_ci.model.delivery import Budgets
from harden_ci.model.soak_load import Journey as JourneyLoad
from harden_ci.model.soak_load import ramp_problem, soak_seconds

KINDS: tuple[str, ...] = ("api", "llm_tool")
"""The values of the `kind` tag the budgets know; `api` is what an untagged request gets."""

TREND_STATS: tuple[str, ...] = ("avg", "min", "med", "max", "p(90)", "p(95)", "p(99)", "count")
"""`summaryTrendStats`: every statistic a threshold or the report reads must be listed."""

PLAN_VERSION = 2
_JOURNEY_CHARS = re.compile(r"[^A-Za-z0-9_-]+")
MAX_VUS = 10_000
MAX_COLD_ITERATIONS = 1_000

Unit = Literal["ms", "rate"]


@dataclass(frozen=True)
class Journey:
    """One journey script, run as its own k6 scenario named `name`."""

    name: str
    script: str  # as given; the wrapper imports it by a path relative to itself
    scenario: dict[str, Any]  # its k6 scenario's load options (executor and its fields)


@dataclass(frozen=True)
class Check:
    """One budget held by one k6 threshold on one (sub)metric."""

    journey: str
    budget: str  # the spec field: api_p95_ms, p50_ms, llm_tool_p95_ms, error_rate, cold_start_ms
    kind: str  # api, llm_tool, or "any" (cold start covers every request of the cold phase)
    metric: str  # the k6 submetric the threshold sits on
    stat: str  # the k6 aggregation: p(95), med, max or rate
    limit: float
    unit: Unit

    @property
    def threshold(self) -> str:
        """The k6 threshold expression, e.g. `p(95)<=300`."""
        return f"{self.stat}<={format_number(self.limit)}"


@dataclass(frozen=True)
class SoakPlan:
    """Everything the wrapper script and the report need, saved as `soak-plan.json`."""

    journeys: tuple[Journey, ...]
    budgets: Budgets
    duration_s: int
    vus: int
    cold_iterations: int
    checks: tuple[Check, ...]
    cold_after_idle_s: int | None = None  # a cold phase after this idle gap, or none

    @property
    def run_s(self) -> int:
        """How long k6 runs the scenarios: the journeys, then any idle gap and cold phase."""
        return soak_seconds(self.duration_s, self.cold_after_idle_s)

    def scenarios(self) -> dict[str, dict[str, Any]]:
        """k6 `options.scenarios`: each journey (exec `journeyN`) and any cold phase (`coldN`)."""
        result: dict[str, dict[str, Any]] = {}
        for i, journey in enumerate(self.journeys):
            result[journey.name] = {**journey.scenario, "exec": f"journey{i}",
                                    "tags": {"journey": journey.name}}
        if self.cold_after_idle_s is not None:
            for i, journey in enumerate(self.journeys):
                name = f"{journey.name}-cold"
                while name in result:  # a journey may itself be called `x-cold`
                    name += "-cold"
                result[name] = {
                    **cold_scenario(self.duration_s, self.cold_after_idle_s),
                    "exec": f"cold{i}", "tags": {"journey": journey.name}}
        return result

    def load_line(self) -> str:
        """One line on the load shape and the cold phase, for the report."""
        shapes = ", ".join(f"{j.name} {_shape(j.scenario)}" for j in self.journeys)
        if self.cold_after_idle_s is not None:
            cold = (f"one iteration per journey after {self.cold_after_idle_s}s with no "
                    "traffic")
        elif self.cold_iterations:
            cold = (f"first {self.cold_iterations} iteration(s) of each VU (the first requests "
                    "after the deploy)")
        else:
            cold = "none"
        return f"{shapes}; cold phase: {cold}"

    def measured(self) -> list[tuple[str, str]]:
        """(budget, kind) pairs the spec set itself, so some journey must measure them: a
        budget whose calls were never tagged fails instead of reading as kept. A budget left
        at its default (say, no LLM tool calls at all) may go unmeasured."""
        given = self.budgets.model_fields_set
        pairs: list[tuple[str, str]] = [
            (b, "api") for b in ("api_p95_ms", "p50_ms", "error_rate") if b in given]
        if "llm_tool_p95_ms" in given:
            pairs += [("llm_tool_p95_ms", "llm_tool"), ("error_rate", "llm_tool")]
        return pairs

    def thresholds(self) -> dict[str, list[str]]:
        """k6 `options.thresholds`: metric → expressions, in plan order."""
        result: dict[str, list[str]] = {}
        for check in self.checks:
            result.setdefault(check.metric, []).append(check.threshold)
        return result

    def to_json(self) -> str:
        data = {
            "version": PLAN_VERSION,
            "budgets": self.budgets.model_dump(mode="json", exclude_unset=True),
            "duration_s": self.duration_s,
            "vus": self.vus,
            "cold_iterations": self.cold_iterations,
            "cold_after_idle_s": self.cold_after_idle_s,
            "journeys": [asdict(j) for j in self.journeys],
            "checks": [asdict(c) for c in self.checks],
            "thresholds": self.thresholds(),
        }
        return json.dumps(data, indent=2) + "\n"


def format_number(value: float) -> str:
    """`300`, not `300.0`; `0.01` stays `0.01`."""
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def parse_budgets(text: str | None, source: str = "--budgets") -> Budgets:
    """Budgets from a JSON object with the spec's field names; absent → the spec defaults."""
    if text is None or not text.strip():
        return Budgets()
    try:
        return Budgets.model_validate_json(text)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or '(top)'}: {err['msg']}" for err in exc.errors())
        raise SpecError(f"the budgets are not valid: {problems}", field=source,
                        hint='write them like {"api_p95_ms": 300, "error_rate": 0.01}') from None


def _shape(scenario: dict[str, Any]) -> str:
    executor = scenario.get("executor")
    if executor == "constant-vus":
        return f"({scenario.get('vus')} VUs)"
    if executor == "ramping-vus":
        targets = [str(s.get("target")) for s in scenario.get("stages", [])]
        return f"(VUs {scenario.get('startVUs')} → {' → '.join(targets)})"
    unit = scenario.get("timeUnit")
    if executor == "constant-arrival-rate":
        return f"({scenario.get('rate')} iterations per {unit})"
    targets = [str(s.get("target")) for s in scenario.get("stages", [])]
    return f"(iterations per {unit} {scenario.get('startRate')} → {' → '.join(targets)})"


def journey_names(scripts: list[str], scenarios: list[dict[str, Any]] | None = None) -> list[Journey]:
    """One journey per script, named after the file (`load/checkout.js` → `checkout`)."""
    journeys: list[Journey] = []
    seen: set[str] = set()
    for i, script in enumerate(scripts):
        stem = Path(script).name.removesuffix(".js").removesuffix(".mjs")
        base = _JOURNEY_CHARS.sub("_", stem).strip("_") or "journey"
        name, n = base, 1
        while name in seen:
            n += 1
            name = f"{base}-{n}"
        seen.add(name)
        journeys.append(Journey(name=name, script=script,
                                scenario=scenarios[i] if scenarios else {}))
    return journeys


def _checks_for(journey: str, budgets: Budgets) -> list[Check]:
    def latency(kind: str, phase: str) -> str:
        return f"http_req_duration{{journey:{journey},kind:{kind},phase:{phase}}}"

    checks = [Check(journey, "api_p95_ms", "api", latency("api", "steady"), "p(95)",
                    budgets.api_p95_ms, "ms")]
    if budgets.p50_ms is not None:
        checks.append(Check(journey, "p50_ms", "api", latency("api", "steady"), "med",
                            budgets.p50_ms, "ms"))
    checks.append(Check(journey, "llm_tool_p95_ms", "llm_tool", latency("llm_tool", "steady"),
                        "p(95)", budgets.llm_tool_p95_ms, "ms"))
    checks.extend(Check(journey, "error_rate", kind, f"http_req_failed{{journey:{journey},kind:{kind}}}",
                        "rate", budgets.error_rate, "rate") for kind in KINDS)
    if budgets.cold_start_ms is not None:
        checks.append(Check(journey, "cold_start_ms", "any",
                            f"http_req_duration{{journey:{journey},phase:cold}}", "max",
                            budgets.cold_start_ms, "ms"))
    return checks


def build_plan(scripts: list[str | JourneyLoad], budgets: Budgets, duration_s: int, vus: int,
               cold_iterations: int | None = None, cold_after_idle_s: int | None = None) -> SoakPlan:
    """The plan for these journeys (paths, or load models); `cold_iterations` defaults to 1
    when a cold budget is set and no idle gap is (an idle gap's cold phase is one iteration)."""
    if not scripts:
        raise SpecError("no journey script given", field="--script",
                        hint="pass --script load/journeys.js (repeat for more journeys) or --journeys JSON")
    if not 1 <= duration_s <= 7 * 24 * 3600:
        raise SpecError(f"a soak of {duration_s}s is out of range (1s to 7 days)", field="--duration")
    if not 1 <= vus <= MAX_VUS:
        raise SpecError(f"{vus} VUs is out of range (1 to {MAX_VUS})", field="--vus")
    if cold_after_idle_s is not None:
        if budgets.cold_start_ms is None:
            raise SpecError("a cold phase after an idle gap needs a cold_start_ms budget to judge it",
                            field="--cold-after-idle", hint='add "cold_start_ms" to --budgets')
        if cold_iterations:
            raise SpecError("--cold-iterations is for a cold phase at the soak's start, not after "
                            "an idle gap", field="--cold-iterations", hint="leave one of them out")
        if not 1 <= cold_after_idle_s <= 7 * 24 * 3600:
            raise SpecError(f"an idle gap of {cold_after_idle_s}s is out of range (1s to 7 days)",
                            field="--cold-after-idle")
        cold_iterations = 0
    elif cold_iterations is None:
        cold_iterations = 1 if budgets.cold_start_ms is not None else 0
    if not 0 <= cold_iterations <= MAX_COLD_ITERATIONS:
        raise SpecError(f"{cold_iterations} cold iterations is out of range (0 to {MAX_COLD_ITERATIONS})",
                        field="--cold-iterations")
    if budgets.cold_start_ms is not None and cold_iterations == 0 and cold_after_idle_s is None:
        raise SpecError("a cold_start_ms budget needs at least one cold iteration",
                        field="--cold-iterations", hint="leave it out or pass 1 or more")
    problem = ramp_problem(list(scripts), duration_s)
    if problem:
        raise SpecError(problem, field="--journeys", hint="the stages must fit in --duration")
    scenarios = [steady_scenario(j, duration_s, vus, cold_after_idle_s) for j in scripts]
    journeys = journey_names([j if isinstance(j, str) else j.script for j in scripts], scenarios)
    checks = [c for j in journeys for c in _checks_for(j.name, budgets)]
    return SoakPlan(tuple(journeys), budgets, duration_s, vus, cold_iterations, tuple(checks),
                    cold_after_idle_s)


def load_plan(path: Path) -> SoakPlan:
    """Read `soak-plan.json` back (written by `soak-thresholds`)."""
    try:  # a FIFO or device is refused, never read
        text = bounded_input.read_text(path, "soak plan", 1 << 22)
    except SpecError as exc:
        raise SpecError(exc.message, location=exc.location,
                        hint="run `harden-ci gate soak-thresholds` first") from None
    try:
        data: Any = bounded_input.loads(text)
    except ValueError as exc:
        raise SpecError(f"cannot read the soak plan: {exc}", field=str(path),
                        hint="run `harden-ci gate soak-thresholds` first") from None
    try:
        if data.get("version") != PLAN_VERSION:
            raise SpecError(f"soak plan version {data.get('version')!r} is not {PLAN_VERSION}",
                            field=str(path), hint="re-run `harden-ci gate soak-thresholds`")
        return SoakPlan(
            journeys=tuple(Journey(**j) for j in data["journeys"]),
            budgets=Budgets.model_validate(data["budgets"], strict=False),
            duration_s=int(data["duration_s"]),
            vus=int(data["vus"]),
            cold_iterations=int(data["cold_iterations"]),
            checks=tuple(Check(**c) for c in data["checks"]),
            cold_after_idle_s=(None if data["cold_after_idle_s"] is None
                               else int(data["cold_after_idle_s"])),
        )
    except (AttributeError, KeyError, TypeError, ValueError) as exc:
        raise SpecError(f"the soak plan is malformed ({type(exc).__name__}: {exc})", field=str(path),
                        hint="re-run `harden-ci gate soak-thresholds`") from None


def parse_duration(text: str, field: str = "--duration") -> int:
    """`15m`, `1h30m`, `90s` or whole seconds → seconds, as the spec reads durations."""
    from pydantic import TypeAdapter

    from harden_ci.model.types import Seconds

    value: object = int(text) if text.strip().isdigit() else text
    try:
        return TypeAdapter(Seconds).validate_python(value)
    except ValidationError as exc:
        raise SpecError(exc.errors()[0]["msg"].removeprefix("Value error, "), field=field,
                        hint="write it like `30s`, `15m` or `1h30m`") from None
