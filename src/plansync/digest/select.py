"""What goes into each weekly digest: pure selection from plain data, no I/O and no clock.

Rules (the *period* is Monday–Sunday, inclusive; "the first digest of a month" is the one whose
period contains the 1st of that month, so nothing of a month is announced after it has begun):

- An event with exact days (both ends day-precise) of at most LONG_DAYS days is listed in every
  digest it overlaps. A longer one is a *span* (below).
- A deadline «до D» is listed when D is in the period.
- An event whose date is one fuzzy unit (a month, quarter or half year: «май», «III квартал») is
  listed once, «дата уточняется», in the first digest of that unit.
- A span (months apart, «февраль–ноябрь», «январь - 31 октября», «в течение года», an open start
  «с 3 ноября») is listed when it starts and when it ends: a day-precise boundary in the week that
  holds it, a fuzzy one in the first digest of its month. This covers the year-round activities:
  they appear in January and December, not every week.
- A recurring event (rrule) is listed, in addition, when it recurs: a daily or weekly one would be
  noise every week, so it is mentioned once a month, in the first digest of the month; a monthly or
  rarer one with a fuzzy anchor («январь–декабрь, ежеквартально») in the first digest of each month
  it recurs in (January, April, July, October); one anchored on an exact day in the week of each
  occurrence.
- One entry per event and digest: the most precise reason wins (a day, then a deadline, a start, an
  end, a recurrence, an undated month).
- Own entries: those with a day in the period first, by day and time, then the others by the month
  they concern and plan order. Other organizers' entries (optional) are only those with a day in
  the period: the week's events elsewhere, not their long-term noise.
- A digest with no own entries is empty (the caller decides whether to send it); organizations
  without e-mail get no digest and are listed in `Selection.without_email`.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from plansync.model.plan import Event, Organization, Plan
from plansync.model.recurrence import occurrences
from plansync.wording import russian

__all__ = [
    "Digest",
    "Item",
    "ItemView",
    "Period",
    "Selection",
    "digest_period",
    "select",
    "today_in",
    "view",
]

LONG_DAYS = 14  # an exact range longer than this is announced when it starts and ends, not weekly
FREQUENT = ("DAILY", "WEEKLY", "HOURLY", "MINUTELY", "SECONDLY")

ItemKind = Literal["day", "deadline", "starts", "ends", "recurs", "undated"]
_PRIORITY: dict[str, int] = {"day": 0, "deadline": 1, "starts": 2, "ends": 3, "recurs": 4, "undated": 5}


@dataclass(frozen=True, order=True)
class Period:
    start: dt.date
    end: dt.date  # inclusive

    def __contains__(self, day: object) -> bool:
        return isinstance(day, dt.date) and self.start <= day <= self.end

    @property
    def key(self) -> str:
        """The ledger's and the Message-ID's name of the period."""
        return f"{self.start.isoformat()}..{self.end.isoformat()}"

    def opens(self, day: dt.date) -> bool:
        """Is this the first digest of `day`'s month (the one holding its 1st)?"""
        return day.replace(day=1) in self


def digest_period(as_of: dt.date, days: int = 7) -> Period:
    """The digest sent on day `as_of`: `days` days from the first Monday on or after it."""
    start = as_of + dt.timedelta(days=(7 - as_of.weekday()) % 7)
    return Period(start, start + dt.timedelta(days=days - 1))


def today_in(timezone: str, now: dt.datetime) -> dt.date:
    """Today's date in the plan's time zone; `now` must be aware."""
    return now.astimezone(zoneinfo.ZoneInfo(timezone)).date()


@dataclass(frozen=True)
class Item:
    plan: Plan
    event: Event
    kind: ItemKind
    day: dt.date | None  # the day in the period it concerns; None when that is not known exactly
    anchor: dt.date  # the day or the month it concerns, for sorting
    order: int  # position in the plans, for a stable order

    @property
    def exact(self) -> bool:
        return self.day is not None


@dataclass(frozen=True)
class Digest:
    organization: Organization
    period: Period
    items: tuple[Item, ...]
    others: tuple[Item, ...]

    @property
    def recipients(self) -> tuple[str, ...]:
        return self.organization.contacts.emails

    @property
    def empty(self) -> bool:
        """Others' events alone do not make a mail worth sending."""
        return not self.items


@dataclass(frozen=True)
class Selection:
    period: Period
    digests: tuple[Digest, ...]  # one per organization with e-mail, empty ones included
    without_email: tuple[tuple[Organization, int], ...]  # and how many entries they would have had


# -- the rules ------------------------------------------------------------------------------------------


def _rule(rrule: str) -> dict[str, str]:
    parts = (p.split("=", 1) for p in rrule.split(";") if "=" in p)
    return {k.upper(): v.upper() for k, v in parts}


def _month_starts(period: Period) -> list[dt.date]:
    """The 1sts of months inside the period: the months this digest is the first of."""
    return [
        d
        for d in (period.start + dt.timedelta(days=i) for i in range((period.end - period.start).days + 1))
        if d.day == 1
    ]


def _exact_occurrences(event: Event, period: Period) -> list[dt.date]:
    """Occurrences of a rule anchored on an exact day that fall in the period."""
    r = event.reading
    assert r.start is not None and r.rrule
    days = occurrences(r.rrule, r.start, min(period.end, r.end or period.end))
    return [d for d in days if d >= period.start]


def _recurrence(event: Event, period: Period) -> tuple[dt.date | None, dt.date] | None:
    """(day, anchor) of the event's recurrence in this period, or None."""
    r = event.reading
    if not r.rrule or r.start is None:
        return None
    end = r.end or dt.date.max
    rule = _rule(r.rrule)
    freq = rule.get("FREQ", "")
    if r.start_precision == "day" and freq not in FREQUENT:
        days = _exact_occurrences(event, period)
        return (days[0], days[0]) if days else None
    step = int(rule.get("INTERVAL", "1")) * (12 if freq == "YEARLY" else 1)
    for month in _month_starts(period):
        if not r.start.replace(day=1) <= month <= end:
            continue
        months_from_start = (month.year - r.start.year) * 12 + month.month - r.start.month
        if freq in FREQUENT or months_from_start % step == 0:
            return None, month
    return None


def _unit_end(start: dt.date, precision: str | None) -> dt.date | None:
    months = {"month": 1, "quarter": 3, "half": 6}.get(precision or "")
    if months is None:
        return None
    first = start.replace(day=1)
    month_index = first.month - 1 + months
    nxt = dt.date(first.year + month_index // 12, month_index % 12 + 1, 1)
    return nxt - dt.timedelta(days=1)


def _boundary(day: dt.date, precision: str | None, period: Period) -> tuple[dt.date | None, dt.date] | None:
    """Is a span's boundary announced in this period? (day, anchor) or None."""
    if precision == "day":
        return (day, day) if day in period else None
    return (None, day.replace(day=1)) if period.opens(day) else None


def _candidates(event: Event, period: Period) -> list[tuple[ItemKind, dt.date | None, dt.date]]:
    r = event.reading
    found: list[tuple[ItemKind, dt.date | None, dt.date]] = []
    if r.deadline or r.start is None:
        if r.end is not None and r.end in period:
            found.append(("deadline", r.end, r.end))
        return found
    if r.end is None:  # «с 3 ноября»: an open start is announced once
        hit = _boundary(r.start, r.start_precision, period)
        if hit is not None:
            found.append(("starts", *hit))
        return found
    exact = r.start_precision == "day" and r.end_precision == "day"
    if exact and (r.end - r.start).days < LONG_DAYS and not r.rrule:
        if r.start <= period.end and r.end >= period.start:
            day = max(r.start, period.start)
            found.append(("day", day, day))
        return found
    if (
        r.start_precision == r.end_precision
        and _unit_end(r.start, r.start_precision) == r.end
        and not r.rrule
    ):
        if period.opens(r.start):  # «май», «III квартал»: the first digest of the unit
            found.append(("undated", None, r.start))
        return found
    for kind, day, precision in (("starts", r.start, r.start_precision), ("ends", r.end, r.end_precision)):
        hit = _boundary(day, precision, period)
        if hit is not None:
            found.append((kind, *hit))  # type: ignore[arg-type]
    recurring = _recurrence(event, period)
    if recurring is not None:
        found.append(("recurs", *recurring))
    return found


def items_of(plan: Plan, event: Event, period: Period, order: int) -> Item | None:
    """The one entry an event gets in this period, if any."""
    if not event.reading.dated:  # «дата уточняется»: once a month, in the plan's year
        months = [m for m in _month_starts(period) if m.year == plan.year]
        return Item(plan, event, "undated", None, months[0], order) if months else None
    found = _candidates(event, period)
    if not found:
        return None
    kind, day, anchor = min(found, key=lambda f: _PRIORITY[f[0]])
    return Item(plan, event, kind, day, anchor, order)


def _sort_key(item: Item) -> tuple[int, dt.date, dt.time, int]:
    time = item.event.reading.time or dt.time()
    return (0 if item.exact else 1, item.anchor, time if item.exact else dt.time(), item.order)


def select(plans: Sequence[Plan], period: Period, *, include_others: bool = True) -> Selection:
    """Every organization's digest for the period, across all plans."""
    items: list[Item] = []
    organizations: dict[str, Organization] = {}
    order = 0
    for plan in plans:
        for org in plan.organizations:
            organizations.setdefault(org.id, org)
        for event in plan.events:
            item = items_of(plan, event, period, order)
            order += 1
            if item is not None:
                items.append(item)
    items.sort(key=_sort_key)
    digests: list[Digest] = []
    without: list[tuple[Organization, int]] = []
    for org in organizations.values():
        own = tuple(i for i in items if org.id in i.event.organizers)
        if not org.contacts.emails:
            without.append((org, len(own)))
            continue
        others = (
            tuple(i for i in items if org.id not in i.event.organizers and i.exact) if include_others else ()
        )
        digests.append(Digest(org, period, own, others))
    return Selection(period, tuple(digests), tuple(without))


# -- the view the templates see: strings only ------------------------------------------------------------


@dataclass(frozen=True)
class ItemView:
    when: str  # «20 мая, пн», «в мае, дата уточняется», «с февраля по ноябрь»
    status: str  # «начинается в феврале», «срок»; "" when the date says it all
    form: str  # the event's form when its title does not already say it; "" otherwise
    title: str
    organizers: str  # short names, comma-separated
    shared: bool  # more than one organizer
    note: str  # what the date cell said besides the date, and the plan's notes
    date_text: str  # the date as published
    exact: bool
    kind: str


_RULE_WORDS = {
    ("DAILY", 1): "ежедневно",
    ("WEEKLY", 1): "еженедельно",
    ("WEEKLY", 2): "раз в две недели",
    ("MONTHLY", 1): "ежемесячно",
    ("MONTHLY", 2): "раз в два месяца",
    ("MONTHLY", 3): "ежеквартально",
    ("MONTHLY", 6): "раз в полгода",
    ("YEARLY", 1): "ежегодно",
}
_BYDAY = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")


def rule_words(rrule: str) -> str:
    """«ежеквартально», «еженедельно: вт, чт»; CLDR has no «по вторникам», so weekdays are abbreviated."""
    rule = _rule(rrule)
    words = _RULE_WORDS.get((rule.get("FREQ", ""), int(rule.get("INTERVAL", "1"))), "регулярно")
    days = [d[-2:] for d in rule.get("BYDAY", "").split(",") if d[-2:] in _BYDAY]
    if days:
        monday = dt.date(2024, 1, 1)
        names = [russian.weekday_short(monday + dt.timedelta(days=_BYDAY.index(d))) for d in days]
        words += ": " + ", ".join(names)
    return words


def _when(item: Item) -> str:
    r = item.event.reading
    if not r.dated:
        return "дата уточняется"
    if r.deadline or r.start is None:
        assert r.end is not None
        return f"{russian.deadline(r.end)}, {russian.weekday_short(r.end)}"
    if r.end is None:
        when = f"с {russian.boundary_genitive(r.start, r.start_precision)}"
    elif item.kind == "day" and r.start == r.end:
        when = f"{russian.day(r.start)}, {russian.weekday_short(r.start)}"
    elif item.kind == "undated":
        when = f"{russian.within(r.start, r.start_precision)}, дата уточняется"
    else:
        when = russian.span(r.start, r.start_precision, r.end, r.end_precision)
    if r.rrule:
        when += f", {rule_words(r.rrule)}"
    if r.time is not None:
        when += f", {russian.times(r.time, r.end_time)}"
    return when


def _status(item: Item) -> str:
    r = item.event.reading
    if not r.dated:  # what the plan says instead of a date: «по отдельному плану»
        return item.event.date_text
    if item.kind in ("starts", "ends"):
        verb = "начинается" if item.kind == "starts" else "завершается"
        if item.day is not None:
            return f"{verb} {russian.day(item.day)}, {russian.weekday_short(item.day)}"
        return f"{verb} {russian.within(item.anchor, 'month')}"
    if item.kind == "recurs":
        if item.day is not None:
            return f"очередной раз — {russian.day(item.day)}, {russian.weekday_short(item.day)}"
        return (
            f"{'очередной раз' if _rule(r.rrule or '').get('FREQ') not in FREQUENT else 'продолжается'} "
            + (russian.within(item.anchor, "month"))
        )
    if item.kind == "deadline":
        return "срок"
    if item.kind == "day" and r.start is not None and r.start < item.anchor:
        return "продолжается"
    return ""


def _form(event: Event) -> str:
    if not event.form or event.form.casefold().rstrip(".") in event.title.casefold():
        return ""
    return event.form


def view_item(item: Item) -> ItemView:
    event = item.event
    names = []
    for org_id in event.organizers:
        try:
            names.append(item.plan.organization(org_id).short_name)
        except KeyError:
            names.append(org_id)
    notes = [n for n in (event.reading.note, event.notes) if n]
    return ItemView(
        when=_when(item),
        status=_status(item),
        form=_form(event),
        title=event.title,
        organizers=", ".join(names),
        shared=len(names) > 1,
        note="; ".join(notes),
        date_text=event.date_text,
        exact=item.exact,
        kind=item.kind,
    )


@dataclass(frozen=True)
class DigestView:
    period: str  # «20–26 мая 2024 г.»
    period_start: dt.date
    period_end: dt.date
    organization: str  # full name
    short_name: str
    exact: tuple[ItemView, ...]
    fuzzy: tuple[ItemView, ...]
    others: tuple[ItemView, ...]
    plan_titles: tuple[str, ...]
    count: int  # own entries


def view(digest: Digest) -> DigestView:
    """Everything the templates show, as strings, so a template cannot format a date wrongly."""
    own = [view_item(i) for i in digest.items]
    titles: list[str] = []
    for item in (*digest.items, *digest.others):
        if item.plan.title not in titles:
            titles.append(item.plan.title)
    return DigestView(
        period=russian.period_title(digest.period.start, digest.period.end),
        period_start=digest.period.start,
        period_end=digest.period.end,
        organization=digest.organization.name,
        short_name=digest.organization.short_name,
        exact=tuple(v for v in own if v.exact),
        fuzzy=tuple(v for v in own if not v.exact),
        others=tuple(view_item(i) for i in digest.others),
        plan_titles=tuple(titles),
        count=len(own),
    )
