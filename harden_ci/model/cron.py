"""Five-field cron expressions, checked the way GitHub's scheduler reads them.

A field is a comma list of items; an item is `*`, `N` or `N-M`, each optionally followed
by `/STEP`. Every number must lie in its field's range (a day of month of 0, or an hour of
24, is refused here rather than by GitHub at run time, where the schedule would silently
never fire). Names (`MON`, `JAN`) and the `@daily` shorthands are left out: digits read
the same in every cron dialect.

Two more checks follow GitHub's scheduler: runs at least 5 minutes apart (its shortest
interval), and a schedule that can fire at all (`0 0 30 2 *` never does).
"""

from __future__ import annotations

import re
from itertools import pairwise

# (name, lowest, highest) per field, in order.
FIELDS: tuple[tuple[str, int, int], ...] = (
    ("minute", 0, 59),
    ("hour", 0, 23),
    ("day of month", 1, 31),
    ("month", 1, 12),
    ("day of week", 0, 6),
)

_ITEM = re.compile(r"(?P<range>\*|(?P<low>[0-9]{1,2})(?:-(?P<high>[0-9]{1,2}))?)"
                   r"(?:/(?P<step>[0-9]{1,2}))?")


def cron_problem(cron: str) -> str | None:
    """Why `cron` is not a valid five-field schedule, or None when it is."""
    fields = cron.split()
    if len(fields) != 5:
        return f"a cron has five fields (minute hour day-of-month month day-of-week), not {len(fields)}"
    values: list[set[int]] = []
    for text, (name, lowest, highest) in zip(fields, FIELDS, strict=True):
        for item in text.split(","):
            problem = _item_problem(item, lowest, highest)
            if problem:
                return f"{name} `{text}`: {problem}"
        values.append(_expand(text, lowest, highest))
    minutes, hours, days, months, _ = values
    if _shortest_gap(sorted(minutes), hours) < MIN_INTERVAL_MINUTES:
        return (f"runs less than {MIN_INTERVAL_MINUTES} minutes apart; GitHub runs schedules "
                f"at most every {MIN_INTERVAL_MINUTES} minutes")
    # With a `*…` day of week, days of month and weekdays must both match (cron's rule), so
    # the day of month alone decides whether the date exists.
    if fields[4].startswith("*") and not any(day <= _DAYS_IN[month] for month in months
                                             for day in days):
        return "the day of month never occurs in the months given, so it never runs"
    return None


MIN_INTERVAL_MINUTES = 5
_DAYS_IN = {1: 31, 2: 29, 3: 31, 4: 30, 5: 31, 6: 30, 7: 31, 8: 31, 9: 30, 10: 31, 11: 30, 12: 31}


def _expand(text: str, lowest: int, highest: int) -> set[int]:
    out: set[int] = set()
    for item in text.split(","):
        match = _ITEM.fullmatch(item)
        assert match is not None  # checked by _item_problem first
        low = lowest if match["low"] is None else int(match["low"])
        high = highest if match["low"] is None else int(match["high"] or match["low"])
        out.update(range(low, high + 1, int(match["step"] or 1)))
    return out


def _shortest_gap(minutes: list[int], hours: set[int]) -> int:
    """The shortest time between two runs, in minutes, as far as it is under an hour."""
    gaps = [b - a for a, b in pairwise(minutes)]
    # The last run of one hour and the first of the next, when both hours run (23 -> 0
    # included, as the next day may run too).
    if any((hour + 1) % 24 in hours for hour in hours):
        gaps.append(60 - minutes[-1] + minutes[0])
    return min(gaps, default=60)


def _item_problem(item: str, lowest: int, highest: int) -> str | None:
    match = _ITEM.fullmatch(item)
    if match is None:
        return f"`{item}` is not `*`, `N`, `N-M` or one of them with `/STEP`"
    step = match["step"]
    if step is not None and int(step) == 0:
        return "a step of 0 never advances"
    if match["low"] is None:
        return None
    low = int(match["low"])
    high = int(match["high"]) if match["high"] is not None else low
    for value in (low, high):
        if not lowest <= value <= highest:
            return f"{value} is outside {lowest}-{highest}"
    if low > high:
        return f"the range {low}-{high} runs backwards"
    if step is not None and match["high"] is None:
        # `5/15` means "from 5 on" in some dialects and is an error in others.
        return f"write `{low}-{highest}/{step}` for a stepped range"
    return None
