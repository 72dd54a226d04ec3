"""Plan events as iCalendar, and the semantic view of what a server gives back.

Each plan event becomes one VEVENT per organizer calendar. Everything here is deterministic: the UID
comes from (plan id, event key, calendar id), and the content hash covers only the fields plansync owns,
normalised (no DTSTAMP, no PRODID, no property order, time zones resolved with zoneinfo), so that a
server re-serialising the event (Radicale through vobject, Xandikos through icalendar) does not look
like a change. No ORGANIZER or ATTENDEE is ever written: servers would send invitations.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import hashlib
import json
import re
import zoneinfo
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from plansync.calendar.desired import Desired
from plansync.model.plan import Event, Organization, Plan
from plansync.model.reading import Reading
from plansync.model.recurrence import first_occurrence
from plansync.util.lazy import lazy_import
from plansync.util.workdays import is_working_day

if TYPE_CHECKING:
    import icalendar
else:
    # Loaded when first used: a run in which nothing changed renders and parses nothing.
    icalendar = lazy_import("icalendar")

PRODID = "-//plansync//plansync//RU"
MARK_PLAN = "X-PLANSYNC-PLAN"
MARK_EVENT = "X-PLANSYNC-EVENT"
MARK_CALENDAR = "X-PLANSYNC-CALENDAR"
MARK_HASH = "X-PLANSYNC-HASH"
MARKS = (MARK_PLAN, MARK_EVENT, MARK_CALENDAR, MARK_HASH)
# What plansync owns in a VEVENT; an update replaces these and keeps everything else (alarms, X- props).
OWNED = ("SUMMARY", "DESCRIPTION", "DTSTART", "DTEND", "DURATION", "RRULE", "TRANSP", "STATUS", "CATEGORIES",
         *MARKS)  # fmt: skip
DEFAULT_DURATION = dt.timedelta(hours=1)  # a time without an end time
DEADLINE_LABEL = "Срок"  # SUMMARY prefix and CATEGORY of a deadline «до D»

# The calendar of the whole plan (each event once, all its organizers named); no organization id
# can be this, since ids are [a-z0-9-].
COMBINED = "_all"


@dataclass(frozen=True)
class Rendering:
    """How periods appear; from config.sync."""

    long_span_policy: str = "span"  # span | start-marker | skip
    long_span_days: int = 31
    layout: str = "readable"  # readable | classic (spans for every period, invented series days)


@dataclass(frozen=True)
class Marker:
    plan_id: str
    event_key: str
    calendar_id: str


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


# -- identities ---------------------------------------------------------------------------------------


def event_uid(plan_id: str, event_key: str, calendar_id: str) -> str:
    """Ids are [a-z0-9-] (planfile checks), so '.' separates them without ambiguity. One UID per
    calendar: some servers (Cyrus) want UIDs unique across all calendars of a user."""
    return f"{plan_id}.{event_key}.{calendar_id}@plansync"


def split_uid(uid: str) -> tuple[str, str, str] | None:
    """(plan id, event key, calendar id) of a UID made by `event_uid`; None for any other UID."""
    head, at, tail = uid.partition("@")
    parts = head.split(".")
    if at != "@" or tail != "plansync" or len(parts) != 3:
        return None
    return parts[0], parts[1], parts[2]


def owner_of(uid: str | None, marker: Marker | None) -> str | None:
    """'plan:calendar' of an object plansync wrote: it carries plansync's markers AND the UID plansync
    derives from them. A calendar app that duplicates an event keeps the markers under a new UID: that
    copy is a person's, never plansync's to update or delete."""
    if marker is None or uid != event_uid(marker.plan_id, marker.event_key, marker.calendar_id):
        return None
    return f"{marker.plan_id}:{marker.calendar_id}"


def owns(uid: str | None, owner: str | None) -> bool:
    """Whether a listed object with this UID and recorded owner ('plan:calendar') is plansync's."""
    parts = split_uid(uid) if uid is not None else None
    return parts is not None and owner == f"{parts[0]}:{parts[2]}"


def resource_name(uid: str) -> str:
    return uid.replace("@", ".") + ".ics"


# -- plan → iCalendar ---------------------------------------------------------------------------------


def events_of(plan: Plan, calendar_id: str) -> tuple[Event, ...]:
    """The plan's events in one calendar: an organizer's, or all of them in the combined one."""
    return plan.events if calendar_id == COMBINED else plan.events_of(calendar_id)


def desired_events(
    plan: Plan,
    calendar_id: str,
    rendering: Rendering = Rendering(),
    *,
    stamp: dt.datetime | None = None,
    keys: Collection[str] | None = None,
) -> dict[str, Desired]:
    """The events of one organizer's calendar, by UID. Events the long-span policy skips are absent.
    With `keys`, only the events with those keys (rendering costs milliseconds an event)."""
    out: dict[str, Desired] = {}
    zone = vtimezone(plan.timezone, plan.year, plan.year)
    stamp = stamp or dt.datetime.now(dt.UTC).replace(microsecond=0)  # the same when built again
    for event in events_of(plan, calendar_id):
        if keys is not None and event.key not in keys:
            continue
        vevent = build_vevent(plan, event, calendar_id, rendering, stamp=stamp)
        if vevent is None:
            continue
        uid = str(vevent["UID"])
        # The owned fields read from the built event are those a reader of its bytes gets (a test holds
        # this parity over every date kind); reading them back from the bytes cost half the rendering.
        fields = owned_fields(vevent)
        digest = content_hash(fields)
        out[uid] = Desired(
            uid=uid,
            name=resource_name(uid),
            label=f"{event.key} «{_short(event.title)}»",
            hash=digest,
            fields=fields,
            content=_Serializer(plan, event, calendar_id, rendering, stamp, zone, digest),
        )
    return out


@dataclass(frozen=True)
class _Serializer:
    """The bytes of one event, made when it is written: serialising is two thirds of rendering, and
    holding a built event until then would cost kilobytes each. Building it again from the same
    immutable inputs gives the same event (DTSTAMP is pinned)."""

    plan: Plan
    event: Event
    calendar_id: str
    rendering: Rendering
    stamp: dt.datetime
    zone: icalendar.Timezone  # shared by the calendar's events; serialising only reads it
    digest: str

    def __call__(self) -> bytes:
        vevent = build_vevent(self.plan, self.event, self.calendar_id, self.rendering, stamp=self.stamp)
        assert vevent is not None  # it was built once already, from the same inputs
        cal = _calendar([self.zone] if _is_timed(vevent) else [], vevent)
        return _with_hash(cal.to_ical(), self.digest)


def calendar_bytes(
    events: Iterable[tuple[Plan, Event, str]],
    rendering: Rendering = Rendering(),
    *,
    stamp: dt.datetime,
    method: str | None = None,
) -> bytes | None:
    """One VCALENDAR holding the VEVENTs of (plan, event, calendar id), each as the synced calendar of
    that id has it (same UID: importing it updates the synced copy instead of duplicating it), with one
    VTIMEZONE per zone used; None when no event has a VEVENT (long-span policy)."""
    vevents: list[icalendar.Event] = []
    zones: dict[str, icalendar.Timezone] = {}
    for plan, event, calendar_id in events:
        vevent = build_vevent(plan, event, calendar_id, rendering, stamp=stamp)
        if vevent is None:
            continue
        vevents.append(vevent)
        if _is_timed(vevent) and plan.timezone not in zones:
            zones[plan.timezone] = vtimezone(plan.timezone, plan.year, plan.year)
    if not vevents:
        return None
    cal = _calendar(zones.values(), *vevents)
    if method is not None:
        cal.add("METHOD", method)
    data: bytes = cal.to_ical()
    return data


def vevent_chunks(
    plan: Plan,
    event: Event,
    calendar_ids: Collection[str],
    rendering: Rendering = Rendering(),
    *,
    stamp: dt.datetime,
) -> dict[str, bytes]:
    """The serialized VEVENT of `event` as each calendar in `calendar_ids` has it (exactly what
    `build_vevent` gives for that calendar), by calendar id; empty when the long-span policy skips it.
    Built and serialized once: the copies differ only in their UID and calendar mark, so those two lines
    are swapped (serializing is two thirds of rendering, and feeds carry an event once per organizer)."""
    ids = list(calendar_ids)
    if not ids:
        return {}
    first = ids[0]
    vevent = build_vevent(plan, event, first, rendering, stamp=stamp)
    if vevent is None:
        return {}
    body = serialize(vevent)
    out = {first: body}
    old = _identity_lines(plan.id, event.key, first)
    for calendar_id in ids[1:]:
        new = _identity_lines(plan.id, event.key, calendar_id)
        copy = body
        for before, after in zip(old, new, strict=True):
            assert copy.count(before) == 1  # a whole content line: it cannot occur anywhere else
            copy = copy.replace(before, after)
        out[calendar_id] = copy
    return out


def serialize(component: icalendar.cal.Component) -> bytes:
    """`component.to_ical()`, byte for byte, with the lines folded by `fold` (icalendar folds in a loop
    over characters: a third of the cost of serializing an event)."""
    return b"\r\n".join(fold(line.encode()) for line in component.content_lines() if line) + b"\r\n"


def fold(line: bytes) -> bytes:
    """RFC 5545 folding exactly as icalendar does it: pieces of at most 74 octets, never inside a
    UTF-8 sequence, and a trailing backslash or caret carried over to the next piece."""
    if len(line) < 75:
        return line
    pieces = []
    start, size = 0, len(line)
    while size - start > 74:
        cut = start + 74
        while line[cut] & 0xC0 == 0x80:  # a UTF-8 continuation byte: the character does not fit
            cut -= 1
        if line[cut - 1] in b"\\^":
            cut -= 1
        pieces.append(line[start:cut])
        start = cut
    pieces.append(line[start:])
    return b"\r\n ".join(pieces)


def _identity_lines(plan_id: str, event_key: str, calendar_id: str) -> tuple[bytes, bytes]:
    """The UID and calendar-mark content lines, serialized (and folded) as in a whole VEVENT."""
    none = icalendar.Parameters()
    uid = icalendar.vText(event_uid(plan_id, event_key, calendar_id))
    mark = icalendar.vText(calendar_id)
    lines = (
        fold(icalendar.parser.Contentline.from_parts("UID", none, uid).encode()),
        fold(icalendar.parser.Contentline.from_parts(MARK_CALENDAR, none, mark).encode()),
    )
    first, second = (b"\r\n" + line + b"\r\n" for line in lines)
    return first, second


def calendar_of_chunks(
    zones: Iterable[icalendar.Timezone], chunks: Iterable[bytes], *, name: str | None = None
) -> bytes:
    """One VCALENDAR (METHOD:PUBLISH, for subscribing) of serialized VEVENTs from `vevent_chunks`, with
    the given VTIMEZONEs; `name` becomes X-WR-CALNAME, the name subscribing apps show."""
    head = _calendar(zones)
    head.add("METHOD", "PUBLISH")
    if name:
        head.add("X-WR-CALNAME", name)
    opening: bytes = head.to_ical()
    end = b"END:VCALENDAR\r\n"
    assert opening.endswith(end)
    return b"".join((opening[: -len(end)], *chunks, end))


def _with_hash(body: bytes, digest: str) -> bytes:
    """Add the hash marker to serialized bytes: serializing the whole calendar a second time just for
    one short line was a third of the rendering time (icalendar folds every line in Python)."""
    end = body.rindex(b"END:VEVENT\r\n")
    return body[:end] + f"{MARK_HASH}:{digest}\r\n".encode("ascii") + body[end:]


def build_vevent(
    plan: Plan,
    event: Event,
    calendar_id: str,
    rendering: Rendering = Rendering(),
    *,
    stamp: dt.datetime | None = None,
) -> icalendar.Event | None:
    """One VEVENT, or None when the long-span policy says to skip it. The rules, per kind of date, are
    the table in docs/calendar.md."""
    r = event.reading
    tz = zoneinfo.ZoneInfo(plan.timezone)
    kind = date_kind(r)
    notes: list[str] = []
    title = " ".join(event.title.split())  # a title is one line in every calendar app
    start, end = r.start, r.end
    if start is None and end is None:
        return None  # an undated event (`date_known: false`): nothing to place in a calendar
    # A deadline «до D» is not a meeting: named as one, shown as free time, filed under «Срок».
    is_deadline = r.deadline or start is None
    if start is None:
        assert end is not None
        notes.append(f"Срок: до {end:%d.%m.%Y}")
        start = end
        title = f"{DEADLINE_LABEL}: {title}"
    elif end is None:
        exact = r.start_precision == "day"
        begins = f"{start:%d.%m.%Y}" if exact else _period_words("open", r, start, start)
        notes.append(f"Начало: {'с ' if exact else ''}{begins}, окончание не указано")
        # A fuzzy start («с мая») is shown on the first working day of its month, quarter, ….
        end = start if exact or rendering.layout != "readable" else _unit_end(start, r.start_precision)
        title += " (начало)"
    span = (end - start).days + 1
    fuzzy = kind not in ("day", "days", "deadline", "open", "series") or (
        kind == "open" and r.start_precision != "day"
    )
    readable = rendering.layout == "readable"

    vevent = icalendar.Event()
    vevent.add("UID", event_uid(plan.id, event.key, calendar_id))
    vevent.add("DTSTAMP", stamp or dt.datetime.now(dt.UTC).replace(microsecond=0))

    if r.rrule and (kind == "series" or not readable):
        first = _first_occurrence(r.rrule, start, end)
        if r.time is not None:
            begin = dt.datetime.combine(first, r.time, tzinfo=tz)
            vevent.add("DTSTART", begin)
            vevent.add("DTEND", _timed_end(begin, r.end_time, tz))
            until: dt.date | dt.datetime = dt.datetime.combine(
                end, dt.time(23, 59, 59), tzinfo=tz
            ).astimezone(dt.UTC)
        else:
            vevent.add("DTSTART", first)
            vevent.add("DTEND", first + dt.timedelta(days=1))
            until = end
        rule = icalendar.vRecur.from_ical(r.rrule)
        if "COUNT" not in rule:
            rule["UNTIL"] = [until]
        vevent.add("RRULE", rule)
    elif readable and fuzzy and kind == "open":
        day = first_working_day(start, end)
        vevent.add("DTSTART", day)
        vevent.add("DTEND", day + dt.timedelta(days=1))
        title = (
            title.removesuffix(" (начало)")
            + f" (начало {_period_words('open', r, start, start)}, дата уточняется)"
        )
    elif readable and fuzzy:
        # The plan gives no day: one item, on a day the plan does give if any, else on the first working
        # day of the period, with the period in its title (a span would sit on every day of it).
        if r.end_precision == "day" and r.start_precision != "day":
            day = end
        elif r.start_precision == "day":
            day = start
        else:
            day = first_working_day(start, end)
            notes.append(
                f"В календаре показано в первый рабочий день периода ({day:%d.%m.%Y}); "
                "это не дата мероприятия."
            )
        vevent.add("DTSTART", day)
        vevent.add("DTEND", day + dt.timedelta(days=1))
        title += f" ({_title_label(kind, r, start, end)})"
    elif span > rendering.long_span_days:
        if rendering.long_span_policy == "skip":
            return None
        vevent.add("DTSTART", start)
        if rendering.long_span_policy == "start-marker":
            vevent.add("DTEND", start + dt.timedelta(days=1))
            notes.append(f"Период: с {start:%d.%m.%Y} по {end:%d.%m.%Y}; в календаре отмечено начало")
        else:
            vevent.add("DTEND", end + dt.timedelta(days=1))
    elif r.time is not None and span == 1:
        begin = dt.datetime.combine(start, r.time, tzinfo=tz)
        vevent.add("DTSTART", begin)
        vevent.add("DTEND", _timed_end(begin, r.end_time, tz))
    else:
        vevent.add("DTSTART", start)
        vevent.add("DTEND", end + dt.timedelta(days=1))
        if r.time is not None:
            notes.append(f"Время: {r.time:%H:%M}" + (f"–{r.end_time:%H:%M}" if r.end_time else ""))

    vevent.add("SUMMARY", title)
    if fuzzy or span > rendering.long_span_days:
        # Shown as free time and tentative: the plan gives only a period, not the day.
        vevent.add("TRANSP", "TRANSPARENT")
        vevent.add("STATUS", "TENTATIVE")
    if is_deadline and not fuzzy:
        vevent.add("TRANSP", "TRANSPARENT")  # a deadline is not a meeting: free time
    categories = ([DEADLINE_LABEL] if is_deadline else []) + ([event.form] if event.form else [])
    if categories:
        vevent.add("CATEGORIES", categories)
    vevent.add("DESCRIPTION", _description(plan, event, when_words(r), notes))
    vevent.add(MARK_PLAN, plan.id)
    vevent.add(MARK_EVENT, event.key)
    vevent.add(MARK_CALENDAR, calendar_id)
    return vevent


# -- kinds of dates -----------------------------------------------------------------------------------

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
    named = parts - {"FREQ", "INTERVAL", "COUNT", "UNTIL", "WKST"}
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


def _unit_end(start: dt.date, precision: str | None) -> dt.date:
    """The last day of the month, quarter, half-year or year that begins on `start`."""
    months = {"month": 1, "quarter": 3, "half": 6}.get(precision or "", 12)
    year, month = divmod(start.month - 1 + months, 12)
    return dt.date(start.year + year, month + 1, 1) - dt.timedelta(days=1)


def _series_words(rrule: str) -> str:
    from plansync.wording import russian  # (Babel: not loaded by a run that renders nothing)

    return russian.frequency(rrule) or "повторяется"


def _period_words(kind: DateKind, r: Reading, start: dt.date, end: dt.date) -> str:
    from plansync.wording import russian  # (Babel: not loaded by a run that renders nothing)

    if kind == "open":
        return russian.within(start, r.start_precision)
    if kind == "year":
        return f"в течение {start.year} года"
    if kind in ("month", "quarter", "half"):
        return russian.within(start, r.start_precision)
    return russian.span(start, r.start_precision, end, r.end_precision)


def _title_label(kind: DateKind, r: Reading, start: dt.date, end: dt.date) -> str:
    """What stands in the title instead of a day: «в мае, дата уточняется», «с февраля по ноябрь»."""
    words = _period_words(kind if kind != "vague-series" else _period_kind(r), r, start, end)
    if kind == "vague-series":
        assert r.rrule is not None
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
        period = _period_words(_period_kind(r), r, r.start, r.end)
        if kind == "series":
            return f"Повторяется {period}." if r.start_precision != "day" else None
        return (
            f"Повторяется {_series_words(r.rrule)} {period}; дни повторений в плане не указаны, "
            "уточняйте у организаторов."
        )
    scope = {
        "month": "в течение месяца",
        "quarter": "в течение квартала",
        "half": "в течение полугодия",
        "year": "в течение года",
        "months": "в течение нескольких месяцев",
    }.get(kind)
    period = _period_words(kind, r, r.start, r.end)
    if scope is None:  # one end exact, the other a month or more
        return f"Сроки по плану: {period}; точные дни уточняйте у организаторов."
    detail = f" ({period})" if kind != "year" else ""
    return f"Сроки ориентировочные: {scope}{detail}; точную дату уточняйте у организаторов."


def _timed_end(begin: dt.datetime, end_time: dt.time | None, tz: dt.tzinfo) -> dt.datetime:
    if end_time is not None and end_time > begin.time():
        return dt.datetime.combine(begin.date(), end_time, tzinfo=tz)
    return begin + DEFAULT_DURATION


def _first_occurrence(rrule: str, start: dt.date, end: dt.date) -> dt.date:
    """DTSTART must be an occurrence (RFC 5545 3.8.5.3), e.g. the first Tuesday of the period."""
    return first_occurrence(rrule, start, end) or start


def _description(plan: Plan, event: Event, when: str | None, notes: list[str]) -> str:
    lines: list[str] = []
    if when:
        lines.append(when)
    if event.form:
        lines.append(f"Форма: {event.form}")
    lines.append(f"Дата по плану: {event.date_text}")
    lines.extend(notes)
    if event.reading.note:
        lines.append(f"Примечание к дате: {event.reading.note}")
    if event.notes:
        lines.append(event.notes)
    lines.append("Организаторы:")
    for org_id in event.organizers:
        lines.append("— " + _organizer_line(plan, org_id))
    lines.append(f"{plan.title}")
    return "\n".join(lines)


def _organizer_line(plan: Plan, org_id: str) -> str:
    try:
        org: Organization = plan.organization(org_id)
    except KeyError:
        return org_id
    contacts = [f"тел. {', '.join(org.contacts.phones)}"] if org.contacts.phones else []
    if org.contacts.emails:
        contacts.append(f"e-mail {', '.join(org.contacts.emails)}")
    return org.name + (f" ({'; '.join(contacts)})" if contacts else "")


def _short(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _is_timed(vevent: icalendar.Event) -> bool:
    value = getattr(vevent["DTSTART"], "dt", None)
    return isinstance(value, dt.datetime) and value.tzinfo is not None


def _calendar(zones: Iterable[icalendar.Timezone], *events: icalendar.Event) -> icalendar.Calendar:
    cal = icalendar.Calendar()
    cal.add("PRODID", PRODID)
    cal.add("VERSION", "2.0")
    cal.add("CALSCALE", "GREGORIAN")
    for zone in zones:
        cal.add_component(zone)
    for event in events:
        cal.add_component(event)
    return cal


# -- the minimal VTIMEZONE ----------------------------------------------------------------------------


def vtimezone(tzid: str, first_year: int, last_year: int) -> icalendar.Timezone:
    """A VTIMEZONE that is right for the given years: one sub-component per transition, no RDATE lists
    (Radicale truncates those, and icalendar's from_tzid() gives Europe/Kaliningrad exactly that form)."""
    zone = zoneinfo.ZoneInfo(tzid)
    begin = dt.datetime(first_year - 1, 1, 1, tzinfo=dt.UTC)
    stop = dt.datetime(last_year + 2, 1, 1, tzinfo=dt.UTC)
    tz = icalendar.Timezone()
    tz.add("TZID", tzid)
    offset = _offset(zone, begin)
    tz.add_component(_zone_part(zone, begin, dt.datetime(1970, 1, 1), offset, offset))
    moment = begin
    while moment < stop:
        following = moment + dt.timedelta(days=1)
        new = _offset(zone, following)
        if new != offset:
            change = _bisect(zone, moment, following, offset)
            local = (change + offset).replace(tzinfo=None)  # DTSTART is in the offset before the change
            tz.add_component(_zone_part(zone, change, local, offset, new))
            offset = new
        moment = following
    return tz


def _offset(zone: zoneinfo.ZoneInfo, moment: dt.datetime) -> dt.timedelta:
    value = moment.astimezone(zone).utcoffset()
    assert value is not None
    return value


def _bisect(
    zone: zoneinfo.ZoneInfo, low: dt.datetime, high: dt.datetime, before: dt.timedelta
) -> dt.datetime:
    """The first second (UTC) at which the offset is no longer `before`."""
    while high - low > dt.timedelta(seconds=1):
        middle = low + (high - low) / 2
        middle = middle.replace(microsecond=0)
        if _offset(zone, middle) == before:
            low = middle
        else:
            high = middle
    return high


def _zone_part(
    zone: zoneinfo.ZoneInfo,
    moment: dt.datetime,
    local: dt.datetime,
    before: dt.timedelta,
    after: dt.timedelta,
) -> icalendar.TimezoneStandard | icalendar.TimezoneDaylight:
    at = moment.astimezone(zone)
    part: icalendar.TimezoneStandard | icalendar.TimezoneDaylight
    part = icalendar.TimezoneDaylight() if at.dst() else icalendar.TimezoneStandard()
    part.add("DTSTART", local)
    part.add("TZOFFSETFROM", before)
    part.add("TZOFFSETTO", after)
    part.add("TZNAME", at.tzname() or zone.key)
    return part


# -- what the server has ------------------------------------------------------------------------------


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
    master = _master(cal)
    if master is None:
        other = next((c for c in cal.subcomponents if "UID" in c), None)
        return Parsed(str(other["UID"]) if other is not None else None, None, None, None, None)
    fields = owned_fields(master)
    marker = None
    if all(m in master for m in (MARK_PLAN, MARK_EVENT, MARK_CALENDAR)):
        marker = Marker(str(master[MARK_PLAN]), str(master[MARK_EVENT]), str(master[MARK_CALENDAR]))
    recorded = str(master[MARK_HASH]) if MARK_HASH in master else None
    uid = str(master["UID"]) if "UID" in master else None
    return Parsed(uid, marker, recorded, fields, content_hash(fields))


def _master(cal: icalendar.Calendar) -> icalendar.Event | None:
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


def _integer(value: object) -> int:
    try:
        return max(0, int(str(value))) if value is not None else 0
    except ValueError:
        return 0


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


# -- updates keep what others added -------------------------------------------------------------------


def merge(server: bytes, desired: bytes) -> bytes:
    """The server's copy with plansync's fields replaced by the desired ones; alarms, X- properties of
    other clients, SEQUENCE and the rest stay (todoman's `serialize(original)`). A copy that cannot be
    read or written back whole is replaced by the desired event."""
    try:
        return _merge(server, desired)
    except Exception:  # any failure of a library on untrusted text
        return desired


def _merge(server: bytes, desired: bytes) -> bytes:
    try:
        theirs = icalendar.Calendar.from_ical(server)
    except Exception:
        return desired
    ours = icalendar.Calendar.from_ical(desired)
    target = _master(theirs)
    source = _master(ours)
    if target is None or source is None or str(target.get("UID")) != str(source.get("UID")):
        return desired
    changed = owned_fields(target) != owned_fields(source)
    for name in OWNED:
        target.pop(name, None)
    for name in OWNED:
        if name in source:
            target[name] = source[name]
    target.pop("DTSTAMP", None)
    target["DTSTAMP"] = source["DTSTAMP"]
    if changed:
        # A new revision (RFC 5545 3.8.7.4, 3.8.7.3): clients tell an update from a stale copy by these.
        sequence = _integer(target.get("SEQUENCE"))
        target.pop("SEQUENCE", None)
        target.add("SEQUENCE", sequence + 1)
        target.pop("LAST-MODIFIED", None)
        target.add("LAST-MODIFIED", dt.datetime.now(dt.UTC).replace(microsecond=0))
    if "RRULE" not in target:
        # No longer a series: its exceptions and moved occurrences would describe days that are not there.
        for name in ("EXDATE", "RDATE"):
            target.pop(name, None)
        theirs.subcomponents = [
            c for c in theirs.subcomponents if not (c.name == "VEVENT" and "RECURRENCE-ID" in c)
        ]
    # Our VTIMEZONE replaces the server's copy of it (Radicale truncates the RDATE lists of some).
    our_zones = {str(z["TZID"]): z for z in ours.walk("VTIMEZONE")}
    kept = [
        c for c in theirs.subcomponents if not (c.name == "VTIMEZONE" and str(c.get("TZID")) in our_zones)
    ]
    theirs.subcomponents = [*our_zones.values(), *kept]
    result: bytes = theirs.to_ical()
    return result
