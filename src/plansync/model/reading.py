"""What a date cell says, once read (plansync.planread.dates reads it). A module of its own, without the
reader's tables, so that loading a plan from the render cache does not build them."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Literal

Precision = Literal["day", "month", "quarter", "half", "year"]


@dataclass(frozen=True)
class Reading:
    """What a date cell says. Periods are inclusive."""

    text: str  # the input, verbatim
    start: dt.date | None  # None only for a deadline «до D»
    end: dt.date | None  # inclusive; None only for an open start «с D»
    start_precision: Precision | None
    end_precision: Precision | None
    time: dt.time | None  # «в 14:00», «14.00»
    end_time: dt.time | None  # «14:00–16:00», «с 10:00 до 12:00»
    rrule: str | None  # e.g. "FREQ=MONTHLY;INTERVAL=3", "FREQ=WEEKLY;BYDAY=TU"
    deadline: bool  # True for «до D» (then end is D, start None)
    note: str | None  # the words not consumed, e.g. "приём заявок", "по запросам"

    @property
    def dated(self) -> bool:
        """False for an event kept in the plan without a date (`date_known: false`)."""
        return self.start is not None or self.end is not None

    def to_json(self) -> dict[str, object]:
        """Plain JSON data: dates 'YYYY-MM-DD', times 'HH:MM', keys in the field order."""
        return {
            "text": self.text,
            "start": _iso_date(self.start),
            "end": _iso_date(self.end),
            "start_precision": self.start_precision,
            "end_precision": self.end_precision,
            "time": _iso_time(self.time),
            "end_time": _iso_time(self.end_time),
            "rrule": self.rrule,
            "deadline": self.deadline,
            "note": self.note,
        }


def _iso_date(value: dt.date | None) -> str | None:
    return None if value is None else value.isoformat()


def _iso_time(value: dt.time | None) -> str | None:
    return None if value is None else f"{value.hour:02d}:{value.minute:02d}"
