"""A flaky network between plansync and Radicale (tests/faultproxy.py): resets, made-up 5xx and 429
answers with and without Retry-After, slow answers, timeouts and truncated bodies.

What is proven: retries happen only where they are safe (idempotent requests, If-Match/If-None-Match
writes), honour Retry-After up to a cap, and stop after a bounded number of attempts and time; a sync
under faults completes or fails with a clear message and never a traceback; once the faults stop the
next run converges; there is never a duplicate event and no event of somebody else is ever touched.
"""

from __future__ import annotations

import datetime as dt
import random
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from plansync.caldav.backend import BackendError, CalendarRefused
from plansync.caldav.client import CalDAVBackend
from plansync.caldav.retry import RetryPolicy, may_retry, next_step, permanent, retry_after_seconds
from tests.support import faultkit as fk
from tests.support.faultproxy import FAULTS, FaultConfig, FaultProxy
from tests.support.servers import RunningServer, radicale

pytestmark = pytest.mark.timeout(120)

FAST = RetryPolicy(base_delay=0.05, max_delay=0.2)


@pytest.fixture
def proxy(radicale: RunningServer) -> Iterator[FaultProxy]:
    with FaultProxy(radicale.url, FaultConfig(rate=0.0, hang=1.6)) as p:
        yield p


def backend(proxy: FaultProxy, user: str, policy: RetryPolicy = FAST) -> CalDAVBackend:
    return CalDAVBackend(proxy.url, username=user, password="pw", timeout=1, retry=policy)


def seen(proxy: FaultProxy, method: str) -> list[str]:
    return [fault for _, m, _, fault in proxy.log if m == method]


# -- the rules, on their own --------------------------------------------------------------------------


def test_only_safe_requests_may_be_repeated() -> None:
    for method in ("GET", "PROPFIND", "REPORT", "HEAD", "options"):
        assert may_retry(method, {})
    assert may_retry("PUT", {"If-None-Match": "*"}) and may_retry("PUT", {"if-match": '"e"'})
    assert may_retry("DELETE", {"If-Match": '"e"'})
    assert not may_retry("PUT", {"Content-Type": "text/calendar"})
    assert not may_retry("DELETE", None)
    for method in ("MKCALENDAR", "MKCOL", "PROPPATCH", "POST", "MOVE"):
        assert not may_retry(method, {"If-Match": '"e"'})


def test_retry_after_in_seconds_or_as_a_date() -> None:
    now = dt.datetime(2024, 5, 20, 12, 0, tzinfo=dt.UTC)
    assert retry_after_seconds("120", now) == 120
    assert retry_after_seconds("Mon, 20 May 2024 12:00:30 GMT", now) == 30
    assert retry_after_seconds("Mon, 20 May 2024 11:00:00 GMT", now) == 0  # in the past: now
    assert retry_after_seconds("soon", now) is None and retry_after_seconds(None, now) is None
    assert retry_after_seconds("9" * 40, now) == 999_999_999  # no overflow


def test_next_step_bounds_attempts_waits_and_time() -> None:
    policy = RetryPolicy(attempts=3, base_delay=1, max_delay=4, retry_after_cap=10, budget=20)
    assert next_step(policy, failures=1, elapsed=0, retry_after=None).delay == 1
    assert next_step(policy, failures=2, elapsed=0, retry_after=None).delay == 2
    assert not next_step(policy, failures=3, elapsed=0, retry_after=None).retry  # attempts
    assert next_step(policy, failures=1, elapsed=0, retry_after=7).delay == 7  # honoured
    verdict = next_step(policy, failures=1, elapsed=0, retry_after=11)  # beyond the cap
    assert not verdict.retry and "11 s" in verdict.why
    assert not next_step(policy, failures=1, elapsed=19.5, retry_after=None).retry  # the budget
    assert RetryPolicy(base_delay=1, max_delay=4).backoff(10) == 4


def test_certificate_errors_are_not_retried() -> None:
    import ssl

    try:
        raise ConnectionError("wrapped") from ssl.SSLCertVerificationError("certificate verify failed")
    except ConnectionError as exc:
        assert permanent(exc)
    assert not permanent(ConnectionResetError("reset by peer"))


# -- the backend through the proxy -------------------------------------------------------------------


@pytest.mark.parametrize("fault", FAULTS)
def test_a_read_is_retried_through_every_fault(proxy: FaultProxy, fault: str) -> None:
    proxy.config.script = [fault]
    proxy.config.methods = frozenset({"PROPFIND"})
    live = backend(proxy, f"read-{fault.replace('_', '-')}")
    url = live.resolve_calendar("k", url=None, name="Календарь", create=True)
    assert url is not None and url.endswith("/")
    listing = live.listing(url, sync_token=None, ctag=None)
    assert listing.complete and listing.items == {}
    assert proxy.injected[fault] == 1
    first = seen(proxy, "PROPFIND")
    assert first[0] == fault and first[1] == "none"  # the same request again, and it went through
    assert live.retries == (0 if fault == "slow" else 1)


def test_retry_after_is_honoured(proxy: FaultProxy) -> None:
    live = backend(proxy, "honour")
    url = live.resolve_calendar("k", url=None, name="Календарь", create=True)
    assert url is not None
    proxy.config.retry_after = 1
    proxy.config.script = ["http_429", "http_503_ra"]
    proxy.config.methods = frozenset({"REPORT"})
    live.listing(url, sync_token=None, ctag=None)
    times = [t for t, m, _, _ in proxy.log if m == "REPORT"]
    assert len(times) == 3
    assert times[1] - times[0] >= 0.95 and times[2] - times[1] >= 0.95  # not the 0.05 s backoff


def test_a_long_retry_after_fails_at_once_with_a_clear_message(proxy: FaultProxy) -> None:
    live = backend(proxy, "too-long")
    url = live.resolve_calendar("k", url=None, name="Календарь", create=True)
    assert url is not None
    proxy.config.retry_after = 3600
    proxy.config.script = ["http_503_ra"]
    proxy.config.methods = frozenset({"REPORT"})
    start = time.monotonic()
    with pytest.raises(BackendError, match=r"HTTP 503.*retry after 3600 s"):
        live.listing(url, sync_token=None, ctag=None)
    assert time.monotonic() - start < 2
    assert seen(proxy, "REPORT") == ["http_503_ra"]


def test_attempts_are_bounded(proxy: FaultProxy) -> None:
    live = backend(proxy, "bounded", RetryPolicy(attempts=3, base_delay=0.05))
    proxy.config.rate = 1.0
    proxy.config.faults = ("http_503",)
    proxy.config.methods = frozenset({"GET"})
    with pytest.raises(BackendError, match="HTTP 503"):
        live.get("/bounded/nowhere.ics")
    assert seen(proxy, "GET") == ["http_503"] * 3


def test_time_is_bounded_when_the_server_hangs(proxy: FaultProxy) -> None:
    live = backend(proxy, "hang", RetryPolicy(attempts=10, base_delay=0.05, budget=3))
    proxy.config.rate = 1.0
    proxy.config.faults = ("timeout",)
    start = time.monotonic()
    with pytest.raises(BackendError, match=r"(?i)timed? ?out"):
        live.get("/hang/nowhere.ics")
    assert time.monotonic() - start < 6  # the 3 s budget, plus the attempt under way
    assert 2 <= len(seen(proxy, "GET")) < 10


def test_mkcalendar_is_sent_once_and_a_lost_answer_is_looked_up(proxy: FaultProxy) -> None:
    proxy.config.methods = frozenset({"MKCALENDAR"})
    proxy.config.script = ["reset"]  # never reached the server
    live = backend(proxy, "mkcal-lost")
    with pytest.raises(BackendError, match="could not create the calendar «Календарь»") as info:
        live.resolve_calendar("k", url=None, name="Календарь", create=True)
    assert not isinstance(info.value, CalendarRefused)  # not "create it by hand"
    assert seen(proxy, "MKCALENDAR") == ["reset"]
    assert live.resolve_calendar("k", url=None, name="Календарь", create=True) is not None

    proxy.config.script = ["reset_after"]  # made, but the answer was lost
    live = backend(proxy, "mkcal-made")
    url = live.resolve_calendar("k", url=None, name="Календарь", create=True)
    assert url is not None and "/mkcal-made/plansync-k-" in url
    assert seen(proxy, "MKCALENDAR")[-1] == "reset_after"
    assert len(seen(proxy, "MKCALENDAR")) == 3  # one each: never repeated


# -- whole syncs --------------------------------------------------------------------------------------


def test_lost_answers_to_writes_make_no_duplicates(
    tmp_path: Path, radicale: RunningServer, proxy: FaultProxy
) -> None:
    folder = fk.SyncFolder(tmp_path, proxy.url, "lost-writes")
    proxy.config.methods = frozenset({"PUT", "DELETE"})
    # each fault hits one attempt; the retry after it goes through (and meets a 412 where the lost
    # write did happen)
    proxy.config.script = ["reset_after", "none", "http_502_after", "none", "truncate", "none", "reset_after"]
    run = fk.run_cli(["sync", "--config", str(folder.config)])
    assert run.code == 0 and not run.traceback, run.text
    assert proxy.total_injected == 4
    assert fk.converged(radicale.storage, folder)
    folder.write([(k, t + " (изм.)", d, o) for k, t, d, o in folder.events or []][:-2])
    proxy.config.script = ["reset_after", "none", "http_502_after", "none", "reset_after", "none"]
    run = fk.run_cli(["sync", "--config", str(folder.config)])
    assert run.code == 0 and not run.traceback, run.text
    assert fk.converged(radicale.storage, folder)
    assert fk.state_consistent(folder, radicale.storage)


def test_a_dead_server_is_a_clear_failure_not_a_hang(tmp_path: Path, proxy: FaultProxy) -> None:
    folder = fk.SyncFolder(tmp_path, proxy.url, "dead", timeout=1)
    proxy.config.rate = 1.0
    proxy.config.faults = ("timeout",)
    start = time.monotonic()
    run = fk.run_cli(["sync", "--config", str(folder.config), "--org", "lib-a"])
    assert time.monotonic() - start < 30
    assert run.code == 1 and not run.traceback, run.text
    assert "timed out" in run.out.lower() and "✗" in run.out
    assert "plansync: some events could not be synced" in run.err


@pytest.mark.parametrize("seed", [11, 12])
def test_sync_under_faults_converges_without_duplicates_or_damage(
    tmp_path: Path, radicale: RunningServer, proxy: FaultProxy, seed: int
) -> None:
    """A first sync and three plan edits at a 25 % fault rate, six foreign events in the calendars."""
    proxy.reseed(seed)
    proxy.config.rate = 0.25
    folder = fk.SyncFolder(tmp_path, proxy.url, f"flaky{seed}", timeout=1)
    figures = fk.network_trial(radicale, proxy, folder, seed)
    assert figures["problems"] == [], figures["problems"]
    assert figures["converged"] and figures["duplicates"] == 0 and figures["tracebacks"] == 0
    assert figures["foreign_events"] == 6 and figures["foreign_events_touched"] == 0
    assert figures["faults_injected"] >= 5, proxy.injected


def test_a_stopping_service_does_not_wait_to_retry(proxy: FaultProxy) -> None:
    """SIGTERM in `serve` sets retry.stop_waiting: a pending retry gives up at once instead of sleeping
    through a Retry-After (the service promises to stop within seconds)."""
    from plansync.caldav import retry

    live = backend(proxy, "stopping", RetryPolicy(retry_after_cap=60))
    url = live.resolve_calendar("k", url=None, name="Календарь", create=True)
    assert url is not None
    proxy.config.retry_after = 30
    proxy.config.script = ["http_503_ra"]
    proxy.config.methods = frozenset({"REPORT"})
    retry.stop_waiting.set()
    try:
        start = time.monotonic()
        with pytest.raises(BackendError, match="plansync is stopping"):
            live.listing(url, sync_token=None, ctag=None)
        assert time.monotonic() - start < 2
    finally:
        retry.stop_waiting.clear()
    assert seen(proxy, "REPORT") == ["http_503_ra"]


def test_serve_stops_within_seconds_while_the_server_says_retry_later(
    tmp_path: Path, proxy: FaultProxy
) -> None:
    import signal
    import subprocess

    folder = fk.SyncFolder(tmp_path, proxy.url, "serve-stop")
    proxy.config.rate = 1.0
    proxy.config.faults = ("http_503_ra",)
    proxy.config.retry_after = 25
    proc = fk.popen_plansync(["serve", "--config", str(folder.config)], tmp_path)
    try:
        deadline = time.monotonic() + 30
        while proxy.total_injected == 0 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert proxy.total_injected > 0, "the service never asked the server"
        time.sleep(0.5)  # inside the 25 s wait before the retry
        start = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=15)
        assert time.monotonic() - start < 8
        assert proc.returncode == 0, err.decode()
        assert b"Traceback" not in err
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
