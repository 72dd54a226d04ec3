"""What `plansync status` reports: the last sync of each calendar, the digests pending or failed, and the
next scheduled runs. Reads the state database and the ledger only, so it works while `serve` runs."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path
from typing import Any

from plansync.caldav.embedded import EMBEDDED_USER, password_file
from plansync.config.model import Config
from plansync.digest.ledger import Ledger, ledger_path
from plansync.digest.schedule import next_digest_time
from plansync.errors import PlansyncError
from plansync.jobs.plans import load_plans
from plansync.jobs.runlog import read_conflicts, read_runs, read_service

HEARTBEAT_STALE = dt.timedelta(minutes=2)


def collect_status(config: Config, now: dt.datetime | None = None) -> dict[str, Any]:
    now = now or dt.datetime.now(dt.UTC)
    runs = read_runs(config.state_dir)
    conflicts = read_conflicts(config.state_dir)
    service = read_service(config.state_dir)
    running = _alive(service)
    digests: dict[str, list[dict[str, Any]]] = {"pending": [], "failed": []}
    path = ledger_path(config.state_dir)
    if path.exists():
        with Ledger(path, read_only=True) as ledger:
            for entry in ledger.entries():
                if entry.state == "sent":
                    continue
                kind = "failed" if entry.state == "failed" and not entry.transient else "pending"
                digests[kind].append(
                    {
                        "recipient": entry.recipient,
                        "organization": entry.organization,
                        "period": entry.period,
                        "state": entry.state,
                        "attempts": entry.attempts,
                        "last_error": entry.last_error,
                        "next_attempt": entry.next_attempt.isoformat() if entry.next_attempt else None,
                    }
                )
    if running:
        next_sync = service.get("next_sync")
        next_digest = service.get("next_digest")
    else:
        next_sync = None
        timezone = _plan_timezone(config)
        next_digest = next_digest_time(
            now, config.digest.schedule_weekday, config.digest.schedule_time, timezone
        ).isoformat()
    return {
        "config": str(config.source.absolute()) if config.source else None,
        "state_dir": str(config.state_dir.absolute()),
        "service": {
            "running": running,
            "pid": int(service["pid"]) if running and service.get("pid") else None,
            "activity": service.get("activity") if running else None,
            "heartbeat": service.get("heartbeat"),
        },
        "calendars": [
            {
                "calendar": run.calendar,
                "title": run.title,
                "url": run.url,
                "last_sync": run.finished_at.isoformat(),
                "result": run.result,
                "summary": run.summary,
                "error": run.error,
                "unresolved_conflicts": conflicts.get(run.url or "", []),
            }
            for run in runs
        ],
        "digests": digests,
        "next": {"sync": next_sync, "digest": next_digest},
        "embedded": _embedded(config),
    }


def _embedded(config: Config) -> dict[str, Any] | None:
    """Where the embedded server is and who logs in; its password stays in its 0600 file (the path is
    given: `plansync status` without --json prints the password to the owner)."""
    if not config.caldav.is_embedded:
        return None
    server = config.caldav.embedded
    host = f"[{server.host}]" if ":" in server.host else server.host
    return {
        "url": f"http://{host}:{server.port}/",
        "username": config.caldav.username or EMBEDDED_USER,
        "password_file": str(password_file(server.folder)),
    }


def _alive(service: dict[str, str]) -> bool:
    """The service runs when its pid lives and its heartbeat is fresh (a killed one leaves both)."""
    pid, beat = service.get("pid"), service.get("heartbeat")
    if not pid or not beat:
        return False
    try:
        os.kill(int(pid), 0)
    except (OSError, ValueError):
        return False
    return dt.datetime.now(dt.UTC) - dt.datetime.fromisoformat(beat) < HEARTBEAT_STALE


def _plan_timezone(config: Config) -> str:
    try:
        return load_plans(config.plans[:1])[0].timezone
    except (PlansyncError, IndexError):
        return "UTC"


def format_status(status: dict[str, Any]) -> str:
    service = status["service"]
    lines = [
        f"config: {status['config']}",
        f"state: {status['state_dir']}",
        f"service: running (pid {service['pid']}, {service['activity']})"
        if service["running"]
        else "service: not running",
    ]
    lines.append("calendars:")
    if not status["calendars"]:
        lines.append("  never synced")
    for cal in status["calendars"]:
        lines.append(f"  {cal['title']}: {cal['result']} at {cal['last_sync']}; {cal['summary']}")
        if cal["error"]:
            lines.append(f"    error: {cal['error']}")
        for conflict in cal["unresolved_conflicts"]:
            event, reason, since = conflict["event"], conflict["reason"], conflict["since"]
            lines.append(f"    unresolved conflict: {event} — {reason} (since {since})")
    for kind in ("pending", "failed"):
        entries = status["digests"][kind]
        lines.append(f"digests {kind}: {len(entries)}")
        for entry in entries:
            extra = (
                f", next try {entry['next_attempt']}" if entry["next_attempt"] and kind == "pending" else ""
            )
            error = f": {entry['last_error']}" if entry["last_error"] else ""
            lines.append(f"  {entry['recipient']} ({entry['period']}, {entry['state']}){error}{extra}")
    embedded = status.get("embedded")
    if embedded:
        who = f"user {embedded['username']}, password {_password(embedded)}"
        lines.append(f"calendars served at {embedded['url']} ({who})")
    nxt = status["next"]
    lines.append(f"next sync: {nxt['sync'] or 'when `plansync sync` or the timer runs'}")
    lines.append(f"next digest: {nxt['digest']}")
    return "\n".join(lines)


def _password(embedded: dict[str, Any]) -> str:
    """The embedded server's password, for its owner (who alone can read the file)."""
    try:
        text = Path(embedded["password_file"]).read_text(encoding="utf-8")
    except OSError:
        return "not made yet: it is made when the server first starts"
    return text.strip().partition(":")[2] or "not made yet"
