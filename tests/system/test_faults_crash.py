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

from tests.support import faultkit as fk
from tests.support.faultkit import HeldRecorder, Killer, crash_sync_trial
from tests.support.servers import RunningServer, WSGIApp, radicale
from tests.support.smtp import PASSWORD as SMTP_PASSWORD
from tests.support.smtp import Recorder, TLSFiles, start_server, tls_files

pytestmark = [pytest.mark.timeout(240), pytest.mark.slow]  # slow: kills plansync processes

CRASH_TRIALS = int(os.environ.get("PLANSYNC_CRASH_TRIALS", "20"))


@pytest.fixture(scope="module")
def killer(radicale: RunningServer) -> Killer:
    k = Killer()
    radicale.wrap(k)
    return k


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
