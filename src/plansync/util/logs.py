"""Logging for unattended runs: one line per event, journald-friendly, or JSON for log shippers.

Under systemd (JOURNAL_STREAM set) the journal stamps every line itself, so ours carry no timestamp.
Every line passes a filter that masks the secrets plansync holds, whatever the verbosity, so a
password that slipped into an exception message from a library still never reaches a log.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import re
import sys
from collections.abc import Iterable, Mapping
from typing import ClassVar, Literal

LogFormat = Literal["text", "json"]
MASK = "********"

_secrets: set[str] = set()


def register_secret(value: str | None) -> None:
    """Mask this value in every log line from now on (short values would mask ordinary words)."""
    if value and len(value) >= 4:
        _secrets.add(value)


def redact(text: str) -> str:
    for secret in sorted(_secrets, key=len, reverse=True):
        text = text.replace(secret, MASK)
    return text


# Escape sequences and other control characters: text from a server or a file must not move a
# terminal's cursor, hide lines or set a window title when it is printed.
_CONTROL_RE = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|[\x00-\x08\x0b-\x1f\x7f-\x9f]"
)


def untrusted(text: str, limit: int = 300) -> str:
    """Text someone else wrote (a server's error body, an exception about it), fit to show: one line,
    no control characters, secrets masked, at most `limit` characters."""
    flat = " ".join(_CONTROL_RE.sub(" ", text).split())
    flat = redact(flat)
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


class _RedactingFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if record.exc_info:
            message += "\n" + logging.Formatter().formatException(record.exc_info)
            record.exc_info = None
            record.exc_text = None
        record.msg, record.args = redact(message), None
        return True


def one_line(text: str) -> str:
    """A multi-line message (a list of plan problems, a traceback) as one line: ` | ` between its
    lines. A journal or a log file reads each line as an event of its own, and a continuation line
    would lose the priority and the logger name."""
    if "\n" not in text and "\r" not in text:
        return text
    return " | ".join(line.rstrip() for line in text.splitlines() if line.strip())


class _TextFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return one_line(super().format(record))


class _JSONFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "ts": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        fields = getattr(record, "fields", None)
        if isinstance(fields, Mapping):
            entry.update({str(k): v for k, v in fields.items()})
        return json.dumps(entry, ensure_ascii=False, default=str)


class _JournalFormatter(logging.Formatter):
    """`<6>plansync.service: …`: the journal reads the syslog priority and adds the time itself."""

    PRIORITY: ClassVar[dict[int, int]] = {
        logging.DEBUG: 7,
        logging.INFO: 6,
        logging.WARNING: 4,
        logging.ERROR: 3,
        logging.CRITICAL: 2,
    }

    def format(self, record: logging.LogRecord) -> str:
        priority = self.PRIORITY.get(record.levelno, 6)
        return f"<{priority}>{record.name}: {one_line(record.getMessage())}"


def under_journald(environ: Mapping[str, str] | None = None) -> bool:
    env = os.environ if environ is None else environ
    return bool(env.get("JOURNAL_STREAM")) or bool(env.get("INVOCATION_ID") and not sys.stderr.isatty())


def setup(level: str = "info", log_format: LogFormat = "text", *, secrets: Iterable[str | None] = ()) -> None:
    """Configure the root logger once for a process: stderr, one line per event."""
    for secret in secrets:
        register_secret(secret)
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(_RedactingFilter())
    if log_format == "json":
        handler.setFormatter(_JSONFormatter())
    elif under_journald():
        handler.setFormatter(_JournalFormatter())
    else:
        handler.setFormatter(_TextFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper())
    # Libraries log request details (and headers, with credentials) at debug level: keep them quiet.
    for noisy in ("caldav", "urllib3", "niquests", "radicale", "mail.log", "asyncio"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))
