"""The one plan-event → VEVENT builder: each plan event as one VEVENT per organizer calendar, and the
bytes of calendars, feeds and attachments made of them.

Everything here is deterministic: the same plan gives the same UIDs, fields and hashes (identity,
readback). No ORGANIZER or ATTENDEE is ever written: servers would send invitations. How each kind of
date is placed is the table in docs/calendar.md (wording).
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from plansync.calendar.desired import Desired
from plansync.calendar.identity import (
    COMBINED,
    MARK_CALENDAR,
    MARK_EVENT,
    MARK_HASH,
    MARK_PLAN,
    event_uid,
    resource_name,
)
from plansync.calendar.readback import content_hash, owned_fields
from plansync.calendar.vtimezone import vtimezone
from plansync.calendar.wording import (
    date_kind,
    first_working_day,
    period_words,
    title_label,
    unit_end,
    when_words,
)
from plansync.model.plan import Event, Organization, Plan
from plansync.model.recurrence import first_occurrence
from plansync.util.lazy import lazy_import

if TYPE_CHECKING:
    import icalendar
else:
    # Loaded when first used: a run in which nothing changed renders and parses nothing.
    icalendar = lazy_import("icalendar")

PRODID = "-//plansync//plansync//RU"

DEFAULT_DURATION = dt.timedelta(hours=1)  # a time without an end time
DEADLINE_LABEL = "Срок"  # SUMMARY prefix and CATEGORY of a deadline «до D»


@dataclass(frozen=True)
class Rendering:
    """How periods appear; from config.sync."""

    long_span_policy: str = "span"  # span | start-marker | skip
    long_span_days: int = 31
    layout: str = "readable"  # readable | classic (spans for every period, invented series days)


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
        begins = f"{start:%d.%m.%Y}" if exact else period_words("open", r, start, start)
        notes.append(f"Начало: {'с ' if exact else ''}{begins}, окончание не указано")
        # A fuzzy start («с мая») is shown on the first working day of its month, quarter, ….
        end = start if exact or rendering.layout != "readable" else unit_end(start, r.start_precision)
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
            + f" (начало {period_words('open', r, start, start)}, дата уточняется)"
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
        title += f" ({title_label(kind, r, start, end)})"
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
    if event.contact:
        lines.append(f"Контакт: {event.contact}")
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
