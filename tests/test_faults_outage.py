"""The SMTP server is down for several scheduled digest runs, then comes back: every digest is delivered
exactly once, and the runs during the outage say so clearly (exit 75, "the next run retries them").

The scheduled runs are `send_digests` (what `plansync digest`, `run` and `serve` call) with the clock
moved on an hour per run, so the ledger's backoff is exercised as it would be over a morning.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from plansync.cli_digest import send_digests
from plansync.config import load_config
from tests import faultkit as fk
from tests.smtp_server import PASSWORD as SMTP_PASSWORD
from tests.smtp_server import TLSFiles, free_port, start_server, tls_files

pytestmark = pytest.mark.timeout(60)

START = dt.datetime(2024, 5, 20, 6, 0, tzinfo=dt.UTC)  # Monday 08:00 in Kaliningrad
DOWN_RUNS = 5


def outage_campaign(folder: Path, tls_files: TLSFiles, down_runs: int = DOWN_RUNS) -> dict[str, int]:
    """Runs an hour apart; the server is down for the first `down_runs`. Figures of what happened."""
    port = free_port()
    config_path = fk.digest_folder(folder, port, tls_files.ca, timeout=2)
    env = {fk.SMTP_PASSWORD_ENV: SMTP_PASSWORD}
    config = load_config(config_path, env)
    day = dt.date.fromisoformat(fk.DIGEST_DAY)
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
                assert report.count("failed") + report.count("waiting") == len(fk.RECIPIENTS)
                failed_runs += report.count("failed") > 0
            if server is not None and len(fk.delivered_to(server.messages)) == len(fk.RECIPIENTS):
                break
        assert server is not None
        for extra in range(3):  # later runs send nothing more
            send_digests(config, as_of=day, now=START + dt.timedelta(hours=31 + extra), environ=env)
            runs += 1
        got = fk.delivered_to(server.messages)
        return {
            "runs": runs,
            "failed_runs": failed_runs,
            "recovered_after_hours": hour,
            "lost": sum(1 for r in fk.RECIPIENTS if got[r] == 0),
            "duplicated": sum(n - 1 for n in fk.message_ids(server.messages).values()),
        }
    finally:
        if server is not None:
            server.controller.stop()


def test_digests_survive_an_smtp_outage(tmp_path: Path, tls_files: TLSFiles) -> None:
    figures = outage_campaign(tmp_path, tls_files)
    # the runs of the outage tried (and failed transiently) or waited for the backoff: 15 min, 30 min,
    # 1 h, 2 h after the 1st … 4th failure, so the run at 04:00 waits
    assert figures["failed_runs"] == 4
    assert figures["lost"] == 0 and figures["duplicated"] == 0, figures
    assert figures["recovered_after_hours"] <= DOWN_RUNS + 4  # backoff of 2 h after 4 failures


def test_a_run_during_the_outage_says_it_will_retry(tmp_path: Path, tls_files: TLSFiles) -> None:
    config = fk.digest_folder(tmp_path, free_port(), tls_files.ca, timeout=2)
    run = fk.run_cli(
        ["digest", "--config", str(config), "--as-of", fk.DIGEST_DAY], {fk.SMTP_PASSWORD_ENV: SMTP_PASSWORD}
    )
    assert run.code == 75 and not run.traceback, run.text
    assert "refused the connection" in run.out and "transient, will retry" in run.out
    assert "the next run retries them" in run.err
    assert SMTP_PASSWORD not in run.text
