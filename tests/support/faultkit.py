"""Shared harness of the fault, crash and outage tests and of `python -m bench.faults`: a sync folder
(plan + config) pointed at a CalDAV URL, plansync runs in-process or as a subprocess, and what is on
the Radicale server read straight from its storage folder, so no check goes through plansync.
"""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import http.client
import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import threading
import uuid
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from click.testing import CliRunner

from plansync.caldav.backend import calendar_id
from plansync.calendar import ical
from plansync.cli.main import cli
from plansync.config.load import load_config
from plansync.jobs.digest import send_digests
from plansync.planread.planfile import load_plan
from tests.support.servers import RunningServer, WSGIApp
from tests.support.smtp import PASSWORD as SMTP_PASSWORD
from tests.support.smtp import USER as SMTP_USER
from tests.support.smtp import Received, Recorder, TLSFiles, free_port, start_server

CALDAV_PASSWORD_ENV = "TEST_CALDAV_PASSWORD"
CALDAV_PASSWORD = "caldav-Pa55word-ü"
ORGS = {"lib-a": "Библиотека А", "lib-b": "Библиотека Б"}

Event = tuple[str, str, str, list[str]]  # key, title, date, organizers

BASE_EVENTS: list[Event] = [
    ("e1", "Семинар «Библиотека, ты где?»", "12 марта", ["lib-a"]),
    ("e2", "Вебинар по обслуживанию", "14 марта, 10:00", ["lib-a", "lib-b"]),
    ("e3", "Мониторинг деятельности", "II квартал", ["lib-a"]),
    ("e4", "Круглый стол", "20 мая", ["lib-b"]),
    ("e5", "Конкурс чтецов", "1 - 5 июля", ["lib-a", "lib-b"]),
    ("e6", "Выставка", "сентябрь", ["lib-b"]),
    ("e7", "Неделя детской книги", "25 - 31 марта", ["lib-a"]),
]


def write_plan(path: Path, events: Sequence[Event]) -> None:
    from tests.support.plans import write_plan_yaml

    write_plan_yaml(path, list(events))


@dataclass
class SyncFolder:
    """A plan and a config in `folder`; the state in folder/state; one Radicale user per folder."""

    folder: Path
    url: str
    user: str
    timeout: int = 2
    events: list[Event] | None = None

    def __post_init__(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        self.write(self.events or list(BASE_EVENTS))
        self.point_at(self.url)

    @property
    def config(self) -> Path:
        return self.folder / "plansync.yaml"

    @property
    def plan(self) -> Path:
        return self.folder / "plan.yaml"

    @property
    def state(self) -> Path:
        return self.folder / "state"

    def calendar_name(self, key: str) -> str:
        return f"{ORGS[key]} {self.user}"

    def point_at(self, url: str) -> None:
        self.url = url
        calendars = "".join(f"  {k}: {{name: {self.calendar_name(k)}}}\n" for k in ORGS)
        self.config.write_text(
            "plans: [plan.yaml]\nstate_dir: state\n"
            f"caldav:\n  url: {url}\n  username: {self.user}\n  password_env: {CALDAV_PASSWORD_ENV}\n"
            f"  timeout: {self.timeout}\ncalendars:\n{calendars}",
            encoding="utf-8",
        )

    def write(self, events: Sequence[Event]) -> None:
        self.events = list(events)
        write_plan(self.plan, events)

    def mutate(self, rng: random.Random) -> None:
        """A random plan edit: retitle, move, drop or add events (never more than a third dropped)."""
        events = list(self.events or [])
        for _ in range(rng.randint(1, 3)):
            choice = rng.random()
            if choice < 0.4 and events:
                i = rng.randrange(len(events))
                k, t, d, o = events[i]
                events[i] = (k, f"{t} (изм. {rng.randint(1, 999)})", d, o)
            elif choice < 0.6 and events:
                i = rng.randrange(len(events))
                k, t, _, o = events[i]
                events[i] = (k, t, f"{rng.randint(1, 28)} октября", o)
            elif choice < 0.75 and len(events) > 4:
                events.pop(rng.randrange(len(events)))
            else:
                key = f"n{uuid.uuid4().hex[:6]}"
                orgs = rng.choice([["lib-a"], ["lib-b"], ["lib-a", "lib-b"]])
                events.append((key, f"Новое мероприятие {key}", f"{rng.randint(1, 28)} ноября", orgs))
        self.write(events)

    def expected(self) -> dict[str, set[str]]:
        """calendar key → the UIDs the plan puts there."""
        plan = load_plan(self.plan)
        return {key: set(ical.desired_events(plan, key, ical.Rendering())) for key in ORGS}


# -- running plansync ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Run:
    code: int
    out: str
    err: str
    traceback: bool  # an exception escaped plansync's error handling

    @property
    def text(self) -> str:
        return self.out + self.err


def clean_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PLANSYNC_", "NOTIFY_SOCKET"))}
    env[CALDAV_PASSWORD_ENV] = CALDAV_PASSWORD
    env.update(extra or {})
    return env


def run_cli(args: Sequence[str], extra_env: Mapping[str, str] | None = None) -> Run:
    """`plansync ARGS` in this process, as the console script runs it (its one error handler)."""
    env: dict[str, str | None] = {k: None for k in os.environ if k.startswith("PLANSYNC_")}
    env[CALDAV_PASSWORD_ENV] = CALDAV_PASSWORD
    env.update(extra_env or {})
    result = CliRunner().invoke(cli, list(args), env=env, catch_exceptions=True)
    escaped = result.exception is not None and not isinstance(result.exception, SystemExit)
    text = result.stdout + result.stderr
    return Run(result.exit_code, result.stdout, result.stderr, escaped or "Traceback (most recent" in text)


def popen_plansync(
    args: Sequence[str], cwd: Path, extra_env: Mapping[str, str] | None = None
) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "plansync", *args],
        cwd=cwd,
        env=clean_env(extra_env),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


# -- what is on the Radicale server -------------------------------------------------------------------


def server_items(storage: Path, user: str) -> dict[str, dict[str, bytes]]:
    """calendar folder name → item file name → bytes, straight from Radicale's storage."""
    root = storage / "collection-root" / user
    out: dict[str, dict[str, bytes]] = {}
    if not root.is_dir():
        return out
    for cal in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")):
        out[cal.name] = {
            f.name: f.read_bytes() for f in sorted(cal.iterdir()) if f.is_file() and f.suffix == ".ics"
        }
    return out


def uid_of(data: bytes) -> str:
    for line in data.decode("utf-8", "replace").splitlines():
        if line.startswith("UID:"):
            return line[4:].strip()
    return ""


def duplicates(items: Mapping[str, Mapping[str, bytes]]) -> int:
    """Extra copies of a UID within a calendar (0 when every UID is there once)."""
    total = 0
    for files in items.values():
        counts = Counter(uid_of(b) for b in files.values())
        total += sum(n - 1 for n in counts.values() if n > 1)
    return total


def managed_uids(items: Mapping[str, Mapping[str, bytes]], folder: SyncFolder) -> dict[str, set[str]]:
    """calendar key → UIDs of plansync's events found in its calendar."""
    out: dict[str, set[str]] = {}
    for key in ORGS:
        files = items.get(calendar_id(key, folder.calendar_name(key)), {})
        out[key] = {uid_of(b) for b in files.values() if b"X-PLANSYNC" in b}
    return out


def converged(storage: Path, folder: SyncFolder) -> bool:
    items = server_items(storage, folder.user)
    return duplicates(items) == 0 and managed_uids(items, folder) == folder.expected()


# -- other people's events ----------------------------------------------------------------------------


def _auth(user: str) -> str:
    import base64

    return "Basic " + base64.b64encode(f"{user}:x".encode()).decode()


def dav(
    base_url: str, user: str, method: str, path: str, body: bytes = b"", **headers: str
) -> tuple[int, bytes]:
    """One request straight to the server (not through the proxy)."""
    from urllib.parse import urlsplit

    parts = urlsplit(base_url)
    conn = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port or 80, timeout=10)
    try:
        conn.request(method, path, body=body, headers={"Authorization": _auth(user), **headers})
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def make_calendar(base_url: str, user: str, cal: str, name: str) -> None:
    body = (
        '<?xml version="1.0"?><c:mkcalendar xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav">'
        f"<d:set><d:prop><d:displayname>{name}</d:displayname></d:prop></d:set></c:mkcalendar>"
    ).encode()
    status, _ = dav(base_url, user, "MKCALENDAR", f"/{user}/{cal}/", body)
    assert status in (201, 405), status


def seed_foreign(base_url: str, user: str, cal: str, count: int, tag: str) -> list[str]:
    """Events people added by hand (no plansync marker); their item names."""
    names = []
    for i in range(count):
        uid = f"foreign-{tag}-{i}@people.example"
        body = (
            "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//people//hand made//EN\r\nBEGIN:VEVENT\r\n"
            f"UID:{uid}\r\nDTSTAMP:20240101T000000Z\r\nDTSTART;VALUE=DATE:2024031{i % 10}\r\n"
            f"SUMMARY:Личное событие {i} <b>не трогать</b>\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
        ).encode()
        name = f"foreign-{tag}-{i}.ics"
        status, _ = dav(
            base_url, user, "PUT", f"/{user}/{cal}/{name}", body, **{"Content-Type": "text/calendar"}
        )
        assert status in (201, 204), status
        names.append(name)
    return names


def foreign_snapshot(storage: Path, user: str) -> dict[tuple[str, str], bytes]:
    return {
        (cal, name): data
        for cal, files in server_items(storage, user).items()
        for name, data in files.items()
        if b"X-PLANSYNC" not in data
    }


def touched(before: Mapping[tuple[str, str], bytes], after: Mapping[tuple[str, str], bytes]) -> int:
    """Foreign events changed or gone."""
    return sum(1 for k, v in before.items() if after.get(k) != v)


# -- the state database -------------------------------------------------------------------------------


def state_consistent(folder: SyncFolder, storage: Path) -> bool:
    """SQLite says ok, and every record names an item that is on the server with that UID."""
    path = folder.state / "plansync.sqlite3"
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
        if db.execute("PRAGMA integrity_check").fetchone()[0] != "ok":
            return False
        rows = db.execute("SELECT calendar, uid, href FROM records").fetchall()
    items = server_items(storage, folder.user)
    by_href = {
        f"/{folder.user}/{cal}/{name}": data for cal, files in items.items() for name, data in files.items()
    }
    return all(unquote(href) in by_href and uid_of(by_href[unquote(href)]) == uid for _, uid, href in rows)


def dump(value: object) -> str:
    return json.dumps(value, ensure_ascii=False, indent=1, default=str)


# -- digests ------------------------------------------------------------------------------------------

SMTP_PASSWORD_ENV = "TEST_SMTP_PASSWORD"
DIGEST_DAY = "2024-05-20"  # a Monday; both test libraries have events that week
DIGEST_EVENTS: list[Event] = [
    ("e1", "Семинар «Библиотека, ты где?»", "21 мая", ["lib-a"]),
    ("e2", "Вебинар по обслуживанию", "23 мая, 10:00", ["lib-a", "lib-b"]),
]
RECIPIENTS = ("a@lib.example", "b@lib.example")


def digest_folder(folder: Path, smtp_port: int, ca_file: Path, *, timeout: int = 5, user: str = "") -> Path:
    """A plan with a digest for each recipient that week, and a config sending it by SMTP; the config."""
    from tests.support.smtp import USER

    folder.mkdir(parents=True, exist_ok=True)
    write_plan(folder / "plan.yaml", DIGEST_EVENTS)
    config = folder / "plansync.yaml"
    config.write_text(
        "plans: [plan.yaml]\nstate_dir: state\n"
        'digest:\n  from: "Сводный план библиотек <plansync@example.org>"\n  reply_to: nmo@lib39.ru\n'
        "mail:\n  transport: smtp\n  smtp:\n    host: 127.0.0.1\n"
        f"    port: {smtp_port}\n    security: starttls\n    username: {user or USER}\n"
        f"    password_env: {SMTP_PASSWORD_ENV}\n    ca_file: {ca_file}\n    timeout: {timeout}\n",
        encoding="utf-8",
    )
    return config


def message_ids(messages: Sequence[Received]) -> Counter[str]:
    """Message-ID → how many times the server accepted it."""
    import email
    import email.policy

    out: Counter[str] = Counter()
    for m in messages:
        out[str(email.message_from_bytes(m.data, policy=email.policy.default)["Message-ID"])] += 1
    return out


def delivered_to(messages: Sequence[Received]) -> Counter[str]:
    out: Counter[str] = Counter(r.lower() for m in messages for r in m.rcpt_tos)
    return out


# -- the network campaign (tests/test_faults_network.py and bench.faults) -------------------------------


def clear_failure(run: Run) -> bool:
    """Success, or a failure that says what failed: the ✗ lines, the summary and the closing line."""
    if run.traceback or run.code not in (0, 1):
        return False
    return run.code == 0 or (
        "✗" in run.out and "summary:" in run.out and "plansync: some events could not be synced" in run.err
    )


def network_trial(
    radicale: Any, proxy: Any, folder: SyncFolder, seed: int, rounds: int = 3
) -> dict[str, Any]:
    """Under faults: a first sync, then (foreign events seeded) `rounds` plan edits each synced; then
    without faults: a run that must succeed and one that must write nothing. What was seen, as figures;
    `problems` lists what broke a promise (empty when all held)."""
    rng = random.Random(seed)
    storage: Path = radicale.storage
    problems: list[str] = []
    runs: list[Run] = []
    injected_before = proxy.total_injected

    def sync() -> Run:
        run = run_cli(["sync", "--config", str(folder.config)])
        runs.append(run)
        if not clear_failure(run):
            problems.append(f"unclear result (exit {run.code}): {run.text[-500:]}")
        dups = duplicates(server_items(storage, folder.user))
        if dups:
            problems.append(f"{dups} duplicate events")
        return run

    sync()  # the first sync, calendars and all, under faults
    with proxy.paused():
        if sync().code != 0:
            problems.append("a run without faults failed")
    for key in ORGS:
        seed_foreign(radicale.url, folder.user, calendar_id(key, folder.calendar_name(key)), 3, key)
    before = foreign_snapshot(storage, folder.user)
    touched_max = 0
    for _ in range(rounds):
        folder.mutate(rng)
        sync()
        touched_max = max(touched_max, touched(before, foreign_snapshot(storage, folder.user)))
    with proxy.paused():
        final = sync()
        mark = radicale.log.mark()
        noop = sync()
        writes = radicale.log.writes_since(mark)
    ok = final.code == 0 and noop.code == 0 and not writes and converged(storage, folder)
    ok = ok and state_consistent(folder, storage)
    if not ok:
        problems.append(f"did not converge: exit {final.code}/{noop.code}, {len(writes)} writes in the no-op")
    touched_max = max(touched_max, touched(before, foreign_snapshot(storage, folder.user)))
    if touched_max:
        problems.append(f"{touched_max} foreign events touched")
    return {
        "faults_injected": proxy.total_injected - injected_before,
        "runs": len(runs),
        "converged": ok,
        "duplicates": duplicates(server_items(storage, folder.user)),
        "foreign_events_touched": touched_max,
        "foreign_events": len(before),
        "tracebacks": sum(r.traceback for r in runs),
        "texts": [r.text for r in runs],
        "problems": problems,
    }


def forms(user: str, password: str) -> list[str]:
    """Every spelling of a password that would be a leak."""
    out = [password, password.encode().hex()]
    for raw in (f"{user}:{password}", f"\0{user}\0{password}", password):
        out.append(base64.b64encode(raw.encode()).decode())
    return out


SECRETS = forms("anyone", CALDAV_PASSWORD)[:2] + forms(SMTP_USER, SMTP_PASSWORD)


def leaks(text: str | bytes) -> list[str]:
    data = text.decode("utf-8", "replace") if isinstance(text, bytes) else text
    found = [s for s in SECRETS if s in data]
    found += [f for u in ("secrets", "refused") for f in forms(u, CALDAV_PASSWORD) if f in data]
    return found


COUNTED = frozenset({"PUT", "DELETE", "MKCALENDAR"})


@dataclass
class Killer:
    """WSGI middleware: SIGKILL `pid` at its `target`-th write, before or after the server applies it."""

    pid: int | None = None
    target: int = 0
    after: bool = False
    count: int = 0
    killed: bool = False
    lock: threading.Lock = field(default_factory=threading.Lock)

    def arm(self, pid: int, target: int, after: bool) -> None:
        with self.lock:
            self.pid, self.target, self.after, self.count, self.killed = pid, target, after, 0, False

    def _kill(self) -> None:
        assert self.pid is not None
        os.kill(self.pid, signal.SIGKILL)
        self.killed = True

    def __call__(self, app: WSGIApp) -> WSGIApp:
        def middleware(environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
            if environ["REQUEST_METHOD"] not in COUNTED or self.pid is None:
                return app(environ, start_response)
            with self.lock:
                self.count += 1
                hit = self.count == self.target and not self.killed
                if hit and not self.after:
                    self._kill()
                    start_response("503 Service Unavailable", [("Content-Length", "0")])
                    return [b""]
            answer = list(app(environ, start_response))
            if hit:
                with self.lock:
                    self._kill()
            return answer

        return middleware


def crash_sync_trial(
    radicale: RunningServer, killer: Killer, folder: SyncFolder, seed: int
) -> dict[str, Any]:
    """One seeded trial; what it found."""
    rng = random.Random(seed)
    if rng.random() < 0.5:  # an edit of a synced plan (updates, deletions); else the very first sync
        first = run_cli(["sync", "--config", str(folder.config)])
        assert first.code == 0, first.text
        folder.mutate(rng)
        target = rng.randint(1, 2)  # an edit makes one write at least
    else:
        target = rng.randint(1, 10)  # 2 MKCALENDAR and 9 PUTs
    after = rng.random() < 0.5
    proc = popen_plansync(["sync", "--config", str(folder.config)], folder.folder)
    killer.arm(proc.pid, target, after)
    try:
        _, err = proc.communicate(timeout=60)
    finally:
        killer.pid = None
    killed = killer.killed
    assert (proc.returncode == -signal.SIGKILL) == killed, err.decode()
    runs = [run_cli(["sync", "--config", str(folder.config)]) for _ in range(2)]
    mark = radicale.log.mark()
    noop = run_cli(["sync", "--config", str(folder.config)])
    items = server_items(radicale.storage, folder.user)
    return {
        "killed": killed,
        "codes": [r.code for r in [*runs, noop]],
        "tracebacks": sum(r.traceback for r in [*runs, noop]),
        "duplicates": duplicates(items),
        "converged": converged(radicale.storage, folder)
        and radicale.log.writes_since(mark) == []
        and state_consistent(folder, radicale.storage),
        "text": runs[0].text,
    }


@dataclass
class HeldRecorder(Recorder):
    """Holds the `hold_at`-th DATA (1-based) until the client is gone; `accept` records it first (the
    server has the message, the client never hears so)."""

    hold_at: int = 0
    accept: bool = False
    datas: int = 0
    holding: threading.Event = field(default_factory=threading.Event)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.datas += 1
        if self.datas != self.hold_at:
            return await super().handle_DATA(server, session, envelope)
        if self.accept:
            await super().handle_DATA(server, session, envelope)
        self.holding.set()
        await asyncio.sleep(30)
        return "451 4.3.0 held too long"


START = dt.datetime(2024, 5, 20, 6, 0, tzinfo=dt.UTC)  # Monday 08:00 in Kaliningrad


DOWN_RUNS = 5


def outage_campaign(folder: Path, tls_files: TLSFiles, down_runs: int = DOWN_RUNS) -> dict[str, int]:
    """Runs an hour apart; the server is down for the first `down_runs`. Figures of what happened."""
    port = free_port()
    config_path = digest_folder(folder, port, tls_files.ca, timeout=2)
    env = {SMTP_PASSWORD_ENV: SMTP_PASSWORD}
    config = load_config(config_path, env)
    day = dt.date.fromisoformat(DIGEST_DAY)
    failed_runs = 0
    runs = 0
    server = None
    try:
        for hour in range(30):
            if hour == down_runs:
                server = start_server(tls_files, port=port)
            report = send_digests(config, as_of=day, now=START + dt.timedelta(hours=hour), environ=env)
            runs += 1
            if hour < down_runs:
                assert report.count("sent") == 0
                assert all(o.transient for o in report.outcomes if o.status in ("failed", "waiting"))
                assert report.count("failed") + report.count("waiting") == len(RECIPIENTS)
                failed_runs += report.count("failed") > 0
            if server is not None and len(delivered_to(server.messages)) == len(RECIPIENTS):
                break
        assert server is not None
        for extra in range(3):  # later runs send nothing more
            send_digests(config, as_of=day, now=START + dt.timedelta(hours=31 + extra), environ=env)
            runs += 1
        got = delivered_to(server.messages)
        return {
            "runs": runs,
            "failed_runs": failed_runs,
            "recovered_after_hours": hour,
            "lost": sum(1 for r in RECIPIENTS if got[r] == 0),
            "duplicated": sum(n - 1 for n in message_ids(server.messages).values()),
        }
    finally:
        if server is not None:
            server.controller.stop()
