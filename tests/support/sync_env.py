"""A sync environment for the tests: plansync's backend, a second client for "people", a state folder
and the server's request log; on the memory backend or a real server."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import icalendar
import pytest

from plansync.caldav.client import CalDAVBackend
from plansync.calendar import ical, readback
from plansync.config.model import CalendarTarget, SyncConfig
from plansync.model.plan import Plan
from plansync.sync.engine import sync
from plansync.sync.report import SyncResult
from plansync.sync.state import HeldStamp, open_state
from tests.support.memory_backend import MemoryBackend
from tests.support.servers import CyrusServer, RunningServer, ServerProcess

_names = itertools.count(1)


class Crash(BaseException):
    """Stands for the process dying: not an Exception, so nothing in plansync catches it."""


@dataclass
class Env:
    """A backend for plansync, a separate one for people, a state directory and a request counter."""

    backend: Any
    people: Any
    state_dir: Path
    mark: Callable[[], int]
    since: Callable[[int], list[tuple[str, str]]]
    targets: dict[str, CalendarTarget]
    # The request and write counts the sync tests assert are the organizer calendars'; the combined
    # calendar is one more, with tests of its own (test_combined_calendar_*, tests/integration/calendar).
    combined: bool = False

    def sync(self, plan: Plan, **kwargs: Any) -> SyncResult:
        state = open_state(self.state_dir)
        try:
            settings = replace(kwargs.pop("settings", SyncConfig()), combined_calendar=self.combined)
            return sync(
                [plan],
                backend=kwargs.pop("backend", self.backend),
                state=state,
                targets=self.targets,
                settings=settings,
                **kwargs,
            )
        finally:
            state.close()

    def url(self, result: SyncResult, key: str) -> str:
        url = next(c.url for c in result.calendars if c.key == key)
        assert url is not None
        return url

    def server(self, url: str) -> dict[str, tuple[str, str, bytes]]:
        """uid → (href, etag, body), as a client other than plansync sees it."""
        listing = self.people.listing(url, sync_token=None, ctag=None)
        fetched = self.people.fetch(url, sorted(listing.items))
        out: dict[str, tuple[str, str, bytes]] = {}
        for href, (etag, body) in fetched.items():
            uid = readback.parse(body).uid
            assert uid is not None
            assert uid not in out, f"duplicate UID {uid}"
            out[uid] = (href, etag, body)
        return out

    def person_edit(self, url: str, uid: str, summary: str, *, alarm: bool = False) -> None:
        href, etag, body = self.server(url)[uid]
        cal = icalendar.Calendar.from_ical(body)
        vevent = cal.walk("VEVENT")[0]
        vevent.pop("SUMMARY")
        vevent.add("SUMMARY", summary)
        if alarm:
            vevent.add_component(_alarm())
        self.people.update(href, etag, cal.to_ical())

    def person_add_alarm(self, url: str, uid: str) -> None:
        href, etag, body = self.server(url)[uid]
        cal = icalendar.Calendar.from_ical(body)
        cal.walk("VEVENT")[0].add_component(_alarm())
        self.people.update(href, etag, cal.to_ical())


def _alarm() -> icalendar.Alarm:
    alarm = icalendar.Alarm()
    alarm.add("ACTION", "DISPLAY")
    alarm.add("DESCRIPTION", "напоминание")
    alarm.add("TRIGGER", icalendar.vDuration.from_ical("-PT15M"))
    return alarm


def foreign_event(uid: str = "someone-else-1@example.org") -> bytes:
    cal = icalendar.Calendar()
    cal.add("PRODID", "-//test//person//EN")
    cal.add("VERSION", "2.0")
    vevent = icalendar.Event()
    vevent.add("UID", uid)
    vevent.add("DTSTAMP", icalendar.vDatetime.from_ical("20240101T000000Z"))
    vevent.add("DTSTART", icalendar.vDate.from_ical("20240315"))
    vevent.add("SUMMARY", "Личное событие")
    cal.add_component(vevent)
    return cal.to_ical()


@pytest.fixture(params=["memory", "radicale", "xandikos", "sabredav-basic", "sabredav-digest", "cyrus"])
def env(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Env]:
    n = next(_names)
    targets = {"konb": CalendarTarget(name=f"КОНБ {n}"), "gaidar": CalendarTarget(name=f"Гайдара {n}")}
    if request.param == "memory":
        memory = MemoryBackend()
        yield Env(
            memory,
            memory,
            tmp_path / "state",
            lambda: len(memory.log),
            lambda m: list(memory.log[m:]),
            targets,
        )
        return
    server: RunningServer | ServerProcess = request.getfixturevalue(request.param.replace("-", "_"))
    user: str | None
    if isinstance(server, CyrusServer):  # a UID is kept once per account: an account per test
        user, password = f"user{n}", "cyrus-x"
        server.add_user(user, password)
    elif isinstance(server, ServerProcess):  # one user a server: the calendar names keep the tests apart
        user, password = server.username, server.password
    else:
        # Radicale makes a principal per user: a user per test keeps the tests apart.
        user = f"user{n}" if request.param == "radicale" else None
        password = "x" if user else None
    backend = CalDAVBackend(server.url, username=user, password=password)
    people = CalDAVBackend(server.url, username=user, password=password)
    yield Env(backend, people, tmp_path / "state", server.log.mark, server.log.since, targets)
    backend.close()
    people.close()


def writes(entries: list[tuple[str, str]]) -> list[tuple[str, str]]:
    return [e for e in entries if e[0] in ("PUT", "DELETE", "MKCALENDAR", "PROPPATCH")]


def desired_summaries(plan: Plan, key: str) -> dict[str, str]:
    return {uid: d.fields["summary"] for uid, d in ical.desired_events(plan, key).items()}


def server_summaries(env: Env, url: str) -> dict[str, str]:
    out = {}
    for uid, (_, _, body) in env.server(url).items():
        fields = readback.parse(body).fields
        assert fields is not None
        out[uid] = fields["summary"]
    return out


class Clock:
    def __init__(self) -> None:
        self.now = 1_700_000_000.0

    def __call__(self) -> float:
        return self.now


def memory_env(tmp_path: Path, memory: MemoryBackend) -> Env:
    targets = {"konb": CalendarTarget(name="КОНБ"), "gaidar": CalendarTarget(name="Гайдара")}
    return Env(memory, memory, tmp_path / "state", lambda: len(memory.log), lambda m: memory.log[m:], targets)


def held_stamp(env: Env, url: str) -> HeldStamp | None:
    state = open_state(env.state_dir)
    try:
        return state.stamp(url)
    finally:
        state.close()
