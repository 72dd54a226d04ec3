"""The digest ledger: what was rendered, sent, or failed, per (recipient, period), in SQLite; what
each digest announced (to notice changes), and the addresses that asked to stop.

A change notice is an entry like a digest, under the period key `<period>~changes~<hash of the
changes>`: the same changes are never noticed twice, and a crash repeats at most one of them.

Life of an entry: `pending` (rendered and stored: the exact bytes, so a retry sends the same message)
→ `sending` (committed *before* the message goes out) → `sent`, or `failed` (transient: retried on
a later run after a backoff; permanent: kept, reported, retried only with --resend), or back to
`pending` when the SMTP settings, not the message, failed (the next run sends it without --resend).

Crash safety: an entry found in `sending` at the start of a run means the process died between
committing `sending` and committing the outcome, so the server may or may not have the message.
It is sent again, with the same stored bytes and Message-ID: at most one duplicate, which clients
can recognise. Runs are serialised by a lock file (plansync.util.lock), so `sending` can only mean a crash.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from plansync.util.backoff import doubling
from plansync.util.private import private_dir, private_file

__all__ = ["FILE_NAME", "Entry", "Ledger", "backoff", "ledger_path"]

FILE_NAME = "digests.sqlite3"  # not the sync state database
TRIAL_FILE_NAME = "digests-trial.sqlite3"  # what trials (mail.redirect_to) sent: never the real digests
BACKOFF_FIRST = dt.timedelta(minutes=15)
BACKOFF_MAX = dt.timedelta(hours=12)

State = Literal["pending", "sending", "sent", "failed"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS digests (
    recipient     TEXT NOT NULL,
    period        TEXT NOT NULL,
    organization  TEXT NOT NULL,
    message_id    TEXT NOT NULL,
    subject       TEXT NOT NULL,
    message       BLOB NOT NULL,
    state         TEXT NOT NULL CHECK (state IN ('pending', 'sending', 'sent', 'failed')),
    transient     INTEGER NOT NULL DEFAULT 0,
    attempts      INTEGER NOT NULL DEFAULT 0,
    last_error    TEXT,
    next_attempt  TEXT,
    created_at    TEXT NOT NULL,
    sent_at       TEXT,
    PRIMARY KEY (recipient, period)
);
-- What each stored digest announced, entry by entry: a later change to that week is noticed.
CREATE TABLE IF NOT EXISTS announced (
    recipient     TEXT NOT NULL,
    period        TEXT NOT NULL,
    item          TEXT NOT NULL,
    fingerprint   TEXT NOT NULL,
    PRIMARY KEY (recipient, period, item)
);
-- Addresses that asked to stop: no digest or notice goes to them.
CREATE TABLE IF NOT EXISTS stopped (
    recipient     TEXT PRIMARY KEY,
    stopped_at    TEXT NOT NULL
);
"""


def ledger_path(state_dir: Path, *, trial: bool = False) -> Path:
    return state_dir / (TRIAL_FILE_NAME if trial else FILE_NAME)


def backoff(attempts: int) -> dt.timedelta:
    """15 min, 30 min, 1 h … capped at 12 h, after the given number of failed attempts."""
    return doubling(attempts, BACKOFF_FIRST, BACKOFF_MAX)


@dataclass(frozen=True)
class Entry:
    recipient: str
    period: str
    organization: str
    message_id: str
    subject: str
    message: bytes
    state: State
    transient: bool
    attempts: int
    last_error: str | None
    next_attempt: dt.datetime | None
    sent_at: dt.datetime | None

    def due(self, now: dt.datetime) -> bool:
        return self.next_attempt is None or self.next_attempt <= now


def _iso(value: dt.datetime | None) -> str | None:
    return value.astimezone(dt.UTC).isoformat() if value is not None else None


def _from_iso(value: str | None) -> dt.datetime | None:
    return dt.datetime.fromisoformat(value) if value else None


class Ledger:
    """One open ledger. Every change is committed at once: the file is the truth after a crash."""

    def __init__(self, path: Path, *, read_only: bool = False) -> None:
        self.path = path
        if read_only:
            self._db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, isolation_level=None)
        else:
            # Created 0600 in the private state folder before SQLite opens it: it holds addresses and
            # whole messages.
            private_file(private_dir(path.parent) / path.name)
            self._db = sqlite3.connect(path, isolation_level=None)
            self._db.execute("PRAGMA journal_mode=DELETE")
            self._db.execute("PRAGMA synchronous=FULL")
            self._db.executescript(_SCHEMA)

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def get(self, recipient: str, period: str) -> Entry | None:
        row = self._db.execute(
            "SELECT recipient, period, organization, message_id, subject, message, state, transient, "
            "attempts, last_error, next_attempt, sent_at FROM digests WHERE recipient = ? AND period = ?",
            (recipient.lower(), period),
        ).fetchone()
        if row is None:
            return None
        return Entry(
            recipient=row[0],
            period=row[1],
            organization=row[2],
            message_id=row[3],
            subject=row[4],
            message=bytes(row[5]),
            state=row[6],
            transient=bool(row[7]),
            attempts=int(row[8]),
            last_error=row[9],
            next_attempt=_from_iso(row[10]),
            sent_at=_from_iso(row[11]),
        )

    def store(
        self,
        *,
        recipient: str,
        period: str,
        organization: str,
        message_id: str,
        subject: str,
        message: bytes,
        now: dt.datetime,
    ) -> Entry:
        """Keep a rendered message; an existing entry is never replaced (rendered once)."""
        self._db.execute(
            "INSERT OR IGNORE INTO digests (recipient, period, organization, message_id, subject, message, "
            "state, created_at) VALUES (?, ?, ?, ?, ?, ?, 'pending', ?)",
            (recipient.lower(), period, organization, message_id, subject, message, _iso(now)),
        )
        entry = self.get(recipient, period)
        assert entry is not None
        return entry

    def mark_sending(self, recipient: str, period: str) -> None:
        self._update(recipient, period, "state = 'sending', attempts = attempts + 1")

    def mark_unsent(self, recipient: str, period: str) -> None:
        """Back to `pending`, as if not tried: the settings, not the message, kept it from going out."""
        self._update(recipient, period, "state = 'pending', attempts = MAX(attempts - 1, 0)")

    def mark_sent(self, recipient: str, period: str, now: dt.datetime) -> None:
        self._update(
            recipient,
            period,
            "state = 'sent', last_error = NULL, next_attempt = NULL, sent_at = ?",
            _iso(now),
        )

    def mark_failed(
        self, recipient: str, period: str, reason: str, *, transient: bool, now: dt.datetime
    ) -> None:
        entry = self.get(recipient, period)
        attempts = entry.attempts if entry is not None else 1
        retry = _iso(now + backoff(attempts)) if transient else None
        self._update(
            recipient,
            period,
            "state = 'failed', transient = ?, last_error = ?, next_attempt = ?",
            int(transient),
            reason,
            retry,
        )

    def _update(self, recipient: str, period: str, assignments: str, *values: object) -> None:
        # `assignments` is always one of the constant strings above, never data.
        self._db.execute(
            f"UPDATE digests SET {assignments} WHERE recipient = ? AND period = ?",
            (*values, recipient.lower(), period),
        )

    # -- what was announced -----------------------------------------------------------------------

    def announced(self, recipient: str, period: str) -> dict[str, str]:
        rows = self._db.execute(
            "SELECT item, fingerprint FROM announced WHERE recipient = ? AND period = ?",
            (recipient.lower(), period),
        ).fetchall()
        return {str(r[0]): str(r[1]) for r in rows}

    def set_announced(self, recipient: str, period: str, items: dict[str, str]) -> None:
        """Replace what (recipient, period) is known to have been told, in one transaction."""
        with self._transaction():
            self._db.execute(
                "DELETE FROM announced WHERE recipient = ? AND period = ?", (recipient.lower(), period)
            )
            self._db.executemany(
                "INSERT INTO announced (recipient, period, item, fingerprint) VALUES (?, ?, ?, ?)",
                [(recipient.lower(), period, k, v) for k, v in items.items()],
            )

    def announced_periods(self, recipient: str) -> list[str]:
        """The periods with a sent digest to this recipient (not change notices)."""
        rows = self._db.execute(
            "SELECT period FROM digests WHERE recipient = ? AND state = 'sent' AND period NOT LIKE '%~%' "
            "ORDER BY period",
            (recipient.lower(),),
        ).fetchall()
        return [str(r[0]) for r in rows]

    # -- stopped addresses ----------------------------------------------------------------------

    def stop(self, recipient: str, now: dt.datetime) -> bool:
        """Stop sending to this address; False when it was already stopped."""
        cursor = self._db.execute(
            "INSERT OR IGNORE INTO stopped (recipient, stopped_at) VALUES (?, ?)",
            (recipient.strip().lower(), _iso(now)),
        )
        return cursor.rowcount == 1

    def resume(self, recipient: str) -> bool:
        cursor = self._db.execute("DELETE FROM stopped WHERE recipient = ?", (recipient.strip().lower(),))
        return cursor.rowcount == 1

    def stopped(self) -> set[str]:
        try:
            rows = self._db.execute("SELECT recipient FROM stopped").fetchall()
        except sqlite3.OperationalError:  # a ledger from before the table, opened read-only
            return set()
        return {str(r[0]) for r in rows}

    def held(self) -> list[Entry]:
        """Permanent failures not yet resolved, of every period, except to stopped addresses."""
        rows = self._db.execute(
            "SELECT recipient, period FROM digests WHERE state = 'failed' AND transient = 0 "
            "AND recipient NOT IN (SELECT recipient FROM stopped) ORDER BY period, recipient"
        ).fetchall()
        return [e for r in rows if (e := self.get(r[0], r[1])) is not None]

    def _transaction(self) -> contextlib.AbstractContextManager[None]:
        return _Transaction(self._db)

    def entries(self, period: str | None = None) -> list[Entry]:
        query = "SELECT recipient, period FROM digests"
        rows = (
            self._db.execute(query + " WHERE period = ? ORDER BY recipient", (period,))
            if period is not None
            else self._db.execute(query + " ORDER BY period, recipient")
        ).fetchall()
        return [e for r in rows if (e := self.get(r[0], r[1])) is not None]


class _Transaction:
    """BEGIN … COMMIT, or ROLLBACK on an error (the connection is in autocommit mode)."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db

    def __enter__(self) -> None:
        self._db.execute("BEGIN IMMEDIATE")

    def __exit__(self, kind: object, *rest: object) -> None:
        self._db.execute("ROLLBACK" if kind is not None else "COMMIT")
