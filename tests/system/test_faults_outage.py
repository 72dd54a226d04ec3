"""The SMTP server is down for several scheduled digest runs, then comes back: every digest is delivered
exactly once, and the runs during the outage say so clearly (exit 75, "the next run retries them").

The scheduled runs are `send_digests` (what `plansync digest`, `run` and `serve` call) with the clock
moved on an hour per run, so the ledger's backoff is exercised as it would be over a morning.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from plansync.config.load import load_config
from plansync.jobs.digest import send_digests
from tests.support import faultkit as fk
from tests.support.faultkit import DOWN_RUNS, outage_campaign
from tests.support.smtp import PASSWORD as SMTP_PASSWORD
from tests.support.smtp import TLSFiles, free_port, start_server, tls_files

pytestmark = [pytest.mark.timeout(60), pytest.mark.slow]  # slow: SMTP servers that go away


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
