"""The only module that talks CalDAV.

Every request, discovery and MKCALENDAR included, goes as a raw request over one keep-alive HTTP
session (plansync.caldav.http), so that one login (Basic, Digest or a bearer token) and one TLS setting
(`ca_file`, `verify_tls`) hold for all of them. It follows what was measured on real servers:

* discovery as RFC 6764 and RFC 4791 describe it: the configured URL may be the server's root,
  `/.well-known/caldav` (its redirect is followed, nothing is appended to it; a 404 there means the
  root), a principal, a calendar home or a calendar; current-user-principal → calendar-home-set;
  the calendars are one Depth 1 PROPFIND of the home; MKCALENDAR sets the display name itself;
* create with `If-None-Match: *`, update and delete with `If-Match: <etag>`; never caldav's `save()`
  (it bumps SEQUENCE and switches to `If-Schedule-Tag-Match` on Xandikos);
* the new ETag comes from the PUT response, so a write costs one request;
* listing: RFC 6578 sync-collection with the stored token (an expired token is 403 on Radicale, 412 on
  Xandikos: start again without one), else getctag, else a full etag listing — never caldav's silent
  `fake-` token fallback;
* contents: one calendar-multiget REPORT, not a GET per object;
* hrefs are the ones the server reports;
* a refusal says what the server said: 401 is a login problem, any other refusal is explained from its
  DAV:error body (plansync.caldav.problems); a REPORT the server does not support (403 with
  DAV:supported-report, or 400/405/501) falls back to the next way of listing for the rest of the run;
* every request passes `_send`, which retries what is safe to send twice
  (plansync.caldav.retry: idempotent methods and If-Match/If-None-Match writes) on a dropped connection, a
  timeout, 429 and 5xx, honouring Retry-After, with bounded attempts and time; a refused connection is
  not retried, and fails every later request of the run at once with the same message.
"""

from __future__ import annotations

import contextlib
import email.utils
import logging
import ssl
import threading
import time
import typing
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, cast, get_args
from urllib.parse import quote, unquote, urljoin, urlsplit
from xml.etree import ElementTree as ET
from xml.sax.saxutils import escape

from plansync.caldav.backend import (
    BackendError,
    CalendarRefused,
    Listing,
    LoginFailed,
    NotAllowed,
    PreconditionFailed,
    Stamp,
    UidClash,
    Unreachable,
    calendar_id,
    norm_href,
    parent_collection,
)
from plansync.caldav.hrefs import confine, origin_of
from plansync.caldav.http import MAX_RESPONSE_BYTES, AuthScheme, HTTPSession, Response, ResponseTooLarge
from plansync.caldav.problems import UID_CLASH, Refusal, explain, read_refusal
from plansync.caldav.retry import (
    RETRY_STATUSES,
    RetryPolicy,
    may_retry,
    next_step,
    permanent,
    retry_after_seconds,
    stop_waiting,
)
from plansync.util.logs import untrusted

log = logging.getLogger(__name__)

DAV = "{DAV:}"
CALDAV = "{urn:ietf:params:xml:ns:caldav}"
CS = "{http://calendarserver.org/ns/}"
MULTIGET_BATCH = 100
# Calendars written at the same time, each over its own connection (config caldav.connections). Two
# keep a server busy while the next request is prepared; more only help a server with cores to spare
# (the README's benchmark section has the measurement).
WRITERS = 2


# -- the CalDAV backend -------------------------------------------------------------------------------


@dataclass
class _Options:
    sync_collection: bool | None = None  # None: not tried yet
    home: str | None = None  # the calendar home, once discovered
    # display name → url of the calendars in the home, listed once a run (a backend lives one run); what
    # is not in it does not exist, unless this run made it
    calendars: dict[str, str] | None = None


class CalDAVBackend:
    """Raw requests on keep-alive connections, discovery included."""

    def __init__(
        self,
        url: str,
        *,
        username: str | None = None,
        password: str | None = None,
        auth: AuthScheme = "auto",
        verify_tls: bool = True,
        ca_file: str | None = None,
        timeout: float = 30.0,
        retry: RetryPolicy | None = None,
        writers: int = WRITERS,
        max_response_bytes: int = MAX_RESPONSE_BYTES,
    ) -> None:
        self.url = url  # as configured: `/.well-known/caldav` is a URL of its own, never appended to
        self._base = url  # what the hrefs a server reports are relative to: its home once discovered
        self.requests = 0
        self.writers = writers
        self._options = _Options()
        parts = urlsplit(self.url)
        if username is None and parts.username is not None:  # credentials in the URL
            username = unquote(parts.username)
            if password is None and parts.password is not None:
                password = unquote(parts.password)
        self._origin = origin_of(url)  # every request, and the password, go here and nowhere else
        self._http = HTTPSession(
            username=username,
            password=password,
            auth=auth,
            verify_tls=verify_tls,
            ca_file=ca_file,
            timeout=timeout,
            origin=self._origin,
            max_bytes=max_response_bytes,
        )
        self._raw_request: Callable[..., Any] = self._http_request
        self._made: set[str] = set()
        self._unreachable: str | None = None  # the reason, once nobody answered: later requests fail at once
        if ca_file is not None:
            self._unreachable = _unreadable_ca(ca_file)
        self._discovery_error: BackendError | None = None  # raised again, not asked again
        self.retry = retry if retry is not None else RetryPolicy()
        self.retries = 0  # attempts repeated this run (for the log and the tests)
        self._counting = threading.Lock()  # the counters above, from the threads that write
        if not verify_tls:
            _warn_unverified(self.url)

    def close(self) -> None:
        self._http.close()

    # -- plumbing --

    def _http_request(
        self,
        url: str,
        method: str,
        body: str | bytes,
        headers: Mapping[str, str] | None,
        sink: Callable[[bytes], None] | None = None,
    ) -> Response:
        data = body.encode("utf-8") if isinstance(body, str) else body
        sent = {"Accept": "text/xml, text/calendar", **(headers or {})}
        if data and not any(k.lower() == "content-type" for k in sent):
            sent["Content-Type"] = "text/xml"
        return self._http.request(method, str(url), data or None, sent, sink=sink)

    def _abs(self, href: str) -> str:
        return urljoin(self._base, href)

    def _request(
        self,
        url: str,
        method: str,
        body: str | bytes = "",
        headers: Mapping[str, str] | None = None,
        *,
        sinks: Callable[[], Callable[[bytes], None]] | None = None,
    ) -> Any:
        if self._unreachable is not None:
            raise Unreachable(self._unreachable)
        if self._origin is not None and origin_of(str(url)) != self._origin:
            raise BackendError(
                f"{method} {_show(str(url))}: not the configured server ({_show(self.url)}); plansync sends "
                "nothing, and no password, anywhere else"
            )
        self._count()
        try:
            response = self._send(url, method, body, dict(headers or {}), sinks=sinks)
        except Exception as exc:  # network errors come under many names
            if _refused_connection(exc):
                self._unreachable = (
                    f"cannot connect to {_show(url)}: {_reason(exc)}; check caldav.url and that the "
                    "server is running"
                )
                raise Unreachable(self._unreachable) from None
            raise BackendError(f"{method} {_show(url)} failed: {_reason(exc)}") from None
        status = int(response.status)
        if status in (401, 403):
            raise _AuthError(url, status, read_refusal(_body(response)), method)
        return response

    def _send(
        self,
        url: Any,
        method: str = "GET",
        body: str | bytes = "",
        headers: Mapping[str, str] | None = None,
        *,
        sinks: Callable[[], Callable[[bytes], None]] | None = None,
    ) -> Any:
        """One request on the keep-alive connection, retried when that is safe (see
        plansync.caldav.retry); a refused connection or a too large answer is not retried. `sinks`
        makes a fresh consumer of the streamed answer for each attempt."""
        send = self._raw_request
        where = _show(str(url))
        safe = may_retry(method, headers)
        start = time.monotonic()
        failures = 0
        while True:
            response: Any = None
            retry_after: float | None = None
            try:
                if sinks is not None:
                    response = send(url, method, body, headers, sinks())
                else:
                    response = send(url, method, body, headers)
            except Exception as exc:
                final = permanent(exc) or _refused_connection(exc) or isinstance(exc, ResponseTooLarge)
                if not safe or final:
                    raise
                problem = _reason(exc)
            else:
                status = int(response.status)
                if status not in RETRY_STATUSES or not safe:
                    return response
                retry_after = retry_after_seconds(response.headers.get("Retry-After"))
                problem = f"HTTP {status}"
                if status == 429 or (status == 503 and response.headers.get("Retry-After") is not None):
                    # asked to come back later: when plansync will not, say so (as for a lost answer)
                    response = None
            failures += 1
            verdict = next_step(
                self.retry, failures=failures, elapsed=time.monotonic() - start, retry_after=retry_after
            )
            if not verdict.retry:
                if response is not None:
                    return response  # the caller reports the status it got
                raise _GaveUp(f"{problem}; {verdict.why}")
            log.info("%s %s: %s; trying again in %.1f s", method, where, problem, verdict.delay)
            if stop_waiting.wait(verdict.delay):
                if response is not None:
                    return response
                raise _GaveUp(f"{problem}; not tried again: plansync is stopping")
            self._count(retry=True)

    def _count(self, n: int = 1, *, retry: bool = False) -> None:
        with self._counting:  # a calendar may be made while the writers send
            self.requests += n
            self.retries += int(retry)

    def _same_origin(self, url: str, verb: str) -> str:
        """`url` if it is on the configured server; a server that points elsewhere gets no request."""
        if self._origin is not None and origin_of(url) != self._origin:
            raise BackendError(
                f"the server {verb} {_show(url)}, which is not the configured server ({_show(self.url)}); "
                "plansync sends the password nowhere else: if that is the right server, put its URL in "
                "caldav.url"
            )
        return url

    def _multistatus(
        self,
        url: str,
        method: str,
        body: str,
        headers: Mapping[str, str],
        pick: Callable[[ET.Element], _Picked | None],
    ) -> tuple[Any, _Multistatus]:
        """A request whose 207 answer is parsed as it arrives: `pick` turns each DAV:response into what
        is kept of it, and the element is dropped (the answer is never held whole, neither as bytes nor
        as a tree). Any other status comes back with its body as usual."""
        attempts: list[_Multistatus] = []

        def fresh() -> Callable[[bytes], None]:
            attempts.append(_Multistatus(pick))
            return attempts[-1].feed

        response = self._request(url, method, body, headers, sinks=fresh)
        parsed = attempts[-1] if attempts else _Multistatus(pick)
        if int(response.status) == 207:
            parsed.close()
        return response, parsed

    def _inside(self, href: str, calendar_url: str, outside: list[str] | None = None) -> str | None:
        """The href of an object of this calendar, or None (noted in `outside`) for anything that lies
        elsewhere: another collection, another host, `..`."""
        if self._origin is None:
            return norm_href(href)
        found = confine(href, calendar_url, self._origin)
        itself = norm_href(urljoin(calendar_url, href)).rstrip("/") == norm_href(calendar_url).rstrip("/")
        if found is None and not itself and outside is not None:
            outside.append(href[:300])
        return found

    def _xml(self, response: Any) -> ET.Element:
        raw = _body(response)
        try:
            return ET.fromstring(raw)
        except ET.ParseError as exc:
            raise BackendError(f"the server sent a malformed XML answer ({exc})") from None

    # -- calendars --

    def resolve_calendar(
        self, key: str, *, url: str | None, name: str | None, create: bool = True
    ) -> str | None:
        if url is not None:
            return url if url.endswith("/") else url + "/"
        assert name is not None
        found = self._find_by_name(name)
        if found is not None or not create:
            return found
        return self._make_calendar(key, name)

    def _home(self) -> str:
        """The calendar home: from the configured URL through current-user-principal and
        calendar-home-set, following redirects. A failure is raised again, not asked again."""
        if self._options.home is not None:
            return self._options.home
        if self._discovery_error is not None:
            raise self._discovery_error
        try:
            self._options.home = self._base = self._discover()  # a redirect may lead to another host
        except BackendError as exc:
            if not isinstance(exc, Unreachable):
                self._discovery_error = exc
            raise
        return self._options.home

    def _discover(self) -> str:
        url = self.url
        body = (
            '<?xml version="1.0" encoding="utf-8"?>'
            '<d:propfind xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav"><d:prop>'
            "<d:current-user-principal/><c:calendar-home-set/><d:resourcetype/></d:prop></d:propfind>"
        )
        seen: list[str] = []
        while True:
            if url in seen or len(seen) > 8:
                raise BackendError(
                    f"cannot find the calendars from {_show(self.url)}: the server sends plansync round "
                    f"in circles ({' → '.join(_show(u) for u in seen)}); check caldav.url"
                )
            seen.append(url)
            try:
                response = self._request(url, "PROPFIND", body, {"Depth": "0"})
            except _AuthError as exc:
                raise exc.public() from None
            status = int(response.status)
            location = response.headers.get("Location")
            if status in (301, 302, 303, 307, 308) and location:
                url = self._same_origin(urljoin(url, location), "sends plansync to")  # RFC 6764: the way in
                continue
            well_known = urlsplit(url).path.rstrip("/").endswith("/.well-known/caldav")
            if status == 404 and well_known:
                url = urljoin(url, "/")  # RFC 6764 5: no well-known URL here, the root is the next try
                continue
            if status != 207:
                raise BackendError(
                    f"cannot find the calendars from {_show(url)}: HTTP {status} "
                    f"{response.reason}; check caldav.url, the username and the password"
                )
            resp = self._xml(response).find(f"{DAV}response")
            if resp is None:
                raise BackendError(f"cannot find the calendars from {_show(url)}: an empty answer")
            if _is_calendar(resp):  # a calendar's URL: its parent is the home
                return parent_collection(url)
            home = _prop_href(resp, f"{CALDAV}calendar-home-set")
            if home is not None:
                return _slash(self._same_origin(urljoin(url, home), "names a calendar home on"))
            principal = _prop_href(resp, f"{DAV}current-user-principal")
            if principal is not None and urljoin(url, principal) not in seen:
                url = self._same_origin(urljoin(url, principal), "names a principal on")
                continue
            if well_known and urljoin(url, "/") not in seen:  # Xandikos answers there, naming nothing
                url = urljoin(url, "/")
                continue
            raise BackendError(
                f"the account has no calendar home on {_show(url)} (the server names no "
                "calendar-home-set); check caldav.url and caldav.username, or ask the server's "
                "administrator to enable calendars for this account"
            )

    def _find_by_name(self, name: str) -> str | None:
        if self._options.calendars is not None:
            return self._options.calendars.get(name)
        home = self._home()
        body = (
            '<?xml version="1.0" encoding="utf-8"?>'
            '<d:propfind xmlns:d="DAV:"><d:prop><d:displayname/><d:resourcetype/></d:prop></d:propfind>'
        )
        try:
            response = self._request(home, "PROPFIND", body, {"Depth": "1"})
        except _AuthError as exc:
            raise exc.public() from None
        if int(response.status) != 207:
            raise BackendError(
                f"cannot list the calendars on {_show(home)}: HTTP {response.status} {response.reason}"
            )
        found: dict[str, str] = {}
        for resp in self._xml(response).iter(f"{DAV}response"):
            href_el = resp.find(f"{DAV}href")
            display = _ok_prop(resp, f"{DAV}displayname")
            if href_el is None or not href_el.text or not display or not _is_calendar(resp):
                continue
            calendar = _slash(urljoin(home, href_el.text.strip()))
            if calendar.startswith(home) and origin_of(calendar) == self._origin:
                found.setdefault(display, calendar)  # (another user's, or another host's: not ours)
        self._options.calendars = found
        return found.get(name)

    def _make_calendar(self, key: str, name: str) -> str:
        home = self._home()
        url = urljoin(home, calendar_id(key, name) + "/")
        body = (
            '<?xml version="1.0" encoding="utf-8"?>'
            '<c:mkcalendar xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav"><d:set><d:prop>'
            f"<d:displayname>{escape(name)}</d:displayname>"
            '<c:supported-calendar-component-set><c:comp name="VEVENT"/></c:supported-calendar-component-set>'
            "</d:prop></d:set></c:mkcalendar>"
        )
        headers = {"Content-Type": "application/xml; charset=utf-8"}
        refusal: str | None = None
        try:
            response = self._request(url, "MKCALENDAR", body, headers)
        except _AuthError as exc:
            if exc.status == 401:
                raise exc.public() from None
            refusal = exc.explained()
        except Unreachable:
            raise
        except BackendError as exc:
            # MKCALENDAR is sent once (it is not safe to repeat); an answer lost on the way may still
            # mean the calendar was made: look before saying so.
            self._options.calendars = None
            with contextlib.suppress(BackendError):
                found = self._find_by_name(name)
                if found is not None:
                    return found
            raise BackendError(
                f"could not create the calendar «{name}» on {_show(home)}: {exc}; run again later"
            ) from None
        else:
            status = int(response.status)
            if status in RETRY_STATUSES:
                raise BackendError(
                    f"could not create the calendar «{name}» on {_show(home)}: HTTP {status}; run again later"
                )
            if status not in (200, 201, 204):
                said = explain(read_refusal(_body(response)))
                refusal = f"HTTP {status} {response.reason}" + (f": {said}" if said else "")
        if refusal is not None:
            raise CalendarRefused(
                f"the server refused to create the calendar «{name}» ({refusal}); create it by hand "
                f"and put its URL in the config as calendars.{key}.url"
            )
        if self._options.calendars is not None:
            self._options.calendars[name] = url
        self._made.add(url)
        return url

    def made(self, calendar_url: str) -> bool:
        return calendar_url in self._made

    # -- listing --

    def listing(self, calendar_url: str, *, sync_token: str | None, ctag: str | None) -> Listing:
        if self._options.sync_collection is not False:
            try:
                return self._sync_collection(calendar_url, sync_token)
            except _TokenRejected:
                log.info("%s: the sync token was not accepted; listing everything", _show(calendar_url))
                return self._sync_collection(calendar_url, None)
            except _Unsupported:
                log.info(
                    "%s does not support sync-collection; listing by ctag and etags", _show(calendar_url)
                )
                self._options.sync_collection = False
        if ctag:
            current = self._ctag(calendar_url)
            if current is not None and current == ctag:
                return Listing(complete=False, items={}, ctag=ctag)
        return self._propfind_listing(calendar_url)

    def stamps(self, calendar_urls: Sequence[str], *, ctag: bool = False) -> dict[str, Stamp]:
        # Asked of the parent with Depth 1, so that all of a user's calendars cost one request; of the
        # calendar itself (Depth 0) when it is the only one asked for there: the server then looks at
        # it alone. One property at a time: Radicale computes a ctag from every item of a calendar,
        # its last-modified from file times; Xandikos has no last-modified, and its ctag is the
        # calendar's git tree id.
        by_parent: dict[str, list[str]] = {}
        for url in calendar_urls:
            by_parent.setdefault(parent_collection(url), []).append(url)
        prop = f"{CS}getctag" if ctag else f"{DAV}getlastmodified"
        body = (
            '<?xml version="1.0" encoding="utf-8"?>'
            '<d:propfind xmlns:d="DAV:" xmlns:cs="http://calendarserver.org/ns/"><d:prop>'
            f"{'<cs:getctag/>' if ctag else '<d:getlastmodified/>'}</d:prop></d:propfind>"
        )
        out: dict[str, Stamp] = {}
        for parent, urls in by_parent.items():
            asked, depth = (urls[0], "0") if len(urls) == 1 else (parent, "1")
            headers = {"Depth": depth, "Content-Type": "application/xml; charset=utf-8"}
            try:
                response = self._request(asked, "PROPFIND", body, headers)
                if int(response.status) != 207:
                    continue
                root = self._xml(response)
            except (BackendError, _AuthError) as exc:
                # Not knowing the stamps costs a listing per calendar, which says what is wrong if it is.
                log.debug("PROPFIND %s for stamps: %s", _show(asked), exc)
                continue
            now = _http_date(response.headers.get("Date"))
            wanted = {norm_href(u).rstrip("/"): u for u in urls}
            for resp in root.iter(f"{DAV}response"):
                href_el = resp.find(f"{DAV}href")
                found = wanted.get(norm_href(href_el.text or "").rstrip("/")) if href_el is not None else None
                value = _ok_prop(resp, prop)
                if found is None or value is None:
                    continue
                out[found] = Stamp.ctag(value) if ctag else Stamp.read(value, _http_date(value), now)
        return out

    def _sync_collection(self, calendar_url: str, token: str | None) -> Listing:
        body = (
            '<?xml version="1.0" encoding="utf-8"?>'
            '<d:sync-collection xmlns:d="DAV:">'
            f"<d:sync-token>{escape(token or '')}</d:sync-token>"
            "<d:sync-level>1</d:sync-level><d:prop><d:getetag/></d:prop></d:sync-collection>"
        )
        headers = {"Depth": "0", "Content-Type": "application/xml; charset=utf-8"}

        def pick(resp: ET.Element) -> _Picked | None:
            href_el = resp.find(f"{DAV}href")
            if href_el is None or not href_el.text:
                return None
            direct = resp.find(f"{DAV}status")
            gone = direct is not None and " 404" in (direct.text or "")
            return href_el.text, None if gone else _etag_of(resp), None

        try:
            response, parsed = self._multistatus(calendar_url, "REPORT", body, headers, pick)
        except _AuthError as exc:
            if exc.refusal.has("supported-report"):
                raise _Unsupported from None  # SabreDAV 1.x: 403, the RFC 3253 way
            if token and exc.status == 403:
                raise _TokenRejected from None  # Radicale: an unknown token is 403
            raise exc.public() from None
        status = int(response.status)
        if status == 404:
            raise BackendError(
                f"calendar {_show(calendar_url)} not found (404); check calendars.*.url in the config"
            )
        if status in RETRY_STATUSES:  # overloaded or down: not a sign that sync-collection is unknown
            raise BackendError(f"REPORT {_show(calendar_url)}: HTTP {status}; try again later")
        if status != 207:
            if token:
                raise _TokenRejected  # Xandikos: 412; others: 409 or 400 with DAV:valid-sync-token
            raise _Unsupported
        parsed.check()
        items: dict[str, str] = {}
        removed: set[str] = set()
        outside: list[str] = []
        for raw, etag, _ in parsed.picked:
            href = self._inside(raw, calendar_url, outside)
            if href is None:
                continue
            if etag is None:
                removed.add(href)
            else:
                items[href] = etag
        new_token = parsed.sync_token
        if new_token is None:
            self._options.sync_collection = False  # without a token there is no increment to have
        return Listing(
            complete=token is None,
            items=items,
            removed=frozenset(removed),
            sync_token=new_token,
            outside=tuple(outside),
        )

    def _ctag(self, calendar_url: str) -> str | None:
        body = (
            '<?xml version="1.0" encoding="utf-8"?>'
            '<d:propfind xmlns:d="DAV:" xmlns:cs="http://calendarserver.org/ns/">'
            "<d:prop><cs:getctag/></d:prop></d:propfind>"
        )
        response = self._propfind(calendar_url, body, depth=0)
        root = self._xml(response)
        el = root.find(f".//{CS}getctag")
        return el.text if el is not None and el.text else None

    def _propfind(self, url: str, body: str, *, depth: int) -> Any:
        headers = {"Depth": str(depth), "Content-Type": "application/xml; charset=utf-8"}
        try:
            response = self._request(url, "PROPFIND", body, headers)
        except _AuthError as exc:
            raise exc.public() from None
        if int(response.status) == 404:
            raise BackendError(f"calendar {_show(url)} not found (404); check calendars.*.url in the config")
        if int(response.status) != 207:
            raise BackendError(f"PROPFIND {_show(url)}: HTTP {response.status}")
        return response

    def _propfind_listing(self, calendar_url: str) -> Listing:
        body = (
            '<?xml version="1.0" encoding="utf-8"?>'
            '<d:propfind xmlns:d="DAV:" xmlns:cs="http://calendarserver.org/ns/">'
            "<d:prop><d:getetag/><d:resourcetype/><cs:getctag/></d:prop></d:propfind>"
        )
        base = norm_href(calendar_url).rstrip("/")

        def pick(resp: ET.Element) -> _Picked | None:
            href_el = resp.find(f"{DAV}href")
            if href_el is None or not href_el.text:
                return None
            if norm_href(urljoin(calendar_url, href_el.text)).rstrip("/") == base:
                el = resp.find(f".//{CS}getctag")
                return "", None, el.text if el is not None and el.text else None  # the calendar itself
            if resp.find(f".//{DAV}collection") is not None:
                return None
            return href_el.text, _etag_of(resp), None

        headers = {"Depth": "1", "Content-Type": "application/xml; charset=utf-8"}
        try:
            response, parsed = self._multistatus(calendar_url, "PROPFIND", body, headers, pick)
        except _AuthError as exc:
            raise exc.public() from None
        if int(response.status) == 404:
            raise BackendError(
                f"calendar {_show(calendar_url)} not found (404); check calendars.*.url in the config"
            )
        if int(response.status) != 207:
            raise BackendError(f"PROPFIND {_show(calendar_url)}: HTTP {response.status}")
        parsed.check()
        items: dict[str, str] = {}
        ctag: str | None = None
        outside: list[str] = []
        for raw, etag, data in parsed.picked:
            if raw == "":
                ctag = data
                continue
            href = self._inside(raw, calendar_url, outside)
            if href is not None and etag is not None:
                items[href] = etag
        return Listing(complete=True, items=items, ctag=ctag, outside=tuple(outside))

    # -- contents --

    def fetch(self, calendar_url: str, hrefs: Sequence[str]) -> dict[str, tuple[str, bytes]]:
        out: dict[str, tuple[str, bytes]] = {}
        for start in range(0, len(hrefs), MULTIGET_BATCH):
            batch = hrefs[start : start + MULTIGET_BATCH]
            body = (
                '<?xml version="1.0" encoding="utf-8"?>'
                '<c:calendar-multiget xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav">'
                "<d:prop><d:getetag/><c:calendar-data/></d:prop>"
                + "".join(f"<d:href>{escape(norm_href(h))}</d:href>" for h in batch)
                + "</c:calendar-multiget>"
            )
            # RFC 4791 7.9: no Depth header for calendar-multiget.
            headers = {"Content-Type": "application/xml; charset=utf-8"}
            try:
                response, parsed = self._multistatus(calendar_url, "REPORT", body, headers, _pick_object)
            except _AuthError as exc:
                raise exc.public() from None
            if int(response.status) != 207:
                raise BackendError(f"calendar-multiget on {_show(calendar_url)}: HTTP {response.status}")
            if parsed.failed is not None:
                # One object's bytes (a NUL, say) can make the whole answer bad XML: fetch that batch one
                # object at a time, so that the bad one is read as what it is and the others as usual.
                out.update((norm_href(h), found) for h in batch if (found := self.get(h)) is not None)
                continue
            asked = {norm_href(h) for h in batch}
            for raw, etag, data in parsed.picked:
                href = self._inside(raw, calendar_url)
                if href is not None and href in asked and etag is not None and data is not None:
                    out[href] = (etag, data.encode("utf-8"))  # (anything not asked for is not taken)
        return out

    def get(self, href: str) -> tuple[str, bytes] | None:
        try:
            response = self._request(self._abs(href), "GET")
        except _AuthError as exc:
            raise exc.public() from None
        status = int(response.status)
        if status in (404, 410):
            return None
        if status != 200:
            raise BackendError(f"GET {href}: HTTP {status}")
        etag = response.headers.get("ETag")
        if not etag:
            etag = self._etag(href)
        return (etag or "", _body(response))

    def _etag(self, href: str) -> str | None:
        body = (
            '<?xml version="1.0" encoding="utf-8"?>'
            '<d:propfind xmlns:d="DAV:"><d:prop><d:getetag/></d:prop></d:propfind>'
        )
        try:
            response = self._request(self._abs(href), "PROPFIND", body, {"Depth": "0"})
        except _AuthError as exc:
            raise exc.public() from None
        if int(response.status) != 207:
            return None
        el = self._xml(response).find(f".//{DAV}getetag")
        return el.text if el is not None else None

    # -- writes --

    def create(self, calendar_url: str, name: str, body: bytes) -> tuple[str, str]:
        href = norm_href(urljoin(calendar_url, quote(name)))
        etag = self._put(href, body, {"If-None-Match": "*"})
        return href, etag

    def update(self, href: str, etag: str, body: bytes) -> str:
        return self._put(href, body, {"If-Match": etag})

    def _put(self, href: str, body: bytes, condition: Mapping[str, str]) -> str:
        headers = {"Content-Type": "text/calendar; charset=utf-8", **condition}
        try:
            response = self._request(self._abs(href), "PUT", body, headers)
        except _AuthError as exc:
            if exc.refusal.conditions and set(exc.refusal.conditions) & UID_CLASH:
                raise _uid_clash(href, exc.refusal) from None
            raise exc.public() from None
        status = int(response.status)
        refusal = read_refusal(_body(response)) if status >= 400 else Refusal()
        if set(refusal.conditions) & UID_CLASH:  # 409 (Radicale), 412 (Xandikos), 403 (Cyrus)
            raise _uid_clash(href, refusal)
        if status in (412, 404) and ("If-Match" in condition or status == 412):
            raise PreconditionFailed(href)
        if status not in (200, 201, 204):
            said = explain(refusal)
            if said is not None:
                raise NotAllowed(f"PUT {href}: HTTP {status}: {said}")
            raise BackendError(f"PUT {href}: HTTP {status} {_short_body(response)}")
        etag = response.headers.get("ETag")
        if not etag:
            # Allowed when the server altered the content; ask for it rather than guess.
            etag = self._etag(href)
        if not etag:
            raise BackendError(f"PUT {href}: the server reported no ETag")
        return str(etag)

    def delete(self, href: str, etag: str) -> None:
        try:
            response = self._request(self._abs(href), "DELETE", "", {"If-Match": etag})
        except _AuthError as exc:
            raise exc.public() from None
        status = int(response.status)
        if status in (404, 410):
            return
        if status == 412:
            raise PreconditionFailed(href)
        if status not in (200, 204):
            raise BackendError(f"DELETE {href}: HTTP {status} {_short_body(response)}")


# -- helpers ------------------------------------------------------------------------------------------


_Picked = tuple[str, str | None, str | None]  # (href as given, etag, a text: calendar data or ctag)


def _pick_object(resp: ET.Element) -> _Picked | None:
    href_el = resp.find(f"{DAV}href")
    data = resp.find(f".//{CALDAV}calendar-data")
    if href_el is None or not href_el.text or data is None:
        return None  # gone meanwhile (404 in the response)
    return href_el.text, _etag_of(resp), data.text or ""


class _Multistatus:
    """A multistatus answer parsed as it arrives (expat: no entities resolved, nothing fetched), each
    DAV:response kept as `pick` makes it and dropped from the tree."""

    def __init__(self, pick: Callable[[ET.Element], _Picked | None]) -> None:
        self._parser: ET.XMLPullParser[ET.Element] = ET.XMLPullParser(events=("start", "end"))
        self._pick = pick
        self._root: ET.Element | None = None
        self.picked: list[_Picked] = []
        self.sync_token: str | None = None
        self.failed: str | None = None

    def feed(self, chunk: bytes) -> None:
        if self.failed is None:
            try:
                self._parser.feed(chunk)
                self._drain()
            except ET.ParseError as exc:
                self.failed = str(exc)

    def close(self) -> None:
        if self.failed is None:
            try:
                self._parser.close()
                self._drain()
            except ET.ParseError as exc:
                self.failed = str(exc)

    def check(self) -> None:
        if self.failed is not None:
            raise BackendError(f"the server sent a malformed XML answer ({self.failed})")

    def _drain(self) -> None:
        for pair in self._parser.read_events():
            event, element = typing.cast(tuple[str, ET.Element], pair)  # ("start" and "end" give elements)
            if event == "start":
                if self._root is None:
                    self._root = element
                continue
            if element.tag == f"{DAV}response":
                found = self._pick(element)
                if found is not None:
                    self.picked.append(found)
                element.clear()
                if self._root is not None and len(self._root) and self._root[-1] is element:
                    self._root.remove(element)  # not even the empty shell stays
            elif element.tag == f"{DAV}sync-token" and element.text:
                self.sync_token = element.text


class _AuthError(Exception):
    """A 401 or 403, with what its body says."""

    def __init__(self, url: str, status: int, refusal: Refusal, method: str = "") -> None:
        super().__init__(url)
        self.url = url
        self.status = status
        self.refusal = refusal
        self.method = method

    def explained(self) -> str:
        said = explain(self.refusal) or self.refusal.text
        return f"HTTP {self.status}: {said}" if said else f"HTTP {self.status}"

    def public(self) -> BackendError:
        if self.status == 401:
            return LoginFailed(
                f"{_show(self.url)}: 401 Unauthorized; check caldav.url, the username and the password "
                "(PLANSYNC_CALDAV_PASSWORD, caldav.password_env or caldav.password_file) and caldav.auth"
            )
        said = explain(self.refusal) or self.refusal.text
        if said:
            return NotAllowed(f"{self.method} {_show(self.url)}: the server refused (403): {said}".lstrip())
        return NotAllowed(
            f"{self.method} {_show(self.url)}: the server does not allow this (403 Forbidden); check that "
            "caldav.username may read and write this calendar".lstrip()
        )


def _uid_clash(href: str, refusal: Refusal) -> UidClash:
    holder = refusal.hrefs[0] if refusal.hrefs else None
    where = f" at {holder}" if holder else ""
    return UidClash(
        f"PUT {href}: the server already holds an event with this UID{where} (someone moved or copied it "
        "there); move it back or delete that copy, then run again — plansync never takes over an event "
        "it did not write for this calendar",
        href,
        holder,
    )


class _TokenRejected(Exception):
    pass


class _GaveUp(Exception):
    """Retries exhausted on a transport error; the message says what failed and for how long."""


class _Unsupported(Exception):
    pass


def caldav_auth(value: str) -> AuthScheme:
    """The config's caldav.auth (checked when the config was read) as the session takes it."""
    for scheme in get_args(AuthScheme):
        if value == scheme:
            return cast(AuthScheme, scheme)
    raise ValueError(f"unknown caldav.auth {value!r}")


def _unreadable_ca(ca_file: str) -> str | None:
    """Why the CA file cannot serve (said once for every request), or None."""
    try:
        ssl.create_default_context(cafile=ca_file)
    except FileNotFoundError:
        return f"caldav.ca_file: {ca_file} does not exist; give the path of the server's CA certificate (PEM)"
    except (OSError, ssl.SSLError) as exc:
        return (
            f"caldav.ca_file: cannot use {ca_file} ({_reason(exc)}); it must hold the server's CA "
            "certificate in PEM form (-----BEGIN CERTIFICATE-----)"
        )
    return None


def _warn_unverified(url: str) -> None:
    """Once a run (a backend lives one run): no request warns on its own."""
    log.warning(
        "TLS certificate verification is OFF for %s (caldav.verify_tls: false): anyone on the network "
        "path can read and change the calendars and the password; give the server's CA in "
        "caldav.ca_file instead",
        _show(url),
    )


def _refused_connection(exc: BaseException) -> bool:
    """Nobody listens at the address (or the name does not resolve): no later attempt in this run can
    do better, unlike a dropped connection or a timeout."""
    import socket

    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, ConnectionRefusedError | socket.gaierror):
            return True
        current = current.__cause__ or current.__context__
    return False


def _is_calendar(resp: ET.Element) -> bool:
    return resp.find(f".//{DAV}resourcetype/{CALDAV}calendar") is not None


def _prop_href(resp: ET.Element, name: str) -> str | None:
    """The first DAV:href inside property `name` of a 200 propstat."""
    for propstat in resp.iter(f"{DAV}propstat"):
        status = propstat.find(f"{DAV}status")
        if status is not None and " 200" not in (status.text or ""):
            continue
        el = propstat.find(f"{DAV}prop/{name}/{DAV}href")
        if el is not None and el.text and el.text.strip():
            return el.text.strip()
    return None


def _slash(url: str) -> str:
    return url if url.endswith("/") else url + "/"


def _ok_prop(resp: ET.Element, name: str) -> str | None:
    """The text of property `name` in a 200 propstat of one multistatus response, if any."""
    for propstat in resp.iter(f"{DAV}propstat"):
        status = propstat.find(f"{DAV}status")
        if status is not None and " 200" not in (status.text or ""):
            continue
        el = propstat.find(f"{DAV}prop/{name}")
        if el is not None and el.text and el.text.strip():
            return el.text.strip()
    return None


def _http_date(text: str | None) -> float | None:
    if not text:
        return None
    try:
        return email.utils.parsedate_to_datetime(text).timestamp()
    except (TypeError, ValueError, IndexError):
        return None


def _etag_of(resp: ET.Element) -> str | None:
    for propstat in resp.iter(f"{DAV}propstat"):
        status = propstat.find(f"{DAV}status")
        if status is not None and " 200" not in (status.text or ""):
            continue
        el = propstat.find(f".//{DAV}getetag")
        if el is not None and el.text:
            return el.text.strip()
    return None


def _body(response: Any) -> bytes:
    if isinstance(response, Response):
        return response.body
    raw = getattr(response, "_raw_body", None)
    if raw:
        return bytes(raw)
    text = response.raw
    return text.encode("utf-8") if isinstance(text, str) else bytes(text or b"")


def _short_body(response: Any) -> str:
    """The start of an error body, fit to show (the server may echo our headers, or send escapes)."""
    return untrusted(_body(response)[:2000].decode("utf-8", "replace"), 200)


def _reason(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return untrusted(text.splitlines()[0] if text.strip() else type(exc).__name__)


def _show(url: str) -> str:
    """A URL for messages: never with credentials in it."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host}{port}{parts.path}" if parts.scheme else url
