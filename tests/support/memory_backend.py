"""An in-memory CalDAV-like server with the same interface as the CalDAV backend.

It behaves like the real servers where the syncer can tell (ETags change on every write, sync tokens
give deltas, stale tokens are refused, If-Match / If-None-Match are enforced, a write stores a
re-serialised copy rather than the bytes sent) and adds what tests need: people's edits, faults on
chosen requests, and counters. The contract tests run the same scenarios here and on real servers.
"""

from __future__ import annotations

import email.utils
import hashlib
import itertools
import re
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import icalendar

from plansync.caldav.backend import (
    BackendError,
    CalendarRefused,
    Listing,
    PreconditionFailed,
    Stamp,
    calendar_id,
    norm_href,
    parent_collection,
)

WRITE_METHODS = frozenset({"PUT", "DELETE", "MKCALENDAR"})


@dataclass
class _Calendar:
    url: str
    name: str
    items: dict[str, tuple[str, bytes]] = field(default_factory=dict)  # href → (etag, body)
    revision: int = 0
    changes: list[tuple[int, str, bool]] = field(default_factory=list)  # (revision, href, exists after)
    modified: float = 0.0  # the time of the newest change, for the last-modified stamp
    stamp_revision: int = 0  # the revision its getctag tells (`ctags`)


class MemoryBackend:
    """Also its own "server": tests act as people through `person_*` and look inside with `items`."""

    def __init__(
        self,
        base: str = "http://memory.invalid/dav/",
        *,
        sync_tokens: bool = True,
        allow_mkcalendar: bool = True,
        clock: Callable[[], float] | None = None,
        stamps_track_changes: bool = True,
        ctags: bool = False,
    ) -> None:
        """`clock`: give calendars a last-modified stamp in whole seconds of this clock, as Radicale does
        (without one there are none, as on Xandikos); `ctags`: answer getctag (the calendar's revision),
        as Xandikos does; `stamps_track_changes=False`: a server whose calendar stamp (either kind) does
        not move when an event changes."""
        self.base = base
        self.sync_tokens = sync_tokens
        self.allow_mkcalendar = allow_mkcalendar
        self.clock = clock
        self.stamps_track_changes = stamps_track_changes
        self.ctags = ctags
        self.calendars: dict[str, _Calendar] = {}
        self.requests = 0
        self.writers = 1  # one writer: tests here script the order of the writes
        self.log: list[tuple[str, str]] = []
        self._etags = itertools.count(1)
        self.made_here: set[str] = set()
        # The syncer makes calendars while its writers send: each request is served whole under the
        # lock, `before` (which may wait for another request) is called outside it.
        self._lock = threading.RLock()
        # Called before a request is served, with (method, href); may act like a concurrent person
        # or raise to simulate a failure or a crash.
        self.before: Callable[[str, str], None] | None = None

    def close(self) -> None:
        pass

    # -- inspection for tests --

    @property
    def writes(self) -> int:
        return sum(1 for m, _ in self.log if m in WRITE_METHODS)

    def items(self, calendar_url: str) -> dict[str, bytes]:
        with self._lock:
            return {h: b for h, (_, b) in self.calendars[calendar_url].items.items()}

    def calendar_by_name(self, name: str) -> str | None:
        with self._lock:
            return next((c.url for c in self.calendars.values() if c.name == name), None)

    # -- people --

    def person_put(self, calendar_url: str, name: str, body: bytes) -> str:
        href = norm_href(calendar_url + name)
        with self._lock:
            self._store(self.calendars[calendar_url], href, body)
        return href

    def person_delete(self, href: str) -> None:
        with self._lock:
            cal = self._calendar_of(href)
            del cal.items[href]
            self._changed(cal, href)

    def add_calendar(self, name: str, key: str) -> str:
        url = f"{self.base}{key}/"
        with self._lock:
            self.calendars[url] = _Calendar(url, name, modified=self.clock() if self.clock else 0.0)
        return url

    # -- plumbing --

    def _hit(self, method: str, href: str) -> None:
        with self._lock:
            self.requests += 1
            self.log.append((method, href))
        if self.before is not None:
            self.before(method, href)

    def _calendar_of(self, href: str) -> _Calendar:
        for cal in self.calendars.values():
            if href.startswith(norm_href(cal.url)):
                return cal
        raise BackendError(f"{href}: no such calendar")

    def _changed(self, cal: _Calendar, href: str) -> None:
        cal.revision += 1
        cal.changes.append((cal.revision, href, href in cal.items))
        if self.stamps_track_changes:
            cal.stamp_revision = cal.revision
            if self.clock is not None:
                cal.modified = self.clock()

    def _store(self, cal: _Calendar, href: str, body: bytes) -> str:
        # Like Radicale and Xandikos: keep a re-serialised copy, never the bytes as sent.
        text = icalendar.Calendar.from_ical(body).to_ical()
        etag = '"' + hashlib.sha1(text + str(next(self._etags)).encode()).hexdigest()[:16] + '"'
        cal.items[href] = (etag, text)
        self._changed(cal, href)
        return etag

    # -- the Backend interface --

    def resolve_calendar(
        self, key: str, *, url: str | None, name: str | None, create: bool = True
    ) -> str | None:
        if url is not None:
            return url if url.endswith("/") else url + "/"
        assert name is not None
        self._hit("PROPFIND", self.base)
        with self._lock:
            found = self.calendar_by_name(name)
            if found is not None:
                self.made_here.discard(found)  # a backend used for several runs: made by an earlier one
        if found is not None or not create:
            return found
        self._hit("MKCALENDAR", f"{self.base}{calendar_id(key, name)}/")
        if not self.allow_mkcalendar:
            raise CalendarRefused(
                f"the server refused to create the calendar «{name}» (403 Forbidden); create it "
                f"by hand and put its URL in the config as calendars.{key}.url"
            )
        with self._lock:
            url = self.add_calendar(name, calendar_id(key, name))
            self.made_here.add(url)
        return url

    def made(self, calendar_url: str) -> bool:
        return calendar_url in self.made_here

    def listing(self, calendar_url: str, *, sync_token: str | None, ctag: str | None) -> Listing:
        self._hit("REPORT" if self.sync_tokens else "PROPFIND", calendar_url)
        with self._lock:
            cal = self.calendars.get(calendar_url)
            if cal is None:
                raise BackendError(f"calendar {calendar_url} not found (404)")
            token = f"mem-{id(cal)}-{cal.revision}"
            everything = {h: e for h, (e, _) in cal.items.items()}
            if not self.sync_tokens:
                return Listing(complete=True, items=everything, ctag=token)
            if sync_token is not None and sync_token.startswith(f"mem-{id(cal)}-"):
                since = int(sync_token.rsplit("-", 1)[1])
                if since <= cal.revision:
                    touched = {h for r, h, _ in cal.changes if r > since}
                    existed = self._existed(cal, since)
                    items = {h: everything[h] for h in touched if h in everything}
                    # Like Xandikos: a resource created and deleted after the token is not reported at all.
                    removed = frozenset(h for h in touched if h not in everything and h in existed)
                    return Listing(complete=False, items=items, removed=removed, sync_token=token)
            return Listing(complete=True, items=everything, sync_token=token)

    def stamps(self, calendar_urls: Sequence[str], *, ctag: bool = False) -> dict[str, Stamp]:
        by_parent: dict[str, list[str]] = {}
        for url in calendar_urls:
            by_parent.setdefault(parent_collection(url), []).append(url)
        for parent, urls in sorted(by_parent.items()):
            # As CalDAVBackend asks: Depth 1 on each parent, Depth 0 on a calendar alone there.
            self._hit("PROPFIND", urls[0] if len(urls) == 1 else parent)
        out = {}
        now = int(self.clock()) if self.clock is not None else 0  # an HTTP date has whole seconds
        with self._lock:
            for url in calendar_urls:
                cal = self.calendars.get(url)
                if cal is None:
                    continue
                if ctag and self.ctags:
                    out[url] = Stamp.ctag(str(cal.stamp_revision))
                elif not ctag and self.clock is not None:
                    second = int(cal.modified)
                    out[url] = Stamp.read(email.utils.formatdate(second, usegmt=True), second, now)
        return out

    @staticmethod
    def _existed(cal: _Calendar, revision: int) -> set[str]:
        """The hrefs that existed at `revision`, replaying the change log."""
        present: set[str] = set()
        for rev, href, exists in cal.changes:
            if rev > revision:
                break
            if exists:
                present.add(href)
            else:
                present.discard(href)
        return present

    def fetch(self, calendar_url: str, hrefs: Sequence[str]) -> dict[str, tuple[str, bytes]]:
        if not hrefs:
            return {}
        self._hit("REPORT", calendar_url)
        with self._lock:
            cal = self.calendars[calendar_url]
            return {h: cal.items[h] for h in map(norm_href, hrefs) if h in cal.items}

    def get(self, href: str) -> tuple[str, bytes] | None:
        self._hit("GET", href)
        with self._lock:
            return self._calendar_of(href).items.get(norm_href(href))

    def uids_elsewhere(self, contains: str, *, besides: str) -> dict[str, dict[str, str]]:
        out: dict[str, dict[str, str]] = {}
        with self._lock:
            others = [c for url, c in self.calendars.items() if url != besides]
        for cal in others:
            self._hit("REPORT", cal.url)
            with self._lock:
                found = {
                    uid: href
                    for href, (_, body) in cal.items.items()
                    for uid in re.findall(r"(?m)^UID:(.*?)\r?$", body.decode("utf-8", "replace"))
                    if contains in uid
                }
            if found:
                out[cal.url] = found
        return out

    def create(self, calendar_url: str, name: str, body: bytes) -> tuple[str, str]:
        href = norm_href(calendar_url + name)
        self._hit("PUT", href)
        with self._lock:
            cal = self.calendars[calendar_url]
            if href in cal.items:
                raise PreconditionFailed(href)
            return href, self._store(cal, href, body)

    def update(self, href: str, etag: str, body: bytes) -> str:
        self._hit("PUT", href)
        with self._lock:
            cal = self._calendar_of(href)
            current = cal.items.get(href)
            if current is None or current[0] != etag:
                raise PreconditionFailed(href)
            return self._store(cal, href, body)

    def delete(self, href: str, etag: str) -> None:
        self._hit("DELETE", href)
        with self._lock:
            cal = self._calendar_of(href)
            current = cal.items.get(href)
            if current is None:
                return
            if current[0] != etag:
                raise PreconditionFailed(href)
            del cal.items[href]
            self._changed(cal, href)
