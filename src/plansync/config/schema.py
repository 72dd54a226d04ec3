"""Every configuration key, once: its type, default, bounds, environment variable and help.

`plansync.config.load` reads the file and the environment with it, `plansync.config.docs` writes the
tables of docs/configuration.md from it, and the hostile-input fuzzer takes its key names from it.
A key's kind reads and checks one value (the same way from the file and from a variable); checks
beyond the kind are small functions named in the key.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from plansync.config.model import (
    CONFLICT_POLICIES,
    EMBEDDED,
    LAYOUTS,
    LOG_LEVELS,
    LONG_SPAN_POLICIES,
    SECURITIES,
    TRANSPORTS,
    WEEKDAYS,
    CalendarTarget,
)
from plansync.planread.yamlcheck import Checker, Entry, MappingNode, ScalarNode

_DURATION_RE = re.compile(r"(\d{1,6})\s*(s|m|h|d)")
_SCHEDULE_RE = re.compile(r"(mon|tue|wed|thu|fri|sat|sun)\s+([01]?\d|2[0-3]):([0-5]\d)")
_URL_RE = re.compile(r"https?://[^\s/$.?#][^\s]*", re.IGNORECASE)
_USERINFO_RE = re.compile(r"(?:[a-z][a-z0-9+.-]*:)?/*[^/?#]*@", re.IGNORECASE)
_ENV_NAME_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_INT_RE = re.compile(r"[+-]?\d+")


class Invalid(Exception):
    """A value that cannot be used: what is wrong and how to fix it."""

    def __init__(self, message: str, hint: str) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


# -- kinds: how one value is read ---------------------------------------------------------------------


CALDAV_AUTH = ("auto", "basic", "digest", "bearer")


class Kind:
    """A scalar read as text, then converted; subclasses say how (and what the docs call it)."""

    type_name = "text"

    def read(self, entry: Entry, field: str, c: Checker, base: Path) -> object | None:
        text = c.string(entry.value, field)
        if text is None:
            return None
        try:
            return self.convert(text, base)
        except Invalid as problem:
            c.error(entry.value, field, problem.message, problem.hint)
            return None

    def convert(self, text: str, base: Path | None) -> object:
        """`base` is the config file's folder; None for a value from the environment."""
        return text


@dataclass(frozen=True)
class Text(Kind):
    max_length: int = 10_000

    def read(self, entry: Entry, field: str, c: Checker, base: Path) -> object | None:
        return c.string(entry.value, field, max_length=self.max_length)


@dataclass(frozen=True)
class Integer(Kind):
    low: int
    high: int

    @property
    def type_name(self) -> str:  # type: ignore[override]
        return f"whole number {self.low}–{self.high}"

    def read(self, entry: Entry, field: str, c: Checker, base: Path) -> object | None:
        return c.integer(entry.value, field, self.low, self.high)

    def convert(self, text: str, base: Path | None) -> object:
        value = text.strip()
        if not _INT_RE.fullmatch(value) or len(value) > 20:
            raise Invalid(
                f"'{value[:20]}' is not a whole number", f"write a number from {self.low} to {self.high}"
            )
        if not self.low <= int(value) <= self.high:
            raise Invalid(f"{value} is out of range", f"write a number from {self.low} to {self.high}")
        return int(value)


@dataclass(frozen=True)
class Number(Kind):
    low: float
    high: float

    @property
    def type_name(self) -> str:  # type: ignore[override]
        return f"number {self.low:g}–{self.high:g}"

    def read(self, entry: Entry, field: str, c: Checker, base: Path) -> object | None:
        node = entry.value
        try:
            return self.convert(node.value if isinstance(node, ScalarNode) else "", base)
        except Invalid as problem:
            c.error(node, field, problem.message, problem.hint)
            return None

    def convert(self, text: str, base: Path | None) -> object:
        try:
            value = float(text)
        except ValueError:
            value = None
        if value is None or not self.low <= value <= self.high:
            raise Invalid(
                f"expected a number from {self.low:g} to {self.high:g}", f"write e.g. {self.high / 2:g}"
            )
        return value


class Boolean(Kind):
    type_name = "true/false"

    def read(self, entry: Entry, field: str, c: Checker, base: Path) -> object | None:
        return c.boolean(entry.value, field)

    def convert(self, text: str, base: Path | None) -> object:
        word = text.strip().lower()
        if word in ("true", "yes", "on", "1"):
            return True
        if word in ("false", "no", "off", "0"):
            return False
        raise Invalid(f"'{text[:20]}' is not true or false", "write true or false")


@dataclass(frozen=True)
class Choice(Kind):
    choices: tuple[str, ...]

    @property
    def type_name(self) -> str:  # type: ignore[override]
        return " | ".join(self.choices)

    def convert(self, text: str, base: Path | None) -> object:
        if text not in self.choices:
            raise Invalid(f"'{text[:40]}' is not allowed", "use one of: " + ", ".join(self.choices))
        return text


@dataclass(frozen=True)
class Duration(Kind):
    zero: bool = False  # `0` allowed (meaning "always")
    type_name = "duration"

    def convert(self, text: str, base: Path | None) -> object:
        if self.zero and text.strip() == "0":
            return dt.timedelta(0)
        match = _DURATION_RE.fullmatch(text.strip())
        if match is None or int(match[1]) == 0:
            raise Invalid(f"'{text[:40]}' is not a duration", "write e.g. 30s, 15m, 2h or 1d")
        unit = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}[match[2]]
        return dt.timedelta(**{unit: int(match[1])})


class WeeklyTime(Kind):
    """`mon 08:00` → (weekday number, time)."""

    type_name = "weekday and time"

    def convert(self, text: str, base: Path | None) -> object:
        match = _SCHEDULE_RE.fullmatch(text.strip().lower())
        if match is None:
            raise Invalid(
                f"'{text[:40]}' is not a weekly time", "write a weekday and a time, e.g. `mon 08:00`"
            )
        return WEEKDAYS.index(match[1]), dt.time(int(match[2]), int(match[3]))


@dataclass(frozen=True)
class URL(Kind):
    hint: str
    embedded: bool = False  # `embedded` is a value too
    type_name = "URL"

    def convert(self, text: str, base: Path | None) -> object:
        if self.embedded and text == EMBEDDED:
            return text
        if "@" in text and _USERINFO_RE.match(text):
            # Never echo it: the part before @ may hold a password.
            raise Invalid(
                "the URL contains a user name or password (user:password@host)",
                "remove it; put the name in the username key and the password in password_env or "
                "password_file (or their environment variables)",
            )
        if not _URL_RE.fullmatch(text):
            # A mistyped URL may still hold a password (`https//user:secret@host`): echo none with an @.
            shown = "the value (not shown: it has an @)" if "@" in text else f"'{text[:80]}'"
            raise Invalid(f"{shown} is not an http(s) URL", self.hint)
        return text


class FilePath(Kind):
    """A path; relative ones are relative to the config file's folder (to the working folder when
    the value comes from the environment)."""

    type_name = "path"

    def convert(self, text: str, base: Path | None) -> object:
        if base is None:
            return Path(text)
        try:
            path = Path(text).expanduser()
        except RuntimeError:  # `~name/…` of a user this system does not know
            raise Invalid(
                f"cannot find the home folder of '{text.split('/', 1)[0][:40]}'",
                "write the full path, or ~/… for plansync's own user",
            ) from None
        return path if path.is_absolute() else under(base, path)


class PathList(Kind):
    """One path or a list of them."""

    type_name = "path or list of paths"

    def read(self, entry: Entry, field: str, c: Checker, base: Path) -> object | None:
        if isinstance(entry.value, ScalarNode):
            single = FilePath().read(entry, field, c, base)
            return (single,) if single is not None else None
        items = c.string_list(entry.value, field)
        if items is None:
            return None
        if not items:
            c.error(entry.value, field, "no plan file given", "list at least one plan file")
            return None
        paths = []
        for index, (_, node) in enumerate(items):
            path = FilePath().read(Entry(entry.key, entry.key_node, node), f"{field}[{index}]", c, base)
            if path is not None:
                paths.append(path)
        return tuple(paths) if len(paths) == len(items) else None

    def convert(self, text: str, base: Path | None) -> object:
        return (FilePath().convert(text, base),)


class EnvName(Kind):
    type_name = "variable name"

    def convert(self, text: str, base: Path | None) -> object:
        if not _ENV_NAME_RE.fullmatch(text):
            raise Invalid(
                f"'{text[:40]}' is not an environment variable name",
                "write the variable's name, e.g. CALDAV_PASSWORD",
            )
        return text


class Refused(Kind):
    """A key that must never be in the file (a password); its environment variable is read only
    when the password is needed."""

    type_name = "never in the file"

    def read(self, entry: Entry, field: str, c: Checker, base: Path) -> object | None:
        c.error(
            entry.key_node,
            field,
            "passwords must not be written in the config",
            "put it in an environment variable (password_env) or a file (password_file)",
        )
        return None


class CalendarMap(Kind):
    """`<organizer id>: {name: …}` or `{url: …}` lines."""

    type_name = "mapping"

    def read(self, entry: Entry, field: str, c: Checker, base: Path) -> object | None:
        node = entry.value
        if not isinstance(node, MappingNode):
            c.error(
                node,
                field,
                "expected a mapping of organization id → calendar",
                "write `konb: {name: КОНБ — план}` lines",
            )
            return None
        keys = [k.value for k, _ in node.pairs() if isinstance(k, ScalarNode)]
        fields = c.mapping(node, field, keys)
        if fields is None:
            return None
        url_kind = URL(hint="write the calendar's URL")
        out: dict[str, CalendarTarget] = {}
        for org_id, item in fields.items():
            where = f"{field}.{org_id}"
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
            if "url" in sub:
                url = url_kind.read(sub["url"], f"{where}.url", c, base)
                if isinstance(url, str):
                    out[org_id] = CalendarTarget(url=url)
            else:
                name = c.string(sub["name"].value, f"{where}.name", max_length=200)
                if name is not None:
                    out[org_id] = CalendarTarget(name=name)
        return out


# -- checks beyond the kind ---------------------------------------------------------------------------

Check = Callable[[object], None]


def loopback_only(value: object) -> None:
    if value not in ("127.0.0.1", "localhost", "::1"):
        raise Invalid(
            f"'{str(value)[:40]}' is not a loopback address",
            "the embedded server has no authentication: keep it on 127.0.0.1",
        )


def https_only(value: object) -> None:
    if isinstance(value, str) and not value.lower().startswith("https://"):
        raise Invalid("a one-click unsubscribe page must be https://", "write its https:// address")


def mail_address(value: object) -> None:
    text = str(value)
    if "\n" in text or "\r" in text or "@" not in text:
        raise Invalid(
            f"'{text[:80]}' is not a mail address",
            "write `Name <address@example.ru>` or `address@example.ru`",
        )


def existing_folder(value: object) -> None:
    if not Path(str(value)).is_dir():
        raise Invalid(
            f"folder {value} does not exist", "create it, or remove the line to use the shipped templates"
        )


def under(base: Path, path: Path) -> Path:
    """`config/../data/plan.yaml` → `data/plan.yaml`, for messages people read."""
    return Path(os.path.normpath(base / path))


# -- the keys -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Key:
    name: str  # dotted: `mail.smtp.port`
    kind: Kind
    default: object  # the dataclass's default (None: none, or computed as `shown` says)
    help: str
    env: str | None = None
    env_help: str = ""  # what the variable does beyond setting the key
    env_sets: tuple[tuple[str, object], ...] = ()  # other keys the variable sets too
    checks: tuple[Check, ...] = ()
    field: str | tuple[str, ...] | None = None  # the dataclass field(s), when not the last name part
    shown: str | None = None  # the default as the docs show it, when it is not the value
    required: bool = False

    @property
    def section(self) -> str:
        return self.name.rpartition(".")[0]

    @property
    def short(self) -> str:
        return self.name.rpartition(".")[2]


SECTIONS = ("", "caldav", "caldav.embedded", "sync", "digest", "mail", "mail.smtp", "publish")
_PASSWORD_HELP = "never in the file: refused there; give password_env or password_file"

KEYS: tuple[Key, ...] = (
    Key("plans", PathList(), None, "plan file, or a list of them", required=True, shown="(required)"),
    Key(
        "state_dir",
        FilePath(),
        None,
        "folder for the state database, the digest ledger and the lock files (created 0700, files 0600)",
        env="PLANSYNC_STATE_DIR",
        shown="`$STATE_DIRECTORY`, else `$XDG_STATE_HOME/plansync` (`~/.local/state/plansync`)",
    ),
    Key("log_level", Choice(LOG_LEVELS), "info", "how much `serve` logs"),
    Key(
        "calendars",
        CalendarMap(),
        None,
        "one calendar per organizer: `<organizer id>: {name: …}` finds the calendar with this display "
        "name or creates it (MKCALENDAR); `{url: …}` uses an existing one (for servers that refuse "
        "MKCALENDAR)",
        shown="`<short name> — план <year>` by name",
    ),
    # caldav
    Key(
        "caldav.url",
        URL(hint="write the server's CalDAV URL, e.g. https://dav.example.ru/, or `embedded`", embedded=True),
        EMBEDDED,
        "`embedded` runs plansync's own Radicale on 127.0.0.1; else the server's CalDAV URL",
        env="PLANSYNC_CALDAV_URL",
    ),
    Key(
        "caldav.username",
        Text(),
        None,
        "login; with `embedded`, the principal",
        env="PLANSYNC_CALDAV_USERNAME",
    ),
    Key(
        "caldav.password",
        Refused(),
        None,
        _PASSWORD_HELP,
        env="PLANSYNC_CALDAV_PASSWORD",
        env_help="the CalDAV password (beats `password_file` and `password_env`)",
        field=(),
    ),
    Key(
        "caldav.password_env",
        EnvName(),
        None,
        "the environment variable that holds the password",
        field="password.env",
    ),
    Key(
        "caldav.password_file",
        FilePath(),
        None,
        "a file that holds the password (e.g. a systemd credential)",
        field="password.file",
    ),
    Key(
        "caldav.auth",
        Choice(CALDAV_AUTH),
        "auto",
        "the login: `auto` (HTTP Basic, switching to Digest when the server offers only Digest), `basic`, "
        "`digest` (the password is never sent as Basic), `bearer` (the password source holds a bearer "
        "token, for a server behind an SSO proxy)",
    ),
    Key(
        "caldav.ca_file",
        FilePath(),
        None,
        "a PEM file with the CA (or the self-signed certificate) the server's certificate is checked "
        "against; used by every request, discovery included (docs/servers.md)",
        shown="the system's store",
    ),
    Key(
        "caldav.verify_tls",
        Boolean(),
        True,
        "certificate verification; switch it off only for a test server (warns once a run); prefer "
        "`caldav.ca_file`",
    ),
    Key(
        "caldav.timeout",
        Number(1, 600),
        30.0,
        "seconds a request may take in all: connecting, sending and the whole answer",
    ),
    Key(
        "caldav.max_response_mb",
        Integer(1, 4096),
        64,
        "the largest answer taken from the server, in MB (a listing of 10,000 events is a few MB)",
    ),
    Key(
        "caldav.connections",
        Integer(1, 16),
        2,
        "calendars written at the same time, each over its own keep-alive connection; more helps only "
        "a server with cores to spare",
    ),
    Key(
        "caldav.embedded.host",
        Text(),
        "127.0.0.1",
        "the embedded server's address; loopback only",
        checks=(loopback_only,),
    ),
    Key("caldav.embedded.port", Integer(1, 65535), 5232, "the embedded server's port"),
    Key(
        "caldav.embedded.storage",
        FilePath(),
        None,
        "where the embedded server keeps the calendars",
        shown="`<state_dir>/radicale`",
    ),
    # sync
    Key(
        "sync.conflict_policy",
        Choice(CONFLICT_POLICIES),
        "plan-wins",
        "an event edited on the server since plansync wrote it: `plan-wins` rewrites it, `server-wins` "
        "keeps the server's, `report` only reports; always reported",
    ),
    Key(
        "sync.long_span_policy",
        Choice(LONG_SPAN_POLICIES),
        "span",
        "periods longer than `long_span_days`: `span` (an all-day span), `start-marker` (a one-day marker "
        "on the first day), `skip`",
    ),
    Key("sync.long_span_days", Integer(1, 3660), 31, "what a long period is, in days"),
    Key(
        "sync.max_delete_share",
        Number(0, 1),
        0.5,
        "the safety brake: a run that would delete more than this share of a calendar's managed events "
        "stops (exit status 3) unless `--force-delete`, before anything is written or any calendar made",
    ),
    Key("sync.interval", Duration(), dt.timedelta(minutes=15), "how often `serve` syncs", shown="`15m`"),
    Key(
        "sync.recheck_every",
        Duration(zero=True),
        dt.timedelta(hours=1),
        "a calendar whose last-modified stamp (or getctag) says nothing changed is not listed, except this "
        'often (`0`: list every calendar on every run); see "How a run notices changes" below',
        shown="`1h`",
    ),
    Key(
        "sync.layout",
        Choice(LAYOUTS),
        "readable",
        "how dates without a day appear in the calendars: `readable` (one labelled item on a day the plan "
        "gives, else the period's first working day; docs/calendar.md) or `classic` (spans and expanded "
        "series, as before)",
    ),
    Key(
        "sync.combined_calendar",
        Boolean(),
        True,
        "one more calendar («Сводный план …») holding every event of the plan once, all organizers named",
    ),
    Key(
        "sync.max_run_time",
        Duration(),
        dt.timedelta(hours=2),
        "the longest a sync may take (a first sync of 10,000 events takes minutes): a run that reaches it "
        "stops between two writes, exits 1 and the next run goes on from there",
        shown="`2h`",
    ),
    # digest
    Key(
        "digest.from",
        Text(max_length=300),
        "plansync <plansync@localhost>",
        "the older name of `mail.from` (still read; `mail.from` wins)",
        checks=(mail_address,),
        field="sender",
    ),
    Key(
        "digest.reply_to",
        Text(max_length=300),
        None,
        "the older name of `mail.reply_to` (still read; `mail.reply_to` wins)",
        checks=(mail_address,),
    ),
    Key(
        "digest.lead_days",
        Integer(0, 60),
        7,
        "an event on an exact day is announced at least this many days before it (docs/digests.md)",
    ),
    Key("digest.send_empty", Boolean(), False, "send a digest with nothing in it"),
    Key("digest.include_others", Boolean(), True, "add a short section with the other organizers' events"),
    Key("digest.attach_ics", Boolean(), True, "attach the period's events as an `.ics` (METHOD:PUBLISH)"),
    Key(
        "digest.templates",
        FilePath(),
        None,
        "a folder whose templates replace the shipped ones",
        checks=(existing_folder,),
    ),
    Key(
        "digest.schedule",
        WeeklyTime(),
        (3, dt.time(10, 0)),
        "when `serve` sends the digests, in the plan's time zone (a holiday moves it to the working day "
        "before; docs/digests.md says why Thursday)",
        field=("schedule_weekday", "schedule_time"),
        shown="`thu 10:00`",
    ),
    Key("digest.period_days", Integer(1, 31), 7, "length of the digest period, in days"),
    # mail
    Key(
        "mail.transport",
        Choice(TRANSPORTS),
        "outbox",
        "`outbox` (a Maildir folder) or `smtp`",
    ),
    Key(
        "mail.from",
        Text(max_length=300),
        None,
        "the From of the digests: a real address of the sender's domain (required for SMTP)",
        checks=(mail_address,),
        field="sender",
    ),
    Key(
        "mail.reply_to",
        Text(max_length=300),
        None,
        "where people answer: the coordinator (required for SMTP; shown in every digest)",
        checks=(mail_address,),
    ),
    Key(
        "mail.unsubscribe_url",
        URL("write the https:// address of the one-click unsubscribe page, or remove the line"),
        None,
        "an RFC 8058 one-click unsubscribe page, if there is one (List-Unsubscribe-Post)",
        checks=(https_only,),
    ),
    Key(
        "mail.smtp.host",
        Text(),
        "localhost",
        "the SMTP server",
        env="PLANSYNC_SMTP_HOST",
        env_help="selects SMTP as the transport",
        env_sets=(("mail.transport", "smtp"),),
    ),
    Key(
        "mail.smtp.port",
        Integer(1, 65535),
        None,
        "the SMTP port",
        env="PLANSYNC_SMTP_PORT",
        shown="by security: 25, 587, 465",
    ),
    Key(
        "mail.smtp.security",
        Choice(SECURITIES),
        "starttls",
        "`none`, `starttls` or `tls` (implicit TLS)",
        env="PLANSYNC_SMTP_SECURITY",
    ),
    Key("mail.smtp.username", Text(), None, "AUTH login", env="PLANSYNC_SMTP_USERNAME"),
    Key(
        "mail.smtp.password",
        Refused(),
        None,
        _PASSWORD_HELP,
        env="PLANSYNC_SMTP_PASSWORD",
        env_help="the SMTP password (beats `password_file` and `password_env`)",
        field=(),
    ),
    Key(
        "mail.smtp.password_env",
        EnvName(),
        None,
        "the environment variable that holds the password",
        field="password.env",
    ),
    Key("mail.smtp.password_file", FilePath(), None, "a file that holds the password", field="password.file"),
    Key("mail.smtp.verify_tls", Boolean(), True, "certificate verification"),
    Key(
        "mail.smtp.ca_file",
        FilePath(),
        None,
        "CA certificates to verify the server with",
        shown="the system's store",
    ),
    Key("mail.smtp.timeout", Number(1, 600), 30.0, "seconds"),
    # Last: when both are set, PLANSYNC_OUTBOX's choice of transport beats PLANSYNC_SMTP_HOST's.
    Key(
        "mail.outbox",
        FilePath(),
        None,
        "the Maildir folder the outbox transport writes to",
        env="PLANSYNC_OUTBOX",
        env_help="selects the outbox as the transport",
        env_sets=(("mail.transport", "outbox"),),
        shown="`<state_dir>/outbox`",
    ),
    # publish
    Key(
        "publish.out",
        FilePath(),
        None,
        "the folder of the published site (.ics feeds and the agenda); `serve` keeps it fresh when this "
        "or `port` is set",
        shown="`./site` for `plansync publish`, `<state_dir>/site` for `serve`",
    ),
    Key(
        "publish.base_url",
        URL("write where people open the site, e.g. `https://lib39.ru/plan/`"),
        None,
        "where people reach the site: makes the feed links absolute",
    ),
    Key("publish.host", Text(max_length=255), "127.0.0.1", "the address `serve` serves the site on"),
    Key(
        "publish.port",
        Integer(1, 65535),
        None,
        "`serve` serves the site over HTTP on this port (ETag, 304); without it a web server publishes `out`",
    ),
)

KEY = {key.name: key for key in KEYS}
CONFIG_ENV = "PLANSYNC_CONFIG"  # which file; read before any file is


def all_names() -> list[str]:
    """Every word that may stand as a key somewhere in the file (for the fuzzer)."""
    words = {key.short for key in KEYS} | {s.rpartition(".")[2] for s in SECTIONS if s}
    return sorted(words | {"name", "url"})  # the two keys of a calendars entry
