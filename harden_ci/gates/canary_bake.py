"""A bake: consecutive analysis windows, and the rules that turn them into one decision.

The bake starting at S with windows of w seconds holds `bake // w` windows, the k-th ending
at S + k·w; each is analysed (canary_analysis.analyze_window) with Prometheus's `time` set
to its end, as soon as that time has come, so a bake that began in the past (a resumed job,
or the tests' backfilled data) is judged on exactly the same windows as one followed live.

The rules (`delivery.canary.rollback_on`), as Argo Rollouts counts them:
- more failed windows than `failure_limit` roll back;
- `consecutive_failures` failed windows in a row roll back;
- more inconclusive windows than `inconclusive_limit` roll back, as inconclusive;
- a bake without a single passed window rolls back, as inconclusive (never a pass on no data).
A bake of n windows tolerates at most n - 1 of either kind, so a single analysis (the
nightly one) fails on its one failed or inconclusive window. Otherwise the bake promotes.
One blip (one or two failed windows) in a ten-window bake does not roll back.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from harden_ci.errors import SpecError
from harden_ci.gates.canary_analysis import Selectors, Window, analyze_window
from harden_ci.gates.canary_prometheus import Prometheus
from harden_ci.model.delivery import RollbackRules

Decision = Literal["promote", "rollback"]
MAX_WINDOWS = 10_000


@dataclass(frozen=True)
class Analysis:
    decision: Decision
    inconclusive: bool  # rolled back because the data could not decide (fail safe)
    windows: tuple[Window, ...]
    reasons: tuple[str, ...]
    planned: int  # the windows the bake holds
    step: int | None
    prometheus: str
    selectors: Selectors
    rules: RollbackRules


@dataclass(frozen=True)
class Limits:
    """The rules, capped for a bake of `planned` windows."""

    failures: int
    consecutive: int
    inconclusive: int

    @classmethod
    def of(cls, rules: RollbackRules, planned: int) -> Limits:
        return cls(min(rules.failure_limit, planned - 1), min(rules.consecutive_failures, planned),
                   min(rules.inconclusive_limit, planned - 1))


def judge(windows: list[Window], planned: int, rules: RollbackRules,
          finished: bool) -> tuple[Decision, bool, tuple[str, ...]] | None:
    """The decision the windows so far force, or None while the bake must go on."""
    if planned == 1 and windows:  # a single analysis: its window is the decision
        only = windows[0]
        if only.verdict == "passed":
            return "promote", False, ()
        return "rollback", only.verdict == "inconclusive", only.reasons
    limits = Limits.of(rules, planned)
    failed = [w for w in windows if w.verdict == "failed"]
    unsure = [w for w in windows if w.verdict == "inconclusive"]
    streak = 0
    for w in reversed(windows):
        if w.verdict != "failed":
            break
        streak += 1
    if streak >= limits.consecutive:
        return "rollback", False, (f"{streak} failed window(s) in a row (consecutive_failures "
                                   f"{rules.consecutive_failures}); the last: "
                                   + "; ".join(failed[-1].reasons),)
    if len(failed) > limits.failures:
        return "rollback", False, (f"{len(failed)} failed windows, more than failure_limit "
                                   f"{limits.failures}; the last: " + "; ".join(failed[-1].reasons),)
    if len(unsure) > limits.inconclusive:
        return "rollback", True, (f"{len(unsure)} inconclusive window(s), more than inconclusive_limit "
                                  f"{limits.inconclusive}; the last: " + "; ".join(unsure[-1].reasons),)
    if not finished:
        return None
    if not any(w.verdict == "passed" for w in windows):
        return "rollback", True, ("no window passed",)
    return "promote", False, ()


def analyze_over_bake(prom: Prometheus, sel: Selectors, rules: RollbackRules, step: int | None,
                      bake_s: int, window_s: int, start: float | None = None,
                      clock: Callable[[], float] = time.time,
                      sleep: Callable[[float], None] | None = None,
                      on_window: Callable[[int, Window], None] | None = None) -> Analysis:
    """Analyse the bake's windows in turn and decide; `bake_s` 0 is one window ending now."""
    if window_s <= 0:
        raise SpecError("an analysis window must be at least 1s", field="--window")
    planned = 1 if bake_s <= 0 else bake_s // window_s
    if planned < 1:
        raise SpecError(f"the bake ({bake_s}s) is shorter than one window ({window_s}s)", field="--bake")
    if planned > MAX_WINDOWS:
        raise SpecError(f"{planned} analysis windows is too many (at most {MAX_WINDOWS})",
                        field="--window", hint="use a longer window")
    pause = sleep or prom.sleep
    begin = clock() if start is None else start
    windows: list[Window] = []
    verdict = None
    for n in range(1, planned + 1):
        at: float | None = None
        if bake_s > 0 or start is not None:
            at = begin + n * window_s if bake_s > 0 else begin
            wait = at - clock()
            if wait > 0:
                pause(wait)
        window = analyze_window(prom, sel, rules, at)
        windows.append(window)
        if on_window is not None:
            on_window(n, window)
        verdict = judge(windows, planned, rules, finished=n == planned)
        if verdict is not None:
            break
    assert verdict is not None
    decision, inconclusive, reasons = verdict
    return Analysis(decision, inconclusive, tuple(windows), reasons, planned, step,
                    prom.base_url, sel, rules)
