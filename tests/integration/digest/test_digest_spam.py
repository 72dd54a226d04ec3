"""A digest sent through a real SMTP server scores ≤ 0 in SpamAssassin run offline (`spamassassin -L -t`)."""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from plansync.jobs.digest import send_digests
from tests.support.configs import NOW, make_config, smtp_config
from tests.support.smtp import PASSWORD, USER, SMTPServer, smtp_server, tls_files

pytestmark = pytest.mark.slow  # an SMTP server

ENV = {"TEST_SMTP_PASSWORD": PASSWORD}


def spamassassin() -> str:
    found = shutil.which("spamassassin")
    if found is None:
        if os.environ.get("CI") == "true":
            pytest.fail("spamassassin is not installed: CI must run scripts/system-deps")
        pytest.skip("spamassassin is not installed (apt-get install -y spamassassin)")
    return found


def score(binary: str, message: bytes, home: Path) -> tuple[float, str]:
    done = subprocess.run(
        [binary, "-L", "-t"],
        input=message,
        capture_output=True,
        timeout=120,
        check=False,
        env={**os.environ, "HOME": str(home)},  # its per-user files go to the test's folder
    )
    report = done.stdout.decode("utf-8", "replace")
    match = re.search(r"X-Spam-Status: \w+, score=(-?[\d.]+)", report)
    assert match, report[-2000:] + done.stderr.decode("utf-8", "replace")[-1000:]
    return float(match.group(1)), report


def test_a_digest_through_smtp_is_not_spam(
    smtp_server: SMTPServer,
    tls_files,
    tmp_path: Path,
) -> None:
    binary = spamassassin()
    config = make_config(tmp_path, smtp=smtp_config(smtp_server.port, ca_file=tls_files.ca, user=USER))
    report = send_digests(config, as_of=dt.date(2024, 5, 20), now=NOW, environ=ENV)
    assert report.count("sent") >= 2
    for received in smtp_server.messages:
        value, text = score(binary, received.data, tmp_path)
        assert value <= 0, f"{received.rcpt_tos}: score {value}\n{text[-3000:]}"
