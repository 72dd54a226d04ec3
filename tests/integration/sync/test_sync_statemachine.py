"""A hypothesis state machine over plan edits, people's edits on the server and sync runs.

After every run that the brake did not stop: the managed events equal the plan, other people's events
are untouched, and a second run is a no-op. Most examples run on the memory backend; a few on Radicale.
"""

from __future__ import annotations

import itertools
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import icalendar
import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from plansync.caldav.client import CalDAVBackend
from plansync.calendar import ical, readback
from plansync.config.model import CalendarTarget, SyncConfig
from plansync.errors import EXIT_BRAKE
from plansync.model.plan import Plan
from plansync.sync.engine import sync
from plansync.sync.state import open_state
from tests.support.memory_backend import MemoryBackend
from tests.support.plans import event, plan
from tests.support.servers import RunningServer, start_radicale
from tests.support.sync_env import foreign_event

pytestmark = pytest.mark.slow  # long property runs, one on Radicale

KEYS = ["a", "b", "c", "d"]
DATES = ["12 марта", "12 марта, 14:00", "3 - 7 ноября", "июнь", "март–декабрь, ежемесячно", "до 20 ноября"]
ORGS = [("konb",), ("gaidar",), ("konb", "gaidar")]
TITLES = st.sampled_from(["Семинар", "Вебинар «Книга»", "Круглый стол; итоги", "Мониторинг,\nотчёт"])
_users = itertools.count(1)


class SyncMachine(RuleBasedStateMachine):
    make_backends: Callable[[], tuple[Any, Any]] = staticmethod(lambda: (MemoryBackend(),) * 2)  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.backend, self.people = self.make_backends()
        self.dir = Path(tempfile.mkdtemp(prefix="plansync-sm-"))
        self.events: dict[str, tuple[str, str, tuple[str, ...]]] = {"a": ("Семинар", "12 марта", ("konb",))}
        n = next(_users)
        self.targets = {
            "konb": CalendarTarget(name=f"КОНБ sm{n}"),
            "gaidar": CalendarTarget(name=f"Гайдара sm{n}"),
        }
        self.urls: dict[str, str] = {}
        self.foreign: dict[
            str, tuple[str, str, bytes]
        ] = {}  # href → (calendar, etag, body) of people's events
        self.synced = False

    def teardown(self) -> None:
        shutil.rmtree(self.dir, ignore_errors=True)

    # -- helpers --

    def plan(self) -> Plan:
        return plan(
            *(event(k, d, *orgs, title=t, form="семинар") for k, (t, d, orgs) in sorted(self.events.items()))
        )

    def run(self, *, force: bool = False) -> Any:
        state = open_state(self.dir / "state")
        try:
            return sync(
                [self.plan()],
                backend=self.backend,
                state=state,
                targets=self.targets,
                settings=SyncConfig(),
                force_delete=force,
            )
        finally:
            state.close()

    def server(self, url: str) -> dict[str, tuple[str, str, bytes]]:
        listing = self.people.listing(url, sync_token=None, ctag=None)
        fetched = self.people.fetch(url, sorted(listing.items))
        return {href: (etag, str(readback.parse(body).uid), body) for href, (etag, body) in fetched.items()}

    def managed(self, url: str) -> list[tuple[str, str, bytes]]:
        return [
            (h, e, b) for h, (e, _, b) in self.server(url).items() if readback.parse(b).marker is not None
        ]

    # -- the plan --

    @rule(key=st.sampled_from(KEYS), title=TITLES, date=st.sampled_from(DATES), orgs=st.sampled_from(ORGS))
    def put_event(self, key: str, title: str, date: str, orgs: tuple[str, ...]) -> None:
        self.events[key] = (title, date, orgs)

    @rule(key=st.sampled_from(KEYS))
    def remove_event(self, key: str) -> None:
        self.events.pop(key, None)

    # -- people --

    @precondition(lambda self: self.synced)
    @rule(org=st.sampled_from(["konb", "gaidar"]), n=st.integers(0, 3))
    def person_adds_event(self, org: str, n: int) -> None:
        url = self.urls[org]
        uid = f"person-{org}-{n}@example.org"
        if any(u == uid for _, u, _ in self.server(url).values()):
            return
        href, _ = self.people.create(url, f"person-{n}.ics", foreign_event(uid))
        etag, _, body = self.server(url)[href]
        self.foreign[href] = (url, etag, body)

    @precondition(lambda self: self.synced)
    @rule(
        org=st.sampled_from(["konb", "gaidar"]),
        pick=st.integers(0, 10),
        what=st.sampled_from(["edit", "alarm", "delete"]),
    )
    def person_touches_managed_event(self, org: str, pick: int, what: str) -> None:
        items = self.managed(self.urls[org])
        if not items:
            return
        href, etag, body = items[pick % len(items)]
        if what == "delete":
            self.people.delete(href, etag)
            return
        cal = icalendar.Calendar.from_ical(body)
        vevent = cal.walk("VEVENT")[0]
        if what == "edit":
            vevent.pop("SUMMARY")
            vevent.add("SUMMARY", "изменено человеком")
        else:
            alarm = icalendar.Alarm()
            alarm.add("ACTION", "DISPLAY")
            alarm.add("TRIGGER", icalendar.vDuration.from_ical("-PT5M"))
            vevent.add_component(alarm)
        self.people.update(href, etag, cal.to_ical())

    # -- runs --

    @rule(force=st.booleans())
    def run_sync(self, force: bool) -> None:
        before = {o: self.server(u) for o, u in self.urls.items()}
        result = self.run(force=force)
        for report in result.calendars:
            assert report.url is not None
            self.urls[report.key] = report.url
        self.synced = True
        if result.brakes:
            assert result.exit_code == EXIT_BRAKE and not force
            assert {
                o: self.server(u) for o, u in self.urls.items() if o in before
            } == before  # nothing written
            return
        assert result.exit_code == 0, [(c.key, c.failures, c.error) for c in result.calendars]
        self.check_converged()
        again = self.run()
        assert again.exit_code == 0
        assert again.writes == 0, [
            (c.key, [(a.kind, a.label, a.conflict) for a in c.actions]) for c in again.calendars
        ]

    def check_converged(self) -> None:
        p = self.plan()
        for org, url in self.urls.items():
            wanted = {uid: d.hash for uid, d in ical.desired_events(p, org).items()}
            have = {readback.parse(b).uid: readback.parse(b).hash for _, _, b in self.managed(url)}
            assert have == wanted, org
        for href, (url, etag, body) in self.foreign.items():
            assert self.server(url).get(href) == (etag, readback.parse(body).uid, body)  # untouched

    @invariant()
    def foreign_events_survive(self) -> None:
        for href, (url, _, _) in self.foreign.items():
            assert href in self.server(url)


class RadicaleSyncMachine(SyncMachine):
    radicale_server: RunningServer | None = None

    @staticmethod
    def make_backends() -> tuple[Any, Any]:  # type: ignore[override]
        assert RadicaleSyncMachine.radicale_server is not None
        user = f"sm{next(_users)}"
        url = RadicaleSyncMachine.radicale_server.url
        return CalDAVBackend(url, username=user, password="x"), CalDAVBackend(
            url, username=user, password="x"
        )


@pytest.mark.timeout(120)
def test_sync_state_machine_on_memory() -> None:
    run_state_machine_as_test(
        SyncMachine,
        settings=settings(
            max_examples=60,
            stateful_step_count=12,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )


@pytest.mark.timeout(120)
def test_sync_state_machine_on_radicale(tmp_path: Path) -> None:
    RadicaleSyncMachine.radicale_server = start_radicale(tmp_path / "radicale")
    try:
        run_state_machine_as_test(
            RadicaleSyncMachine,
            settings=settings(
                max_examples=4,
                stateful_step_count=8,
                deadline=None,
                suppress_health_check=[HealthCheck.too_slow],
            ),
        )
    finally:
        RadicaleSyncMachine.radicale_server.stop()
        RadicaleSyncMachine.radicale_server = None
