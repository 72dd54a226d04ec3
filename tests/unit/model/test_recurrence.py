"""The days of a recurrence rule within a period: the same as dateutil's, and a rule that never
matches gives none (without dateutil's search up to the year 9999)."""

from __future__ import annotations

import datetime as dt

from dateutil.rrule import rrulestr
from hypothesis import given
from hypothesis import strategies as st

from plansync.model.recurrence import first_occurrence, occurrences


def _dateutil(rule: str, start: dt.date, end: dt.date) -> list[dt.date]:
    first = dt.datetime.combine(start, dt.time())
    last = dt.datetime.combine(end, dt.time())
    return [d.date() for d in rrulestr(rule, dtstart=first).between(first, last, inc=True)]


RULES = st.sampled_from(
    [
        "FREQ=WEEKLY;BYDAY=TU",
        "FREQ=WEEKLY;INTERVAL=2;BYDAY=MO,TH",
        "FREQ=MONTHLY",
        "FREQ=MONTHLY;INTERVAL=3",
        "FREQ=MONTHLY;BYDAY=-1FR",
        "FREQ=MONTHLY;BYMONTHDAY=31",
        "FREQ=MONTHLY;BYDAY=MO;BYSETPOS=2",
        "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=29",
        "FREQ=DAILY;INTERVAL=10",
        "FREQ=WEEKLY;COUNT=5;BYDAY=WE",
    ]
)


@given(RULES, st.dates(dt.date(2000, 1, 1), dt.date(2090, 1, 1)), st.integers(0, 800))
def test_the_same_days_as_dateutil(rule: str, start: dt.date, days: int) -> None:
    end = start + dt.timedelta(days=days)
    assert occurrences(rule, start, end) == _dateutil(rule, start, end)


def test_a_rule_that_never_matches_gives_no_day() -> None:
    for rule in ("FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=31", "FREQ=DAILY;BYMONTH=4;BYMONTHDAY=31"):
        assert occurrences(rule, dt.date(2024, 1, 1), dt.date(2024, 12, 31)) == []
        assert first_occurrence(rule, dt.date(2024, 1, 1), dt.date(2030, 12, 31)) is None


def test_limit_and_an_until_of_the_rules_own() -> None:
    assert len(occurrences("FREQ=DAILY", dt.date(2024, 1, 1), dt.date(2024, 12, 31), limit=3)) == 3
    # The period bounds the rule; an UNTIL in the text would not move with the period, so it is ignored.
    got = occurrences("FREQ=MONTHLY;UNTIL=20240301", dt.date(2024, 1, 1), dt.date(2024, 4, 30))
    assert got == [dt.date(2024, m, 1) for m in (1, 2, 3, 4)]
    assert occurrences("FREQ=DAILY", dt.date(2024, 5, 2), dt.date(2024, 5, 1)) == []
