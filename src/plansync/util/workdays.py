"""Working days of the Russian production calendar (the `holidays` package: public holidays and the
government's transfers of days off). Pure, no clock.

The years a plan may have come from a table made from the package (plansync.util.days_off_ru): importing
the package takes a tenth of a second and 16 MB, which every run that places an event would pay."""

from __future__ import annotations

import datetime as dt
from functools import cache
from typing import TYPE_CHECKING

from plansync.util.days_off_ru import DAYS_OFF, FIRST_YEAR, LAST_YEAR

if TYPE_CHECKING:
    import holidays

__all__ = ["is_working_day", "send_day"]


@cache
def _russian(year: int) -> holidays.HolidayBase:
    # holidays (0.1 s, 16 MB) only for a year outside the table: a sync with nothing to render never asks.
    import holidays  # noqa: PLC0415

    return holidays.country_holidays("RU", years=year)


def is_working_day(day: dt.date) -> bool:
    """Monday to Friday and not a public holiday or transferred day off."""
    if day.weekday() >= 5:
        return False
    if FIRST_YEAR <= day.year <= LAST_YEAR:
        return day.isoformat() not in DAYS_OFF
    return day not in _russian(day.year)


def send_day(scheduled: dt.date) -> dt.date:
    """The scheduled day, or the last send day before it: moving earlier keeps the lead time."""
    day = scheduled
    while not is_working_day(day):
        day -= dt.timedelta(days=1)
    return day
