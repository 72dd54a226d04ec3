"""A plain HTTP/1.1 keep-alive client on the standard library alone (`http.client`).

Keep-alive connections per (scheme, host, port), reused request after request: a request takes an idle
one (or opens one), and gives it back when its answer is read, so threads sending at the same time each
use their own. A connection the server closed while idle is noticed before it is reused. HTTPS uses
the default SSL context with certificate and host name verification (against `ca_file` when given)
unless `verify_tls` is false.

Login: a bearer token is sent with every request; a username and password go as HTTP Basic up front
(one round trip a request) unless `auth` is "digest", and switch to Digest (RFC 7616, the standard
library's implementation) as soon as a 401 offers Digest and no Basic. A 401 in Digest mode (a stale
nonce) is answered once with the new challenge. Credentials are never logged or shown in a repr.

Nothing here retries: a failed request closes its connection and raises (the caller decides whether it
is safe to send again); an answer of any status is returned as it is.
"""

from __future__ import annotations

import base64
import contextlib
import http.client
import select
import socket
import ssl
import threading
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Literal
from urllib.parse import quote, urlsplit

from plansync.caldav.hrefs import Origin
from plansync.util.logs import register_secret

AuthScheme = Literal["auto", "basic", "digest", "bearer"]

USER_AGENT = "plansync"
# The most an answer may hold: a sync-collection listing of 10,000 events is a few megabytes, a multiget
# batch of events far less (configurable: caldav.max_response_mb).
MAX_RESPONSE_BYTES = 64 * 1024 * 1024
_CHUNK = 64 * 1024

# Characters left as they are in a request target: the reserved ones and "%" (already encoded).
_SAFE = "!#$%&'()*+,/:;=?@[]~"


@dataclass(frozen=True)
class Response:
    status: int
    reason: str
    headers: http.client.HTTPMessage  # case-insensitive `get`
    body: bytes


class HTTPSession:
    """Keep-alive connections per host; safe to share between threads (each request has its own)."""

    def __init__(
        self,
        *,
        username: str | None = None,
        password: str | None = None,
        auth: AuthScheme = "auto",
        verify_tls: bool = True,
        ca_file: str | None = None,
        timeout: float = 30.0,
        origin: Origin | None = None,
        max_bytes: int = MAX_RESPONSE_BYTES,
    ) -> None:
        self.timeout = timeout  # seconds for a whole request: connecting, sending, the whole answer
        self.origin = origin  # the only (scheme, host, port) the credentials go to (None: any)
        self.max_bytes = max_bytes
        self.verify_tls = verify_tls
        self.ca_file = ca_file
        self._authorization: str | None = None  # sent up front (Basic or Bearer)
        self._digest: _Digest | None = None
        if password:
            # A server that echoes our headers in an error body must not get them shown or stored.
            register_secret(password)
        if password and auth == "bearer":
            self._authorization = f"Bearer {password}"
        elif password:
            if auth in ("auto", "digest"):
                self._digest = _Digest(username or "", password, active=auth == "digest")
            if auth in ("auto", "basic"):
                token = base64.b64encode(f"{username or ''}:{password}".encode()).decode("ascii")
                self._authorization = f"Basic {token}"
                register_secret(token)
        self._idle: dict[tuple[str, str, int], list[http.client.HTTPConnection]] = {}
        self._ssl: ssl.SSLContext | None = None
        self._lock = threading.Lock()  # guards _idle and _ssl, never held during a request

    @property
    def scheme(self) -> str | None:
        """How this session logs in now: "basic", "digest", "bearer" or None (no credentials)."""
        if self._digest is not None and self._digest.active:
            return "digest"
        if self._authorization is not None:
            return self._authorization.split(" ", 1)[0].lower()
        return None

    def __repr__(self) -> str:
        idle = sum(len(c) for c in self._idle.values())
        return f"<HTTPSession {idle} idle connection(s)>"  # never the credentials

    def close(self) -> None:
        with self._lock:
            for conns in self._idle.values():
                for conn in conns:
                    conn.close()
            self._idle.clear()

    def request(
        self,
        method: str,
        url: str,
        body: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        *,
        sink: Callable[[bytes], None] | None = None,
    ) -> Response:
        """One request. A 207 answer's body is handed to `sink` as it arrives (then `Response.body` is
        empty), any other is kept. Raises TimeoutError when the whole exchange takes longer than `timeout`,
        ResponseTooLarge past `max_bytes`."""
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        if scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"not an http(s) URL: {scheme}://{parts.hostname or ''}{parts.path}")
        port = parts.port or (443 if scheme == "https" else 80)
        target = quote(parts.path or "/", safe=_SAFE)
        if parts.query:
            target += "?" + parts.query
        sent = dict(headers or {})
        names = {k.lower() for k in sent}
        if "user-agent" not in names:
            sent["User-Agent"] = USER_AGENT
        # The credentials go to the configured origin only, whatever a server's href or redirect says.
        own_login = "authorization" not in names and (
            self.origin is None or self.origin == (scheme, parts.hostname.lower(), port)
        )
        digest = self._digest if own_login else None
        if own_login and digest is not None and digest.active:
            header = digest.header(method, url, body)
            if header is not None:
                sent["Authorization"] = header
        elif own_login and self._authorization is not None:
            sent["Authorization"] = self._authorization
        key = (scheme, parts.hostname, port)
        answer = self._exchange(key, method, target, body, sent, sink)
        if answer.status == 401 and digest is not None:
            challenge = _digest_challenge(answer.headers.get_all("WWW-Authenticate") or [])
            if challenge is not None and digest.take(challenge, basic_sent="Authorization" in sent):
                sent["Authorization"] = digest.header(method, url, body) or ""
                answer = self._exchange(key, method, target, body, sent, sink)
        return answer

    def _exchange(
        self,
        key: tuple[str, str, int],
        method: str,
        target: str,
        body: bytes | None,
        sent: Mapping[str, str],
        sink: Callable[[bytes], None] | None,
    ) -> Response:
        conn = self._take(key)
        # The whole exchange has one deadline: a server that answers a byte at a time (each in time for
        # a socket timeout) is cut off when it is reached.
        expired = threading.Event()
        watchdog = threading.Timer(self.timeout, _cut, (conn, expired))
        watchdog.daemon = True
        watchdog.start()
        try:
            conn.request(method, target, body=body, headers=dict(sent))
            answer = conn.getresponse()
            # Only a multistatus answer is streamed: an error's body (or a login challenge's) is kept.
            data = self._read(answer, sink if answer.status == 207 else None)
        except BaseException as exc:
            conn.close()  # half a request or half an answer: this connection is done
            if expired.is_set() and not isinstance(exc, ResponseTooLarge):
                raise TimeoutError(f"timed out: no whole answer within {self.timeout:.0f} s") from None
            raise
        finally:
            watchdog.cancel()
        if answer.will_close or expired.is_set():
            conn.close()
        else:
            with self._lock:
                self._idle.setdefault(key, []).append(conn)
        return Response(answer.status, answer.reason, answer.headers, data)

    def _read(self, answer: http.client.HTTPResponse, sink: Callable[[bytes], None] | None) -> bytes:
        """The body, at most `max_bytes` of it (a longer one is refused as soon as it shows)."""
        declared = answer.getheader("Content-Length", "")
        if declared.strip().isdigit() and int(declared) > self.max_bytes:
            raise ResponseTooLarge(self.max_bytes)
        kept: list[bytes] = []
        total = 0
        while chunk := answer.read(_CHUNK):  # (read, not read1: it ends the answer for the next request)
            total += len(chunk)
            if total > self.max_bytes:
                raise ResponseTooLarge(self.max_bytes)
            if sink is not None:
                sink(chunk)
            else:
                kept.append(chunk)
        if answer.length:  # the connection ended before the Content-Length it announced
            raise http.client.IncompleteRead(b"", answer.length)
        return b"".join(kept)

    def _take(self, key: tuple[str, str, int]) -> http.client.HTTPConnection:
        """The most recently used idle connection to `key`, or a new one."""
        while True:
            with self._lock:
                idle = self._idle.get(key)
                conn = idle.pop() if idle else None
            if conn is None:
                break
            if conn.sock is not None and not _dropped(conn.sock):
                return conn
            conn.close()  # closed by the server while idle (or it sent something unasked)
        scheme, host, port = key
        if scheme == "https":
            return http.client.HTTPSConnection(host, port, timeout=self.timeout, context=self._context())
        return http.client.HTTPConnection(host, port, timeout=self.timeout)

    def _context(self) -> ssl.SSLContext:
        with self._lock:
            if self._ssl is None:
                context = ssl.create_default_context(cafile=self.ca_file)
                if not self.verify_tls:
                    context.check_hostname = False
                    context.verify_mode = ssl.CERT_NONE
                self._ssl = context
            return self._ssl


class ResponseTooLarge(Exception):
    """An answer longer than the session allows (caldav.max_response_mb)."""

    def __init__(self, limit: int) -> None:
        super().__init__(
            f"the answer is larger than {limit // (1024 * 1024)} MB; raise caldav.max_response_mb if "
            "the calendar is really that large"
        )


def _cut(conn: http.client.HTTPConnection, expired: threading.Event) -> None:
    """The deadline of an exchange passed: end its connection, so that the thread reading it stops."""
    expired.set()
    sock = conn.sock
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)


def _dropped(sock: socket.socket) -> bool:
    """An idle keep-alive connection that is readable has been closed by the peer (EOF) or is out of
    step; either way it must not carry the next request."""
    try:
        readable, _, _ = select.select([sock], [], [], 0)
    except (OSError, ValueError):
        return True
    return bool(readable)


class _OneLogin:
    """The password manager the standard library's Digest handler asks: one login for every URL."""

    def __init__(self, username: str, password: str) -> None:
        self._login = (username, password)

    def find_user_password(self, realm: str | None, uri: str) -> tuple[str, str]:
        return self._login

    def add_password(self, *args: object) -> None:
        """The handler's interface; the one login is fixed."""

    def __repr__(self) -> str:
        return "<login>"


class _Digest:
    """Digest credentials and the server's latest challenge; the nonce count is kept by the standard
    library's handler, one request at a time."""

    def __init__(self, username: str, password: str, *, active: bool) -> None:
        self.active = active
        self._challenge: dict[str, str] | None = None
        self._fresh = False  # the challenge has not been answered yet
        self._handler = urllib.request.AbstractDigestAuthHandler(_OneLogin(username, password))  # type: ignore[arg-type]
        self._lock = threading.Lock()

    def take(self, challenge: dict[str, str], *, basic_sent: bool) -> bool:
        """A 401 offered Digest: whether to answer it (not when it is the challenge just answered,
        unless the server says the nonce went stale: then the password is wrong)."""
        with self._lock:
            if (
                self.active
                and not basic_sent
                and challenge.get("stale", "").lower() != "true"
                and not self._fresh
                and challenge == self._challenge
            ):
                return False
            self.active = True
            self._challenge = challenge
            self._fresh = True
            return True

    def header(self, method: str, url: str, body: bytes | None) -> str | None:
        with self._lock:
            if self._challenge is None:
                return None
            request = urllib.request.Request(url, data=body, method=method)
            value = self._handler.get_authorization(request, self._challenge)
            self._fresh = False
            return f"Digest {value}" if value else None

    def __repr__(self) -> str:
        return "<Digest login>"


def _digest_challenge(values: list[str]) -> dict[str, str] | None:
    """The parameters of a Digest challenge among the WWW-Authenticate values, when the server offers
    Digest and not Basic (a server offering both keeps getting Basic)."""
    schemes = {v.strip().split(" ", 1)[0].lower() for v in values if v.strip()}
    if "basic" in schemes:
        return None
    for value in values:
        scheme, _, rest = value.strip().partition(" ")
        if scheme.lower() == "digest":
            items = urllib.request.parse_http_list(rest)
            return urllib.request.parse_keqv_list([i for i in items if "=" in i])
    return None
