"""The ledger: never twice, never lost. Against the real SMTP server of tests/smtp_server.py."""

from __future__ import annotations

import datetime as dt
import email
import stat
from pathlib import Path

import pytest

from plansync.digest.ledger import FILE_NAME, Ledger, backoff, ledger_path
from plansync.digest.transports import SMTPTransport
from plansync.errors import Busy
from plansync.jobs.digest import send_digests
from plansync.util.lock import digest_lock
from tests.support.configs import NOW, make_config, smtp_config
from tests.support.smtp import (
    PASSWORD,
    USER,
    SMTPServer,
    smtp_server,
    tls_files,
)

ENV = {"TEST_SMTP_PASSWORD": PASSWORD}
MAY_20 = dt.date(2024, 5, 20)
RECIPIENTS = ["kobs@inbox.ru", "mayak_biblio@mail.ru"]  # the two with events that week


def run(server: SMTPServer, tmp: Path, ca: Path, *, now: dt.datetime = NOW, resend: bool = False,
        transport: object = None):  # fmt: skip
    smtp = smtp_config(server.port, ca_file=ca, user=USER)
    return send_digests(make_config(tmp, smtp=smtp), as_of=MAY_20, now=now, environ=ENV, resend=resend,
                        transport=transport)  # type: ignore[arg-type]  # fmt: skip


def received(server: SMTPServer) -> list[tuple[str, str]]:
    out = []
    for m in server.messages:
        msg = email.message_from_bytes(m.data)
        out.append((m.rcpt_tos[0], str(msg["Message-ID"]).strip()))
    return sorted(out)


def test_a_rerun_sends_nothing_twice(smtp_server: SMTPServer, tls_files, tmp_path: Path) -> None:
    first = run(smtp_server, tmp_path, tls_files.ca)
    assert first.count("sent") == 2
    second = run(smtp_server, tmp_path, tls_files.ca, now=NOW + dt.timedelta(days=1))
    assert second.count("sent") == 0 and second.count("already-sent") == 2
    assert [r for r, _ in received(smtp_server)] == RECIPIENTS


def test_ledger_file_is_private_and_separate(smtp_server: SMTPServer, tls_files, tmp_path: Path) -> None:
    run(smtp_server, tmp_path, tls_files.ca)
    path = ledger_path(tmp_path / "state")
    assert path.name == FILE_NAME == "digests.sqlite3"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    with Ledger(path) as ledger:
        entries = ledger.entries()
    assert [(e.recipient, e.state, e.attempts) for e in entries] == [(r, "sent", 1) for r in RECIPIENTS]


def test_transient_failure_is_retried_after_backoff_and_sent_once(
    smtp_server: SMTPServer, tls_files, tmp_path: Path
) -> None:
    smtp_server.recorder.replies.append("451 4.3.0 Mailbox busy, try later")  # the first DATA only
    first = run(smtp_server, tmp_path, tls_files.ca)
    assert [o.status for o in first.outcomes if o.recipient and o.entries] == ["failed", "sent"]
    assert first.transient_failures[0].recipient == "mayak_biblio@mail.ru"
    assert "451" in first.transient_failures[0].reason

    soon = run(smtp_server, tmp_path, tls_files.ca, now=NOW + dt.timedelta(minutes=5))
    assert soon.count("waiting") == 1 and soon.count("sent") == 0

    later = run(smtp_server, tmp_path, tls_files.ca, now=NOW + backoff(1) + dt.timedelta(seconds=1))
    assert later.count("sent") == 1 and later.count("already-sent") == 1
    assert [r for r, _ in received(smtp_server)] == RECIPIENTS  # each exactly once
    assert run(smtp_server, tmp_path, tls_files.ca, now=NOW + dt.timedelta(days=2)).count("sent") == 0


def test_permanent_failure_is_held_until_resend(smtp_server: SMTPServer, tls_files, tmp_path: Path) -> None:
    smtp_server.recorder.replies.append("550 5.1.1 No such user")
    first = run(smtp_server, tmp_path, tls_files.ca)
    assert len(first.permanent_failures) == 1 and "550" in first.permanent_failures[0].reason
    again = run(smtp_server, tmp_path, tls_files.ca, now=NOW + dt.timedelta(days=3))
    held = [o for o in again.outcomes if o.status == "held"]
    assert len(held) == 1 and "550 5.1.1" in held[0].reason
    resent = run(smtp_server, tmp_path, tls_files.ca, resend=True)
    assert resent.count("sent") == 1 and resent.count("already-sent") == 1
    assert [r for r, _ in received(smtp_server)] == RECIPIENTS


class Crash(BaseException):
    """The process dying: not an Exception, so nothing on the way catches it."""


class CrashAfterAcceptance:
    """Sends for real, then 'dies' before the ledger can record it."""

    name = "smtp"

    def __init__(self, inner: SMTPTransport) -> None:
        self.inner = inner

    def send(self, data: bytes, sender: str, recipient: str) -> None:
        self.inner.send(data, sender, recipient)
        raise Crash

    def close(self) -> None:
        self.inner.close()


def test_crash_between_acceptance_and_ledger_write_resends_once(
    smtp_server: SMTPServer, tls_files, tmp_path: Path
) -> None:
    from plansync.config.model import Secret

    inner = SMTPTransport(smtp_config(smtp_server.port, ca_file=tls_files.ca, user=USER), Secret(PASSWORD))
    with pytest.raises(Crash):
        run(smtp_server, tmp_path, tls_files.ca, transport=CrashAfterAcceptance(inner))
    with Ledger(ledger_path(tmp_path / "state")) as ledger:
        assert [(e.recipient, e.state) for e in ledger.entries()] == [("mayak_biblio@mail.ru", "sending")]
    after = run(smtp_server, tmp_path, tls_files.ca, now=NOW + dt.timedelta(hours=1))
    assert after.count("sent") == 2  # the interrupted one again, and the one never tried
    got = received(smtp_server)
    assert [r for r, _ in got] == ["kobs@inbox.ru", "mayak_biblio@mail.ru", "mayak_biblio@mail.ru"]
    assert got[1][1] == got[2][1], "the resend after a crash carries the same Message-ID"
    assert run(smtp_server, tmp_path, tls_files.ca, now=NOW + dt.timedelta(days=1)).count("sent") == 0
    assert len(smtp_server.messages) == 3


def test_stored_message_is_sent_as_rendered(smtp_server: SMTPServer, tls_files, tmp_path: Path) -> None:
    smtp_server.recorder.replies.append("451 4.3.0 later")
    run(smtp_server, tmp_path, tls_files.ca)
    with Ledger(ledger_path(tmp_path / "state")) as ledger:
        stored = ledger.get("mayak_biblio@mail.ru", "2024-05-20..2024-05-26")
    assert stored is not None and stored.state == "failed" and stored.transient
    run(smtp_server, tmp_path, tls_files.ca, now=NOW + dt.timedelta(days=1))
    sent = [m for m in smtp_server.messages if m.rcpt_tos == ("mayak_biblio@mail.ru",)]
    assert len(sent) == 1 and sent[0].data.rstrip(b"\r\n") == stored.message.rstrip(b"\r\n")


def test_backoff_grows_and_is_capped() -> None:
    assert backoff(1) == dt.timedelta(minutes=15)
    assert backoff(2) == dt.timedelta(minutes=30)
    assert backoff(3) == dt.timedelta(hours=1)
    assert backoff(40) == dt.timedelta(hours=12)


def test_concurrent_runs_are_refused(tmp_path: Path) -> None:
    with digest_lock(tmp_path), pytest.raises(Busy, match="another") as busy, digest_lock(tmp_path):
        pass
    assert busy.value.exit_code == 75
    with digest_lock(tmp_path):  # released again
        pass
