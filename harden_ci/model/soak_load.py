"""`load.soak.scripts` entries: a journey script, alone or with its k6 load model.

A plain path keeps the default shape (a constant number of VUs for the soak's duration).
An object picks one of k6's executors by the fields it sets (names and checks follow k6
v1.1.0's lib/executor, so the wrapper's scenario objects are ones k6 accepts):

| fields                                                     | k6 executor              |
|------------------------------------------------------------|--------------------------|
| `script`, `vus`                                            | `constant-vus`           |
| `script`, `stages`, `start_vus`                            | `ramping-vus`            |
| `script`, `rate`, `time_unit`, `pre_allocated_vus`, `max_vus` | `constant-arrival-rate` |
| `script`, `stages`, `start_rate`, `time_unit`, `pre_allocated_vus`, `max_vus` | `ramping-arrival-rate` |

An arrival-rate journey is told apart by `pre_allocated_vus` (k6 requires it for both).
"""

from __future__ import annotations

import json
from typing import Annotated, Literal

from pydantic import Discriminator, Field, Tag, field_validator, model_validator

from harden_ci.model.base import SpecModel
from harden_ci.model.types import RepoPath, Seconds, format_seconds

MAX_VUS = 10_000
MAX_RATE = 1_000_000

Executor = Literal["constant-vus", "ramping-vus", "constant-arrival-rate", "ramping-arrival-rate"]

COLD_GRACE_MAX_S = 30
"""k6's default `gracefulStop`: the longest a steady iteration may run on after its scenario."""
COLD_MAX_S = 60
"""The cold scenario's `maxDuration`: its single iteration gets this long."""


class Stage(SpecModel):
    target: int = Field(ge=0, le=MAX_RATE)
    """VUs (`ramping-vus`) or iterations per `time_unit` (`ramping-arrival-rate`) reached,
    linearly, at the stage's end."""
    duration: Seconds
    """How long the stage takes (`30s`, `2m`)."""


class Journey(SpecModel):
    """One journey script and how k6 loads it."""

    script: RepoPath
    """The k6 journey script."""
    vus: int | None = Field(default=None, ge=1, le=MAX_VUS)
    """Constant VUs for the soak's duration (`constant-vus`; default: the gate's `--vus`, 5)."""
    stages: list[Stage] | None = Field(default=None, min_length=1, max_length=100)
    """A ramp: VU targets (`ramping-vus`), or with `pre_allocated_vus` rate targets
    (`ramping-arrival-rate`). The stages must fit in the soak's `duration`; the last
    target holds for whatever is left of it."""
    start_vus: int | None = Field(default=None, ge=0, le=MAX_VUS)
    """VUs at the start of a `ramping-vus` ramp (default 1)."""
    rate: int | None = Field(default=None, le=MAX_RATE)
    """Iterations started per `time_unit`, whatever the response times
    (`constant-arrival-rate`)."""
    start_rate: int | None = Field(default=None, ge=0, le=MAX_RATE)
    """Iterations per `time_unit` at the start of a `ramping-arrival-rate` ramp (default 0)."""
    time_unit: Seconds | None = None
    """The period `rate`, `start_rate` and rate targets count in (default 1s)."""
    pre_allocated_vus: int | None = Field(default=None, ge=0, le=MAX_VUS)
    """VUs k6 starts up front for an arrival rate; it marks the journey as arrival-rate."""
    max_vus: int | None = Field(default=None, ge=1, le=MAX_VUS)
    """The most VUs k6 may add when iterations run long (default `pre_allocated_vus`)."""

    @field_validator("rate")
    @classmethod
    def _positive_rate(cls, rate: int | None) -> int | None:
        if rate is not None and rate < 1:
            raise ValueError(f"a rate of {rate} starts no iteration; give at least 1 per "
                             "`time_unit` (e.g. `rate: 1, time_unit: 10s` for one every 10 s)")
        return rate

    @property
    def executor(self) -> Executor:
        arrival = self.pre_allocated_vus is not None
        if arrival:
            return "constant-arrival-rate" if self.rate is not None else "ramping-arrival-rate"
        return "ramping-vus" if self.stages is not None else "constant-vus"

    @model_validator(mode="after")
    def _one_shape(self) -> Journey:
        arrival_only = [n for n in ("rate", "start_rate", "time_unit", "max_vus")
                        if getattr(self, n) is not None]
        if self.pre_allocated_vus is None:
            if arrival_only:
                raise ValueError(f"`{arrival_only[0]}` is for an arrival rate, which needs "
                                 "`pre_allocated_vus` (the VUs k6 starts up front)")
            if self.stages is not None and self.vus is not None:
                raise ValueError("`vus` is for a constant load; a ramp starts at `start_vus` "
                                 "and follows its `stages`' targets")
            if self.start_vus is not None and self.stages is None:
                raise ValueError("`start_vus` needs `stages` (the ramp it starts)")
            if self.stages is not None and max(self.start_vus or 1,
                                               *(s.target for s in self.stages)) == 0:
                raise ValueError("this ramp never has a VU: give `start_vus` or a stage "
                                 "`target` above 0")
            return self
        if self.vus is not None or self.start_vus is not None:
            raise ValueError("`vus` and `start_vus` are for VU-based load; an arrival rate "
                             "sizes its VUs with `pre_allocated_vus` and `max_vus`")
        if (self.rate is None) == (self.stages is None):
            raise ValueError("an arrival rate needs either `rate` (constant) or `stages` "
                             "(ramping), not both and not neither")
        if self.rate is not None and self.start_rate is not None:
            raise ValueError("`start_rate` is for a ramp (`stages`); a constant arrival rate "
                             "has `rate` only")
        if self.max_vus is not None and self.max_vus < self.pre_allocated_vus:
            raise ValueError(f"`max_vus` ({self.max_vus}) is below `pre_allocated_vus` "
                             f"({self.pre_allocated_vus}); k6 refuses that: raise `max_vus` "
                             "or leave it out (it defaults to `pre_allocated_vus`)")
        if max(self.pre_allocated_vus, self.max_vus or 0) == 0:
            raise ValueError("an arrival rate with no VU cannot start an iteration: set "
                             "`pre_allocated_vus` to 1 or more")
        if self.stages is not None and max(self.start_rate or 0,
                                           *(s.target for s in self.stages)) == 0:
            raise ValueError("this ramp's rate stays 0, so it starts no iteration: give "
                             "`start_rate` or a stage `target` above 0")
        return self

    def ramp_seconds(self) -> int:
        """How long the stages take (0 without a ramp)."""
        return sum(s.duration for s in self.stages or ())


def _entry_kind(value: object) -> str:
    if isinstance(value, str):
        return "path"
    if isinstance(value, Journey | dict):
        return "journey"
    return "path"  # anything else fails as a path would: "expected a string"


JourneyEntry = Annotated[
    Annotated[RepoPath, Tag("path")] | Annotated[Journey, Tag("journey")],
    Discriminator(_entry_kind),
]
"""A plain script path, or a `Journey` with its load model."""

UNION_TAGS = frozenset({"path", "journey"})
"""Steps pydantic adds to an error's location inside `JourneyEntry` (not spec keys)."""


def as_journey(entry: str | Journey) -> Journey:
    """A plain path is a journey with the default load."""
    return entry if isinstance(entry, Journey) else Journey(script=entry)


def ramp_problem(entries: list[str | Journey], duration: int) -> str | None:
    """Why the ramps do not fit the soak's duration, or None."""
    for i, entry in enumerate(entries):
        if isinstance(entry, Journey) and entry.ramp_seconds() > duration:
            return (f"journey {i} (`{entry.script}`) ramps for {entry.ramp_seconds()}s, longer "
                    f"than the soak's duration ({duration}s): shorten its `stages` or lengthen "
                    "`duration` (the last target holds for the rest of the soak)")
    return None


class ColdStart(SpecModel):
    """Cold start measured after an idle period, not on the soak's first iterations."""

    after_idle: Seconds
    """Seconds with no traffic after the steady journeys end (and their last iterations
    finish, up to 30 s); then each journey runs one iteration tagged `phase:cold`, which
    `budgets.cold_start_ms` judges. This time adds to the soak job's budget."""


def cold_grace_seconds(after_idle: int) -> int:
    """The steady scenarios' `gracefulStop` when a cold phase follows them."""
    return min(COLD_GRACE_MAX_S, after_idle)


def soak_seconds(duration: int, after_idle: int | None) -> int:
    """How long the k6 run lasts: the steady journeys, then any idle gap and cold phase."""
    if after_idle is None:
        return duration
    return duration + cold_grace_seconds(after_idle) + after_idle + COLD_MAX_S


def journeys_json(entries: list[str | Journey]) -> str:
    """The spec's entries as the JSON the soak gate's `--journeys` reads (paths stay strings)."""
    data = [e if isinstance(e, str) else e.model_dump(mode="json", exclude_none=True)
            for e in entries]
    return json.dumps(data, separators=(",", ":"))


def journey_load(journey: Journey) -> str:
    """The load model in words, for `explain`: `20 iterations per 1s (2 to 10 VUs)`."""
    ramp = " → ".join(f"{s.target} over {format_seconds(s.duration)}" for s in journey.stages or ())
    executor = journey.executor
    if executor == "constant-vus":
        return f"{journey.vus or 'the default 5'} constant VUs (k6 constant-vus)"
    if executor == "ramping-vus":
        start = 1 if journey.start_vus is None else journey.start_vus
        return f"VUs ramping from {start}: {ramp}, then holding (k6 ramping-vus)"
    unit = format_seconds(journey.time_unit or 1)
    vus = f"{journey.pre_allocated_vus} to {journey.max_vus or journey.pre_allocated_vus} VUs"
    if executor == "constant-arrival-rate":
        return (f"{journey.rate} iterations per {unit} whatever the latency ({vus}; k6 "
                "constant-arrival-rate)")
    return (f"iterations per {unit} ramping from {journey.start_rate or 0}: {ramp}, then "
            f"holding ({vus}; k6 ramping-arrival-rate)")
