"""`plansync serve` as a real subprocess against real servers on 127.0.0.1 (Radicale, aiosmtpd), with a
short sync interval and the hidden controllable clock (`--clock-file`): it syncs, picks up plan edits,
sends the weekly digests once at the scheduled time and catches up after a restart, survives CalDAV
and SMTP outages, reloads on SIGHUP, exits 0 on SIGTERM in the middle of a sync, speaks sd_notify, and
logs one line per event (text, journald or JSON) without ever showing a password.

Every wait polls with a deadline; every process started here is killed in the fixture's teardown.
The plan's time zone is Europe/Kaliningrad (UTC+2): the digests are due on Mondays at 08:00 there,
06:00 UTC. Monday 2024-05-20 is the digest day used throughout.
"""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from plansync.cli.main import cli
from plansync.jobs.runlog import read_service
from tests.support.plans import write_plan_yaml
from tests.support.servers import RunningServer, WSGIApp, free_port, radicale, start_radicale
from tests.support.smtp import PASSWORD as SMTP_PASSWORD
from tests.support.smtp import USER as SMTP_USER
from tests.support.smtp import SMTPServer, TLSFiles, start_server, tls_files

pytestmark = [pytest.mark.timeout(90), pytest.mark.slow]  # slow: plansync serve as a process

WAIT = 20.0  # the longest any single wait may take; most end within a second or two
CALDAV_PASSWORD_ENV = "TEST_CALDAV_PASSWORD"
SMTP_PASSWORD_ENV = "TEST_SMTP_PASSWORD"
BEFORE_DIGEST = "2024-05-20T05:59:00+00:00"  # Monday 07:59 in Kaliningrad
AFTER_DIGEST = "2024-05-20T06:00:05+00:00"  # Monday 08:00:05 there
MIDWEEK = "2024-05-22T10:00:00+00:00"  # Wednesday: this week's digest is long gone (outbox)
SYNC_OK = re.compile(r"\bsync: \d+ calendars, ")
LAST_WEEK_SKIPPED = "digests due 2024-05-13: their week 2024-05-13 … 2024-05-19 is over; not sent"

# lib-a: prev, e1, e2; lib-b: prev, e2. "prev" lies in the week before the digest day.
EVENTS: list[tuple[str, str, str, list[str]]] = [
    ("prev", "Прошлонедельный семинар", "15 мая", ["lib-a", "lib-b"]),
    ("e1", "Семинар «Библиотека, ты где?»", "21 мая", ["lib-a"]),
    ("e2", "Вебинар по обслуживанию", "23 мая, 10:00", ["lib-a", "lib-b"]),
]
CALENDAR_A = "Библиотека А — план"
CALENDAR_B = "Библиотека Б — план"


def uid(key: str, calendar: str) -> str:
    return f"test-plan.{key}.{calendar}@plansync"


# -- the folder a service runs in -------------------------------------------------------------------


@dataclass
class Setup:
    """A config, a plan and a clock file in one folder; the state lives in `state/` beside them."""

    folder: Path
    caldav_url: str
    user: str
    interval: str = "2s"
    smtp_port: int | None = None
    ca_file: Path | None = None
    caldav_block: str = ""  # replaces the caldav section (the embedded server)
    events: list[tuple[str, str, str, list[str]]] = field(default_factory=lambda: list(EVENTS))

    def __post_init__(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        self.write_plan(self.events)
        self.write_config()

    @property
    def config(self) -> Path:
        return self.folder / "plansync.yaml"

    @property
    def plan(self) -> Path:
        return self.folder / "plan.yaml"

    @property
    def clock(self) -> Path:
        return self.folder / "clock"

    @property
    def state(self) -> Path:
        return self.folder / "state"

    def write_plan(self, events: list[tuple[str, str, str, list[str]]]) -> None:
        self.events = events
        write_plan_yaml(self.plan, events)

    def retitle(self, key: str, title: str) -> None:
        self.write_plan([(k, title if k == key else t, d, o) for k, t, d, o in self.events])

    def write_config(self) -> None:
        if self.smtp_port is not None:
            mail = (
                "mail:\n  transport: smtp\n  smtp:\n    host: 127.0.0.1\n"
                f"    port: {self.smtp_port}\n    security: starttls\n    username: {SMTP_USER}\n"
                f"    password_env: {SMTP_PASSWORD_ENV}\n    ca_file: {self.ca_file}\n    timeout: 5\n"
            )
        else:
            mail = "mail:\n  transport: outbox\n  outbox: outbox\n"
        caldav = self.caldav_block or (
            f"caldav:\n  url: {self.caldav_url}\n  username: {self.user}\n"
            f"  password_env: {CALDAV_PASSWORD_ENV}\n  timeout: 5\n"
        )
        self.config.write_text(
            "plans: [plan.yaml]\nstate_dir: state\n"
            + caldav
            # (the service's own counts; the combined calendar has its tests in tests/integration/calendar)
            + f"sync:\n  interval: {self.interval}\n  combined_calendar: false\n"
            + 'digest:\n  from: "Сводный план библиотек <plansync@example.org>"\n  schedule: mon 08:00\n'
            + "  reply_to: nmo@lib39.ru\n"
            + mail,
            encoding="utf-8",
        )

    def set_clock(self, when: str | dt.datetime) -> None:
        text = when.isoformat() if isinstance(when, dt.datetime) else when
        self.clock.write_text(text + "\n", encoding="utf-8")

    def clock_now(self) -> dt.datetime:
        """About what the service's clock says (the file's time, run on since it was written)."""
        base = dt.datetime.fromisoformat(self.clock.read_text(encoding="utf-8").strip())
        return base + dt.timedelta(seconds=time.time() - self.clock.stat().st_mtime)

    def advance_clock(self, seconds: float) -> None:
        self.set_clock(self.clock_now() + dt.timedelta(seconds=seconds))

    def status(self) -> dict[str, Any]:
        env: dict[str, str | None] = {k: None for k in os.environ if k.startswith("PLANSYNC_")}
        result = CliRunner().invoke(
            cli, ["status", "--json", "--config", str(self.config)], env=env, catch_exceptions=False
        )
        assert result.exit_code == 0, result.output
        status: dict[str, Any] = json.loads(result.stdout)
        return status

    def heartbeat(self) -> str | None:
        return read_service(self.state).get("heartbeat")


# -- the service process ----------------------------------------------------------------------------

_SCRUBBED = ("PLANSYNC_", "NOTIFY_SOCKET", "WATCHDOG_", "JOURNAL_STREAM", "INVOCATION_ID", "LISTEN_")


class Serve:
    """One `plansync serve` subprocess; its stderr (the log) and stdout go to files polled by the test."""

    def __init__(self, setup: Setup, env: dict[str, str], args: Iterable[str], name: str) -> None:
        self.setup = setup
        self.stderr_path = setup.folder / f"{name}.stderr"
        self.stdout_path = setup.folder / f"{name}.stdout"
        environ = {k: v for k, v in os.environ.items() if not k.startswith(_SCRUBBED)}
        environ.update({CALDAV_PASSWORD_ENV: "caldav-pw", SMTP_PASSWORD_ENV: SMTP_PASSWORD, **env})
        command = [sys.executable, "-m", "plansync", "serve", "--config", str(setup.config)]
        command += ["--clock-file", str(setup.clock), *args]
        with self.stderr_path.open("wb") as err, self.stdout_path.open("wb") as out:
            self.proc = subprocess.Popen(
                command, stdin=subprocess.DEVNULL, stdout=out, stderr=err, env=environ, cwd=setup.folder
            )

    @property
    def log(self) -> str:
        return self.stderr_path.read_text(encoding="utf-8", errors="replace")

    @property
    def stdout(self) -> str:
        return self.stdout_path.read_text(encoding="utf-8", errors="replace")

    def mark(self) -> int:
        return len(self.log)

    def since(self, mark: int) -> str:
        return self.log[mark:]

    def alive(self) -> bool:
        return self.proc.poll() is None

    def wait_for(
        self, needle: str | re.Pattern[str], *, after: int = 0, count: int = 1, timeout: float = WAIT
    ) -> str:
        """Wait until the log (from `after` on) holds `needle` `count` times; the log from `after`."""
        deadline = time.monotonic() + timeout
        while True:
            text = self.since(after)
            found = len(needle.findall(text)) if isinstance(needle, re.Pattern) else text.count(needle)
            if found >= count:
                return text
            if not self.alive():
                pytest.fail(f"serve exited ({self.proc.returncode}) before {needle!r}:\n{self.log}")
            if time.monotonic() > deadline:
                pytest.fail(f"no {needle!r} ×{count} within {timeout} s; the log:\n{self.log}")
            time.sleep(0.05)

    def wait_ticks(self, n: int = 3) -> None:
        """Let the loop go round `n` more times (it writes a heartbeat on every tick)."""
        seen = self.setup.heartbeat()
        for _ in range(n):
            wait_until(lambda: self.setup.heartbeat() != seen, "a heartbeat", self)  # noqa: B023
            seen = self.setup.heartbeat()

    def send(self, signum: int) -> None:
        self.proc.send_signal(signum)

    def stop(self, timeout: float = 10.0) -> int:
        """SIGTERM, and the exit status (a stuck process fails the test)."""
        if self.alive():
            self.send(signal.SIGTERM)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            pytest.fail(f"serve did not stop within {timeout} s of SIGTERM:\n{self.log}")

    def kill(self) -> None:
        if self.alive():
            self.proc.kill()
        self.proc.wait(10)


def wait_until(
    predicate: Callable[[], bool], what: str, serve: Serve | None = None, timeout: float = WAIT
) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if serve is not None and not serve.alive():
            pytest.fail(f"serve exited ({serve.proc.returncode}) while waiting for {what}:\n{serve.log}")
        if time.monotonic() > deadline:
            pytest.fail(f"no {what} within {timeout} s" + (f"; the log:\n{serve.log}" if serve else ""))
        time.sleep(0.05)


Launch = Callable[..., Serve]


@pytest.fixture
def launch() -> Iterator[Launch]:
    """launch(setup, env={...}, args=[...]) starts a service; all are killed at the end of the test."""
    started: list[Serve] = []

    def start(setup: Setup, env: dict[str, str] | None = None, args: Iterable[str] = ()) -> Serve:
        serve = Serve(setup, env or {}, args, f"serve-{len(started) + 1}")
        started.append(serve)
        return serve

    yield start
    for serve in started:
        serve.kill()


# -- looking at the servers -------------------------------------------------------------------------


def server_events(url: str, user: str, password: str = "x") -> dict[str, list[tuple[str, str]]]:
    """An independent look with the caldav library: calendar name → [(UID, SUMMARY)]."""
    import caldav

    with caldav.DAVClient(url=url, username=user, password=password, auth_type="basic") as client:
        out: dict[str, list[tuple[str, str]]] = {}
        for calendar in client.principal().get_calendars():
            out[str(calendar.get_display_name())] = [
                (str(e.icalendar_component["UID"]), str(e.icalendar_component["SUMMARY"]))
                for e in calendar.get_events()
            ]
        return out


def uids(events: dict[str, list[tuple[str, str]]], calendar: str) -> set[str]:
    return {u for u, _ in events.get(calendar, [])}


def summary_of(events: dict[str, list[tuple[str, str]]], calendar: str, event_uid: str) -> str | None:
    return next((s for u, s in events.get(calendar, []) if u == event_uid), None)


def recipients(smtp: SMTPServer) -> list[str]:
    with smtp.recorder.lock:
        return sorted(r for m in smtp.messages for r in m.rcpt_tos)


def subjects(smtp: SMTPServer) -> list[str]:
    import email
    import email.policy

    with smtp.recorder.lock:
        return sorted(
            str(email.message_from_bytes(m.data, policy=email.policy.default)["Subject"])
            for m in smtp.messages
        )


@pytest.fixture
def own_radicale(tmp_path: Path) -> Iterator[list[RunningServer]]:
    """A Radicale of this test alone (a list, so that the test can stop it and start it again)."""
    servers = [start_radicale(tmp_path / "radicale")]
    yield servers
    servers[-1].stop()


@pytest.fixture
def smtp_servers(tls_files: TLSFiles) -> Iterator[list[SMTPServer]]:
    """An SMTP server of this test alone; like own_radicale, the test may replace it."""
    servers = [start_server(tls_files)]
    yield servers
    with contextlib.suppress(AssertionError, RuntimeError):  # stopped by the test already
        servers[-1].controller.stop()


# -- 1. it syncs, and status says so ----------------------------------------------------------------


def test_serve_syncs_and_status_reports_it(tmp_path: Path, radicale: RunningServer, launch: Launch) -> None:
    setup = Setup(tmp_path, radicale.url, "serve-sync")
    setup.set_clock(MIDWEEK)
    serve = launch(setup)
    serve.wait_for(SYNC_OK)

    events = server_events(radicale.url, setup.user)
    assert uids(events, CALENDAR_A) == {uid(k, "lib-a") for k in ("prev", "e1", "e2")}
    assert uids(events, CALENDAR_B) == {uid(k, "lib-b") for k in ("prev", "e2")}
    assert "Вебинар по обслуживанию" in (summary_of(events, CALENDAR_B, uid("e2", "lib-b")) or "")

    status = setup.status()
    assert status["service"]["running"] is True and status["service"]["pid"] == serve.proc.pid
    assert {c["calendar"]: c["result"] for c in status["calendars"]} == {"lib-a": "ok", "lib-b": "ok"}
    assert all(c["error"] is None and "0 failed" in c["summary"] for c in status["calendars"])
    next_sync = dt.datetime.fromisoformat(status["next"]["sync"])
    next_digest = dt.datetime.fromisoformat(status["next"]["digest"])
    clock = setup.clock_now()
    assert clock < next_sync <= clock + dt.timedelta(seconds=5)  # interval 2s, in the clock's time
    assert next_digest == dt.datetime(2024, 5, 27, 6, 0, tzinfo=dt.UTC)  # next Monday 08:00 +02:00
    assert next_digest.utcoffset() == dt.timedelta(hours=2)  # shown in the plan's zone

    assert serve.stop() == 0
    status = setup.status()
    assert status["service"]["running"] is False and status["next"]["sync"] is None
    assert {c["result"] for c in status["calendars"]} == {"ok"}


# -- 2. plan edits ----------------------------------------------------------------------------------


def test_plan_edit_is_synced_soon_and_a_broken_edit_keeps_the_last_good_plan(
    tmp_path: Path, radicale: RunningServer, launch: Launch
) -> None:
    setup = Setup(tmp_path, radicale.url, "serve-edit", interval="1h")  # only the edit can trigger it
    setup.set_clock(MIDWEEK)
    serve = launch(setup)
    serve.wait_for(SYNC_OK)

    mark = serve.mark()
    setup.retitle("e2", "Вебинар переименован")
    serve.wait_for("a plan file changed", after=mark)
    text = serve.wait_for(SYNC_OK, after=mark)
    assert "2 updated" in text
    events = server_events(radicale.url, setup.user)
    assert "Вебинар переименован" in (summary_of(events, CALENDAR_A, uid("e2", "lib-a")) or "")
    assert "Вебинар переименован" in (summary_of(events, CALENDAR_B, uid("e2", "lib-b")) or "")

    # A broken edit that, were it half taken, would delete almost everything.
    before = server_events(radicale.url, setup.user)
    requests = radicale.log.mark()
    mark = serve.mark()
    setup.plan.write_text(
        setup.plan.read_text(encoding="utf-8").split("events:")[0]
        + 'events:\n  - {key: e1, title: Сломано, date: "31 февраля", organizers: [nobody]}\n',
        encoding="utf-8",
    )
    text = serve.wait_for("the changed plan has problems; still using the previous version", after=mark)
    assert "nobody" in text  # the problem is named
    setup.advance_clock(3600)  # the next periodic sync: with the last good plan
    text = serve.wait_for(SYNC_OK, after=mark)
    assert "0 created, 0 updated, 0 deleted" in text
    assert radicale.log.writes_since(requests) == []
    assert server_events(radicale.url, setup.user) == before

    # Fixed again: the next edit goes through.
    mark = serve.mark()
    setup.retitle("e1", "Семинар исправлен")
    serve.wait_for("a plan file changed", after=mark)
    wait_until(
        lambda: (
            "Семинар исправлен"
            in (summary_of(server_events(radicale.url, setup.user), CALENDAR_A, uid("e1", "lib-a")) or "")
        ),
        "the fixed plan's title on the server",
        serve,
    )
    assert serve.stop() == 0


# -- 3. the digest, once, at the scheduled time ------------------------------------------------------


def test_digest_is_sent_once_at_the_scheduled_time(
    tmp_path: Path,
    radicale: RunningServer,
    smtp_servers: list[SMTPServer],
    tls_files: TLSFiles,
    launch: Launch,
) -> None:
    smtp = smtp_servers[0]
    setup = Setup(tmp_path, radicale.url, "serve-digest", smtp_port=smtp.port, ca_file=tls_files.ca)
    setup.set_clock(BEFORE_DIGEST)
    serve = launch(setup)
    # Monday 07:59: this week's digest is not due yet, and last week's (whose week ended yesterday,
    # with "prev" in it) is no use to anyone now.
    serve.wait_for(LAST_WEEK_SKIPPED)
    serve.wait_ticks(1)
    assert smtp.messages == [], subjects(smtp)

    mark = serve.mark()
    setup.set_clock(AFTER_DIGEST)
    wait_until(lambda: len(smtp.messages) >= 2, "two digests", serve)
    serve.wait_ticks(2)
    assert recipients(smtp) == ["a@lib.example", "b@lib.example"]
    assert all("20–26 мая 2024" in s for s in subjects(smtp))
    assert all(m.tls and m.authenticated for m in smtp.messages)
    assert serve.since(mark).count("digest 2024-05-20: sent") == 2

    # Time goes on, and a plan edit makes the service look again: the ledger sends no digest twice,
    # and the change to the week already sent goes out once, as a short notice.
    mark = serve.mark()
    setup.set_clock("2024-05-20T06:30:00+00:00")
    setup.retitle("e1", "Семинар, новое название")
    serve.wait_for("already-sent", after=mark, count=2)
    serve.wait_for("changes-sent", after=mark, count=2)
    serve.wait_ticks(2)
    assert len(smtp.messages) == 4
    assert sum(s.startswith("Изменения в плане") for s in subjects(smtp)) == 2
    status = setup.status()
    assert status["digests"] == {"pending": [], "failed": []}
    assert serve.stop() == 0


# -- 4. catching up after a restart -----------------------------------------------------------------


def test_a_missed_digest_is_caught_up_after_a_restart_and_never_resent(
    tmp_path: Path,
    radicale: RunningServer,
    smtp_servers: list[SMTPServer],
    tls_files: TLSFiles,
    launch: Launch,
) -> None:
    smtp = smtp_servers[0]
    setup = Setup(tmp_path, radicale.url, "serve-catchup", smtp_port=smtp.port, ca_file=tls_files.ca)
    setup.set_clock(BEFORE_DIGEST)
    first = launch(setup)
    first.wait_for(LAST_WEEK_SKIPPED)
    assert first.stop() == 0
    assert smtp.messages == []

    setup.set_clock("2024-05-20T09:30:00+00:00")  # down over 08:00; back at 11:30 local
    second = launch(setup)
    wait_until(lambda: len(smtp.messages) >= 2, "the caught-up digests", second)
    second.wait_ticks(1)
    assert second.stop() == 0
    assert recipients(smtp) == ["a@lib.example", "b@lib.example"]

    setup.set_clock("2024-05-20T10:00:00+00:00")
    third = launch(setup)
    third.wait_for("digest 2024-05-20: total: 2 already-sent")
    third.wait_ticks(1)
    assert third.stop() == 0
    assert len(smtp.messages) == 2


# -- 5. outages -------------------------------------------------------------------------------------


def test_survives_the_caldav_server_going_down_and_coming_back(
    tmp_path: Path, own_radicale: list[RunningServer], launch: Launch
) -> None:
    server = own_radicale[0]
    port = server.port
    # A long interval, so that the backoff (30 s, 1 min, …) shows; the clock file skips the waiting.
    setup = Setup(tmp_path / "svc", server.url, "serve-outage", interval="10m")
    setup.set_clock(MIDWEEK)
    serve = launch(setup)
    serve.wait_for(SYNC_OK)

    server.stop()
    mark = serve.mark()
    setup.retitle("e1", "Семинар во время сбоя")
    text = serve.wait_for("sync failed (1 in a row)", after=mark)
    assert "next try in 0:00:30" in text
    status = setup.status()
    assert status["service"]["running"] is True
    assert {c["result"] for c in status["calendars"]} == {"failed"}
    assert all(c["error"] for c in status["calendars"])

    setup.advance_clock(31)
    text = serve.wait_for("sync failed (2 in a row)", after=mark)
    assert "next try in 0:01:00" in text
    serve.wait_ticks(2)
    assert "sync failed (3 in a row)" not in serve.since(mark)  # it waits for the backoff
    assert serve.alive()

    own_radicale.append(start_radicale(server.storage, port=port))
    mark = serve.mark()
    setup.advance_clock(61)
    text = serve.wait_for(SYNC_OK, after=mark)
    assert "1 updated" in text
    assert "Семинар во время сбоя" in (
        summary_of(server_events(server.url, setup.user), CALENDAR_A, uid("e1", "lib-a")) or ""
    )
    assert {c["result"] for c in setup.status()["calendars"]} == {"ok"}
    assert serve.stop() == 0


def test_survives_the_smtp_server_going_down_and_coming_back(
    tmp_path: Path,
    radicale: RunningServer,
    smtp_servers: list[SMTPServer],
    tls_files: TLSFiles,
    launch: Launch,
) -> None:
    smtp = smtp_servers[0]
    setup = Setup(tmp_path, radicale.url, "serve-smtp-outage", smtp_port=smtp.port, ca_file=tls_files.ca)
    setup.set_clock(BEFORE_DIGEST)
    serve = launch(setup)
    serve.wait_for(SYNC_OK)

    smtp.controller.stop()
    mark = serve.mark()
    setup.set_clock(AFTER_DIGEST)
    text = serve.wait_for("digests due 2024-05-20: 2 to retry later", after=mark)
    assert "refused" in text
    status = setup.status()
    assert status["service"]["running"] is True
    assert sorted(d["recipient"] for d in status["digests"]["pending"]) == ["a@lib.example", "b@lib.example"]
    assert status["digests"]["failed"] == []

    back = start_server(tls_files, port=smtp.port)
    smtp_servers.append(back)
    serve.wait_ticks(2)
    assert back.messages == []  # still within the backoff
    setup.set_clock("2024-05-20T06:20:00+00:00")  # past the ledger's 15 min and the service's 5 min
    wait_until(lambda: len(back.messages) >= 2, "the digests after the SMTP server came back", serve)
    serve.wait_ticks(3)
    assert recipients(back) == ["a@lib.example", "b@lib.example"]
    assert smtp.messages == []
    assert setup.status()["digests"] == {"pending": [], "failed": []}
    assert serve.stop() == 0


# -- 6. SIGHUP ---------------------------------------------------------------------------------------


def test_sighup_reloads_the_config_and_keeps_the_old_one_when_the_new_is_broken(
    tmp_path: Path, radicale: RunningServer, launch: Launch
) -> None:
    setup = Setup(tmp_path, radicale.url, "serve-hup")
    setup.set_clock(MIDWEEK)
    serve = launch(setup)
    serve.wait_for(SYNC_OK)

    setup.interval = "1h"
    setup.write_config()
    mark = serve.mark()
    serve.send(signal.SIGHUP)
    reloaded = mark + serve.wait_for("reloaded", after=mark).index("reloaded")
    serve.wait_for(SYNC_OK, after=reloaded)
    serve.wait_ticks(1)
    next_sync = dt.datetime.fromisoformat(setup.status()["next"]["sync"])
    assert next_sync > setup.clock_now() + dt.timedelta(minutes=59)

    setup.config.write_text(
        setup.config.read_text(encoding="utf-8").replace("interval: 1h", "interval: soon"), encoding="utf-8"
    )
    mark = serve.mark()
    serve.send(signal.SIGHUP)
    text = serve.wait_for("reload failed, keeping the running config and plans", after=mark)
    assert "sync.interval" in text and "soon" in text
    serve.wait_ticks(2)
    assert serve.alive()
    # (`status` itself needs a readable config; the service's own record says it all.)
    service = read_service(setup.state)
    assert service["pid"] == str(serve.proc.pid) and service["activity"] == "idle"
    assert dt.datetime.fromisoformat(service["next_sync"]) == next_sync  # the old config still rules
    assert serve.stop() == 0


# -- 7. SIGTERM in the middle of a sync --------------------------------------------------------------


class SlowPuts:
    """WSGI middleware: every PUT waits `delay` seconds before the server handles it."""

    def __init__(self, delay: float) -> None:
        self.delay = delay
        self.app: WSGIApp | None = None

    def around(self, app: WSGIApp) -> WSGIApp:
        self.app = app
        return self

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        assert self.app is not None
        if environ["REQUEST_METHOD"] == "PUT" and self.delay:
            time.sleep(self.delay)
        return self.app(environ, start_response)


def test_sigterm_in_the_middle_of_a_sync_exits_0_and_the_next_run_converges(
    tmp_path: Path, own_radicale: list[RunningServer], launch: Launch
) -> None:
    server = own_radicale[0]
    slow = SlowPuts(0.25)
    server.wrap(slow.around)
    many = [(f"m{d}", f"Мероприятие {d}", f"{d} июня", ["lib-a"]) for d in range(1, 31)]
    setup = Setup(tmp_path / "svc", server.url, "serve-term", events=many)
    setup.set_clock(MIDWEEK)
    serve = launch(setup)
    wait_until(lambda: sum(1 for m, _ in server.log.entries if m == "PUT") >= 4, "a sync under way", serve)
    started = time.monotonic()
    serve.send(signal.SIGTERM)
    assert serve.stop() == 0
    assert time.monotonic() - started < 5
    puts = sum(1 for m, _ in server.log.entries if m == "PUT")
    assert 4 <= puts < 30, puts  # it really stopped half-way
    assert "sync interrupted between two actions" in serve.log
    assert "SIGTERM received" in serve.log and serve.log.rstrip().endswith("stopped")

    slow.delay = 0
    again = launch(setup)
    text = again.wait_for(SYNC_OK)
    assert f"sync: 2 calendars, {30 - puts} created, 0 updated, 0 deleted" in text
    assert setup.status()["calendars"][0]["result"] == "ok"
    events = server_events(server.url, setup.user)
    per_uid = Counter(u for u, _ in events[CALENDAR_A])
    assert set(per_uid) == {uid(k, "lib-a") for k, *_ in many}
    assert set(per_uid.values()) == {1}  # no duplicates
    assert again.stop() == 0


class SlowRequests(SlowPuts):
    """Every request waits: a slow server while the sync is still looking at the calendars."""

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        assert self.app is not None
        time.sleep(self.delay)
        return self.app(environ, start_response)


def test_sigterm_while_the_sync_is_still_looking_writes_no_event(
    tmp_path: Path, own_radicale: list[RunningServer], launch: Launch
) -> None:
    server = own_radicale[0]
    server.wrap(SlowRequests(0.3).around)
    setup = Setup(tmp_path / "svc", server.url, "serve-term-look")
    setup.set_clock(MIDWEEK)
    serve = launch(setup)
    wait_until(lambda: server.log.mark() >= 1, "the sync's first request", serve)
    started = time.monotonic()
    serve.send(signal.SIGTERM)
    assert serve.stop() == 0
    # The looking goes on to its end (the sync has no stop check there), but no event is written.
    assert time.monotonic() - started < 10
    assert [e for e in server.log.entries if e[0] in ("PUT", "DELETE")] == []
    assert "sync interrupted between two actions" in serve.log


# -- 8. sd_notify, under a journal -------------------------------------------------------------------


def test_sd_notify_and_journal_lines(tmp_path: Path, radicale: RunningServer, launch: Launch) -> None:
    name = f"plansync-test-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind("\0" + name)
        sock.settimeout(0.1)
        received: list[dict[str, str]] = []

        def wait_message(key: str, value: str | None = None, serve: Serve | None = None) -> dict[str, str]:
            deadline = time.monotonic() + WAIT
            while time.monotonic() < deadline:
                for message in received:
                    if key in message and (value is None or message[key] == value):
                        received.remove(message)
                        return message
                try:
                    data = sock.recv(4096)
                except TimeoutError:
                    continue
                received.append(dict(line.split("=", 1) for line in data.decode().splitlines()))
            pytest.fail(f"no {key}={value} from sd_notify; got {received}" + (serve.log if serve else ""))

        setup = Setup(tmp_path, radicale.url, "serve-notify")
        setup.set_clock(MIDWEEK)
        env = {"NOTIFY_SOCKET": "@" + name, "WATCHDOG_USEC": "600000", "JOURNAL_STREAM": "8:123456"}
        serve = launch(setup, env=env)
        ready = wait_message("READY", "1", serve)
        assert ready["MAINPID"] == str(serve.proc.pid) and ready["STATUS"]
        serve.wait_for(SYNC_OK)
        for _ in range(3):
            wait_message("WATCHDOG", "1", serve)
        assert wait_message("STATUS", None, serve)

        serve.send(signal.SIGHUP)
        reloading = wait_message("RELOADING", "1", serve)
        assert int(reloading["MONOTONIC_USEC"]) > 0
        assert wait_message("READY", "1", serve)["STATUS"] == "reloaded"

        mark = serve.mark()
        setup.plan.write_text("plan: {id: broken\n", encoding="utf-8")  # a multi-line problem report
        serve.wait_for("still using the previous version", after=mark)

        assert serve.stop() == 0
        stopping = wait_message("STOPPING", "1", serve)
        assert stopping["STATUS"] == "stopping"

    lines = serve.log.splitlines()
    assert lines
    for line in lines:  # one line per event, each with its priority, and no timestamp of our own
        assert re.match(r"<[0-7]>plansync\.\w+: ", line), line
        assert not re.search(r"\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d", line.split(": ", 1)[0]), line
    assert any(line.startswith("<6>plansync.serve: sync: ") for line in lines)
    assert any(line.startswith("<3>plansync.serve: the changed plan has problems") for line in lines)


# -- 9. JSON logs; secrets never shown ---------------------------------------------------------------


def test_json_logs_and_passwords_from_the_environment_never_show(
    tmp_path: Path,
    radicale: RunningServer,
    smtp_servers: list[SMTPServer],
    tls_files: TLSFiles,
    launch: Launch,
) -> None:
    smtp = smtp_servers[0]
    caldav_secret = f"caldav-{uuid.uuid4().hex}"
    setup = Setup(tmp_path, radicale.url, "serve-json", smtp_port=smtp.port, ca_file=tls_files.ca)
    setup.set_clock(AFTER_DIGEST)
    # Through the PLANSYNC_* overrides, which beat the config's password_env.
    env = {
        "PLANSYNC_CALDAV_PASSWORD": caldav_secret,
        "PLANSYNC_SMTP_PASSWORD": SMTP_PASSWORD,
        SMTP_PASSWORD_ENV: "",
        CALDAV_PASSWORD_ENV: "",
    }
    serve = launch(setup, env=env, args=["--log-format", "json", "--log-level", "debug"])
    serve.wait_for(SYNC_OK)
    wait_until(lambda: len(smtp.messages) >= 2, "the digests", serve)
    # A failure (logged at error level), then a good edit: another sync and another look at the digests.
    mark = serve.mark()
    setup.plan.write_text("plan: {id: broken\n", encoding="utf-8")
    serve.wait_for("still using the previous version", after=mark)
    setup.write_plan([*EVENTS, ("e3", "Ещё одно", "24 мая", ["lib-a"])])
    serve.wait_for(SYNC_OK, after=mark)
    serve.wait_ticks(1)
    status = setup.status()
    assert serve.stop() == 0

    records = []
    for line in serve.log.splitlines():
        record = json.loads(line)  # every line is one JSON object
        assert {"ts", "level", "logger", "msg"} <= set(record), record
        dt.datetime.fromisoformat(record["ts"])
        records.append(record)
    assert any(r["level"] == "info" and r["logger"] == "plansync.serve" for r in records)
    assert any(r["level"] == "error" and "still using the previous version" in r["msg"] for r in records)
    assert serve.stdout == ""

    basic = base64.b64encode(f"{setup.user}:{caldav_secret}".encode()).decode()
    smtp_plain = base64.b64encode(f"\0{SMTP_USER}\0{SMTP_PASSWORD}".encode()).decode()
    needles = [caldav_secret, SMTP_PASSWORD, basic, smtp_plain]
    haystacks = {"log": serve.log.encode(), "status": json.dumps(status, ensure_ascii=False).encode()}
    haystacks |= {str(p): p.read_bytes() for p in setup.state.rglob("*") if p.is_file()}
    for where, data in haystacks.items():
        for secret in needles:
            assert secret.encode() not in data, (where, secret)
            assert secret.encode("utf-16-le") not in data, (where, secret)


# -- the embedded server keeps serving ---------------------------------------------------------------


def test_embedded_server_serves_other_clients_while_serve_runs(tmp_path: Path, launch: Launch) -> None:
    port = free_port()
    embedded = f"caldav:\n  url: embedded\n  embedded: {{host: 127.0.0.1, port: {port}, storage: radicale}}\n"
    setup = Setup(tmp_path, "", "plansync", caldav_block=embedded)
    setup.set_clock(MIDWEEK)
    serve = launch(setup)
    serve.wait_for(SYNC_OK)
    url = f"http://127.0.0.1:{port}/"
    status = setup.status()
    assert status["calendars"][0]["result"] == "ok"
    assert status["embedded"]["url"] == url and status["embedded"]["username"] == "plansync"
    password = Path(status["embedded"]["password_file"]).read_text(encoding="utf-8").strip().split(":", 1)[1]
    assert password not in json.dumps(status)  # the JSON names the file, never the password

    events = server_events(url, "plansync", password)
    assert uids(events, CALENDAR_A) == {uid(k, "lib-a") for k in ("prev", "e1", "e2")}
    mark = serve.mark()
    setup.retitle("e1", "Семинар во встроенном сервере")
    serve.wait_for(SYNC_OK, after=mark)
    events = server_events(url, "plansync", password)
    assert "Семинар во встроенном сервере" in (summary_of(events, CALENDAR_A, uid("e1", "lib-a")) or "")
    assert serve.stop() == 0
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", port), timeout=1).close()  # gone with the service
