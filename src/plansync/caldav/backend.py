"""What the sync engine needs from a CalDAV server: the `Backend` protocol, shared by the CalDAV client
and the tests' memory backend, the plain data it answers with, and its errors."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol
from urllib.parse import quote, unquote, urlsplit

from plansync.errors import PlansyncError

# -- errors -------------------------------------------------------------------------------------------


class BackendError(PlansyncError):
    """A request the server refused or could not answer."""


class PreconditionFailed(BackendError):
    """412: someone changed the resource since we looked (or it exists when we wanted to create it)."""

    def __init__(self, href: str) -> None:
        super().__init__(f"{href}: changed on the server meanwhile (412 Precondition Failed)")
        self.href = href


class CalendarRefused(BackendError):
    """The server does not let us create the calendar."""


class LoginFailed(BackendError):
    """401: the server did not take the credentials (or wants ones plansync was not given)."""


class NotAllowed(BackendError):
    """403 or another refusal that sending again cannot change; the message says what the server said."""


class UidClash(NotAllowed):
    """The server keeps one event per UID across the account, and another resource holds this one."""

    def __init__(self, message: str, href: str, holder: str | None) -> None:
        super().__init__(message)
        self.href = href
        self.holder = holder  # the resource that holds the UID, when the server named it


class Unreachable(BackendError):
    """Nobody answers at the server's address (connection refused, no such host): the run stops."""


# -- the interface shared with the memory backend -----------------------------------------------------


@dataclass(frozen=True)
class Listing:
    """What changed in a calendar since a token, or all of it."""

    complete: bool  # `items` is the whole collection (else a delta on top of the cached listing)
    items: Mapping[str, str]  # href → etag
    removed: frozenset[str] = frozenset()
    sync_token: str | None = None
    ctag: str | None = None
    outside: tuple[str, ...] = ()  # hrefs the server listed that lie outside the calendar: ignored


@dataclass(frozen=True)
class Stamp:
    """A calendar's DAV:getlastmodified (or getctag: see `ctag`) as the server reported it. `settled`:
    at least STAMP_SETTLE_S older than the server's own clock (its Date header) at the time, so that
    every later change to the calendar gives a later value; an unsettled value may still be shared by
    a change that follows."""

    value: str
    settled: bool
    settles_in: float = 0.0  # seconds (by the server's clock) until it would be settled

    @classmethod
    def read(cls, value: str, modified: float | None, now: float | None) -> Stamp:
        """The stamp `value` (meaning `modified`), as reported when the server's clock said `now`."""
        if modified is None or now is None:
            return cls(value, False, 0.0)  # no date to tell: never settled
        wait = modified + STAMP_SETTLE_S - now
        return cls(value, wait <= 0, max(wait, 0.0))

    @classmethod
    def ctag(cls, value: str) -> Stamp:
        """A getctag used as a stamp: it changes with every change, so it is settled as soon as read
        (marked, so that it never equals a last-modified value held from before)."""
        return cls(f"ctag {value}", True)


# Last-modified values have a resolution of one second, and file times lag the clock by up to a tick.
STAMP_SETTLE_S = 2.0


class Backend(Protocol):
    """What the syncer needs from a CalDAV server."""

    requests: int  # HTTP requests made so far (for the log and the tests)
    writers: int  # how many calendars may be written at the same time (the methods are thread-safe)

    def resolve_calendar(
        self, key: str, *, url: str | None, name: str | None, create: bool = True
    ) -> str | None:
        """The URL of the calendar given by URL, or found by display name and (if `create`) created when
        missing; None when it is missing and not created."""
        ...

    def made(self, calendar_url: str) -> bool:
        """Whether this backend created the calendar (it lives one run): then it holds only what this
        run wrote, and needs no listing before the writes."""
        ...

    def listing(self, calendar_url: str, *, sync_token: str | None, ctag: str | None) -> Listing: ...

    def stamps(self, calendar_urls: Sequence[str], *, ctag: bool = False) -> dict[str, Stamp]:
        """The last-modified stamps of the calendars that have one (one request per parent collection),
        or with `ctag` their getctag (always settled: it changes with every change); a calendar left out
        has none, and is to be listed."""
        ...

    def fetch(self, calendar_url: str, hrefs: Sequence[str]) -> dict[str, tuple[str, bytes]]:
        """href → (etag, body) for those that still exist."""
        ...

    def get(self, href: str) -> tuple[str, bytes] | None: ...

    def uids_elsewhere(self, contains: str, *, besides: str) -> dict[str, dict[str, str]]:
        """Calendar URL → {UID: href} of the events whose UID contains `contains`, in every other
        calendar of the account than `besides` (where a person may have moved an event, keeping its
        UID)."""
        ...

    def create(self, calendar_url: str, name: str, body: bytes) -> tuple[str, str]:
        """PUT with If-None-Match: *; → (href, etag). PreconditionFailed when it exists."""
        ...

    def update(self, href: str, etag: str, body: bytes) -> str:
        """PUT with If-Match; → the new etag. PreconditionFailed when the etag moved or it is gone."""
        ...

    def delete(self, href: str, etag: str) -> None:
        """DELETE with If-Match; already gone is fine. PreconditionFailed when the etag moved."""
        ...

    def close(self) -> None: ...


def calendar_id(key: str, name: str) -> str:
    """The URL segment of a calendar plansync creates: stable for a (key, name), distinct across names."""
    return f"plansync-{key}-{hashlib.sha256(name.encode()).hexdigest()[:8]}"


def norm_href(href: str) -> str:
    """One spelling per resource: the path, percent-encoded the same way whoever reported it."""
    return quote(unquote(urlsplit(href).path), safe="/@:+,;=!$&'()*~")


def parent_collection(url: str) -> str:
    head = url.rstrip("/").rsplit("/", 1)[0]
    return head + "/"
