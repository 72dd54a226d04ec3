"""The configuration file (`config/plansync.yaml`) and the environment variables that override it.

One schema here gives every option its type and default and rejects unknown keys, with the same
`file:line:col: field: problem — fix` messages as the plan. Relative paths are relative to the
config file's folder, so a unit file or a cron job can run plansync from any working directory.
Passwords never live in the file: only the name of an environment variable or a file that holds
them, and they are kept in `Secret`s that do not print.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from plansync.errors import InvalidInput, PlansyncError
from plansync.planread.yamlcheck import Checker, Entry, MappingNode, Node, ScalarNode, read_file

DEFAULT_CONFIG = Path("config/plansync.yaml")
EMBEDDED = "embedded"

ConflictPolicy = Literal["plan-wins", "server-wins", "report"]
LongSpanPolicy = Literal["span", "start-marker", "skip"]
Security = Literal["none", "starttls", "tls"]
CONFLICT_POLICIES: tuple[ConflictPolicy, ...] = ("plan-wins", "server-wins", "report")
LONG_SPAN_POLICIES: tuple[LongSpanPolicy, ...] = ("span", "start-marker", "skip")
Layout = Literal["readable", "classic"]
LAYOUTS: tuple[Layout, ...] = ("readable", "classic")
SECURITIES: tuple[Security, ...] = ("none", "starttls", "tls")
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

_DURATION_RE = re.compile(r"(\d{1,6})\s*(s|m|h|d)")
_SCHEDULE_RE = re.compile(r"(mon|tue|wed|thu|fri|sat|sun)\s+([01]?\d|2[0-3]):([0-5]\d)")
_URL_RE = re.compile(r"https?://[^\s/$.?#][^\s]*", re.IGNORECASE)
_USERINFO_RE = re.compile(r"https?://[^/?#]*@", re.IGNORECASE)
_ENV_NAME_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


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
    schedule_weekday: int = 0  # Monday
    schedule_time: dt.time = dt.time(8, 0)
    period_days: int = 7


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
    transport: Literal["outbox", "smtp"] = "outbox"
    outbox: Path = Path("outbox")
    smtp: SMTPConfig = field(default_factory=SMTPConfig)


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


# -- loading ---------------------------------------------------------------------------------------


def config_path(explicit: Path | None, environ: Mapping[str, str]) -> Path | None:
    """--config beats PLANSYNC_CONFIG beats ./config/plansync.yaml; None when there is none at all."""
    if explicit is not None:
        return explicit
    if environ.get("PLANSYNC_CONFIG"):
        return Path(environ["PLANSYNC_CONFIG"])
    return DEFAULT_CONFIG if DEFAULT_CONFIG.exists() else None


def load_config(explicit: Path | None = None, environ: Mapping[str, str] | None = None) -> Config:
    """Read the config file (or the defaults) and apply the environment overrides."""
    env = os.environ if environ is None else environ
    path = config_path(explicit, env)
    if path is None:
        raise PlansyncError(
            "no configuration found: pass --config FILE, set PLANSYNC_CONFIG, "
            f"or run from the folder that holds {DEFAULT_CONFIG}"
        )
    if not path.exists():
        raise PlansyncError(f"config file {path} not found; check --config or PLANSYNC_CONFIG")
    checker = Checker(str(path))
    root = read_file(path, checker)
    config = checker.guarded(lambda: _read_config(root, checker, path.parent)) if root is not None else None
    if checker.problems or config is None:
        raise InvalidInput(checker.problems)
    return apply_environment(config, env)


def apply_environment(config: Config, env: Mapping[str, str]) -> Config:
    """PLANSYNC_* variables beat the file; checked here so a bad value names its variable."""
    from dataclasses import replace

    caldav = config.caldav
    if env.get("PLANSYNC_CALDAV_URL"):
        url = env["PLANSYNC_CALDAV_URL"]
        if url != EMBEDDED and not _URL_RE.fullmatch(url):
            raise PlansyncError("PLANSYNC_CALDAV_URL is not an http(s) URL nor 'embedded'")
        if _USERINFO_RE.match(url):
            raise PlansyncError(
                "PLANSYNC_CALDAV_URL contains a user name or password (user:password@host); remove it and "
                "use PLANSYNC_CALDAV_USERNAME and PLANSYNC_CALDAV_PASSWORD"
            )
        caldav = replace(caldav, url=url)
    if env.get("PLANSYNC_CALDAV_USERNAME"):
        caldav = replace(caldav, username=env["PLANSYNC_CALDAV_USERNAME"])
    caldav = replace(caldav, password=replace(caldav.password, override_env="PLANSYNC_CALDAV_PASSWORD"))
    state_dir = Path(env["PLANSYNC_STATE_DIR"]) if env.get("PLANSYNC_STATE_DIR") else config.state_dir

    mail = config.mail
    smtp = replace(mail.smtp, password=replace(mail.smtp.password, override_env="PLANSYNC_SMTP_PASSWORD"))
    if env.get("PLANSYNC_SMTP_HOST"):
        smtp = replace(smtp, host=env["PLANSYNC_SMTP_HOST"])
        mail = replace(mail, transport="smtp")
    if env.get("PLANSYNC_SMTP_PORT"):
        port = env["PLANSYNC_SMTP_PORT"]
        if not port.isdigit() or not 0 < int(port) < 65536:
            raise PlansyncError(f"PLANSYNC_SMTP_PORT {port!r} is not a port number (1-65535)")
        smtp = replace(smtp, port=int(port))
    if env.get("PLANSYNC_SMTP_SECURITY"):
        security = env["PLANSYNC_SMTP_SECURITY"]
        if security not in SECURITIES:
            raise PlansyncError(
                f"PLANSYNC_SMTP_SECURITY {security!r} must be one of: {', '.join(SECURITIES)}"
            )
        smtp = replace(smtp, security=security)
    if env.get("PLANSYNC_SMTP_USERNAME"):
        smtp = replace(smtp, username=env["PLANSYNC_SMTP_USERNAME"])
    mail = replace(mail, smtp=smtp)
    if env.get("PLANSYNC_OUTBOX"):
        mail = replace(mail, transport="outbox", outbox=Path(env["PLANSYNC_OUTBOX"]))
    if caldav.embedded.storage is None:
        caldav = replace(caldav, embedded=replace(caldav.embedded, storage=state_dir / "radicale"))
    return replace(config, caldav=caldav, state_dir=state_dir, mail=mail)


TOP = ("plans", "state_dir", "caldav", "calendars", "sync", "digest", "mail", "log_level")


def _read_config(root: Node, c: Checker, base: Path) -> Config | None:
    top = c.mapping(root, "", TOP, required=("plans",))
    if top is None:
        return None
    plans = _paths(top["plans"], "plans", c, base) if "plans" in top else None
    state_dir = (
        _path(top["state_dir"], "state_dir", c, base) if "state_dir" in top else _under(base, Path("state"))
    )
    caldav = _read_caldav(top.get("caldav"), c, base)
    calendars = _read_calendars(top.get("calendars"), c)
    sync = _read_sync(top.get("sync"), c)
    digest = _read_digest(top.get("digest"), c, base)
    mail = _read_mail(top.get("mail"), c, base)
    log_level = "info"
    if "log_level" in top:
        log_level = _choice(top["log_level"], "log_level", ("debug", "info", "warning", "error"), c) or "info"
    if plans is None or state_dir is None or None in (caldav, calendars, sync, digest, mail):
        return None
    assert caldav is not None and calendars is not None and sync is not None
    assert digest is not None and mail is not None
    return Config(
        path_or_none(c.file), tuple(plans), state_dir, caldav, calendars, sync, digest, mail, log_level
    )


def path_or_none(file: str) -> Path | None:
    return Path(file) if file else None


def _path(entry: Entry, field_name: str, c: Checker, base: Path) -> Path | None:
    value = c.string(entry.value, field_name)
    if value is None:
        return None
    try:
        path = Path(value).expanduser()
    except RuntimeError:  # `~name/…` of a user this system does not know
        c.error(
            entry.value,
            field_name,
            f"cannot find the home folder of '{value.split('/', 1)[0]}'",
            "write the full path, or ~/… for plansync's own user",
        )
        return None
    return path if path.is_absolute() else _under(base, path)


def _paths(entry: Entry, field_name: str, c: Checker, base: Path) -> list[Path] | None:
    node = entry.value
    if isinstance(node, ScalarNode):
        single = _path(entry, field_name, c, base)
        return [single] if single is not None else None
    items = c.string_list(node, field_name)
    if items is None:
        return None
    if not items:
        c.error(node, field_name, "no plan file given", "list at least one plan file")
        return None
    return [Path(v) if Path(v).is_absolute() else _under(base, Path(v)) for v, _ in items]


def _under(base: Path, path: Path) -> Path:
    """`config/../data/plan.yaml` → `data/plan.yaml`, for messages people read."""
    return Path(os.path.normpath(base / path))


def _choice(entry: Entry, field_name: str, choices: tuple[str, ...], c: Checker) -> str | None:
    value = c.string(entry.value, field_name)
    if value is not None and value not in choices:
        c.error(entry.value, field_name, f"'{value}' is not allowed", "use one of: " + ", ".join(choices))
        return None
    return value


def _number(entry: Entry, field_name: str, c: Checker, low: float, high: float) -> float | None:
    node = entry.value
    try:
        value = float(node.value) if isinstance(node, ScalarNode) else None
    except ValueError:
        value = None
    if value is None or not low <= value <= high:
        c.error(node, field_name, f"expected a number from {low:g} to {high:g}", f"write e.g. {high / 2:g}")
        return None
    return value


def _duration(entry: Entry, field_name: str, c: Checker, *, zero: bool = False) -> dt.timedelta | None:
    value = c.string(entry.value, field_name)
    if value is None:
        return None
    if zero and value.strip() == "0":
        return dt.timedelta(0)
    match = _DURATION_RE.fullmatch(value.strip())
    if match is None or int(match[1]) == 0:
        c.error(entry.value, field_name, f"'{value}' is not a duration", "write e.g. 30s, 15m, 2h or 1d")
        return None
    unit = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}[match[2]]
    return dt.timedelta(**{unit: int(match[1])})


def _password(fields: dict[str, Entry], where: str, c: Checker, base: Path) -> PasswordSource:
    if "password" in fields:
        c.error(
            fields["password"].key_node,
            f"{where}.password",
            "passwords must not be written in the config",
            "put it in an environment variable (password_env) or a file (password_file)",
        )
    env = (
        c.string(fields["password_env"].value, f"{where}.password_env") if "password_env" in fields else None
    )
    if env is not None and not _ENV_NAME_RE.fullmatch(env):
        c.error(
            fields["password_env"].value,
            f"{where}.password_env",
            f"'{env}' is not an environment variable name",
            "write the variable's name, e.g. CALDAV_PASSWORD",
        )
        env = None
    file = (
        _path(fields["password_file"], f"{where}.password_file", c, base)
        if "password_file" in fields
        else None
    )
    return PasswordSource(env=env, file=file)


def _read_caldav(entry: Entry | None, c: Checker, base: Path) -> CalDAVConfig | None:
    default = CalDAVConfig()
    if entry is None:
        return default
    allowed = (
        "url",
        "username",
        "password",
        "password_env",
        "password_file",
        "verify_tls",
        "timeout",
        "connections",
        "embedded",
    )
    fields = c.mapping(entry.value, "caldav", allowed)
    if fields is None:
        return None
    url = c.string(fields["url"].value, "caldav.url") if "url" in fields else EMBEDDED
    if url is not None and url != EMBEDDED and not _URL_RE.fullmatch(url):
        c.error(
            fields["url"].value,
            "caldav.url",
            f"'{url}' is not an http(s) URL",
            "write the server's CalDAV URL, e.g. https://dav.example.ru/, or `embedded`",
        )
    elif url is not None and _USERINFO_RE.match(url):
        # Never echo it: the part before @ may hold a password.
        c.error(
            fields["url"].value,
            "caldav.url",
            "the URL contains a user name or password (user:password@host)",
            "remove it; put the name in caldav.username and the password in password_env or password_file",
        )
    username = c.string(fields["username"].value, "caldav.username") if "username" in fields else None
    verify = c.boolean(fields["verify_tls"].value, "caldav.verify_tls") if "verify_tls" in fields else True
    timeout = _number(fields["timeout"], "caldav.timeout", c, 1, 600) if "timeout" in fields else 30.0
    connections = (
        c.integer(fields["connections"].value, "caldav.connections", 1, 16)
        if "connections" in fields
        else default.connections
    )
    embedded = default.embedded
    if "embedded" in fields:
        sub = c.mapping(fields["embedded"].value, "caldav.embedded", ("host", "port", "storage"))
        if sub is not None:
            host = c.string(sub["host"].value, "caldav.embedded.host") if "host" in sub else embedded.host
            if host is not None and host not in ("127.0.0.1", "localhost", "::1"):
                c.error(
                    sub["host"].value,
                    "caldav.embedded.host",
                    f"'{host}' is not a loopback address",
                    "the embedded server has no authentication: keep it on 127.0.0.1",
                )
            port = (
                c.integer(sub["port"].value, "caldav.embedded.port", 1, 65535)
                if "port" in sub
                else embedded.port
            )
            storage = (
                _path(sub["storage"], "caldav.embedded.storage", c, base)
                if "storage" in sub
                else embedded.storage
            )
            if host and port:
                embedded = EmbeddedServer(host, port, storage)
    return CalDAVConfig(
        url=url or EMBEDDED,
        username=username,
        password=_password(fields, "caldav", c, base),
        verify_tls=verify if verify is not None else True,
        timeout=timeout or 30.0,
        connections=connections or default.connections,
        embedded=embedded,
    )


def _read_calendars(entry: Entry | None, c: Checker) -> dict[str, CalendarTarget] | None:
    if entry is None:
        return {}
    node = entry.value
    if not isinstance(node, MappingNode):
        c.error(
            node,
            "calendars",
            "expected a mapping of organization id → calendar",
            "write `konb: {name: КОНБ — план}` lines",
        )
        return None
    keys = [k.value for k, _ in node.pairs() if isinstance(k, ScalarNode)]
    fields = c.mapping(node, "calendars", keys)
    if fields is None:
        return None
    out: dict[str, CalendarTarget] = {}
    for org_id, item in fields.items():
        where = f"calendars.{org_id}"
        sub = c.mapping(item.value, where, ("url", "name"))
        if sub is None:
            continue
        if ("url" in sub) == ("name" in sub):
            c.error(
                item.value,
                where,
                "give exactly one of `url` or `name`",
                "`url:` for an existing calendar, `name:` to find or create one by its display name",
            )
            continue
        url = c.string(sub["url"].value, f"{where}.url") if "url" in sub else None
        if url is not None and not _URL_RE.fullmatch(url):
            c.error(
                sub["url"].value, f"{where}.url", f"'{url}' is not an http(s) URL", "write the calendar's URL"
            )
            continue
        name = c.string(sub["name"].value, f"{where}.name", max_length=200) if "name" in sub else None
        out[org_id] = CalendarTarget(url=url, name=name)
    return out


def _read_sync(entry: Entry | None, c: Checker) -> SyncConfig | None:
    if entry is None:
        return SyncConfig()
    allowed = (
        "conflict_policy",
        "long_span_policy",
        "long_span_days",
        "max_delete_share",
        "interval",
        "recheck_every",
        "layout",
        "combined_calendar",
    )
    fields = c.mapping(entry.value, "sync", allowed)
    if fields is None:
        return None
    d = SyncConfig()
    conflict = (
        _choice(fields["conflict_policy"], "sync.conflict_policy", CONFLICT_POLICIES, c)
        if "conflict_policy" in fields
        else d.conflict_policy
    )
    long_span = (
        _choice(fields["long_span_policy"], "sync.long_span_policy", LONG_SPAN_POLICIES, c)
        if "long_span_policy" in fields
        else d.long_span_policy
    )
    days = (
        c.integer(fields["long_span_days"].value, "sync.long_span_days", 1, 3660)
        if "long_span_days" in fields
        else d.long_span_days
    )
    share = (
        _number(fields["max_delete_share"], "sync.max_delete_share", c, 0, 1)
        if "max_delete_share" in fields
        else d.max_delete_share
    )
    interval = _duration(fields["interval"], "sync.interval", c) if "interval" in fields else d.interval
    recheck = (
        _duration(fields["recheck_every"], "sync.recheck_every", c, zero=True)
        if "recheck_every" in fields
        else d.recheck_every
    )
    layout = _choice(fields["layout"], "sync.layout", LAYOUTS, c) if "layout" in fields else d.layout
    combined = (
        c.boolean(fields["combined_calendar"].value, "sync.combined_calendar")
        if "combined_calendar" in fields
        else d.combined_calendar
    )
    if None in (conflict, long_span, days, share, interval, recheck, layout, combined):
        return None
    return SyncConfig(conflict, long_span, days, share, interval, recheck, layout, combined)  # type: ignore[arg-type]


def _read_digest(entry: Entry | None, c: Checker, base: Path) -> DigestConfig | None:
    if entry is None:
        return DigestConfig()
    allowed = (
        "from",
        "reply_to",
        "send_empty",
        "include_others",
        "attach_ics",
        "templates",
        "schedule",
        "period_days",
    )
    fields = c.mapping(entry.value, "digest", allowed)
    if fields is None:
        return None
    d = DigestConfig()
    sender = c.string(fields["from"].value, "digest.from", max_length=300) if "from" in fields else d.sender
    reply_to = (
        c.string(fields["reply_to"].value, "digest.reply_to", max_length=300)
        if "reply_to" in fields
        else None
    )
    for name, value in (("from", sender), ("reply_to", reply_to)):
        if value is not None and ("\n" in value or "\r" in value or "@" not in value):
            c.error(
                fields[name].value,
                f"digest.{name}",
                f"'{value}' is not a mail address",
                "write `Name <address@example.ru>` or `address@example.ru`",
            )
    flags = {}
    for name in ("send_empty", "include_others", "attach_ics"):
        flags[name] = c.boolean(fields[name].value, f"digest.{name}") if name in fields else getattr(d, name)
    templates = _path(fields["templates"], "digest.templates", c, base) if "templates" in fields else None
    if templates is not None and not templates.is_dir():
        c.error(
            fields["templates"].value,
            "digest.templates",
            f"folder {templates} does not exist",
            "create it, or remove the line to use the shipped templates",
        )
    weekday, at = d.schedule_weekday, d.schedule_time
    if "schedule" in fields:
        text = c.string(fields["schedule"].value, "digest.schedule")
        match = _SCHEDULE_RE.fullmatch(text.strip().lower()) if text else None
        if match is None:
            c.error(
                fields["schedule"].value,
                "digest.schedule",
                f"'{text}' is not a weekly time",
                "write a weekday and a time, e.g. `mon 08:00`",
            )
        else:
            weekday, at = WEEKDAYS.index(match[1]), dt.time(int(match[2]), int(match[3]))
    period = (
        c.integer(fields["period_days"].value, "digest.period_days", 1, 31)
        if "period_days" in fields
        else d.period_days
    )
    if sender is None or None in flags.values() or period is None:
        return None
    return DigestConfig(
        sender=sender,
        reply_to=reply_to,
        send_empty=bool(flags["send_empty"]),
        include_others=bool(flags["include_others"]),
        attach_ics=bool(flags["attach_ics"]),
        templates=templates,
        schedule_weekday=weekday,
        schedule_time=at,
        period_days=period,
    )


def _read_mail(entry: Entry | None, c: Checker, base: Path) -> MailConfig | None:
    if entry is None:
        return MailConfig(outbox=_under(base, Path("outbox")))
    fields = c.mapping(entry.value, "mail", ("transport", "outbox", "smtp"))
    if fields is None:
        return None
    transport = (
        _choice(fields["transport"], "mail.transport", ("outbox", "smtp"), c)
        if "transport" in fields
        else "outbox"
    )
    outbox = (
        _path(fields["outbox"], "mail.outbox", c, base)
        if "outbox" in fields
        else _under(base, Path("outbox"))
    )
    smtp = SMTPConfig()
    if "smtp" in fields:
        allowed = (
            "host",
            "port",
            "security",
            "username",
            "password",
            "password_env",
            "password_file",
            "verify_tls",
            "timeout",
            "ca_file",
        )
        sub = c.mapping(fields["smtp"].value, "mail.smtp", allowed)
        if sub is None:
            return None
        host = c.string(sub["host"].value, "mail.smtp.host") if "host" in sub else smtp.host
        port = c.integer(sub["port"].value, "mail.smtp.port", 1, 65535) if "port" in sub else None
        security = (
            _choice(sub["security"], "mail.smtp.security", SECURITIES, c) if "security" in sub else "starttls"
        )
        username = c.string(sub["username"].value, "mail.smtp.username") if "username" in sub else None
        verify = c.boolean(sub["verify_tls"].value, "mail.smtp.verify_tls") if "verify_tls" in sub else True
        timeout = _number(sub["timeout"], "mail.smtp.timeout", c, 1, 600) if "timeout" in sub else 30.0
        ca_file = _path(sub["ca_file"], "mail.smtp.ca_file", c, base) if "ca_file" in sub else None
        smtp = SMTPConfig(
            host=host or "localhost",
            port=port,
            security=security or "starttls",  # type: ignore[arg-type]
            username=username,
            password=_password(sub, "mail.smtp", c, base),
            verify_tls=verify if verify is not None else True,
            timeout=timeout or 30.0,
            ca_file=ca_file,
        )
    if transport is None or outbox is None:
        return None
    return MailConfig(transport=transport, outbox=outbox, smtp=smtp)  # type: ignore[arg-type]
