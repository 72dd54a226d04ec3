"""A server that answers badly or hostilely: hrefs outside the calendar (another collection, `..`,
another host or port) get no request, the password goes to the configured server only (a redirect
included), and an answer's size and a request's time are bounded."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from plansync.caldav.backend import BackendError
from plansync.caldav.client import CalDAVBackend
from plansync.config.model import CalendarTarget, SyncConfig
from plansync.sync.engine import sync
from plansync.sync.state import open_state
from tests.support.hostile_server import HostileServer
from tests.support.plans import small_plan, without

pytestmark = [pytest.mark.timeout(120), pytest.mark.slow]  # slow: starts hostile HTTP servers
PASSWORD = "hostile-Pa55"


def _sync(server: HostileServer, tmp_path: Path, plan: object, **backend: object) -> object:
    live = CalDAVBackend(server.base + "/", username="u", password=PASSWORD, **backend)  # type: ignore[arg-type]
    state = open_state(tmp_path / "state")
    targets = {k: CalendarTarget(url=server.calendar_url(k)) for k in ("konb", "gaidar")}
    try:
        settings = SyncConfig(combined_calendar=False)
        return sync([plan], backend=live, state=state, targets=targets, settings=settings)  # type: ignore[list-item]
    finally:
        state.close()
        live.close()


def test_hrefs_outside_the_calendar_get_nothing(tmp_path: Path) -> None:
    with HostileServer("escape") as server:
        first = _sync(server, tmp_path, small_plan())
        again = _sync(server, tmp_path, without(small_plan(), "e3"), timeout=5)  # a run that deletes
        assert first.exit_code == 0 and again.exit_code == 0  # type: ignore[attr-defined]
        for method, path, _ in server.log.writes():
            key = "konb" if "/cal/konb/" in path else "gaidar"
            assert path.startswith(f"/cal/{key}/") and ".." not in path and "trap" not in path, (method, path)
        assert not any("trap" in p for m, p, _ in server.log.entries if m in ("DELETE", "PUT"))
        assert server.other is not None and server.other.log.entries == []  # nothing went to the other host
        notices = [n for c in again.calendars for n in c.notices]  # type: ignore[attr-defined]
        assert any("outside this calendar" in n for n in notices), notices


def test_a_redirect_to_another_host_gets_no_password(tmp_path: Path) -> None:
    with HostileServer("normal") as server:
        live = CalDAVBackend(server.base + "/.well-known/caldav", username="u", password=PASSWORD)
        with pytest.raises(BackendError, match="not the configured server"):
            live.resolve_calendar("konb", url=None, name="КОНБ", create=False)
        assert server.other is not None and server.other.log.with_credentials() == []
        assert server.other.log.entries == []


def test_a_huge_answer_is_refused_without_reading_it_whole(tmp_path: Path) -> None:
    with HostileServer("huge", huge_bytes=300 * 1024 * 1024) as server:
        live = CalDAVBackend(server.base + "/", username="u", password=PASSWORD, max_response_bytes=4 << 20)
        started = time.monotonic()
        with pytest.raises(BackendError, match="larger than 4 MB"):
            live.listing(server.calendar_url("konb"), sync_token=None, ctag=None)
        assert time.monotonic() - started < 10
        live.close()


def test_a_dripping_server_is_cut_off(tmp_path: Path) -> None:
    with HostileServer("slow", drip_s=0.5) as server:
        live = CalDAVBackend(server.base + "/", username="u", password=PASSWORD, timeout=2)
        started = time.monotonic()
        with pytest.raises(BackendError, match="timed out"):
            live.listing(server.calendar_url("konb"), sync_token=None, ctag=None)
        elapsed = time.monotonic() - started
        live.close()
    assert elapsed < 15  # 2 s a request, a few attempts: not a byte every half second for minutes
