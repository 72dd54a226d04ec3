"""Calendars made by the previous layout (spans, invented series days, no combined calendar) become the
new layout by a normal `plansync sync`: changed objects are updated in place under the same UID, never
duplicated, and what a person added to them (alarms, their own properties) stays."""

from __future__ import annotations

import datetime as dt
import itertools
from collections import Counter
from pathlib import Path

import caldav
import icalendar
import pytest

from plansync.calendar import ical, identity
from plansync.planread.planfile import load_plan
from tests.support.cli import run_sync_cli
from tests.support.paths import PLAN_2024
from tests.support.servers import RunningServer, radicale

pytestmark = [pytest.mark.timeout(240), pytest.mark.slow]  # slow: real Radicale
_users = itertools.count(1)


def _config(tmp_path: Path, server: RunningServer, user: str, sync_block: str) -> Path:
    config = tmp_path / "plansync.yaml"
    config.write_text(
        f"plans: [{PLAN_2024}]\nstate_dir: state\ncaldav:\n  url: {server.url}\n  username: {user}\n"
        f"  password_env: TEST_CALDAV_PASSWORD\n{sync_block}",
        encoding="utf-8",
    )
    return config


def _objects(server: RunningServer, user: str) -> dict[str, list[icalendar.Calendar]]:
    """Calendar display name → its objects, read with python-caldav."""
    out: dict[str, list[icalendar.Calendar]] = {}
    with caldav.DAVClient(url=server.url, username=user, password="secret-pw") as client:
        for calendar in client.principal().calendars():
            name = str(calendar.get_display_name())
            out[name] = [icalendar.Calendar.from_ical(e.data) for e in calendar.events()]
    return out


def _person_adds_alarm(server: RunningServer, user: str, uid: str) -> None:
    with caldav.DAVClient(url=server.url, username=user, password="secret-pw") as client:
        for calendar in client.principal().calendars():
            for item in calendar.events():
                cal = icalendar.Calendar.from_ical(item.data)
                vevent = cal.walk("VEVENT")[0]
                if str(vevent["UID"]) != uid:
                    continue
                alarm = icalendar.Alarm()
                alarm.add("ACTION", "DISPLAY")
                alarm.add("DESCRIPTION", "напомнить")
                alarm.add("TRIGGER", dt.timedelta(days=-1))
                vevent.add_component(alarm)
                vevent.add("X-PERSON-NOTE", "моё")
                item.data = cal.to_ical().decode()
                item.save()
                return
    raise AssertionError(f"{uid} not found")


def _vevent(objects: dict[str, list[icalendar.Calendar]], uid: str) -> icalendar.Event:
    found = [
        c.walk("VEVENT")[0]
        for cals in objects.values()
        for c in cals
        if str(c.walk("VEVENT")[0]["UID"]) == uid
    ]
    assert len(found) == 1, uid
    vevent: icalendar.Event = found[0]
    return vevent


def test_a_normal_sync_migrates_the_previous_layout_in_place(radicale: RunningServer, tmp_path: Path) -> None:
    plan = load_plan(PLAN_2024)
    user = f"migrate{next(_users)}"
    old = _config(tmp_path, radicale, user, "sync: {layout: classic, combined_calendar: false}\n")
    code, out, err = run_sync_cli(old)
    assert code == 0, out + err
    before = _objects(radicale, user)
    series = identity.event_uid(plan.id, "year-round-03", "konb")  # «еженедельно»: 53 invented Mondays
    month = identity.event_uid(plan.id, "dated-10", "konb")  # «май»: a span over the month
    assert "RRULE" in _vevent(before, series)
    assert _vevent(before, month)["DTEND"].dt - _vevent(before, month)["DTSTART"].dt == dt.timedelta(days=31)
    _person_adds_alarm(radicale, user, series)
    _person_adds_alarm(radicale, user, month)

    new = _config(tmp_path, radicale, user, "")  # the defaults: the new layout and the combined calendar
    code, out, err = run_sync_cli(new)
    assert code == 0, out + err
    after = _objects(radicale, user)

    # The same objects under the same UIDs in every organizer calendar, none twice; one more calendar.
    assert set(after) == set(before) | {"Сводный план"}
    for name, cals in before.items():
        uids = Counter(str(c.walk("VEVENT")[0]["UID"]) for c in after[name])
        assert set(uids) == {str(c.walk("VEVENT")[0]["UID"]) for c in cals} and max(uids.values()) == 1, name
    assert len(after["Сводный план"]) == len(plan.events)

    for uid, day in ((series, dt.date(2024, 1, 9)), (month, dt.date(2024, 5, 2))):
        vevent = _vevent(after, uid)
        assert vevent["DTSTART"].dt == day and vevent["DTEND"].dt == day + dt.timedelta(days=1)
        assert "RRULE" not in vevent
        assert [str(a["DESCRIPTION"]) for a in vevent.walk("VALARM")] == ["напомнить"]  # the person's alarm
        assert str(vevent["X-PERSON-NOTE"]) == "моё"
        assert int(vevent["SEQUENCE"]) >= 1 and vevent["LAST-MODIFIED"].dt.year >= 2025

    code, out, err = run_sync_cli(new)  # and it stays put
    assert code == 0 and "0 created, 0 updated, 0 deleted" in out, out
