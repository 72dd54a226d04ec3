"""The plan as plain data: what the YAML file means once it has been read and checked.

These types are the input of everything downstream (calendar building, digests); they hold no
I/O and no YAML, only values.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from plansync.errors import Problem
from plansync.model.reading import Reading

ORGANIZATION_KINDS = ("library", "ministry", "project-office", "other")


@dataclass(frozen=True)
class Contacts:
    phones: tuple[str, ...] = ()
    emails: tuple[str, ...] = ()


@dataclass(frozen=True)
class Organization:
    id: str
    name: str
    short_name: str
    kind: str
    contacts: Contacts = field(default_factory=Contacts)


@dataclass(frozen=True)
class Section:
    id: str
    title: str | None  # the heading as printed in the source; None where the source has none


@dataclass(frozen=True)
class DateOverride:
    """What a person learned after the plan was published; each set field beats the date text."""

    start: dt.date | None = None
    end: dt.date | None = None
    time: dt.time | None = None
    end_time: dt.time | None = None
    rrule: str | None = None  # "" means: no recurrence, whatever the date text says

    def is_empty(self) -> bool:
        return self == DateOverride()

    def to_json(self) -> dict[str, str | None]:
        out: dict[str, str | None] = {}
        if self.start is not None:
            out["start"] = self.start.isoformat()
        if self.end is not None:
            out["end"] = self.end.isoformat()
        if self.time is not None:
            out["time"] = self.time.strftime("%H:%M")
        if self.end_time is not None:
            out["end_time"] = self.end_time.strftime("%H:%M")
        if self.rrule is not None:
            out["rrule"] = self.rrule or None
        return out


@dataclass(frozen=True)
class Event:
    key: str
    section: str
    number: str | None  # as published: «7», «1.1», «II.1»
    form: str | None
    title: str
    date_text: str
    organizers: tuple[str, ...]
    reading: Reading  # the date text as read, with the overrides applied
    override: DateOverride = field(default_factory=DateOverride)
    notes: str | None = None
    contact: str | None = None  # who to ask: the person, position, department or phone the plan names


@dataclass(frozen=True)
class Plan:
    id: str
    title: str
    year: int
    timezone: str
    sections: tuple[Section, ...]
    organizations: tuple[Organization, ...]
    events: tuple[Event, ...]
    source: str = ""  # the file it was read from, for messages
    # A plan read with events that cannot be read this time (planread.planfile.load_plan_partial): their
    # keys, and the problems. What calendars hold of them stays; digests never call them changed.
    left_out: tuple[str, ...] = ()
    problems: tuple[Problem, ...] = ()

    def organization(self, org_id: str) -> Organization:
        for org in self.organizations:
            if org.id == org_id:
                return org
        raise KeyError(org_id)

    def events_of(self, org_id: str) -> tuple[Event, ...]:
        return tuple(e for e in self.events if org_id in e.organizers)


def apply_override(reading: Reading, override: DateOverride) -> Reading:
    """The reading a person corrected: an exact start without an end means that single day."""
    if override.is_empty():
        return reading
    start, end = reading.start, reading.end
    start_precision, end_precision = reading.start_precision, reading.end_precision
    deadline = reading.deadline
    if override.start is not None:
        start, start_precision, deadline = override.start, "day", False
        if override.end is None:
            end, end_precision = override.start, "day"
    if override.end is not None:
        end, end_precision = override.end, "day"
    rrule = reading.rrule
    if override.rrule is not None:
        rrule = override.rrule or None
    return Reading(
        text=reading.text,
        start=start,
        end=end,
        start_precision=start_precision,
        end_precision=end_precision,
        time=override.time if override.time is not None else reading.time,
        end_time=override.end_time if override.end_time is not None else reading.end_time,
        rrule=rrule,
        deadline=deadline,
        note=reading.note,
    )
