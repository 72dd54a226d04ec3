"""The days a recurrence rule gives within a period, at a bounded cost.

dateutil looks for the next occurrence of a rule up to the year 9999, even past an UNTIL, when the
rule never matches (the 31st of February): seconds of CPU for one rule. The Gregorian calendar repeats
exactly every 400 years (weekdays and leap days alike), so the period is moved by a multiple of 400
years to just before 9999, where that search has at most 400 years left to run, and the days found are
moved back.
"""

from __future__ import annotations

import datetime as dt

from dateutil.rrule import rrulestr  # type: ignore[import-untyped]

_CYCLE = 400  # years after which the Gregorian calendar repeats itself exactly
MAX_OCCURRENCES = 4000  # more days than any rule of a plan gives


def occurrences(rrule: str, start: dt.date, end: dt.date, *, limit: int = MAX_OCCURRENCES) -> list[dt.date]:
    """The days of `rrule`, counted from `start`, from `start` to `end` inclusive, at most `limit`.
    ValueError when the rule cannot be read."""
    if end < start:
        return []
    shift = (dt.MAXYEAR - 1 - end.year) // _CYCLE * _CYCLE
    first = dt.datetime.combine(start.replace(year=start.year + shift), dt.time())
    last = dt.datetime.combine(end.replace(year=end.year + shift), dt.time())
    # The period bounds the rule: an UNTIL of its own would not move with it.
    parts = [p for p in rrule.split(";") if p and not p.upper().startswith("UNTIL=")]
    rule = rrulestr(";".join(parts), dtstart=first, ignoretz=True)
    out: list[dt.date] = []
    for moment in rule:
        if moment > last or len(out) >= limit:
            break
        day = moment.date()
        out.append(day.replace(year=day.year - shift))
    return out


def first_occurrence(rrule: str, start: dt.date, end: dt.date) -> dt.date | None:
    """The first day of `rrule` from `start` to `end`, or None when it gives none there."""
    found = occurrences(rrule, start, end, limit=1)
    return found[0] if found else None
