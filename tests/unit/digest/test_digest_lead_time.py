"""The 2024 plan read over the whole year: every dated event is announced in time, and every event
reaches its organizers and the other libraries (issue #18's acceptance rules)."""

from __future__ import annotations

import datetime as dt
from functools import cache

import pytest

from plansync.digest.select import Digest, Rules, digest_period, month_level, select
from plansync.model.plan import Event, Plan
from plansync.planread.planfile import load_plan
from tests.support.paths import PLAN_2024

RULES = Rules()  # issued Thursday, lead 7 days, deadlines 14
# Every digest from the one issued mid-December 2023 to the last one of 2024.
MONDAYS = [dt.date(2023, 12, 18) + dt.timedelta(weeks=n) for n in range(55)]


@cache
def plan() -> Plan:
    return load_plan(PLAN_2024)


@cache
def digests() -> tuple[Digest, ...]:
    return tuple(
        d for monday in MONDAYS for d in select([plan()], digest_period(monday), rules=RULES).digests
    )


def own_listings(event: Event, day: dt.date | None = None) -> list[Digest]:
    """The digests that list the event to one of its organizers (for `day`: an entry about that day)."""
    return [
        d
        for d in digests()
        if d.organization.id in event.organizers
        and any(i.event.key == event.key and (day is None or i.day == day) for i in d.items)
    ]


def issued(d: Digest) -> dt.date:
    assert d.issued is not None
    return d.issued


def deadline_day(event: Event) -> dt.date | None:
    """A deadline «до D», or the exact end of a span («январь – 31 октября»)."""
    r = event.reading
    if r.deadline or r.start is None:
        return r.end
    if r.end is not None and r.end_precision == "day" and r.start_precision != "day":
        return r.end
    return None


def events(kind: str) -> list[Event]:
    out = []
    for event in plan().events:
        r = event.reading
        if not any(plan().organization(o).contacts.emails for o in event.organizers):
            continue
        if (
            (kind == "exact" and r.start is not None and r.start_precision == "day" and not r.deadline)
            or (kind == "deadline" and deadline_day(event) is not None)
            or (kind == "month" and month_level(event))
        ):
            out.append(event)
    return out


def test_the_plan_has_each_kind_of_dated_event() -> None:
    assert events("exact") and events("deadline") and events("month")


@pytest.mark.parametrize("event", events("exact"), ids=lambda e: e.key)
def test_exact_events_are_announced_at_least_lead_days_before(event: Event) -> None:
    start = event.reading.start
    assert start is not None
    early = [d for d in own_listings(event, start) if (start - issued(d)).days >= RULES.lead_days]
    assert early, f"{event.key} ({start}) is never announced {RULES.lead_days} days ahead"
    assert any(start in d.period for d in own_listings(event)), f"{event.key}: not in its own week"


@pytest.mark.parametrize("event", events("deadline"), ids=lambda e: e.key)
def test_deadlines_two_weeks_before_and_again_in_their_week(event: Event) -> None:
    day = deadline_day(event)
    assert day is not None
    listed = own_listings(event, day)
    assert any((day - issued(d)).days >= RULES.deadline_days for d in listed), (
        f"{event.key}: not 14 days ahead"
    )
    assert any(day in d.period for d in listed), f"{event.key}: not in the week of {day}"


@pytest.mark.parametrize("event", events("month"), ids=lambda e: e.key)
def test_month_events_in_the_last_digest_before_their_month(event: Event) -> None:
    first = event.reading.start
    assert first is not None
    listed = own_listings(event)
    assert any(issued(d) < first.replace(day=1) <= issued(d) + dt.timedelta(days=7) for d in listed)
    assert all(issued(d) < first.replace(day=1) for d in listed)  # never after the month began


def test_every_event_reaches_its_organizers_and_every_other_library() -> None:
    libraries = {o.id for o in plan().organizations if o.contacts.emails}
    missing = []
    for event in plan().events:
        for org in libraries:
            if org in event.organizers:
                seen = any(
                    d.organization.id == org and any(i.event.key == event.key for i in d.items)
                    for d in digests()
                )
            else:
                seen = any(
                    d.organization.id == org and any(i.event.key == event.key for i in d.others)
                    for d in digests()
                )
            if not seen:
                missing.append((event.key, org))
    assert missing == []


def test_without_others_a_library_sees_only_its_own() -> None:
    for monday in MONDAYS:
        for d in select([plan()], digest_period(monday), include_others=False).digests:
            assert d.others == ()
            assert all(d.organization.id in i.event.organizers for i in d.items)
