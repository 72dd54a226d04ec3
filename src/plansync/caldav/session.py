"""The CalDAV request plumbing: one request on the configured server, retried when that is safe, a
refusal explained.

Every request, discovery and MKCALENDAR included, goes as a raw request over one keep-alive HTTP
session (plansync.caldav.http), so that one login (Basic, Digest or a bearer token) and one TLS setting
(`ca_file`, `verify_tls`) hold for all of them; nothing goes to another origin. `_send` retries what is
safe to send twice (plansync.caldav.retry: idempotent methods and If-Match/If-None-Match writes) on a
dropped connection, a timeout, 429 and 5xx, honouring Retry-After, with bounded attempts and time; a
refused connection is not retried, and fails every later request of the run at once with the same
message. A 401 is a login problem; any other refusal is explained from its DAV:error body
(plansync.caldav.problems).
"""

from __future__ import annotations

import logging
import socket
import ssl
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, cast, get_args
from urllib.parse import unquote, urljoin, urlsplit
from xml.etree import ElementTree as ET

from plansync.caldav.backend import BackendError, LoginFailed, NotAllowed, Unreachable, norm_href
from plansync.caldav.hrefs import confine, origin_of
from plansync.caldav.http import MAX_RESPONSE_BYTES, AuthScheme, HTTPSession, Response, ResponseTooLarge
from plansync.caldav.problems import Refusal, explain, read_refusal
from plansync.caldav.retry import (
    RETRY_STATUSES,
    RetryPolicy,
    may_retry,
    next_step,
    permanent,
    retry_after_seconds,
    stop_waiting,
)
from plansync.caldav.xml import Multistatus, Picked
from plansync.util.logs import untrusted

log = logging.getLogger(__name__)

# Calendars written at the same time, each over its own connection (config caldav.connections). Two
# keep a server busy while the next request is prepared; more only help a server with cores to spare
# (the README's benchmark section has the measurement).
WRITERS = 2


@dataclass
class Learned:
    """What a run learned of the server (a backend lives one run)."""

    sync_collection: bool | None = None  # None: not tried yet
    home: str | None = None  # the calendar home, once discovered
    # display name → url of the calendars in the home, listed once a run (a backend lives one run); what
    # is not in it does not exist, unless this run made it
    calendars: dict[str, str] | None = None


class DAVSession:
    """The HTTP session of one run, its counters and what it learned of the server; requests go through
    `_request`."""

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
        self._options = Learned()
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
                f"{method} {shown(str(url))}: not the configured server ({shown(self.url)}); plansync sends "
                "nothing, and no password, anywhere else"
            )
        self._count()
        try:
            response = self._send(url, method, body, dict(headers or {}), sinks=sinks)
        except Exception as exc:  # network errors come under many names
            if _refused_connection(exc):
                self._unreachable = (
                    f"cannot connect to {shown(url)}: {reason(exc)}; check caldav.url and that the "
                    "server is running"
                )
                raise Unreachable(self._unreachable) from None
            raise BackendError(f"{method} {shown(url)} failed: {reason(exc)}") from None
        status = int(response.status)
        if status in (401, 403):
            raise AuthError(url, status, read_refusal(body_of(response)), method)
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
        where = shown(str(url))
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
                problem = reason(exc)
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
                raise GaveUp(f"{problem}; {verdict.why}")
            log.info("%s %s: %s; trying again in %.1f s", method, where, problem, verdict.delay)
            if stop_waiting.wait(verdict.delay):
                if response is not None:
                    return response
                raise GaveUp(f"{problem}; not tried again: plansync is stopping")
            self._count(retry=True)

    def _count(self, n: int = 1, *, retry: bool = False) -> None:
        with self._counting:  # a calendar may be made while the writers send
            self.requests += n
            self.retries += int(retry)

    def _same_origin(self, url: str, verb: str) -> str:
        """`url` if it is on the configured server; a server that points elsewhere gets no request."""
        if self._origin is not None and origin_of(url) != self._origin:
            raise BackendError(
                f"the server {verb} {shown(url)}, which is not the configured server ({shown(self.url)}); "
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
        pick: Callable[[ET.Element], Picked | None],
    ) -> tuple[Any, Multistatus]:
        """A request whose 207 answer is parsed as it arrives: `pick` turns each DAV:response into what
        is kept of it, and the element is dropped (the answer is never held whole, neither as bytes nor
        as a tree). Any other status comes back with its body as usual."""
        attempts: list[Multistatus] = []

        def fresh() -> Callable[[bytes], None]:
            attempts.append(Multistatus(pick))
            return attempts[-1].feed

        response = self._request(url, method, body, headers, sinks=fresh)
        parsed = attempts[-1] if attempts else Multistatus(pick)
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
        raw = body_of(response)
        try:
            return ET.fromstring(raw)
        except ET.ParseError as exc:
            raise BackendError(f"the server sent a malformed XML answer ({exc})") from None


class AuthError(Exception):
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
                f"{shown(self.url)}: 401 Unauthorized; check caldav.url, the username and the password "
                "(PLANSYNC_CALDAV_PASSWORD, caldav.password_env or caldav.password_file) and caldav.auth"
            )
        said = explain(self.refusal) or self.refusal.text
        if said:
            return NotAllowed(f"{self.method} {shown(self.url)}: the server refused (403): {said}".lstrip())
        return NotAllowed(
            f"{self.method} {shown(self.url)}: the server does not allow this (403 Forbidden); check that "
            "caldav.username may read and write this calendar".lstrip()
        )


class GaveUp(Exception):
    """Retries exhausted on a transport error; the message says what failed and for how long."""


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
            f"caldav.ca_file: cannot use {ca_file} ({reason(exc)}); it must hold the server's CA "
            "certificate in PEM form (-----BEGIN CERTIFICATE-----)"
        )
    return None


def _warn_unverified(url: str) -> None:
    """Once a run (a backend lives one run): no request warns on its own."""
    log.warning(
        "TLS certificate verification is OFF for %s (caldav.verify_tls: false): anyone on the network "
        "path can read and change the calendars and the password; give the server's CA in "
        "caldav.ca_file instead",
        shown(url),
    )


def _refused_connection(exc: BaseException) -> bool:
    """Nobody listens at the address (or the name does not resolve): no later attempt in this run can
    do better, unlike a dropped connection or a timeout."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, ConnectionRefusedError | socket.gaierror):
            return True
        current = current.__cause__ or current.__context__
    return False


def body_of(response: Any) -> bytes:
    if isinstance(response, Response):
        return response.body
    raw = getattr(response, "_raw_body", None)
    if raw:
        return bytes(raw)
    text = response.raw
    return text.encode("utf-8") if isinstance(text, str) else bytes(text or b"")


def short_body(response: Any) -> str:
    """The start of an error body, fit to show (the server may echo our headers, or send escapes)."""
    return untrusted(body_of(response)[:2000].decode("utf-8", "replace"), 200)


def reason(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return untrusted(text.splitlines()[0] if text.strip() else type(exc).__name__)


def shown(url: str) -> str:
    """A URL for messages: never with credentials in it."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host}{port}{parts.path}" if parts.scheme else url
