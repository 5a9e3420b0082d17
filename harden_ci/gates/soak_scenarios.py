"""k6 scenario objects for the soak's journeys, from the spec's load model.

Option names are k6 v1.1.0's (lib/executor/*.go: `vus`, `duration`, `startVUs`, `stages`
of `{target, duration}`, `rate`, `timeUnit`, `preAllocatedVUs`, `maxVUs`, `startRate`,
and the base `startTime`, `gracefulStop`, `exec`, `tags`). Every steady scenario lasts the
soak's duration: a ramp shorter than that holds its last target for the rest, so a cold
phase after an idle gap starts at one known time after all of them.
"""

from __future__ import annotations

from typing import Any

from pydantic import TypeAdapter, ValidationError

from harden_ci.errors import SpecError
from harden_ci.model.soak_load import (
    COLD_MAX_S,
    UNION_TAGS,
    Journey,
    JourneyEntry,
    Stage,
    cold_grace_seconds,
    ramp_problem,
)

Scenario = dict[str, Any]


def _s(seconds: int) -> str:
    return f"{seconds}s"


def _stages(stages: list[Stage], duration_s: int) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = [{"target": s.target, "duration": _s(s.duration)} for s in stages]
    rest = duration_s - sum(s.duration for s in stages)
    if rest > 0:
        out.append({"target": stages[-1].target, "duration": _s(rest)})
    return out


def steady_scenario(journey: str | Journey, duration_s: int, default_vus: int,
                    after_idle: int | None) -> Scenario:
    """The journey's load for the soak's duration, without `exec` and `tags`; a plain path
    (any path: the gate also takes absolute ones) gets `default_vus` constant VUs."""
    executor = "constant-vus" if isinstance(journey, str) else journey.executor
    scenario: Scenario = {"executor": executor}
    if isinstance(journey, str) or executor == "constant-vus":
        vus = None if isinstance(journey, str) else journey.vus
        scenario |= {"vus": vus or default_vus, "duration": _s(duration_s)}
    elif executor == "ramping-vus":
        assert journey.stages is not None
        scenario |= {"startVUs": 1 if journey.start_vus is None else journey.start_vus,
                     "stages": _stages(journey.stages, duration_s)}
    else:
        assert journey.pre_allocated_vus is not None
        scenario |= {"timeUnit": _s(journey.time_unit or 1),
                     "preAllocatedVUs": journey.pre_allocated_vus,
                     "maxVUs": journey.max_vus or journey.pre_allocated_vus}
        if executor == "constant-arrival-rate":
            scenario |= {"rate": journey.rate, "duration": _s(duration_s)}
        else:
            assert journey.stages is not None
            scenario |= {"startRate": journey.start_rate or 0,
                         "stages": _stages(journey.stages, duration_s)}
    if after_idle is not None:
        # Iterations still running at the end get this long, so the idle gap really is idle.
        grace = _s(cold_grace_seconds(after_idle))
        scenario["gracefulStop"] = grace
        if executor == "ramping-vus":
            scenario["gracefulRampDown"] = grace
    return scenario


def cold_scenario(duration_s: int, after_idle: int) -> Scenario:
    """One iteration after the steady scenarios ended and `after_idle` seconds passed."""
    start = duration_s + cold_grace_seconds(after_idle) + after_idle
    return {"executor": "per-vu-iterations", "vus": 1, "iterations": 1,
            "maxDuration": _s(COLD_MAX_S), "startTime": _s(start)}


def parse_journeys(text: str | None, duration_s: int,
                   source: str = "--journeys") -> list[str | Journey]:
    """Journeys from a JSON list of the spec's `load.soak.scripts` entries."""
    if text is None or not text.strip():
        return []
    try:
        entries = TypeAdapter(list[JourneyEntry]).validate_json(text)
    except ValidationError as exc:
        err = exc.errors(include_url=False)[0]
        loc = [p for p in err["loc"] if p not in UNION_TAGS]
        where = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in loc)
        raise SpecError(f"{err['msg'].removeprefix('Value error, ')}", field=f"{source}{where}",
                        hint='write them like ["load/a.js", {"script": "load/b.js", "rate": 10, '
                             '"pre_allocated_vus": 5}]') from None
    problem = ramp_problem(list(entries), duration_s)
    if problem:
        raise SpecError(problem, field=source, hint="the stages must fit in --duration")
    return list(entries)
