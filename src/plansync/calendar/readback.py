"""Reading back what a server holds: the UID, the markers and the owned fields of a resource, compared
by meaning. The content hash covers only the fields plansync owns, normalised (no DTSTAMP, no PRODID, no
property order, time zones resolved with zoneinfo), so that a server re-serialising an event (Radicale
through vobject, Xandikos through icalendar) does not look like a change. Anything may be there: what
cannot be read is known by its raw UID and markers, never an exception."""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import re
import zoneinfo
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from plansync.calendar.identity import (
    MARK_CALENDAR,
    MARK_EVENT,
    MARK_HASH,
    MARK_PLAN,
    Marker,
    event_uid,
    owner_of,
)
from plansync.util.lazy import lazy_import

if TYPE_CHECKING:
    import icalendar
else:
    # Loaded when first used: a run in which nothing changed renders and parses nothing.
    icalendar = lazy_import("icalendar")


@dataclass(frozen=True)
class Parsed:
    """The parts of a server resource plansync looks at."""

    uid: str | None
    marker: Marker | None
    recorded_hash: str | None
    fields: Mapping[str, str] | None
    hash: str | None
    problem: str | None = None  # why it could not be read whole; then `hash` is UNREADABLE

    @property
    def owner(self) -> str | None:
        """'plan:calendar' when plansync wrote it (see owner_of)."""
        return owner_of(self.uid, self.marker)

    @property
    def copy_of(self) -> str | None:
        """The UID of the plansync event this is a copy of: its markers, under another UID."""
        if self.marker is None or self.owner is not None:
            return None
        return event_uid(self.marker.plan_id, self.marker.event_key, self.marker.calendar_id)


# The content hash of an object whose owned fields cannot be read: equal to no real hash, so an object of
# plansync's own that became unreadable counts as changed by someone (the conflict policy applies).
UNREADABLE = "unreadable"


def parse(data: bytes) -> Parsed:
    """The UID, the marker and the owned fields of a resource. Anyone may write there: whatever icalendar
    or dateutil raise on (bad RRULEs, odd value types, extreme dates, broken encodings) gives an object
    known by the UID and markers its raw text shows, with the hash UNREADABLE and the problem named."""
    try:
        return _parse(data)
    except Exception as exc:  # any failure of a library on untrusted text
        uid, marker = _raw_identity(data)
        problem = f"{type(exc).__name__}: {str(exc)[:200]}"
        return Parsed(uid, marker, None, None, UNREADABLE if uid is not None else None, problem)


_UNFOLD_RE = re.compile(rb"\r?\n[ \t]")
_IDENTITY = ("UID", MARK_PLAN, MARK_EVENT, MARK_CALENDAR)


def _raw_identity(data: bytes) -> tuple[str | None, Marker | None]:
    """The UID and plansync's markers of the first VEVENT (not of an alarm inside it), read from the raw
    lines of a text icalendar could not read."""
    found: dict[str, str] = {}
    stack: list[str] = []
    for raw in _UNFOLD_RE.sub(b"", data[: 4 * 1024 * 1024]).splitlines():
        line = raw.decode("utf-8", "replace")
        name, _, value = line.partition(":")
        name = name.split(";", 1)[0].strip().upper()
        if name == "BEGIN":
            stack.append(value.strip().upper())
        elif name == "END":
            if stack and stack.pop() == "VEVENT":
                break
        elif stack and stack[-1] == "VEVENT" and name in _IDENTITY:
            found.setdefault(name, value.strip()[:300])
    uid = found.get("UID") or None
    marker = Marker(*(found[n] for n in _IDENTITY[1:])) if all(found.get(n) for n in _IDENTITY[1:]) else None
    return uid, marker


def _parse(data: bytes) -> Parsed:
    try:
        cal = icalendar.Calendar.from_ical(data)
    except Exception:
        uid, marker = _raw_identity(data)
        if uid is None:
            return Parsed(None, None, None, None, None, "not iCalendar")
        raise
    event = master(cal)
    if event is None:
        other = next((c for c in cal.subcomponents if "UID" in c), None)
        return Parsed(str(other["UID"]) if other is not None else None, None, None, None, None)
    fields = owned_fields(event)
    marker = None
    if all(m in event for m in (MARK_PLAN, MARK_EVENT, MARK_CALENDAR)):
        marker = Marker(str(event[MARK_PLAN]), str(event[MARK_EVENT]), str(event[MARK_CALENDAR]))
    recorded = str(event[MARK_HASH]) if MARK_HASH in event else None
    uid = str(event["UID"]) if "UID" in event else None
    return Parsed(uid, marker, recorded, fields, content_hash(fields))


def master(cal: icalendar.Calendar) -> icalendar.Event | None:
    for component in cal.walk("VEVENT"):
        if "RECURRENCE-ID" not in component:
            assert isinstance(component, icalendar.Event)
            return component
    return None


def owned_fields(vevent: icalendar.Event) -> dict[str, str]:
    """The fields plansync owns, as comparable text. Equal meaning gives equal text, whoever serialised it."""
    start = vevent.get("DTSTART")
    end = vevent.get("DTEND")
    return {
        "summary": _text(vevent.get("SUMMARY")),
        "description": _text(vevent.get("DESCRIPTION")),
        "start": _when(start),
        "end": _when(end) if end is not None else _implied_end(vevent),
        "rrule": _rrule(vevent.get("RRULE")),
        "transp": str(vevent.get("TRANSP", "OPAQUE")).upper(),
        "status": str(vevent.get("STATUS", "")).upper(),
        "categories": ",".join(_categories(vevent.get("CATEGORIES"))),
    }


def content_hash(fields: Mapping[str, str]) -> str:
    return hashlib.sha256(json.dumps(dict(fields), sort_keys=True, ensure_ascii=False).encode()).hexdigest()[
        :32
    ]


def _text(value: object) -> str:
    if value is None:
        return ""
    return str(value).replace("\r\n", "\n").strip()


def _when(prop: object) -> str:
    if prop is None:
        return ""
    value = getattr(prop, "dt", prop)
    params = getattr(prop, "params", {})
    if isinstance(value, dt.datetime):
        tzid = params.get("TZID") if params else None
        if tzid:
            # Resolve the TZID with zoneinfo, never with the VTIMEZONE the server sent back.
            with contextlib.suppress(zoneinfo.ZoneInfoNotFoundError, ValueError):
                value = value.replace(tzinfo=zoneinfo.ZoneInfo(str(tzid)))
        if value.tzinfo is None:
            return "floating " + value.isoformat()
        return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def _implied_end(vevent: icalendar.Event) -> str:
    start = vevent.get("DTSTART")
    duration = vevent.get("DURATION")
    if start is None:
        return ""
    value = start.dt
    if duration is not None:
        return _when(icalendar.vDDDTypes(value + duration.dt))
    if isinstance(value, dt.datetime):
        return _when(start)
    return str((value + dt.timedelta(days=1)).isoformat())


def _rrule(prop: object) -> str:
    if prop is None:
        return ""
    rules = prop if isinstance(prop, list) else [prop]
    parts: list[str] = []
    for rule in rules:
        assert isinstance(rule, icalendar.vRecur)
        for key in sorted(rule):
            values = rule[key]
            if key == "UNTIL":
                values = [_when(icalendar.vDDDTypes(v)) for v in values]
            parts.append(f"{key}=" + ",".join(str(v) for v in values))
    return ";".join(parts)


def _categories(prop: object) -> list[str]:
    if prop is None:
        return []
    props = prop if isinstance(prop, list) else [prop]
    out: list[str] = []
    for item in props:
        cats = getattr(item, "cats", None)
        if cats is None:
            out.append(str(item))
        else:
            out.extend(str(c) for c in cats)
    return out
