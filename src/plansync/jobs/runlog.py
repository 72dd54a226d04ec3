"""The runs' record for `plansync status`: the last sync of each calendar and the service's schedule.

Kept in the state database beside the sync state (its own tables), written by every real sync
(`sync`, `run`, `serve`) and by the service after each cycle, and read without a lock so that
`status` works while `serve` runs. The digests' side comes from the ledger.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from plansync.sync.state import FILE_NAME
from plansync.util.private import private_dir, private_file

if TYPE_CHECKING:
    from plansync.sync.report import SyncResult

_SCHEMA = """
CREATE TABLE IF NOT EXISTS sync_runs (
    calendar    TEXT PRIMARY KEY,
    title       TEXT NOT NULL,
    url         TEXT,
    finished_at TEXT NOT NULL,
    result      TEXT NOT NULL CHECK (result IN ('ok', 'failed', 'braked')),
    summary     TEXT NOT NULL,
    error       TEXT
);
CREATE TABLE IF NOT EXISTS service (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""


@dataclass(frozen=True)
class CalendarRun:
    calendar: str
    title: str
    url: str | None
    finished_at: dt.datetime
    result: str
    summary: str
    error: str | None


@contextmanager
def _open(state_dir: Path, *, write: bool) -> Iterator[sqlite3.Connection | None]:
    path = state_dir / FILE_NAME
    if not write and not path.exists():
        yield None
        return
    if write:
        private_file(private_dir(state_dir) / FILE_NAME)
        uri = f"file:{path}"
    else:
        uri = f"file:{path}?mode=ro"
    with closing(sqlite3.connect(uri, uri=True, timeout=10, isolation_level=None)) as db:
        if write:
            db.executescript(_SCHEMA)
        yield db


def record_sync(state_dir: Path, result: SyncResult, now: dt.datetime) -> None:
    """Remember how each calendar's sync ended. Dry runs change nothing, so they are not recorded."""
    if result.dry_run:
        return
    braked = {b.calendar for b in result.brakes}  # the brake names a calendar by its title
    rows = []
    for report in result.calendars:
        failed = bool(report.failures or report.error)
        outcome = "braked" if report.title in braked or report.key in braked else "failed" if failed else "ok"
        error = report.error or "; ".join(f"{f.label}: {f.message}" for f in report.failures) or None
        rows.append((report.key, report.title, report.url, now.isoformat(), outcome, report.summary(), error))
    with _open(state_dir, write=True) as db:
        assert db is not None
        db.executemany(
            "INSERT OR REPLACE INTO sync_runs (calendar, title, url, finished_at, result, summary, error) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            rows,
        )


def record_service(state_dir: Path, values: dict[str, str | None]) -> None:
    """The running service's facts (pid, heartbeat, next runs); None removes a key."""
    with _open(state_dir, write=True) as db:
        assert db is not None
        db.execute("BEGIN")
        for key, value in values.items():
            if value is None:
                db.execute("DELETE FROM service WHERE key = ?", (key,))
            else:
                db.execute("INSERT OR REPLACE INTO service (key, value) VALUES (?, ?)", (key, value))
        db.execute("COMMIT")


def read_runs(state_dir: Path) -> list[CalendarRun]:
    with _open(state_dir, write=False) as db:
        if db is None or not _has_table(db, "sync_runs"):
            return []
        rows = db.execute(
            "SELECT calendar, title, url, finished_at, result, summary, error "
            "FROM sync_runs ORDER BY calendar"
        ).fetchall()
    return [CalendarRun(r[0], r[1], r[2], dt.datetime.fromisoformat(r[3]), r[4], r[5], r[6]) for r in rows]


def read_conflicts(state_dir: Path) -> dict[str, list[dict[str, str]]]:
    """The conflicts the syncs left unresolved, by calendar URL (the sync state's own table)."""
    with _open(state_dir, write=False) as db:
        if db is None or not _has_table(db, "conflicts"):
            return {}
        rows = db.execute(
            "SELECT calendar, label, reason, since FROM conflicts ORDER BY since, label"
        ).fetchall()
    out: dict[str, list[dict[str, str]]] = {}
    for url, label, reason, since in rows:
        out.setdefault(url, []).append({"event": label, "reason": reason, "since": since})
    return out


def read_service(state_dir: Path) -> dict[str, str]:
    with _open(state_dir, write=False) as db:
        if db is None or not _has_table(db, "service"):
            return {}
        return dict(db.execute("SELECT key, value FROM service").fetchall())


def _has_table(db: sqlite3.Connection, name: str) -> bool:
    row = db.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (name,)).fetchone()
    return row is not None
