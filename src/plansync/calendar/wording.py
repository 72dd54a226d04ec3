"""How a plan date shows in a calendar: its kind (the rows of the rules table in docs/calendar.md), the
words for its period in a title and a description, and the working day a vague one is shown on."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import TYPE_CHECKING, Literal

from plansync.model.reading import Reading
from plansync.util.lazy import lazy_import
from plansync.util.workdays import is_working_day

if TYPE_CHECKING:
    from plansync.wording import russian
else:
    # Babel's month names: loaded when a date is first put in words, never by a run that renders nothing.
    russian = lazy_import("plansync.wording.russian")

DateKind = Literal[
    "day", "days", "month", "months", "quarter", "half", "year", "series", "vague-series", "deadline",
    "open", "mixed",
]  # fmt: skip


def date_kind(r: Reading) -> DateKind:
    """Which row of the rules table (docs/calendar.md) a reading falls under."""
    if r.start is None:
        return "deadline"
    if r.end is None:
        return "open"
    if r.rrule:
        return "series" if _names_its_days(r) else "vague-series"
    precisions = (r.start_precision, r.end_precision)
    if precisions == ("day", "day"):
        return "day" if r.start == r.end else "days"
    if "day" in precisions or r.start_precision != r.end_precision:
        return "mixed"
    if (r.start.month, r.start.day, r.end.month, r.end.day) == (1, 1, 12, 31) and r.start.year == r.end.year:
        return "year"
    first = (r.start.year, r.start.month)
    if r.start_precision == "month":
        return "month" if first == (r.end.year, r.end.month) else "months"
    months = 3 if r.start_precision == "quarter" else 6
    if r.start_precision in ("quarter", "half") and (r.end.year, r.end.month) < (
        r.start.year,
        r.start.month + months,
    ):
        return r.start_precision  # one quarter, one half-year
    return "months"


def _names_its_days(r: Reading) -> bool:
    """A series whose days the plan gives: a named weekday or day of the month, or an exact first day."""
    assert r.rrule is not None
    parts = {p.split("=", 1)[0] for p in r.rrule.upper().split(";")}
    named = parts - {"FREQ", "INTERVAL", "COUNT", "UNTIL", "WKST", "BYMONTH"}  # «март, октябрь» names no day
    return bool(named) or r.start_precision == "day"


def first_working_day(start: dt.date, end: dt.date) -> dt.date:
    """The first working day of the period (the Russian production calendar: weekends, public holidays
    and transferred days off), or the period's start if it has none."""
    day = start
    while day <= end:
        if is_working_day(day):
            return day
        day += dt.timedelta(days=1)
    return start


def unit_end(start: dt.date, precision: str | None) -> dt.date:
    """The last day of the month, quarter, half-year or year that begins on `start`."""
    months = {"month": 1, "quarter": 3, "half": 6}.get(precision or "", 12)
    year, month = divmod(start.month - 1 + months, 12)
    return dt.date(start.year + year, month + 1, 1) - dt.timedelta(days=1)


def _series_words(rrule: str) -> str:
    if "BYMONTH=" in rrule.upper():  # «в марте и октябре»
        return russian.rule_words(rrule)
    return russian.frequency(rrule) or "повторяется"


def period_words(kind: DateKind, r: Reading, start: dt.date, end: dt.date) -> str:
    if kind == "open":
        return russian.within(start, r.start_precision)
    if kind == "year":
        return f"в течение {start.year} года"
    if kind in ("month", "quarter", "half"):
        return russian.within(start, r.start_precision)
    return russian.span(start, r.start_precision, end, r.end_precision)


def title_label(kind: DateKind, r: Reading, start: dt.date, end: dt.date) -> str:
    """What stands in the title instead of a day: «в мае, дата уточняется», «с февраля по ноябрь»."""
    words = period_words(kind if kind != "vague-series" else _period_kind(r), r, start, end)
    if kind == "vague-series":
        assert r.rrule is not None
        if "BYMONTH=" in r.rrule.upper():  # the months say the period
            return f"{_series_words(r.rrule)}, дата уточняется"
        return f"{_series_words(r.rrule)} {words}"
    if kind in ("month", "quarter", "half"):
        return f"{words}, дата уточняется"
    return words


def _period_kind(r: Reading) -> DateKind:
    """The kind of a series' period, as if it did not repeat."""
    return date_kind(dataclasses.replace(r, rrule=None))


def when_words(r: Reading) -> str | None:
    """The description's first line, by the precision of the date; None for an exact day or days."""
    kind = date_kind(r)
    if kind in ("day", "days", "deadline", "open"):
        return None
    assert r.start is not None and r.end is not None
    if kind in ("series", "vague-series"):
        assert r.rrule is not None
        period = period_words(_period_kind(r), r, r.start, r.end)
        if kind == "series":
            return f"Повторяется {period}." if r.start_precision != "day" else None
        when = (
            _series_words(r.rrule) if "BYMONTH=" in r.rrule.upper() else f"{_series_words(r.rrule)} {period}"
        )
        return f"Повторяется {when}; дни повторений в плане не указаны, уточняйте у организаторов."
    scope = {
        "month": "в течение месяца",
        "quarter": "в течение квартала",
        "half": "в течение полугодия",
        "year": "в течение года",
        "months": "в течение нескольких месяцев",
    }.get(kind)
    period = period_words(kind, r, r.start, r.end)
    if scope is None:  # one end exact, the other a month or more
        return f"Сроки по плану: {period}; точные дни уточняйте у организаторов."
    detail = f" ({period})" if kind != "year" else ""
    return f"Сроки ориентировочные: {scope}{detail}; точную дату уточняйте у организаторов."
