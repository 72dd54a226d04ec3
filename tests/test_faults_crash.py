"""kill -9 in the middle of the work: `plansync sync` at seeded points (counted in PUT/DELETE/MKCALENDAR
requests at the server, before or after the server applied the one under way), and `plansync digest`
while the SMTP server holds a message in DATA (before or after accepting it).

After each crash the next run converges: the calendars hold exactly the plan's events, no UID twice,
the state database passes SQLite's integrity check and its records name what is on the server; every
recipient has its digest, with at most one duplicate (the same Message-ID) per crash.
"""

from __future__ import annotations

import asyncio
import os
import random
import signal
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests import faultkit as fk
from tests.caldav_servers import RunningServer, WSGIApp, radicale
from tests.smtp_server import PASSWORD as SMTP_PASSWORD
from tests.smtp_server import Recorder, TLSFiles, start_server, tls_files

pytestmark = pytest.mark.timeout(240)

CRASH_TRIALS = int(os.environ.get("PLANSYNC_CRASH_TRIALS", "20"))
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


@pytest.fixture(scope="module")
def killer(radicale: RunningServer) -> Killer:
    k = Killer()
    radicale.wrap(k)
    return k


def crash_sync_trial(
    radicale: RunningServer, killer: Killer, folder: fk.SyncFolder, seed: int
) -> dict[str, Any]:
    """One seeded trial; what it found."""
    rng = random.Random(seed)
    if rng.random() < 0.5:  # an edit of a synced plan (updates, deletions); else the very first sync
        first = fk.run_cli(["sync", "--config", str(folder.config)])
        assert first.code == 0, first.text
        folder.mutate(rng)
        target = rng.randint(1, 2)  # an edit makes one write at least
    else:
        target = rng.randint(1, 10)  # 2 MKCALENDAR and 9 PUTs
    after = rng.random() < 0.5
    proc = fk.popen_plansync(["sync", "--config", str(folder.config)], folder.folder)
    killer.arm(proc.pid, target, after)
    try:
        _, err = proc.communicate(timeout=60)
    finally:
        killer.pid = None
    killed = killer.killed
    assert (proc.returncode == -signal.SIGKILL) == killed, err.decode()
    runs = [fk.run_cli(["sync", "--config", str(folder.config)]) for _ in range(2)]
    mark = radicale.log.mark()
    noop = fk.run_cli(["sync", "--config", str(folder.config)])
    items = fk.server_items(radicale.storage, folder.user)
    return {
        "killed": killed,
        "codes": [r.code for r in [*runs, noop]],
        "tracebacks": sum(r.traceback for r in [*runs, noop]),
        "duplicates": fk.duplicates(items),
        "converged": fk.converged(radicale.storage, folder)
        and radicale.log.writes_since(mark) == []
        and fk.state_consistent(folder, radicale.storage),
        "text": runs[0].text,
    }


def test_sync_killed_at_random_points_converges(
    tmp_path: Path, radicale: RunningServer, killer: Killer
) -> None:
    results = []
    for trial in range(CRASH_TRIALS):
        folder = fk.SyncFolder(tmp_path / f"t{trial}", radicale.url, f"crash{trial}")
        result = crash_sync_trial(radicale, killer, folder, seed=1000 + trial)
        assert result["codes"][0] == 0, result["text"]
        assert result["codes"] == [0, 0, 0] and result["tracebacks"] == 0, result
        assert result["duplicates"] == 0, result
        assert result["converged"], result
        results.append(result)
    assert sum(r["killed"] for r in results) >= CRASH_TRIALS * 3 // 4  # the kills did happen


# -- the digest sender --------------------------------------------------------------------------------


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


def test_digest_killed_mid_send_loses_nothing(tmp_path: Path, tls_files: TLSFiles) -> None:
    env = {fk.SMTP_PASSWORD_ENV: SMTP_PASSWORD}
    crashes = 0
    for hold_at in (1, 2):
        for accept in (False, True):
            recorder = HeldRecorder(hold_at=hold_at, accept=accept)
            server = start_server(tls_files, recorder=recorder)
            try:
                folder = tmp_path / f"d{hold_at}{accept}"
                config = fk.digest_folder(folder, server.port, tls_files.ca)
                proc = fk.popen_plansync(
                    ["digest", "--config", str(config), "--as-of", fk.DIGEST_DAY], folder, env
                )
                try:
                    assert recorder.holding.wait(30), "the digest never reached DATA"
                    proc.send_signal(signal.SIGKILL)
                    proc.communicate(timeout=30)
                finally:
                    if proc.poll() is None:
                        proc.kill()
                crashes += 1
                recovery = fk.run_cli(["digest", "--config", str(config), "--as-of", fk.DIGEST_DAY], env)
                assert recovery.code == 0 and not recovery.traceback, recovery.text
                again = fk.run_cli(["digest", "--config", str(config), "--as-of", fk.DIGEST_DAY], env)
                assert again.code == 0 and "total: 2 already-sent\n" in again.out, again.text
                got = fk.delivered_to(server.messages)
                assert set(got) == set(fk.RECIPIENTS), got  # nobody's digest lost
                ids = fk.message_ids(server.messages)
                assert len(ids) == len(fk.RECIPIENTS)
                assert sum(n - 1 for n in ids.values()) <= 1  # at most one duplicate for this crash
                assert (sum(ids.values()) == 3) == accept  # exactly when the server had accepted it
            finally:
                server.controller.stop()
    assert crashes == 4
