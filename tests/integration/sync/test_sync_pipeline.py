"""The order of a run's requests when it makes calendars: each new calendar is made and filled while
the others are written, a calendar is listed again as soon as its own writes are done, and a run the
safety brake stops makes no calendar at all (plansync.sync.engine, _apply_all)."""

from __future__ import annotations

import itertools
import threading
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from plansync.caldav.client import CalDAVBackend
from plansync.config.model import CalendarTarget
from plansync.errors import EXIT_BRAKE
from plansync.sync import relisting
from tests.support.memory_backend import MemoryBackend
from tests.support.plans import small_plan, without
from tests.support.servers import RunningServer, radicale
from tests.support.sync_env import Clock, Env

pytestmark = pytest.mark.timeout(60)
_users = itertools.count(1)


def _memory(tmp_path: Path, clock: Clock | None = None) -> tuple[Env, MemoryBackend]:
    memory = MemoryBackend(clock=clock)
    targets = {"konb": CalendarTarget(name="КОНБ"), "gaidar": CalendarTarget(name="Гайдара")}
    env = Env(memory, memory, tmp_path / "state", lambda: len(memory.log), lambda m: memory.log[m:], targets)
    return env, memory


def _calendar_of(href: str) -> str:
    path = urlsplit(href).path
    return path if path.endswith("/") else path.rsplit("/", 1)[0] + "/"


def test_memory_writing_begins_before_every_calendar_is_made(tmp_path: Path) -> None:
    env, memory = _memory(tmp_path)
    first_put = threading.Event()
    waited: list[bool] = []

    def hook(method: str, href: str) -> None:
        if method == "PUT":
            first_put.set()
        elif method == "MKCALENDAR" and memory.log.count(("MKCALENDAR", href)) == 1 and len(waited) < 2:
            # The second calendar is made only once the first one's events are on their way.
            waited.append(first_put.wait(5.0) if waited else True)

    memory.before = hook
    result = env.sync(small_plan())
    assert result.exit_code == 0, result
    assert waited == [True, True]
    assert [m for m, _ in memory.log].count("MKCALENDAR") == 2
    # Whatever the order, each calendar holds its own events and the report keeps the plan's order.
    assert [c.key for c in result.calendars] == ["konb", "gaidar"]
    assert [c.count("create") for c in result.calendars] == [3, 1]
    for cal in result.calendars:
        assert cal.url is not None and len(memory.items(cal.url)) == cal.count("create")


def test_memory_a_calendar_is_listed_while_the_others_are_still_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(relisting, "RELIST_AFTER_S", 0.0)  # (else it waits for the stamp: 3 s)
    clock = Clock()
    env, memory = _memory(tmp_path, clock)
    order: list[str] = []  # calendars in the order their first PUT came
    relisted = threading.Event()
    waited: list[bool] = []

    def hook(method: str, href: str) -> None:
        cal = _calendar_of(href)
        if method == "PUT" and cal not in order:
            order.append(cal)
            if len(order) == 2:
                clock.now += 5  # the first calendar's stamp has settled
                waited.append(relisted.wait(5.0))  # the second's writes wait for the first's listing
        elif method == "REPORT" and order and cal == order[0] and len(order) == 2:
            relisted.set()

    memory.before = hook
    result = env.sync(small_plan())
    assert result.exit_code == 0, result
    assert waited == [True]
    assert [m for m, _ in memory.log].count("REPORT") == 2  # each calendar listed once, after its writes
    # That listing held the first calendar's settled stamp: the next run lists only the second.
    memory.before = None
    mark = env.mark()
    env.sync(small_plan())
    assert [(m, _calendar_of(h)) for m, h in env.since(mark)] == [("PROPFIND", "/dav/"), ("REPORT", order[1])]


def test_memory_run_stopped_by_the_brake_makes_no_calendar(tmp_path: Path) -> None:
    env, memory = _memory(tmp_path)
    plan = small_plan()
    env.sync(plan)
    # Next run: konb would lose all its events (the brake), and gaidar's calendar has a new name.
    env.targets["gaidar"] = CalendarTarget(name="Гайдара, новый")
    mark = env.mark()
    result = env.sync(without(plan, "e1", "e3", "e2"))
    assert result.exit_code == EXIT_BRAKE and result.brakes
    assert "MKCALENDAR" not in [m for m, _ in env.since(mark)]
    assert memory.calendar_by_name("Гайдара, новый") is None
    gaidar = next(c for c in result.calendars if c.key == "gaidar")
    assert gaidar.will_create_calendar and gaidar.url is None


def test_radicale_stamp_of_one_calendar_is_asked_of_that_calendar(
    radicale: RunningServer, tmp_path: Path
) -> None:
    user = f"pipeline{next(_users)}"
    backend = CalDAVBackend(radicale.url, username=user, password="x")
    try:
        urls = [backend.resolve_calendar(key, url=None, name=f"{key} {user}") for key in ("konb", "gaidar")]
        assert all(urls)
        both = backend.stamps([u for u in urls if u])
        mark = radicale.log.mark()
        one = backend.stamps([urls[0] or ""])
        seen = radicale.log.since(mark)
    finally:
        backend.close()
    # Depth 0 on the calendar itself (the server looks at it alone), the same stamp as from the home.
    assert [(m, urlsplit(h).path) for m, h in seen] == [("PROPFIND", urlsplit(urls[0] or "").path)]
    assert set(one) == {urls[0]} and one[urls[0] or ""].value == both[urls[0] or ""].value


def test_memory_calendar_that_appears_while_being_made_still_meets_the_brake(tmp_path: Path) -> None:
    env, memory = _memory(tmp_path)
    plan = small_plan()
    gaidar = env.url(env.sync(plan), "gaidar")
    assert len(memory.items(gaidar)) == 1
    # Another state directory (so nothing is known), and the calendar is not there when the run looks
    # for it, but is by the time the run would make it, holding plansync's event that the plan dropped.
    hidden = memory.calendars.pop(gaidar)
    propfinds = itertools.count(1)

    def reappear(method: str, href: str) -> None:
        if method == "PROPFIND" and next(propfinds) == 2:
            memory.calendars[gaidar] = hidden

    memory.before = reappear
    env.state_dir = tmp_path / "another-state"
    result = env.sync(without(plan, "e2"), org_ids=["gaidar"])
    report = next(c for c in result.calendars if c.key == "gaidar")
    assert report.error is not None and "appeared during the run" in report.error, report
    assert result.exit_code == 1
    assert len(memory.items(gaidar)) == 1  # not deleted
    assert "DELETE" not in [m for m, _ in memory.log]
