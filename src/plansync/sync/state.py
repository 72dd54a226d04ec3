"""The state database: what plansync last wrote, and what it last saw, per calendar.

SQLite in the state directory (directory 0700, file 0600: it names calendars and events). Every
action commits on its own, right after the server confirmed it, so a crash at any point leaves a state
from which the next run converges: a write the server did but the database missed shows up as a managed
resource with no record, and the reconciler adopts it instead of creating a duplicate.

Tables:
  calendars  key (e.g. "konb") → url, the target it was resolved from, sync token, ctag
  items      the server's listing as last seen: href → etag, uid, owner, owned-field hash
  records    per UID what plansync last synchronised: href, etag, plan hash, server hash
  stamps     per calendar URL: the settled last-modified stamp the cached listing is complete up to,
             when it was last listed, and whether its stamp has been seen to follow its changes
             (added after schema 1 was released: created when missing, so older databases just gain it)
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from plansync.errors import PlansyncError
from plansync.sync.reconcile import Record
from plansync.util.private import private_dir, private_file

FILE_NAME = "plansync.sqlite3"
SCHEMA_VERSION = 1

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS calendars (
    key TEXT PRIMARY KEY,
    target TEXT NOT NULL,
    url TEXT NOT NULL,
    sync_token TEXT,
    ctag TEXT
);
CREATE TABLE IF NOT EXISTS items (
    calendar TEXT NOT NULL,
    href TEXT NOT NULL,
    etag TEXT NOT NULL,
    uid TEXT,
    owner TEXT,
    hash TEXT,
    recorded_hash TEXT,
    PRIMARY KEY (calendar, href)
);
CREATE TABLE IF NOT EXISTS records (
    calendar TEXT NOT NULL,
    uid TEXT NOT NULL,
    href TEXT,
    etag TEXT,
    plan_hash TEXT NOT NULL,
    server_hash TEXT NOT NULL,
    PRIMARY KEY (calendar, uid)
);
CREATE TABLE IF NOT EXISTS conflicts (
    calendar TEXT NOT NULL,
    uid TEXT NOT NULL,
    label TEXT NOT NULL,
    reason TEXT NOT NULL,
    since TEXT NOT NULL,
    PRIMARY KEY (calendar, uid)
);
CREATE TABLE IF NOT EXISTS stamps (
    calendar TEXT PRIMARY KEY,
    value TEXT,
    listed_at REAL NOT NULL,
    trusted INTEGER NOT NULL,
    synced TEXT
);
"""


@dataclass(frozen=True)
class CalendarState:
    key: str
    target: str
    url: str
    sync_token: str | None
    ctag: str | None


@dataclass(frozen=True)
class HeldStamp:
    """What the cached listing of a calendar is complete up to (see plansync.sync.engine, "stamps")."""

    value: str | None  # a settled last-modified stamp, or None: the listing is to be redone
    listed_at: float  # epoch seconds of the last listing
    trusted: bool  # False once the stamp stayed the same while the calendar changed
    synced: str | None = None  # digest of the desired events the calendar was left matching (clean run)


@dataclass(frozen=True)
class OpenConflict:
    """A conflict left unresolved (server-wins, report): shown by every run and by status until the
    plan and the server agree again."""

    uid: str
    label: str
    reason: str
    since: str  # ISO time of the run that first found it


@dataclass(frozen=True)
class SeenItem:
    """One entry of the cached listing."""

    href: str
    etag: str
    uid: str | None
    owner: str | None  # "plan-id:calendar-id" from plansync's marker; None for other people's events
    hash: str | None
    recorded_hash: str | None


class StateError(PlansyncError):
    pass


class State:
    """One open state database; one run uses one. The threads that write calendars share it: a
    transaction holds the lock until it commits, so theirs never interleave."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.RLock()
        # autocommit; transactions are explicit
        self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(_SCHEMA)
        row = self._db.execute("SELECT value FROM meta WHERE key='schema'").fetchone()
        if row is None:
            self._db.execute("INSERT INTO meta VALUES ('schema', ?)", (str(SCHEMA_VERSION),))
        elif int(row[0]) != SCHEMA_VERSION:
            raise StateError(
                f"state database {path} has schema {row[0]}, this plansync knows {SCHEMA_VERSION}; "
                "move it aside and run `plansync sync` again to rebuild it"
            )

    def close(self) -> None:
        self._db.close()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def _run(self, sql: str, args: tuple[object, ...] = ()) -> list[tuple[Any, ...]]:
        """One statement, its rows read at once; never in the middle of another thread's transaction."""
        with self._lock:
            return self._db.execute(sql, args).fetchall()

    # -- calendars --

    def calendar(self, key: str) -> CalendarState | None:
        rows = self._run("SELECT key, target, url, sync_token, ctag FROM calendars WHERE key=?", (key,))
        return CalendarState(*rows[0]) if rows else None

    def set_calendar(self, key: str, target: str, url: str) -> None:
        old = self.calendar(key)
        if old is not None and old.url == url and old.target == target:
            return
        self._run(
            "INSERT OR REPLACE INTO calendars (key, target, url, sync_token, ctag) "
            "VALUES (?, ?, ?, NULL, NULL)",
            (key, target, url),
        )

    def adopt_calendar(self, key: str, target: str) -> None:
        """The same calendar, now known under another target (its URL, tokens and listing stay)."""
        self._run("UPDATE calendars SET target=? WHERE key=?", (target, key))

    def set_tokens(self, key: str, sync_token: str | None, ctag: str | None) -> None:
        self._run("UPDATE calendars SET sync_token=?, ctag=? WHERE key=?", (sync_token, ctag, key))

    def stamp(self, calendar: str) -> HeldStamp | None:
        rows = self._run("SELECT value, listed_at, trusted, synced FROM stamps WHERE calendar=?", (calendar,))
        return HeldStamp(rows[0][0], rows[0][1], bool(rows[0][2]), rows[0][3]) if rows else None

    def set_stamp(self, calendar: str, held: HeldStamp) -> None:
        self._run(
            "INSERT OR REPLACE INTO stamps VALUES (?, ?, ?, ?, ?)",
            (calendar, held.value, held.listed_at, int(held.trusted), held.synced),
        )

    def set_synced(self, calendar: str, digest: str | None) -> None:
        self._run("UPDATE stamps SET synced=? WHERE calendar=?", (digest, calendar))

    def stampless_at(self, parent: str, *, ctag: bool = False) -> float | None:
        """When the calendars under `parent` were last found to have no last-modified stamps (with
        `ctag`: no getctag either)."""
        rows = self._run("SELECT value FROM meta WHERE key=?", (_stampless_key(parent, ctag),))
        return float(rows[0][0]) if rows else None

    def set_stampless(self, parent: str, at: float | None, *, ctag: bool = False) -> None:
        key = _stampless_key(parent, ctag)
        if at is None:
            self._run("DELETE FROM meta WHERE key=?", (key,))
        else:
            self._run("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, repr(at)))

    # -- the cached listing --

    def items(self, calendar: str) -> dict[str, SeenItem]:
        rows = self._run(
            "SELECT href, etag, uid, owner, hash, recorded_hash FROM items WHERE calendar=?", (calendar,)
        )
        return {r[0]: SeenItem(*r) for r in rows}

    def replace_items(self, calendar: str, items: Iterable[SeenItem]) -> None:
        self._run("DELETE FROM items WHERE calendar=?", (calendar,))
        for item in items:
            self.put_item(calendar, item)

    def put_item(self, calendar: str, item: SeenItem) -> None:
        self._run(
            "INSERT OR REPLACE INTO items VALUES (?, ?, ?, ?, ?, ?, ?)",
            (calendar, item.href, item.etag, item.uid, item.owner, item.hash, item.recorded_hash),
        )

    def drop_item(self, calendar: str, href: str) -> None:
        self._run("DELETE FROM items WHERE calendar=? AND href=?", (calendar, href))

    # -- records --

    def records(self, calendar: str) -> dict[str, Record]:
        rows = self._run(
            "SELECT uid, href, etag, plan_hash, server_hash FROM records WHERE calendar=?", (calendar,)
        )
        return {r[0]: Record(*r) for r in rows}

    def put_record(self, calendar: str, record: Record) -> None:
        self._run(
            "INSERT OR REPLACE INTO records VALUES (?, ?, ?, ?, ?, ?)",
            (calendar, record.uid, record.href, record.etag, record.plan_hash, record.server_hash),
        )

    def drop_record(self, calendar: str, uid: str) -> None:
        self._run("DELETE FROM records WHERE calendar=? AND uid=?", (calendar, uid))

    # -- unresolved conflicts --

    def conflicts(self, calendar: str) -> dict[str, OpenConflict]:
        rows = self._run("SELECT uid, label, reason, since FROM conflicts WHERE calendar=?", (calendar,))
        return {r[0]: OpenConflict(*r) for r in rows}

    def replace_conflicts(self, calendar: str, conflicts: Iterable[OpenConflict]) -> None:
        with self.transaction():
            self._run("DELETE FROM conflicts WHERE calendar=?", (calendar,))
            for c in conflicts:
                self._run(
                    "INSERT OR REPLACE INTO conflicts VALUES (?, ?, ?, ?, ?)",
                    (calendar, c.uid, c.label, c.reason, c.since),
                )


def open_state(state_dir: Path) -> State:
    """Open (creating if needed) the state database, with private permissions."""
    # Created 0600 before SQLite opens it, so it is never readable by others, not even briefly.
    path = private_file(private_dir(state_dir) / FILE_NAME)
    try:
        return State(path)
    except sqlite3.DatabaseError as exc:
        raise StateError(
            f"state database {state_dir / FILE_NAME} is unreadable ({exc}); move it aside and "
            "run `plansync sync` again: plansync adopts the events it wrote before"
        ) from None
    except OSError as exc:
        raise StateError(
            f"cannot use the state directory {state_dir}: {exc.strerror}; "
            "check state_dir in the config (or PLANSYNC_STATE_DIR) and its permissions"
        ) from None


def _stampless_key(parent: str, ctag: bool) -> str:
    return f"{'ctagless' if ctag else 'stampless'} {parent}"
