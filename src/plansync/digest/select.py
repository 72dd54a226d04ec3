"""What goes into each weekly digest: pure selection from plain data, no I/O and no clock.

A digest is *issued* on a day (`Schedule.issued`, the scheduled send day before its period) and
covers the *period* Monday–Sunday that follows. Rules (docs/digests.md says why):

- The week: every own event with a day in the period (an exact event of at most LONG_DAYS days on
  each day it overlaps; a deadline «до D» when D is in the period; a day-precise start, end or
  recurrence of a span).
- Ahead, so there is time to prepare: an exact event or a day-precise start in the digest issued at
  least `lead_days` days before it (the day falls in [issued + lead, issued + lead + 7)); a deadline
  (and the day-precise end of a span, «по 31 октября») likewise 14 days before, and again in its week.
- Month-level (an event dated by one fuzzy unit: «май», «III квартал»): in the last digest issued
  before its month. A fuzzy boundary of a span (year-round activities) in the first digest of the
  month it starts or ends in; a recurrence as before (once a month for frequent ones).
- One entry per event and digest: the week wins over ahead, a more precise reason over a vaguer one.
- The region's week (`include_others`): other organizers' entries with a day in the period, and
  their month-level events and span starts in the first digest of the month. A library gets a
  digest when it has own entries or, with `include_others`, the region has any.
- Organizations without e-mail get no digest and are listed in `Selection.without_email`.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from plansync.model.plan import Event, Organization, Plan
from plansync.model.recurrence import occurrences
from plansync.wording import russian, typography

__all__ = [
    "Digest",
    "Item",
    "ItemView",
    "OrganizerView",
    "Period",
    "Rules",
    "Selection",
    "digest_period",
    "issued_before",
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


Section = Literal["week", "ahead", "later"]  # this week; to prepare ahead; month-level and long-term


@dataclass(frozen=True)
class Item:
    plan: Plan
    event: Event
    kind: ItemKind
    day: dt.date | None  # the day it concerns; None when that is not known exactly
    anchor: dt.date  # the day or the month it concerns, for sorting
    order: int  # position in the plans, for a stable order
    section: Section = "week"

    @property
    def exact(self) -> bool:
        return self.day is not None


@dataclass(frozen=True)
class Digest:
    organization: Organization
    period: Period
    items: tuple[Item, ...]
    others: tuple[Item, ...]
    issued: dt.date | None = None  # the day it is scheduled to go out

    @property
    def recipients(self) -> tuple[str, ...]:
        return self.organization.contacts.emails

    @property
    def empty(self) -> bool:
        return not self.items and not self.others


@dataclass(frozen=True)
class Rules:
    """How far ahead things are announced; `issued_before` is how many days before its period's
    Monday a digest is scheduled (4: Thursday)."""

    lead_days: int = 7
    deadline_days: int = 14
    issued_before: int = 4

    def issued(self, period: Period) -> dt.date:
        return period.start - dt.timedelta(days=self.issued_before)

    def lead_window(self, period: Period, days: int) -> Period:
        first = self.issued(period) + dt.timedelta(days=days)
        return Period(first, first + dt.timedelta(days=6))


def issued_before(schedule_weekday: int) -> int:
    """Days from the scheduled weekday to the Monday its digest covers: Monday 0, Thursday 4."""
    return (0 - schedule_weekday) % 7


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


def month_level(event: Event) -> bool:
    r = event.reading
    return (
        r.start is not None
        and r.end is not None
        and not r.deadline
        and not r.rrule
        and r.start_precision == r.end_precision
        and _unit_end(r.start, r.start_precision) == r.end
    )


def _before_month(day: dt.date, rules: Rules, period: Period) -> bool:
    """Is this the last digest issued before `day`'s month begins?"""
    first = day.replace(day=1)
    issued = rules.issued(period)
    return issued < first <= issued + dt.timedelta(days=7)


Candidate = tuple[ItemKind, dt.date | None, dt.date, Section]


def _candidates(event: Event, period: Period, rules: Rules) -> list[Candidate]:
    r = event.reading
    found: list[Candidate] = []
    if r.deadline or r.start is None:
        if r.end is not None and r.end_precision in ("day", None):
            if r.end in period:
                found.append(("deadline", r.end, r.end, "week"))
            elif r.end in rules.lead_window(period, rules.deadline_days):
                found.append(("deadline", r.end, r.end, "ahead"))
        return found
    ahead = rules.lead_window(period, rules.lead_days)
    if r.start_precision == "day" and r.start in ahead and r.start > period.end:
        found.append(("starts" if r.end is None or not _short(event) else "day", r.start, r.start, "ahead"))
    if r.end is None:  # «с 3 ноября»: an open start is announced once
        hit = _boundary(r.start, r.start_precision, period)
        if hit is not None:
            found.append(("starts", *hit, "week" if hit[0] else "later"))
        return found
    if _short(event):
        if r.start <= period.end and r.end >= period.start:
            day = max(r.start, period.start)
            found.append(("day", day, day, "week"))
        return found
    if month_level(event):
        if _before_month(r.start, rules, period):  # «май», «III квартал»: before the unit begins
            found.append(("undated", None, r.start, "later"))
        return found
    if r.end_precision == "day" and r.end in rules.lead_window(period, rules.deadline_days):
        found.append(("ends", r.end, r.end, "ahead"))  # the end of a span is a deadline: «по 31 октября»
    for kind, day, precision in (("starts", r.start, r.start_precision), ("ends", r.end, r.end_precision)):
        hit = _boundary(day, precision, period)
        if hit is not None:
            found.append((kind, *hit, "week" if hit[0] else "later"))  # type: ignore[arg-type]
    recurring = _recurrence(event, period)
    if recurring is not None:
        found.append(("recurs", *recurring, "week" if recurring[0] else "later"))
    return found


def _short(event: Event) -> bool:
    r = event.reading
    return (
        r.start is not None
        and r.end is not None
        and r.start_precision == "day"
        and r.end_precision == "day"
        and (r.end - r.start).days < LONG_DAYS
        and not r.rrule
    )


_SECTION_PRIORITY: dict[str, int] = {"week": 0, "ahead": 1, "later": 2}


def items_of(plan: Plan, event: Event, period: Period, order: int, rules: Rules | None = None) -> Item | None:
    """The one entry an event gets in this period, if any."""
    if not event.reading.dated:  # «дата уточняется»: once a month, in the plan's year
        months = [m for m in _month_starts(period) if m.year == plan.year]
        return Item(plan, event, "undated", None, months[0], order, "later") if months else None
    found = _candidates(event, period, rules or Rules())
    if not found:
        return None
    kind, day, anchor, section = min(found, key=lambda f: (_SECTION_PRIORITY[f[3]], _PRIORITY[f[0]]))
    return Item(plan, event, kind, day, anchor, order, section)


def _sort_key(item: Item) -> tuple[int, dt.date, dt.time, int]:
    time = item.event.reading.time or dt.time()
    return (_SECTION_PRIORITY[item.section], item.anchor, time if item.exact else dt.time(), item.order)


def _for_others(item: Item, period: Period) -> bool:
    """The region's week: others' days in the period, their month-level events and span starts in
    the first digest of the month."""
    if item.section == "week" and item.day is not None:
        return True
    event = item.event
    r = event.reading
    if r.start is None or r.deadline or not period.opens(r.start):
        return False
    return month_level(event) or (item.kind == "starts" and r.start_precision != "day")


def select(
    plans: Sequence[Plan], period: Period, *, include_others: bool = True, rules: Rules | None = None
) -> Selection:
    """Every organization's digest for the period, across all plans."""
    rules = rules or Rules()
    items: list[Item] = []
    region: list[Item] = []
    organizations: dict[str, Organization] = {}
    order = 0
    for plan in plans:
        for org in plan.organizations:
            organizations.setdefault(org.id, org)
        for event in plan.events:
            item = items_of(plan, event, period, order, rules)
            if item is not None:
                items.append(item)
            shared = _region_item(plan, event, period, order) if include_others else None
            if shared is not None:
                region.append(shared)
            order += 1
    items.sort(key=_sort_key)
    region.sort(key=_sort_key)
    digests: list[Digest] = []
    without: list[tuple[Organization, int]] = []
    for org in organizations.values():
        own = tuple(i for i in items if org.id in i.event.organizers)
        if not org.contacts.emails:
            without.append((org, len(own)))
            continue
        others = tuple(i for i in region if org.id not in i.event.organizers)
        digests.append(Digest(org, period, own, others, rules.issued(period)))
    return Selection(period, tuple(digests), tuple(without))


def _region_item(plan: Plan, event: Event, period: Period, order: int) -> Item | None:
    """An event as the other libraries see it this week, if at all."""
    found = [c for c in _candidates(event, period, Rules()) if c[3] != "ahead"]
    r = event.reading
    if month_level(event) and r.start is not None and period.opens(r.start):
        found.append(("undated", None, r.start, "later"))
    candidates = [Item(plan, event, k, d, a, order, s) for k, d, a, s in found]
    chosen = [i for i in candidates if _for_others(i, period)]
    if not chosen:
        return None
    return min(chosen, key=lambda i: (_SECTION_PRIORITY[i.section], _PRIORITY[i.kind]))


# -- the view the templates see: strings only ------------------------------------------------------------


@dataclass(frozen=True)
class OrganizerView:
    name: str  # short name
    phones: tuple[str, ...]
    emails: tuple[str, ...]

    @property
    def contact(self) -> str:
        """«КОНБ, тел. 8(4012) 93-70-21, nmo@lib39.ru»."""
        parts = [self.name, *(f"тел.\u00a0{p.replace(' ', chr(0xA0))}" for p in self.phones), *self.emails]
        return ", ".join(parts)


@dataclass(frozen=True)
class ItemView:
    when: str  # «20 мая, пн», «в мае, дата уточняется», «с февраля по ноябрь»
    status: str  # «начинается 3 ноября, пн», «срок»; "" when the date says it all
    form: str  # the event's form when its title does not already say it; "" otherwise
    title: str
    organizers: tuple[OrganizerView, ...]
    organizers_label: str  # «Организатор» or «Организаторы»
    note: str  # what the date cell said besides the date, and the plan's notes
    date_text: str  # the date as published
    exact: bool
    kind: str
    section: str
    contact: str = ""  # whom to ask, as the plan names the person, position or phone

    @property
    def shared(self) -> bool:
        return len(self.organizers) > 1

    @property
    def organizer_names(self) -> str:
        return ", ".join(o.name for o in self.organizers)


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
        # A month-long activity («январь (приём работ)», «Приём заявок…») is not a date to be fixed later.
        if r.note:
            when = f"{russian.within(r.start, r.start_precision)}, {typography.text(r.note)}"
        elif _lasts_the_unit(item.event) and r.start_precision == "month":
            when = f"в течение {russian.month_genitive(r.start.month)}"
        else:
            when = f"{russian.within(r.start, r.start_precision)}, дата уточняется"
    else:
        when = russian.span(r.start, r.start_precision, r.end, r.end_precision)
    if r.rrule:
        when += f", {russian.rule_words(r.rrule)}"
    if r.time is not None:
        when += f", {russian.times(r.time, r.end_time)}"
    return when


def _lasts_the_unit(event: Event) -> bool:
    """An intake («Прием заявок», «Приём работ») runs through its month rather than on one day."""
    return any(_same_words(text or "").startswith("прием") for text in (event.title, event.form))


def _status(item: Item) -> str:
    r = item.event.reading
    if not r.dated:  # what the plan says instead of a date: «по отдельному плану»
        return item.event.date_text
    if item.kind in ("starts", "ends"):
        if item.day is not None:  # the dates already name the day: say which end it is, and its weekday
            which = "первый день" if item.kind == "starts" else "последний день"
            return f"{which}, {russian.weekday_short(item.day)}"
        # The dates already say the months («с января по декабрь»): only the last month needs a word.
        return "" if item.kind == "starts" else "последний месяц"
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


def _same_words(text: str) -> str:
    return text.casefold().replace("ё", "е").rstrip(".")


def _form(event: Event) -> str:
    if not event.form or _same_words(event.form) in _same_words(event.title):
        return ""
    return typography.text(event.form)


def _organizer(plan: Plan, org_id: str) -> OrganizerView:
    try:
        org = plan.organization(org_id)
    except KeyError:
        return OrganizerView(org_id, (), ())
    return OrganizerView(typography.text(org.short_name), org.contacts.phones, org.contacts.emails)


def view_item(item: Item) -> ItemView:
    event = item.event
    organizers = tuple(_organizer(item.plan, org_id) for org_id in event.organizers)
    undated_note = item.kind == "undated" and event.reading.note
    notes = [n for n in (None if undated_note else event.reading.note, event.notes) if n]
    return ItemView(
        when=_when(item),
        status=_status(item),
        form=_form(event),
        title=typography.text(event.title),
        organizers=organizers,
        organizers_label="Организаторы" if len(organizers) > 1 else "Организатор",
        note=typography.text("; ".join(notes)),
        date_text=event.date_text,
        exact=item.exact,
        kind=item.kind,
        section=item.section,
        contact=typography.text(event.contact or ""),
    )


@dataclass(frozen=True)
class DigestView:
    period: str  # «20–26 мая 2024 г.»
    period_start: dt.date
    period_end: dt.date
    organization: str  # full name
    short_name: str
    exact: tuple[ItemView, ...]  # own, this week
    ahead: tuple[ItemView, ...]  # own, to prepare
    fuzzy: tuple[ItemView, ...]  # own, month-level, long-term and recurring
    others: tuple[ItemView, ...]  # the region's week
    plan_titles: tuple[str, ...]
    count: int  # own entries
    summary: str  # what is inside, for the subject


def _summary(own: int, ahead: int, others: int) -> str:
    """«ваших 3 (заранее 1), в области 4»: what is inside, short enough for a subject line."""
    parts = []
    if own:
        parts.append(f"ваших {own}" + (f" (заранее {ahead})" if ahead else ""))
    if others:
        parts.append(f"в области {others}")
    return ", ".join(parts) or "мероприятий нет"


def view(digest: Digest) -> DigestView:
    """Everything the templates show, as strings, so a template cannot format a date wrongly."""
    own = [view_item(i) for i in digest.items]
    titles: list[str] = []
    for item in (*digest.items, *digest.others):
        if item.plan.title not in titles:
            titles.append(item.plan.title)
    exact = tuple(v for v in own if v.section == "week" and v.exact)
    ahead = tuple(v for v in own if v.section == "ahead")
    fuzzy = tuple(v for v in own if v not in exact and v not in ahead)
    others = tuple(view_item(i) for i in digest.others)
    return DigestView(
        period=russian.period_title(digest.period.start, digest.period.end),
        period_start=digest.period.start,
        period_end=digest.period.end,
        organization=typography.text(digest.organization.name),
        short_name=typography.text(digest.organization.short_name),
        exact=exact,
        ahead=ahead,
        fuzzy=fuzzy,
        others=others,
        plan_titles=tuple(typography.text(t) for t in titles),
        count=len(own),
        summary=_summary(len(own), len(ahead), len(others)),
    )
