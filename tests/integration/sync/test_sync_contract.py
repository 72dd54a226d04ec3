"""One test class, run against the memory backend and against real Radicale and Xandikos servers, so
the memory backend the state machine relies on cannot drift from what real servers do."""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import icalendar
import pytest

from plansync.caldav.backend import PreconditionFailed
from plansync.caldav.client import CalDAVBackend
from plansync.calendar import ical, identity, readback
from plansync.config.model import CalendarTarget, SyncConfig
from plansync.errors import EXIT_BRAKE
from plansync.model.plan import Plan
from plansync.sync.engine import sync
from plansync.sync.report import SyncResult, brake_message, format_report
from plansync.sync.state import open_state
from tests.support.memory_backend import MemoryBackend
from tests.support.plans import event, retitle, small_plan, with_event, without
from tests.support.servers import RunningServer, cyrus, radicale, sabredav_basic, sabredav_digest, xandikos
from tests.support.sync_env import Crash, Env, desired_summaries, env, foreign_event, server_summaries, writes

pytestmark = pytest.mark.timeout(60)
_names = itertools.count(1)


class TestContract:
    def test_first_sync_creates_one_calendar_per_organizer(self, env: Env) -> None:
        plan = small_plan()
        result = env.sync(plan)
        assert result.exit_code == 0, result
        for key in ("konb", "gaidar"):
            url = env.url(result, key)
            assert server_summaries(env, url) == desired_summaries(plan, key)
            # What the server stores reads back to exactly the owned fields plansync wrote.
            for uid, (_, _, body) in env.server(url).items():
                parsed = readback.parse(body)
                assert parsed.hash == ical.desired_events(plan, key)[uid].hash
                assert parsed.marker is not None and parsed.marker.calendar_id == key
        assert [c.count("create") for c in result.calendars] == [3, 1]

    def test_first_sync_lists_no_calendar_it_made_before_writing(self, env: Env) -> None:
        mark = env.mark()
        result = env.sync(small_plan())
        assert result.exit_code == 0, result
        seen = env.since(mark)
        methods = [m for m, _ in seen]
        writing = methods[: len(methods) - methods[::-1].index("PUT")]  # up to the last PUT
        # The calendars made just now are empty: nothing is listed until the writes are done, and then
        # each calendar once (to hold a sync token that covers plansync's own creations).
        assert "REPORT" not in writing and methods.count("MKCALENDAR") == 2, methods
        for n, (method, href) in enumerate(seen):
            if method == "MKCALENDAR":  # each made before the first PUT into it
                path = urlsplit(href).path.rstrip("/") + "/"
                puts = [
                    i for i, (m, h) in enumerate(seen) if m == "PUT" and urlsplit(h).path.startswith(path)
                ]
                assert puts and min(puts) > n, seen
        if not isinstance(env.backend, MemoryBackend):  # its discovery is a model: a PROPFIND a name
            # The calendar home is asked once for both names: none between the two calendars made.
            made = writing.index("MKCALENDAR")
            assert "PROPFIND" not in writing[made:], writing
        listings = methods.count("REPORT") + methods[len(writing) :].count("PROPFIND")
        # A server without sync-collection (SabreDAV 1.x) costs the one REPORT that finds out.
        unsupported = getattr(getattr(env.backend, "_options", None), "sync_collection", None) is False
        assert listings <= 2 + 2 + int(unsupported), methods

    def test_noop_resync_costs_at_most_two_requests_per_calendar_and_writes_nothing(self, env: Env) -> None:
        plan = small_plan()
        env.sync(plan)
        for _ in range(2):  # right after the writing run, and once more
            mark = env.mark()
            result = env.sync(plan)
            seen = env.since(mark)
            assert result.exit_code == 0
            assert writes(seen) == []
            assert len(seen) <= 2 * 2, seen
            assert all(c.count("unchanged") == len(desired_summaries(plan, c.key)) for c in result.calendars)

    def test_plan_edit_updates_and_keeps_what_people_added(self, env: Env) -> None:
        plan = small_plan()
        url = env.url(env.sync(plan), "konb")
        uid = identity.event_uid(plan.id, "e1", "konb")
        env.person_add_alarm(url, uid)  # not a conflict: alarms are not plansync's
        edited = retitle(plan, "e1", "Семинар: новое название")
        mark = env.mark()
        result = env.sync(edited)
        assert result.exit_code == 0
        konb = next(c for c in result.calendars if c.key == "konb")
        assert (konb.count("update"), konb.conflicts) == (1, 0)
        assert [m for m, _ in writes(env.since(mark))] == ["PUT"]
        body = env.server(url)[uid][2]
        assert readback.parse(body).fields["summary"] == "Семинар: новое название"  # type: ignore[index]
        assert b"BEGIN:VALARM" in body

    def test_combined_calendar_holds_the_plan_once_and_follows_its_edits(self, env: Env) -> None:
        env.combined = True
        plan = small_plan()
        result = env.sync(plan)
        assert result.exit_code == 0, result
        assert [c.key for c in result.calendars] == ["konb", "gaidar", identity.COMBINED]
        url = env.url(result, identity.COMBINED)
        assert server_summaries(env, url) == desired_summaries(plan, identity.COMBINED)
        assert len(env.server(url)) == len(plan.events)
        edited = retitle(plan, "e2", "Новое название")  # an event of both organizers
        again = env.sync(edited)
        assert {c.key: c.count("update") for c in again.calendars} == {
            "konb": 1,
            "gaidar": 1,
            identity.COMBINED: 1,
        }
        assert server_summaries(env, url) == desired_summaries(edited, identity.COMBINED)

    def test_event_removed_from_plan_is_deleted(self, env: Env) -> None:
        plan = small_plan()
        url = env.url(env.sync(plan), "konb")
        result = env.sync(without(plan, "e3"))
        assert result.exit_code == 0
        assert set(env.server(url)) == set(desired_summaries(without(plan, "e3"), "konb"))

    def test_event_added_by_a_person_is_untouched(self, env: Env) -> None:
        plan = small_plan()
        url = env.url(env.sync(plan), "konb")
        env.people.create(url, "personal.ics", foreign_event())
        before = env.server(url)["someone-else-1@example.org"]
        env.sync(plan)
        mark = env.mark()
        result = env.sync(without(plan, "e3"))  # even a run that deletes leaves it alone
        assert result.exit_code == 0
        assert [m for m, _ in writes(env.since(mark))] == ["DELETE"]
        assert env.server(url)["someone-else-1@example.org"] == before

    @pytest.mark.parametrize("policy", ["plan-wins", "server-wins", "report"])
    def test_an_event_a_person_copied_is_theirs(self, env: Env, policy: str) -> None:
        """A calendar app that duplicates an event keeps plansync's markers under a new UID: the copy is
        never updated or deleted, and is reported once."""
        plan = small_plan()
        settings = SyncConfig(conflict_policy=policy)  # type: ignore[arg-type]
        url = env.url(env.sync(plan, settings=settings), "konb")
        _, _, body = env.server(url)["plan-2024.e1.konb@plansync"]
        copy = body.replace(b"UID:plan-2024.e1.konb@plansync", b"UID:0A1B2C3D-copy@thunderbird")
        copy = copy.replace(b"SUMMARY:", b"SUMMARY:(copy) ")
        env.people.create(url, "0A1B2C3D-copy.ics", copy)
        result = env.sync(retitle(plan, "e1", "Новое название"), settings=settings)
        assert result.exit_code == 0
        (konb,) = [c for c in result.calendars if c.key == "konb"]
        assert any("looks like a copy of e1" in n for n in konb.notices), konb.notices
        assert "looks like a copy" in format_report(result)
        assert "(copy) " in server_summaries(env, url)["0A1B2C3D-copy@thunderbird"]
        again = env.sync(without(plan, "e1"), settings=settings, force_delete=True)  # the original goes
        assert not any(n for c in again.calendars for n in c.notices)  # said once
        summaries = server_summaries(env, url)
        assert "plan-2024.e1.konb@plansync" not in summaries
        assert summaries["0A1B2C3D-copy@thunderbird"].startswith("(copy) ")

    @pytest.mark.parametrize("policy", ["plan-wins", "server-wins", "report"])
    def test_person_edits_managed_event(self, env: Env, policy: str) -> None:
        plan = small_plan()
        settings = SyncConfig(conflict_policy=policy)  # type: ignore[arg-type]
        url = env.url(env.sync(plan, settings=settings), "konb")
        uid = identity.event_uid(plan.id, "e1", "konb")
        env.person_edit(url, uid, "Изменено человеком", alarm=True)
        result = env.sync(plan, settings=settings)
        konb = next(c for c in result.calendars if c.key == "konb")
        assert konb.conflicts == 1 and result.exit_code == 0
        body = env.server(url)[uid][2]
        summary = readback.parse(body).fields["summary"]  # type: ignore[index]
        assert b"BEGIN:VALARM" in body
        if policy == "plan-wins":
            assert summary == "Семинар «Библиотека, ты где?»"
        else:
            assert summary == "Изменено человеком"
        mark = env.mark()
        again = env.sync(plan, settings=settings)
        assert writes(env.since(mark)) == []
        expected_conflicts = 1 if policy == "report" else 0  # report keeps reporting; the others settled it
        assert next(c for c in again.calendars if c.key == "konb").conflicts == expected_conflicts

    @pytest.mark.parametrize("policy", ["server-wins", "report"])
    def test_an_unresolved_conflict_is_shown_by_every_run_until_resolved(self, env: Env, policy: str) -> None:
        plan = small_plan()
        settings = SyncConfig(conflict_policy=policy)  # type: ignore[arg-type]
        url = env.url(env.sync(plan, settings=settings), "konb")
        uid = identity.event_uid(plan.id, "e1", "konb")
        env.person_edit(url, uid, "Изменено человеком")
        for _ in range(3):  # the run that finds it, and every later one
            konb = next(c for c in env.sync(plan, settings=settings).calendars if c.key == "konb")
            assert [c.uid for c in konb.unresolved] == [uid]
            assert "1 unresolved conflict" in konb.summary()
        assert list(_open_conflicts(env, url)) == [uid]
        # Resolved: the person puts the plan's title back, so both sides agree.
        env.person_edit(url, uid, "Семинар «Библиотека, ты где?»")
        konb = next(c for c in env.sync(plan, settings=settings).calendars if c.key == "konb")
        assert konb.unresolved == [] and "unresolved" not in konb.summary()
        assert _open_conflicts(env, url) == {}

    def test_managed_event_deleted_by_a_person_is_recreated_under_plan_wins(self, env: Env) -> None:
        plan = small_plan()
        url = env.url(env.sync(plan), "konb")
        uid = identity.event_uid(plan.id, "e2", "konb")
        href, etag, _ = env.server(url)[uid]
        env.people.delete(href, etag)
        result = env.sync(plan)
        konb = next(c for c in result.calendars if c.key == "konb")
        assert (konb.count("create"), konb.conflicts) == (1, 1)
        assert uid in env.server(url)

    def test_412_makes_plansync_look_again_instead_of_overwriting(self, env: Env) -> None:
        plan = small_plan()
        url = env.url(env.sync(plan), "konb")
        uid = identity.event_uid(plan.id, "e1", "konb")
        env_ref = env

        class Meddling:
            """A person saves the event between plansync's look and its write."""

            def __init__(self, inner: Any) -> None:
                self.inner = inner
                self.done = False

            def __getattr__(self, name: str) -> Any:
                return getattr(self.inner, name)

            def update(self, href: str, etag: str, body: bytes) -> str:
                if not self.done:
                    self.done = True
                    env_ref.person_add_alarm(url, uid)
                try:
                    return str(self.inner.update(href, etag, body))
                except PreconditionFailed:
                    self.failed = True
                    raise

        meddling = Meddling(env.backend)
        result = env.sync(retitle(plan, "e1", "После 412"), backend=meddling)
        assert getattr(meddling, "failed", False), "the server did not answer 412"
        assert result.exit_code == 0, result
        body = env.server(url)[uid][2]
        assert readback.parse(body).fields["summary"] == "После 412"  # type: ignore[index]
        assert b"BEGIN:VALARM" in body  # the person's change survived the retry

    def test_crash_between_actions_then_next_run_converges(self, env: Env) -> None:
        plan = small_plan()

        class Dying:
            def __init__(self, inner: Any, after: int) -> None:
                self.inner = inner
                self.left = after

            def __getattr__(self, name: str) -> Any:
                return getattr(self.inner, name)

            def create(self, url: str, name: str, body: bytes) -> tuple[str, str]:
                result: tuple[str, str] = self.inner.create(url, name, body)
                self.left -= 1
                if self.left == 0:
                    raise Crash  # the server has it, the state database does not
                return result

        with pytest.raises(Crash):
            env.sync(plan, backend=Dying(env.backend, 2))
        result = env.sync(plan)
        assert result.exit_code == 0
        for key in ("konb", "gaidar"):
            url = env.url(result, key)
            assert server_summaries(env, url) == desired_summaries(
                plan, key
            )  # no duplicates (checked in .server)
        mark = env.mark()
        env.sync(plan)
        assert writes(env.since(mark)) == []

    def test_mass_delete_is_stopped_by_the_brake(self, env: Env) -> None:
        plan = with_event(small_plan(), event("e4", "5 апреля", title="Ещё семинар", form="семинар"))
        url = env.url(env.sync(plan), "konb")
        cut = without(plan, "e1", "e3", "e4")
        mark = env.mark()
        result = env.sync(cut)
        assert result.exit_code == EXIT_BRAKE
        assert writes(env.since(mark)) == []
        assert "--force-delete" in brake_message(result)
        assert len(env.server(url)) == 4
        forced = env.sync(cut, force_delete=True)
        assert forced.exit_code == 0
        assert set(env.server(url)) == {identity.event_uid(plan.id, "e2", "konb")}

    def test_emptied_calendar_stops_the_run(self, env: Env) -> None:
        plan = small_plan()
        url = env.url(env.sync(plan), "konb")
        for href, etag, _ in env.server(url).values():
            env.people.delete(href, etag)
        mark = env.mark()
        result = env.sync(plan)
        assert result.exit_code == EXIT_BRAKE
        assert "empty" in brake_message(result)
        assert writes(env.since(mark)) == []
        assert env.sync(plan, force_delete=True).exit_code == 0
        assert len(env.server(url)) == 3


@pytest.mark.slow  # starts the server it names
@pytest.mark.parametrize("server_name", ["radicale", "xandikos"])
def test_ctag_and_etag_listing_when_sync_collection_is_not_used(
    server_name: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    """Servers without RFC 6578: getctag first (1 request when nothing changed), else a full etag listing."""
    server: RunningServer = request.getfixturevalue(server_name)
    user = "ctag" if server_name == "radicale" else None
    backend = CalDAVBackend(server.url, username=user, password="x" if user else None)
    backend._options.sync_collection = False  # as if the server had answered the REPORT with 501
    people = CalDAVBackend(server.url, username=user, password="x" if user else None)
    targets = {"konb": CalendarTarget(name="КОНБ ctag"), "gaidar": CalendarTarget(name="Гайдара ctag")}
    env = Env(backend, people, tmp_path / "state", server.log.mark, server.log.since, targets)
    plan = small_plan()
    # Without last-modified stamps (Radicale has them: see test_sync_stamps), every run lists.
    plain = SyncConfig(recheck_every=dt.timedelta(0))
    url = env.url(env.sync(plan, settings=plain), "konb")
    env.sync(plan, settings=plain)  # the ctag moved with our own writes: one full listing
    mark = env.mark()
    result = env.sync(plan, settings=plain)
    seen = env.since(mark)
    assert result.exit_code == 0 and writes(seen) == []
    assert [m for m, _ in seen] == ["PROPFIND", "PROPFIND"], seen  # one getctag per calendar
    uid = identity.event_uid(plan.id, "e1", "konb")
    env.person_edit(url, uid, "Правка через ctag")
    result = env.sync(plan, settings=plain)
    assert next(c for c in result.calendars if c.key == "konb").conflicts == 1
    assert server_summaries(env, url)[uid] == "Семинар «Библиотека, ты где?»"


def _open_conflicts(env: Env, url: str) -> dict[str, object]:
    state = open_state(env.state_dir)
    try:
        return dict(state.conflicts(url))
    finally:
        state.close()
