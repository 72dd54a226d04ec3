"""What a configuration is: the typed values the rest of plansync reads.

`plansync.config.schema` says which keys the file and the environment may set and how they are
checked; `plansync.config.load` fills these in. The defaults here are the schema's defaults (a unit
test keeps them equal).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from plansync.errors import PlansyncError

EMBEDDED = "embedded"

ConflictPolicy = Literal["plan-wins", "server-wins", "report"]
LongSpanPolicy = Literal["span", "start-marker", "skip"]
Layout = Literal["readable", "classic"]
LAYOUTS: tuple[Layout, ...] = ("readable", "classic")
Security = Literal["none", "starttls", "tls"]
Transport = Literal["outbox", "smtp"]
CONFLICT_POLICIES: tuple[ConflictPolicy, ...] = ("plan-wins", "server-wins", "report")
LONG_SPAN_POLICIES: tuple[LongSpanPolicy, ...] = ("span", "start-marker", "skip")
SECURITIES: tuple[Security, ...] = ("none", "starttls", "tls")
TRANSPORTS: tuple[Transport, ...] = ("outbox", "smtp")
LOG_LEVELS = ("debug", "info", "warning", "error")
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class Secret:
    """A password: usable by code, invisible in logs, reprs and tracebacks."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('********')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


@dataclass(frozen=True)
class PasswordSource:
    """Where a password comes from; read only when needed, so a missing one fails only the part that
    needs it."""

    env: str | None = None  # the name of the variable, never the password
    file: Path | None = None
    override_env: str = ""  # PLANSYNC_..._PASSWORD, which beats both

    def resolve(self, environ: Mapping[str, str]) -> Secret | None:
        if self.override_env and environ.get(self.override_env):
            return Secret(environ[self.override_env])
        if self.file is not None:
            try:
                text = self.file.read_text(encoding="utf-8").rstrip("\r\n")
            except OSError as exc:
                raise PlansyncError(
                    f"cannot read the password file {self.file}: {exc.strerror}; "
                    "check the path and that plansync's user may read it"
                ) from None
            except UnicodeDecodeError:
                raise PlansyncError(
                    f"cannot read the password file {self.file}: it is not UTF-8 text; "
                    "write the password in it as one line of text"
                ) from None
            if not text.strip():
                raise PlansyncError(
                    f"the password file {self.file} is empty; write the password in it, or remove "
                    "password_file from the config if the server needs none"
                )
            return Secret(text)
        if self.env and environ.get(self.env):
            return Secret(environ[self.env])
        return None


@dataclass(frozen=True)
class EmbeddedServer:
    host: str = "127.0.0.1"
    port: int = 5232
    storage: Path | None = None  # None: <state_dir>/radicale, wherever the state ends up

    @property
    def folder(self) -> Path:
        """Where Radicale keeps the calendars (load_config always fills `storage` in)."""
        return self.storage if self.storage is not None else Path("state/radicale")


@dataclass(frozen=True)
class CalDAVConfig:
    url: str = EMBEDDED
    username: str | None = None
    password: PasswordSource = field(default_factory=PasswordSource)
    verify_tls: bool = True
    timeout: float = 30.0
    connections: int = 2  # calendars written at the same time, each over its own connection
    embedded: EmbeddedServer = field(default_factory=EmbeddedServer)
    ca_file: Path | None = None  # the CA (or self-signed certificate) the server's is checked against
    auth: str = "auto"  # auto | basic | digest | bearer
    max_response_mb: int = 64  # the largest answer taken from the server

    @property
    def is_embedded(self) -> bool:
        return self.url == EMBEDDED


@dataclass(frozen=True)
class CalendarTarget:
    """Where an organizer's events go: an existing calendar URL, or a display name to find or create."""

    url: str | None = None
    name: str | None = None


@dataclass(frozen=True)
class SyncConfig:
    conflict_policy: ConflictPolicy = "plan-wins"
    long_span_policy: LongSpanPolicy = "span"
    long_span_days: int = 31  # spans longer than this follow long_span_policy
    max_delete_share: float = 0.5  # the safety brake
    interval: dt.timedelta = dt.timedelta(minutes=15)
    # A calendar whose last-modified stamp says nothing changed is still listed this often (0: always).
    recheck_every: dt.timedelta = dt.timedelta(hours=1)
    max_run_time: dt.timedelta = dt.timedelta(hours=2)  # a run that reaches it stops between two writes
    layout: Layout = "readable"  # how dates without a day appear (docs/calendar.md); "classic": as before
    combined_calendar: bool = True  # one more calendar holding every event of the plan once


@dataclass(frozen=True)
class DigestConfig:
    sender: str = "plansync <plansync@localhost>"
    reply_to: str | None = None
    send_empty: bool = False
    include_others: bool = True
    attach_ics: bool = True
    templates: Path | None = None  # a folder whose templates override the shipped ones
    # Thursday 10:00: the coming week's Monday events get four working days' notice, and Friday is
    # left to prepare (docs/digests.md).
    schedule_weekday: int = 3
    schedule_time: dt.time = dt.time(10, 0)
    period_days: int = 7
    lead_days: int = 7  # exact events are announced at least this many days before


@dataclass(frozen=True)
class SMTPConfig:
    host: str = "localhost"
    port: int | None = None  # None: 25, 587 or 465 by security
    security: Security = "starttls"
    username: str | None = None
    password: PasswordSource = field(default_factory=PasswordSource)
    verify_tls: bool = True
    timeout: float = 30.0
    ca_file: Path | None = None

    @property
    def effective_port(self) -> int:
        if self.port is not None:
            return self.port
        return {"none": 25, "starttls": 587, "tls": 465}[self.security]


@dataclass(frozen=True)
class MailConfig:
    transport: Transport = "outbox"
    outbox: Path = Path("outbox")  # load_config puts it under the state folder unless set
    smtp: SMTPConfig = field(default_factory=SMTPConfig)
    sender: str | None = None  # mail.from (or its older name digest.from); required for SMTP
    reply_to: str | None = None  # mail.reply_to (or digest.reply_to): the coordinator; required for SMTP
    unsubscribe_url: str | None = None  # an RFC 8058 one-click unsubscribe URL, if there is one


@dataclass(frozen=True)
class PublishConfig:
    """The published site (`plansync publish`, and `serve` when `out` or `port` is set)."""

    out: Path | None = None  # the site folder; None: `site` for the command, <state_dir>/site for serve
    base_url: str | None = None  # where people reach the site: makes the feed links absolute
    host: str = "127.0.0.1"
    port: int | None = None  # serve the site over HTTP from `serve`; None: a web server publishes `out`

    @property
    def in_service(self) -> bool:
        return self.out is not None or self.port is not None


@dataclass(frozen=True)
class Config:
    source: Path | None  # the file it was read from; None for the built-in defaults
    plans: tuple[Path, ...]
    state_dir: Path
    caldav: CalDAVConfig
    calendars: Mapping[str, CalendarTarget]
    sync: SyncConfig
    digest: DigestConfig
    mail: MailConfig
    log_level: str = "info"
    publish: PublishConfig = field(default_factory=PublishConfig)
