"""Undated events (`date_known: false`, issue 21): kept in the plan, left out of calendars, listed in the
digests as «дата уточняется», and never confused with a date that is wrong."""

from __future__ import annotations

import datetime as dt
import textwrap
from dataclasses import replace
from pathlib import Path

import pytest

from plansync.calendar.ical import build_vevent
from plansync.digest.select import Period, select, view
from plansync.errors import InvalidInput
from plansync.model.plan import Event
from plansync.model.reading import Reading
from plansync.planread.planfile import load_plan, undated_events
from tests.support.plans import event, make_plan

PLAN = """\
    plan: {id: p-2025, title: План, year: 2025, timezone: Europe/Kaliningrad}
    organizations:
      - {id: konb, name: КОНБ, short_name: КОНБ, kind: library}
    events:
      - key: e-1
        title: Семинар
        date: по отдельному плану
        date_known: false
        organizers: [konb]
      - key: e-2
        title: Вебинар
        date: 12 марта
        organizers: [konb]
"""


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "plan.yaml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def test_an_undated_event_loads_and_is_listed(tmp_path: Path) -> None:
    plan = load_plan(_write(tmp_path, PLAN))
    assert [e.key for e in undated_events(plan)] == ["e-1"]
    assert not plan.events[0].reading.dated and plan.events[1].reading.dated


def test_without_date_known_false_a_cell_without_a_date_is_still_an_error(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput) as info:
        load_plan(_write(tmp_path, PLAN.replace("        date_known: false\n", "")))
    assert "date_known: false" in info.value.problems[0].message


def test_date_known_false_with_a_date_given_is_an_error(tmp_path: Path) -> None:
    text = PLAN.replace("date_known: false", "date_known: false\n        start: 2025-03-01")
    with pytest.raises(InvalidInput) as info:
        load_plan(_write(tmp_path, text))
    assert "remove `date_known: false`" in info.value.problems[0].hint


def _undated(key: str) -> Event:
    text = "по отдельному плану"
    base = event(key, "май", "lib-a")
    return replace(
        base, date_text=text, reading=Reading(text, None, None, None, None, None, None, None, False, None)
    )


def test_calendars_leave_an_undated_event_out() -> None:
    undated = _undated("u-1")
    plan = make_plan(undated)
    assert build_vevent(plan, undated, "lib-a") is None


def test_digests_list_an_undated_event_once_a_month_as_date_to_be_announced() -> None:
    plan = make_plan(_undated("u-1"), event("d-1", "3 июня", "lib-a"))
    opens_june = Period(dt.date(2024, 6, 1), dt.date(2024, 6, 7))
    mid_june = Period(dt.date(2024, 6, 10), dt.date(2024, 6, 16))
    next_year = Period(dt.date(2025, 6, 1), dt.date(2025, 6, 7))
    digest = next(d for d in select([plan], opens_june).digests if d.organization.id == "lib-a")
    assert [(i.event.key, i.kind) for i in digest.items] == [("d-1", "day"), ("u-1", "undated")]
    shown = view(digest)
    assert [(item.when, item.status) for item in shown.fuzzy] == [("дата уточняется", "по отдельному плану")]
    for later in (mid_june, next_year):
        digest = next(d for d in select([plan], later).digests if d.organization.id == "lib-a")
        assert "u-1" not in [i.event.key for i in digest.items]
