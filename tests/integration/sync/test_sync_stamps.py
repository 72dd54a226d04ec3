"""Last-modified stamps: a run in which nothing changed asks one PROPFIND for all calendars instead of
listing each (plansync.sync.engine, "stamps"); and every change made by someone else is still noticed.

Real Radicale (which has stamps) and Xandikos (which has none, but a getctag that serves as one), and
the memory backend with a clock the test moves, for the orderings a real clock cannot be made to
produce on demand."""

from __future__ import annotations

import datetime as dt
import itertools
import time
from pathlib import Path

import pytest

from plansync.caldav.client import CalDAVBackend
from plansync.calendar import ical, identity
from plansync.config.model import CalendarTarget, SyncConfig
from plansync.sync.state import HeldStamp, open_state
from tests.support.memory_backend import MemoryBackend
from tests.support.plans import event, retitle, small_plan, with_event
from tests.support.servers import RunningServer, radicale, xandikos
from tests.support.sync_env import Clock, Env, held_stamp, memory_env, server_summaries, writes

pytestmark = pytest.mark.timeout(60)
_users = itertools.count(1)
ORIGINAL = "Семинар «Библиотека, ты где?»"


def _env(server: RunningServer, tmp_path: Path, *, user: str | None) -> Env:
    n = next(_users)
    password = "x" if user else None
    targets = {"konb": CalendarTarget(name=f"КОНБ s{n}"), "gaidar": CalendarTarget(name=f"Гайдара s{n}")}
    backend = CalDAVBackend(server.url, username=user, password=password)
    people = CalDAVBackend(server.url, username=user, password=password)
    return Env(backend, people, tmp_path / "state", server.log.mark, server.log.since, targets)


def test_radicale_noop_is_one_propfind_for_all_calendars(radicale: RunningServer, tmp_path: Path) -> None:
    env = _env(radicale, tmp_path, user=f"stamps{next(_users)}")
    plan = small_plan()
    first = env.sync(plan)
    assert first.exit_code == 0
    # A short run does not wait for its stamps to settle: the next run lists, once, and keeps them.
    time.sleep(2.1)
    mark = env.mark()
    env.sync(plan)
    assert sorted(m for m, _ in env.since(mark)) == ["PROPFIND", "REPORT", "REPORT"]
    for _ in range(2):
        mark = env.mark()
        result = env.sync(plan)
        seen = env.since(mark)
        assert result.exit_code == 0 and result.writes == 0
        # Both calendars live in the user's home: one Depth 1 PROPFIND there, nothing else.
        assert [m for m, _ in seen] == ["PROPFIND"], seen
        assert all(c.count("unchanged") > 0 for c in result.calendars)


def test_radicale_edits_made_right_after_a_sync_are_noticed(radicale: RunningServer, tmp_path: Path) -> None:
    """The people act at once, within the second of plansync's last listing: still seen next run."""
    env = _env(radicale, tmp_path, user=f"stamps{next(_users)}")
    plan = small_plan()
    url = env.url(env.sync(plan), "konb")
    time.sleep(2.1)
    env.sync(plan)  # lists once more, and holds settled stamps
    mark = env.mark()
    env.sync(plan)
    assert [m for m, _ in env.since(mark)] == ["PROPFIND"]  # trusted
    uid = identity.event_uid(plan.id, "e1", "konb")
    env.person_edit(url, uid, "Правка сразу после синхронизации")
    result = env.sync(plan)  # plan-wins: the plan's title is written back
    assert next(c for c in result.calendars if c.key == "konb").conflicts == 1
    assert server_summaries(env, url)[uid] == ORIGINAL
    # A deletion right after that run is noticed too: the event comes back.
    href, etag, _ = env.server(url)[identity.event_uid(plan.id, "e3", "konb")]
    env.people.delete(href, etag)
    result = env.sync(plan)
    assert next(c for c in result.calendars if c.key == "konb").count("create") == 1
    assert len(env.server(url)) == 3


def test_radicale_plan_edit_writes_without_listing(radicale: RunningServer, tmp_path: Path) -> None:
    """Nothing changed on the server: the plan's edit is written on the held etags (If-Match)."""
    env = _env(radicale, tmp_path, user=f"stamps{next(_users)}")
    plan = small_plan()
    url = env.url(env.sync(plan), "konb")
    time.sleep(2.1)
    env.sync(plan)  # holds settled stamps
    edited = retitle(plan, "e1", "Новое название")
    mark = env.mark()
    result = env.sync(edited)
    seen = env.since(mark)
    assert result.exit_code == 0 and result.writes == 1
    # The stamps, the server's copy of the event (a multiget, to keep what others added), the PUT.
    assert sorted(m for m, _ in seen) == ["PROPFIND", "PUT", "REPORT"], seen
    assert server_summaries(env, url)[identity.event_uid(plan.id, "e1", "konb")] == "Новое название"


def test_xandikos_noop_is_one_propfind_of_ctags(xandikos: RunningServer, tmp_path: Path) -> None:
    """Xandikos has no last-modified on a calendar, but a getctag (its git tree id): that stamps it."""
    env = _env(xandikos, tmp_path, user=None)
    plan = small_plan()
    first = env.sync(plan)
    urls = [env.url(first, k) for k in ("konb", "gaidar")]
    assert env.backend.stamps(urls) == {}
    ctags = env.backend.stamps(urls, ctag=True)
    assert set(ctags) == set(urls) and all(s.settled for s in ctags.values())
    for _ in range(2):
        mark = env.mark()
        result = env.sync(plan)
        seen = env.since(mark)
        assert result.exit_code == 0 and result.writes == 0
        # The ctags of both calendars, in one Depth 1 PROPFIND of the home; not asked for last-modified
        # again (the first run found none), and nothing listed.
        assert seen == [("PROPFIND", "/user/calendars/")], seen
        assert all(c.count("unchanged") > 0 for c in result.calendars)

    # Someone edits an event in one calendar: that calendar alone is listed, and the edit noticed.
    uid = identity.event_uid(plan.id, "e1", "konb")
    env.person_edit(urls[0], uid, "Правка в Xandikos")
    mark = env.mark()
    result = env.sync(plan)  # plan-wins: the plan's title is written back
    seen = env.since(mark)
    assert next(c for c in result.calendars if c.key == "konb").conflicts == 1
    assert server_summaries(env, urls[0])[uid] == ORIGINAL
    assert {p for m, p in seen if m == "REPORT"} == {urls[0].removeprefix(xandikos.url[:-1])}, seen
    # Our own write moved the ctag; the next run lists it once more, then trusts the ctag again.
    env.sync(plan)
    mark = env.mark()
    env.sync(plan)
    assert env.since(mark) == [("PROPFIND", "/user/calendars/")]

    # After sync.recheck_every the server is asked for last-modified again (it may have been upgraded),
    # then for the ctags, and every calendar is listed.
    mark = env.mark()
    result = env.sync(plan, settings=SyncConfig(recheck_every=dt.timedelta(microseconds=1)))
    assert sorted(m for m, _ in env.since(mark)) == ["PROPFIND", "PROPFIND", "REPORT", "REPORT"]


# -- orderings, on the memory backend with a clock the test moves -------------------------------------


def _memory(tmp_path: Path, **kwargs: object) -> tuple[Env, MemoryBackend, Clock]:
    clock = Clock()
    memory = MemoryBackend(clock=clock, **kwargs)  # type: ignore[arg-type]
    return memory_env(tmp_path, memory), memory, clock


def _methods(env: Env, mark: int) -> list[str]:
    return [m for m, _ in env.since(mark)]


def test_memory_settled_stamp_spares_the_listing_and_an_unsettled_one_does_not(tmp_path: Path) -> None:
    env, memory, clock = _memory(tmp_path)
    plan = small_plan()
    url = env.url(env.sync(plan), "konb")
    # The clock did not move: the stamps taken after the writes are not settled, so no-op lists.
    mark = env.mark()
    env.sync(plan)
    assert _methods(env, mark).count("REPORT") == 2
    clock.now += 5
    env.sync(plan)  # lists (the held stamp was unsettled), now holds a settled one
    mark = env.mark()
    env.sync(plan)
    assert _methods(env, mark) == ["PROPFIND"]
    # A person's change in the very second of the stamp plansync holds still moves the stamp on.
    clock.now += 0.3
    href = next(iter(memory.items(url)))
    memory.person_delete(href)
    mark = env.mark()
    result = env.sync(plan)
    assert "REPORT" in _methods(env, mark)
    assert next(c for c in result.calendars if c.key == "konb").count("create") == 1


def test_memory_stamp_that_does_not_follow_changes_is_distrusted(tmp_path: Path) -> None:
    env, memory, clock = _memory(tmp_path, stamps_track_changes=False)
    plan = small_plan()
    url = env.url(env.sync(plan), "konb")
    clock.now += 5
    env.sync(plan)  # now holds a settled stamp
    # A new event: plansync's own creation leaves the stamp as it was, seen in the listing after it.
    more = with_event(plan, event("e4", "20 марта", title="Круглый стол", form="семинар"))
    assert next(c for c in env.sync(more).calendars if c.key == "konb").count("create") == 1
    held = held_stamp(env, url)
    assert held is not None and not held.trusted
    # From then on the calendar is listed every run, and a person's deletion is noticed at once.
    memory.person_delete(next(iter(memory.items(url))))
    clock.now += 5
    mark = env.mark()
    result = env.sync(more)
    assert "REPORT" in _methods(env, mark)
    assert next(c for c in result.calendars if c.key == "konb").count("create") == 1


def test_memory_recheck_every_lists_even_an_unchanged_calendar(tmp_path: Path) -> None:
    env, _, clock = _memory(tmp_path)
    plan = small_plan()
    hourly = SyncConfig(recheck_every=dt.timedelta(hours=1))
    first = env.sync(plan, settings=hourly)
    urls = [env.url(first, k) for k in ("konb", "gaidar")]
    clock.now += 5
    env.sync(plan, settings=hourly)
    mark = env.mark()
    env.sync(plan, settings=hourly)
    assert _methods(env, mark) == ["PROPFIND"]
    # Recheck is by the time plansync last listed, on the local clock: pretend an hour went by.
    state = open_state(env.state_dir)
    try:
        for url in urls:
            held = state.stamp(url)
            assert held is not None
            state.set_stamp(url, type(held)(held.value, held.listed_at - 3601, held.trusted))
    finally:
        state.close()
    mark = env.mark()
    env.sync(plan, settings=hourly)
    assert _methods(env, mark).count("REPORT") == 2
    never = SyncConfig(recheck_every=dt.timedelta(0))
    mark = env.mark()
    env.sync(plan, settings=never)
    assert _methods(env, mark) == ["REPORT", "REPORT"]  # 0: no stamps asked, every calendar listed


@pytest.mark.slow  # waits 5–10 s of real time
def test_memory_a_run_waits_for_its_stamps_only_when_listing_next_time_would_take_longer(
    tmp_path: Path,
) -> None:
    memory = MemoryBackend(clock=time.time)
    env = memory_env(tmp_path, memory)
    plan = small_plan()
    started = time.monotonic()
    env.sync(plan)  # nothing listed yet to tell how long a listing takes: no waiting
    assert time.monotonic() - started < 1.0

    def slow_listing(method: str, href: str) -> None:
        if method == "REPORT":
            time.sleep(1.0)

    memory.before = slow_listing
    more = with_event(plan, event("e4", "20 марта", "konb", "gaidar", title="Круглый стол", form="семинар"))
    started = time.monotonic()
    mark = env.mark()
    result = env.sync(more)
    took = time.monotonic() - started
    assert all(c.count("create") == 1 for c in result.calendars)
    # Listed before (unsettled stamps) and after the writes (the tokens), and waited for the stamps in
    # between: at a second per listing, that is cheaper than listing them again next run.
    assert _methods(env, mark).count("REPORT") == 4
    assert 5.0 < took < 10.0
    mark = env.mark()
    env.sync(more)
    assert _methods(env, mark) == ["PROPFIND"]


def test_memory_calendar_in_sync_is_not_even_reconciled_until_something_changes(tmp_path: Path) -> None:
    env, memory, clock = _memory(tmp_path)
    plan = small_plan()
    url = env.url(env.sync(plan), "konb")
    clock.now += 5
    env.sync(plan)  # lists, holds settled stamps, and records both calendars as in sync
    result = env.sync(plan)
    konb = next(c for c in result.calendars if c.key == "konb")
    assert konb.untouched == 3 and konb.actions == [] and konb.count("unchanged") == 3
    # The plan changes: that calendar is reconciled again (on the held listing) and written.
    edited = retitle(plan, "e1", "Новое")
    result = env.sync(edited)
    konb = next(c for c in result.calendars if c.key == "konb")
    assert konb.untouched == 0 and konb.count("update") == 1
    # A conflict left standing under the "report" policy is reported on every run, never skipped.
    clock.now += 5
    env.sync(edited)
    href = next(h for h, b in memory.items(url).items() if b"e1.konb" in b)
    env.person_edit(url, identity.event_uid(plan.id, "e1", "konb"), "Правка человека")
    assert href
    clock.now += 5
    report = SyncConfig(conflict_policy="report")
    for _ in range(2):
        konb = next(c for c in env.sync(edited, settings=report).calendars if c.key == "konb")
        assert konb.conflicts == 1 and konb.untouched == 0


def test_memory_ctag_stamps_a_calendar_at_once_and_follows_its_changes(tmp_path: Path) -> None:
    memory = MemoryBackend(ctags=True)
    env = memory_env(tmp_path, memory)
    plan = small_plan()
    url = env.url(env.sync(plan), "konb")
    # No last-modified, a ctag instead: settled as soon as read, so the very next run lists nothing.
    mark = env.mark()
    result = env.sync(plan)
    assert _methods(env, mark) == ["PROPFIND"]
    assert result.writes == 0
    memory.person_delete(next(iter(memory.items(url))))
    mark = env.mark()
    result = env.sync(plan)
    assert "REPORT" in _methods(env, mark)
    assert next(c for c in result.calendars if c.key == "konb").count("create") == 1


def test_memory_ctag_that_does_not_follow_changes_is_distrusted(tmp_path: Path) -> None:
    memory = MemoryBackend(ctags=True, stamps_track_changes=False)
    env = memory_env(tmp_path, memory)
    plan = small_plan()
    url = env.url(env.sync(plan), "konb")
    memory.person_delete(next(iter(memory.items(url))))
    # The ctag stayed: the deletion goes unseen until the calendar is listed, which plansync's own
    # creations in it make it do; from then on the calendar is listed every run.
    more = with_event(plan, event("e4", "20 марта", title="Круглый стол", form="семинар"))
    env.sync(more)
    mark = env.mark()
    result = env.sync(more)
    assert "REPORT" in _methods(env, mark)
    assert next(c for c in result.calendars if c.key == "konb").count("create") == 1
    held = held_stamp(env, url)
    assert held is not None and not held.trusted


def test_memory_server_with_neither_stamp_is_asked_again_only_after_recheck(tmp_path: Path) -> None:
    env = memory_env(tmp_path, MemoryBackend())
    plan = small_plan()
    env.sync(plan)  # asked both kinds when listing after the writes: found neither
    for _ in range(2):
        mark = env.mark()
        env.sync(plan)
        assert _methods(env, mark) == ["REPORT", "REPORT"]
    mark = env.mark()
    env.sync(plan, settings=SyncConfig(recheck_every=dt.timedelta(microseconds=1)))
    assert _methods(env, mark) == ["PROPFIND", "PROPFIND", "REPORT", "REPORT"]
