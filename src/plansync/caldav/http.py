"""A plain HTTP/1.1 keep-alive client on the standard library alone (`http.client`).

Keep-alive connections per (scheme, host, port), reused request after request: a request takes an idle
one (or opens one), and gives it back when its answer is read, so threads sending at the same time each
use their own. A connection the server closed while idle is noticed before it is reused. HTTPS uses
the default SSL context with certificate and host name verification unless `verify_tls` is false.
HTTP Basic credentials are turned into one header when the session is made and are never logged or
shown in a repr.

Nothing here retries: a failed request closes its connection and raises (the caller decides whether it
is safe to send again); an answer of any status is returned as it is.
"""

from __future__ import annotations

import base64
import http.client
import select
import socket
import ssl
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import quote, urlsplit

from plansync.util.logs import register_secret

USER_AGENT = "plansync"

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
        verify_tls: bool = True,
        timeout: float = 30.0,
    ) -> None:
        self.timeout = timeout
        self.verify_tls = verify_tls
        self._authorization: str | None = None
        if password:
            token = base64.b64encode(f"{username or ''}:{password}".encode()).decode("ascii")
            self._authorization = f"Basic {token}"
            # A server that echoes our headers in an error body must not get them shown or stored.
            register_secret(password)
            register_secret(token)
        self._idle: dict[tuple[str, str, int], list[http.client.HTTPConnection]] = {}
        self._ssl: ssl.SSLContext | None = None
        self._lock = threading.Lock()  # guards _idle and _ssl, never held during a request

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
    ) -> Response:
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
        if self._authorization is not None and "authorization" not in names:
            sent["Authorization"] = self._authorization
        key = (scheme, parts.hostname, port)
        conn = self._take(key)
        try:
            conn.request(method, target, body=body, headers=sent)
            answer = conn.getresponse()
            data = answer.read()
        except BaseException:
            conn.close()  # half a request or half an answer: this connection is done
            raise
        if answer.will_close:
            conn.close()
        else:
            with self._lock:
                self._idle.setdefault(key, []).append(conn)
        return Response(answer.status, answer.reason, answer.headers, data)

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
                context = ssl.create_default_context()
                if not self.verify_tls:
                    context.check_hostname = False
                    context.verify_mode = ssl.CERT_NONE
                self._ssl = context
            return self._ssl


def _dropped(sock: socket.socket) -> bool:
    """An idle keep-alive connection that is readable has been closed by the peer (EOF) or is out of
    step; either way it must not carry the next request."""
    try:
        readable, _, _ = select.select([sock], [], [], 0)
    except (OSError, ValueError):
        return True
    return bool(readable)
