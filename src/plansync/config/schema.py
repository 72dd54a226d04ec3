"""Every configuration key, once: its type, default, bounds, environment variable and help.

`plansync.config.load` reads the file and the environment with it, `plansync.config.docs` writes the
tables of docs/configuration.md from it, and the hostile-input fuzzer takes its key names from it.
A key's kind (plansync.config.kinds) reads and checks one value (the same way from the file and from a
variable); checks beyond the kind are small functions named in the key.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from plansync.config.kinds import (
    CALDAV_AUTH,
    URL,
    Boolean,
    CalendarMap,
    Check,
    Choice,
    Duration,
    EnvName,
    FilePath,
    Integer,
    Kind,
    Number,
    PathList,
    Refused,
    Text,
    WeeklyTime,
    existing_folder,
    https_only,
    loopback_only,
    mail_address,
)
from plansync.config.model import (
    CONFLICT_POLICIES,
    EMBEDDED,
    LAYOUTS,
    LOG_LEVELS,
    LONG_SPAN_POLICIES,
    SECURITIES,
    TRANSPORTS,
)

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
        shown="`<short name> — план` by name, and «Сводный план»",
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
        "one more calendar («Сводный план») holding every event of the plans once, all organizers named",
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
