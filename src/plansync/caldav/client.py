"""The only module that talks CalDAV.

python-caldav does discovery, listing calendars and MKCALENDAR, and is imported only when one of those
is needed (a run with every calendar URL known never loads it). Everything that must be exact, and every
event-level request, goes as a raw request over a plain keep-alive connection (plansync.caldav.http),
following what was measured on real servers (docs/servers.md):

* create with `If-None-Match: *`, update and delete with `If-Match: <etag>`; never caldav's `save()`
  (it bumps SEQUENCE and switches to `If-Schedule-Tag-Match` on Xandikos);
* the new ETag comes from the PUT response, so a write costs one request;
* listing: RFC 6578 sync-collection with the stored token (an expired token is 403 on Radicale, 412 on
  Xandikos: start again without one), else getctag, else a full etag listing — never caldav's silent
  `fake-` token fallback;
* contents: one calendar-multiget REPORT, not a GET per object;
* hrefs are the ones the server reports;
* every request, caldav's own included, passes `_send`, which retries what is safe to send twice
  (plansync.caldav.retry: idempotent methods and If-Match/If-None-Match writes) on a dropped connection, a
  timeout, 429 and 5xx, honouring Retry-After, with bounded attempts and time.
"""

from __future__ import annotations

import contextlib
import email.utils
import logging
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, unquote, urljoin, urlsplit
from xml.etree import ElementTree as ET
from xml.sax.saxutils import escape

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
from plansync.caldav.http import HTTPSession, Response
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
    # display name → url of the calendars in the home, listed once a run (a backend lives one run); what
    # is not in it does not exist, unless this run made it
    calendars: dict[str, str] | None = None


class CalDAVBackend:
    """Raw requests on a keep-alive connection; python-caldav's DAVClient for discovery and MKCALENDAR."""

    def __init__(
        self,
        url: str,
        *,
        username: str | None = None,
        password: str | None = None,
        verify_tls: bool = True,
        timeout: float = 30.0,
        retry: RetryPolicy | None = None,
        writers: int = WRITERS,
    ) -> None:
        self.url = url if url.endswith("/") else url + "/"
        self.requests = 0
        self.writers = writers
        self._options = _Options()
        parts = urlsplit(self.url)
        if username is None and parts.username is not None:  # credentials in the URL, as caldav takes them
            username = unquote(parts.username)
            if password is None and parts.password is not None:
                password = unquote(parts.password)
        self._http = HTTPSession(username=username, password=password, verify_tls=verify_tls, timeout=timeout)
        self._make_client: Callable[[], Any] = lambda: _dav_client(
            self.url, username, password, verify_tls, timeout
        )
        self._dav: Any = None  # python-caldav's DAVClient, made when first needed
        self._raw_request: Callable[..., Any] = self._http_request
        self._principal: Any = None
        self._made: set[str] = set()
        self.retry = retry if retry is not None else RetryPolicy()
        self.retries = 0  # attempts repeated this run (for the log and the tests)
        self._counting = threading.Lock()  # the counters above, from the threads that write
        if not verify_tls:
            log.warning(
                "TLS certificate verification is OFF for %s (caldav.verify_tls: false): anyone on the "
                "network path can read and change the calendars and the password; turn it back on",
                _show(self.url),
            )

    def close(self) -> None:
        self._http.close()
        if self._dav is not None:
            self._dav.close()

    # -- plumbing --

    @property
    def _client(self) -> Any:
        """python-caldav's client, imported and made on first use."""
        if self._dav is None:
            client: Any = self._make_client()
            # caldav's own requests (discovery, MKCALENDAR) call `request` on the client: the same gate.
            raw: Callable[..., Any] = client.request

            def gated(
                url: Any, method: str = "GET", body: str = "", headers: Mapping[str, str] | None = None
            ) -> Any:
                return self._send(url, method, body, headers, raw=raw)

            client.request = gated
            self._dav = client
        return self._dav

    def _http_request(
        self, url: str, method: str, body: str | bytes, headers: Mapping[str, str] | None
    ) -> Response:
        data = body.encode("utf-8") if isinstance(body, str) else body
        sent = {"Accept": "text/xml, text/calendar", **(headers or {})}
        if data and not any(k.lower() == "content-type" for k in sent):
            sent["Content-Type"] = "text/xml"
        return self._http.request(method, str(url), data or None, sent)

    def _abs(self, href: str) -> str:
        return urljoin(self.url, href)

    def _request(
        self, url: str, method: str, body: str | bytes = "", headers: Mapping[str, str] | None = None
    ) -> Any:
        self._count()
        try:
            response = self._send(url, method, body, dict(headers or {}))
        except Exception as exc:  # network errors come under many names
            raise BackendError(f"{method} {_show(url)} failed: {_reason(exc)}") from None
        status = int(response.status)
        if status in (401, 403):
            raise _AuthError(url, status, [])
        return response

    def _send(
        self,
        url: Any,
        method: str = "GET",
        body: str | bytes = "",
        headers: Mapping[str, str] | None = None,
        *,
        raw: Callable[..., Any] | None = None,
    ) -> Any:
        """One request (on the keep-alive connection, or caldav's own by `raw`), retried when that is
        safe (see plansync.caldav.retry)."""
        send = raw if raw is not None else self._raw_request
        where = _show(str(url))  # caldav passes its own URL objects
        # caldav's exceptions, when caldav is in use at all (never imported just for this)
        errors: Any = sys.modules.get("caldav.lib.error") if raw is not None else None

        safe = may_retry(method, headers)
        start = time.monotonic()
        failures = 0
        while True:
            response: Any = None
            retry_after: float | None = None
            try:
                response = send(url, method, body, headers)
            except Exception as exc:
                if errors is not None and isinstance(exc, errors.AuthorizationError):
                    raise
                if errors is not None and isinstance(exc, errors.RateLimitError):  # 429, 503 + Retry-After
                    if not safe:
                        raise
                    retry_after = exc.retry_after_seconds
                    problem = f"HTTP {exc.status}"
                else:
                    if not safe or permanent(exc):
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

    def _principal_obj(self) -> Any:
        if self._principal is None:
            self._count(2)  # current-user-principal and calendar-home-set
            try:
                self._principal = self._client.principal()
            except Exception as exc:
                raise BackendError(
                    f"cannot find the calendars on {_show(self.url)}: {_reason(exc)}; "
                    "check caldav.url, the username and the password"
                ) from None
        return self._principal

    def _find_by_name(self, name: str) -> str | None:
        if self._options.calendars is not None:
            return self._options.calendars.get(name)
        principal = self._principal_obj()
        self._count()
        try:
            calendars = principal.get_calendars()
        except Exception as exc:
            raise BackendError(f"cannot list the calendars on {_show(self.url)}: {_reason(exc)}") from None
        found: dict[str, str] = {}
        for cal in calendars:
            display = cal.get_display_name()  # cached from the same PROPFIND: no extra request
            if display:
                found.setdefault(str(display), str(cal.url))
        self._options.calendars = found
        return found.get(name)

    def _make_calendar(self, key: str, name: str) -> str:
        principal = self._principal_obj()
        self._count(2)  # MKCALENDAR, then caldav's PROPPATCH of the display name
        try:
            cal = principal.make_calendar(name=name, cal_id=calendar_id(key, name))
        except Exception as exc:
            # MKCALENDAR is sent once (it is not safe to repeat); an answer lost on the way may still
            # mean the calendar was made: look before calling it a refusal.
            self._options.calendars = None
            with contextlib.suppress(BackendError):
                found = self._find_by_name(name)
                if found is not None:
                    return found if found.endswith("/") else found + "/"
            if not _refusal(exc):
                raise BackendError(
                    f"could not create the calendar «{name}» on {_show(self.url)}: {_reason(exc)}; "
                    "run again later"
                ) from None
            raise CalendarRefused(
                f"the server refused to create the calendar «{name}» ({_reason(exc)}); create it by hand "
                f"and put its URL in the config as calendars.{key}.url"
            ) from None
        url = str(cal.url)
        if self._options.calendars is not None:
            self._options.calendars[name] = url
        url = url if url.endswith("/") else url + "/"
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
        try:
            response = self._request(calendar_url, "REPORT", body, headers)
        except _AuthError as exc:
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
        root = self._xml(response)
        items: dict[str, str] = {}
        removed: set[str] = set()
        base = norm_href(calendar_url)
        for resp in root.iter(f"{DAV}response"):
            href_el = resp.find(f"{DAV}href")
            if href_el is None or not href_el.text:
                continue
            href = norm_href(href_el.text)
            if href == base or href.endswith("/"):
                continue
            direct = resp.find(f"{DAV}status")
            if direct is not None and " 404" in (direct.text or ""):
                removed.add(href)
                continue
            etag = _etag_of(resp)
            if etag is None:
                removed.add(href)
            else:
                items[href] = etag
        token_el = root.find(f"{DAV}sync-token")
        new_token = token_el.text if token_el is not None and token_el.text else None
        if new_token is None:
            self._options.sync_collection = False  # without a token there is no increment to have
        return Listing(complete=token is None, items=items, removed=frozenset(removed), sync_token=new_token)

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
        root = self._xml(self._propfind(calendar_url, body, depth=1))
        base = norm_href(calendar_url)
        items: dict[str, str] = {}
        ctag: str | None = None
        for resp in root.iter(f"{DAV}response"):
            href_el = resp.find(f"{DAV}href")
            if href_el is None or not href_el.text:
                continue
            href = norm_href(href_el.text)
            if href == base or href.rstrip("/") == base.rstrip("/"):
                el = resp.find(f".//{CS}getctag")
                ctag = el.text if el is not None and el.text else None
                continue
            if href.endswith("/") or resp.find(f".//{DAV}collection") is not None:
                continue
            etag = _etag_of(resp)
            if etag is not None:
                items[href] = etag
        return Listing(complete=True, items=items, ctag=ctag)

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
                response = self._request(calendar_url, "REPORT", body, headers)
            except _AuthError as exc:
                raise exc.public() from None
            if int(response.status) != 207:
                raise BackendError(f"calendar-multiget on {_show(calendar_url)}: HTTP {response.status}")
            try:
                root = self._xml(response)
            except BackendError:
                # One object's bytes (a NUL, say) can make the whole answer bad XML: fetch that batch one
                # object at a time, so that the bad one is read as what it is and the others as usual.
                out.update((norm_href(h), found) for h in batch if (found := self.get(h)) is not None)
                continue
            for resp in root.iter(f"{DAV}response"):
                href_el = resp.find(f"{DAV}href")
                data = resp.find(f".//{CALDAV}calendar-data")
                etag = _etag_of(resp)
                if href_el is None or not href_el.text or data is None or etag is None:
                    continue  # gone meanwhile (404 in the response)
                out[norm_href(href_el.text)] = (etag, (data.text or "").encode("utf-8"))
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
            raise exc.public() from None
        status = int(response.status)
        if status in (412, 404) and ("If-Match" in condition or status == 412):
            raise PreconditionFailed(href)
        if status not in (200, 201, 204):
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


class _AuthError(Exception):
    def __init__(self, url: str, status: int | None, preconditions: list[str]) -> None:
        super().__init__(url)
        self.url = url
        self.status = status
        self.preconditions = preconditions

    def public(self) -> BackendError:
        what = (
            "refused the credentials (401)" if self.status == 401 else f"denied access (HTTP {self.status})"
        )
        return BackendError(
            f"the server {what} for {_show(self.url)}; check caldav.username and the password "
            "(PLANSYNC_CALDAV_PASSWORD, caldav.password_env or caldav.password_file)"
        )


class _TokenRejected(Exception):
    pass


class _GaveUp(Exception):
    """Retries exhausted on a transport error; the message says what failed and for how long."""


class _Unsupported(Exception):
    pass


def _dav_client(
    url: str, username: str | None, password: str | None, verify_tls: bool, timeout: float
) -> Any:
    from caldav.davclient import DAVClient

    return DAVClient(
        url=url,
        username=username,
        password=password,
        # caldav authenticates lazily; some servers answer anonymous requests with a wrong principal.
        auth_type="basic" if password else None,
        timeout=int(timeout),
        ssl_verify_cert=verify_tls,
        enable_rfc6764=False,
    )


def _refusal(exc: BaseException) -> bool:
    """The server answered no (a 4xx, 405 or 501 above all), as opposed to a lost answer or an outage."""
    from caldav.lib import error as caldav_error

    status = getattr(exc, "status", None)
    if isinstance(exc, caldav_error.RateLimitError):
        return False
    if not isinstance(exc, caldav_error.DAVError):
        return False  # the connection failed: nobody answered
    return status is None or status not in RETRY_STATUSES


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
