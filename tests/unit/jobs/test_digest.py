"""The digest use case without a server: which week it sends when no day is given."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from plansync.jobs.digest import send_digests
from tests.support.configs import make_config


def test_without_as_of_the_digest_due_now_is_sent(tmp_path: Path) -> None:
    # Tuesday 14 May 2024: the digest due is the one of Wednesday 8 May (Thursday 9 May is a holiday).
    now = dt.datetime.fromisoformat("2024-05-14T12:00:00+02:00")
    report = send_digests(make_config(tmp_path), now=now, dry_run=True)
    assert (report.period_start, report.period_end) == (dt.date(2024, 5, 13), dt.date(2024, 5, 19))
