"""The agenda's content, as plain values for the template: events by month, their dates in Russian words,
organizers with contacts, and the filters (one page per organizer and per form). Pure."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from plansync.model.plan import Event, Plan
from plansync.model.reading import Reading
from plansync.wording import russian

LONG_SECTION = "long"


@dataclass(frozen=True)
class OrganizerLink:
    id: str
    short_name: str
    name: str


@dataclass(frozen=True)
class Row:
    anchor: str
    plan_date: str  # the date as the plan says it
    read_date: str  # as plansync reads it, in words
    iso_start: str | None  # for <time datetime>
    form: str
    title: str
    organizers: tuple[OrganizerLink, ...]
    notes: tuple[str, ...]
    contact: str = ""  # whom to ask, as the plan names them


@dataclass(frozen=True)
class Month:
    id: str  # the anchor, e.g. m-2024-05
    label: str  # «Май 2024»
    events: tuple[Event, ...]


@dataclass(frozen=True)
class Organizer:
    id: str
    name: str
    short_name: str
    phones: tuple[str, ...]
    emails: tuple[str, ...]
    events: int


@dataclass(frozen=True)
class Filter:
    label: str
    page: str  # file name of its page
    events: int


def when_words(r: Reading) -> str:
    """The period as read: «20 мая 2024 г., пн, 14:00», «во II квартале», «до 20 ноября 2024 г.»."""
    if not r.dated:  # `date_known: false`: the plan gives no date yet
        return "дата уточняется"
    if r.start is None:
        assert r.end is not None
        text = f"{russian.deadline(r.end)} {r.end.year} г."
    elif r.end is None:
        text = f"с {russian.boundary_genitive(r.start, r.start_precision)} {r.start.year} г."
    elif r.start == r.end:
        text = f"{russian.day(r.start, year=True)}, {russian.weekday_short(r.start)}"
    elif r.start_precision == r.end_precision and r.start_precision != "day" and _one_unit(r):
        text = russian.within(r.start, r.start_precision)
        if r.start_precision != "year":
            text += f" {r.start.year} г."
    else:
        text = russian.span(r.start, r.start_precision, r.end, r.end_precision)
        if r.start.year == r.end.year and not text.endswith(" г."):
            text += f" {r.end.year} г."
    if r.rrule:
        text += f", {russian.rule_words(r.rrule)}"
    if r.time is not None:
        text += f", {russian.times(r.time, r.end_time)}"
    return text


def _one_unit(r: Reading) -> bool:
    """Does [start, end] cover exactly one month / quarter / half / year?"""
    assert r.start is not None and r.end is not None
    size = {"month": 1, "quarter": 3, "half": 6, "year": 12}.get(r.start_precision or "", 0)
    if size == 0 or r.start.year != r.end.year:
        return False
    return (r.start.month - 1) // size == (r.end.month - 1) // size


def section_of(r: Reading) -> str:
    """The month an event is listed in (m-YYYY-MM), or the section of long and undated ones."""
    if not r.dated:
        return LONG_SECTION
    if r.start is not None and r.end is not None:
        if (r.start.year, r.start.month) != (r.end.year, r.end.month) or r.rrule:
            return LONG_SECTION
        if r.start_precision not in ("day", "month"):
            return LONG_SECTION
    day = r.start or r.end
    assert day is not None
    return f"m-{day.year:04d}-{day.month:02d}"


def _order(r: Reading) -> tuple[dt.date, dt.time]:
    return (r.start or r.end or dt.date.min, r.time or dt.time.min)


def form_page(form: str) -> str:
    """A stable file name for a form's page (forms are free Russian text)."""
    return f"form-{hashlib.sha1(form.casefold().encode()).hexdigest()[:10]}.html"


def organizer_page(org_id: str) -> str:
    return f"org-{org_id}.html"


def row_of(plan: Plan, event: Event) -> Row:
    organizers = []
    for org_id in event.organizers:
        try:
            org = plan.organization(org_id)
            organizers.append(OrganizerLink(org.id, org.short_name, org.name))
        except KeyError:
            organizers.append(OrganizerLink(org_id, org_id, org_id))
    r = event.reading
    first = r.start or r.end
    return Row(
        anchor=f"e-{plan.id}-{event.key}",
        plan_date=event.date_text,
        read_date=when_words(r),
        iso_start=first.isoformat() if first is not None else None,
        form=event.form or "",
        title=" ".join(event.title.split()),
        organizers=tuple(organizers),
        notes=tuple(n for n in (r.note, event.notes) if n),
        contact=event.contact or "",
    )


def sections(entries: Iterable[tuple[Plan, Event]]) -> tuple[tuple[Event, ...], tuple[Month, ...]]:
    """(long and undated events, the months with their events), each in date order."""
    long: list[tuple[tuple[dt.date, dt.time], int, Event]] = []
    by_month: dict[str, list[tuple[tuple[dt.date, dt.time], int, Event]]] = {}
    for n, (_, event) in enumerate(entries):
        item = (_order(event.reading), n, event)
        section = section_of(event.reading)
        (long if section == LONG_SECTION else by_month.setdefault(section, [])).append(item)
    out = []
    for section in sorted(by_month):
        year, month = int(section[2:6]), int(section[7:9])
        label = f"{russian.month_nominative(month).capitalize()} {year}"
        out.append(Month(section, label, tuple(e for *_, e in sorted(by_month[section], key=_key))))
    return tuple(e for *_, e in sorted(long, key=_key)), tuple(out)


def _key(item: tuple[tuple[dt.date, dt.time], int, Event]) -> tuple[tuple[dt.date, dt.time], int]:
    return item[0], item[1]


def organizers(plans: Sequence[Plan]) -> tuple[Organizer, ...]:
    """Every organizer with events, once, in the plans' order."""
    seen: dict[str, Organizer] = {}
    counts: dict[str, int] = {}
    for plan in plans:
        for event in plan.events:
            for org_id in event.organizers:
                counts[org_id] = counts.get(org_id, 0) + 1
        for org in plan.organizations:
            if org.id not in seen:
                seen[org.id] = Organizer(
                    org.id, org.name, org.short_name, org.contacts.phones, org.contacts.emails, 0
                )
    return tuple(
        Organizer(o.id, o.name, o.short_name, o.phones, o.emails, counts[o.id])
        for o in seen.values()
        if counts.get(o.id)
    )


def forms(plans: Sequence[Plan]) -> tuple[Filter, ...]:
    """One filter per form, spellings that differ only in case together (they share a page)."""
    counts: dict[str, int] = {}
    spelling: dict[str, str] = {}
    for plan in plans:
        for event in plan.events:
            if event.form:
                key = event.form.casefold()
                spelling.setdefault(key, event.form)
                counts[key] = counts.get(key, 0) + 1
    return tuple(Filter(spelling[k], form_page(spelling[k]), counts[k]) for k in sorted(counts))
