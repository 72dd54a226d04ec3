"""How one configuration value is read and checked: the kinds of values (a value read the same way from
the file and from a variable) and the checks beyond a kind that keys name."""

from __future__ import annotations

import datetime as dt
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from plansync.config.model import EMBEDDED, WEEKDAYS, CalendarTarget
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
