"""A seeded fault-injecting HTTP proxy on 127.0.0.1, for putting between plansync and a CalDAV server.

It forwards each request to the upstream server on a fresh connection and, at a configurable rate,
injects one fault instead (or after):

  reset          the connection is reset before the request reaches the server
  reset_after    the server handles the request, then the connection is reset (the client never learns
                 that a write happened: the nasty case for retries)
  http_500/502/503   an error answer made up by the proxy, the server never sees the request
  http_503_ra    503 with Retry-After
  http_429       429 with Retry-After
  http_502_after the server handles the request, the client gets 502 (a gateway losing the answer)
  slow           the answer comes late, within the client's timeout
  timeout        no answer for longer than the client's timeout, then the connection is closed
  truncate       the server's answer is cut in half (Content-Length says more) and the connection closed

The choice of fault is a `random.Random(seed)`, so a campaign is reproducible for a single-threaded
client. `injected` counts what was injected by kind; `requests` every request seen.
"""

from __future__ import annotations

import http.client
import random
import socket
import struct
import threading
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from socketserver import BaseRequestHandler, ThreadingTCPServer
from urllib.parse import urlsplit

FAULTS: tuple[str, ...] = (
    "reset",
    "reset_after",
    "http_500",
    "http_502",
    "http_503",
    "http_503_ra",
    "http_429",
    "http_502_after",
    "slow",
    "timeout",
    "truncate",
)
_REASONS = {429: "Too Many Requests", 500: "Internal Server Error", 502: "Bad Gateway", 503: "Unavailable"}
_HOP = {"connection", "keep-alive", "transfer-encoding", "proxy-connection", "te", "upgrade"}


@dataclass
class FaultConfig:
    rate: float = 0.2  # share of requests that get a fault
    seed: int = 0
    faults: Sequence[str] = FAULTS
    retry_after: int = 1  # seconds, in the 429 and 503-with-Retry-After answers
    slow_delay: float = 0.3
    hang: float = 2.5  # how long `timeout` keeps the client waiting; make it exceed the client's timeout
    methods: frozenset[str] | None = None  # only these methods get faults; None: all
    script: list[str] = field(default_factory=list)  # when given: the faults of the next matching
    # requests, in order ("none" for a clean one), instead of random ones; clean after the script ends


@dataclass
class FaultProxy:
    upstream: str  # http://127.0.0.1:PORT/
    config: FaultConfig = field(default_factory=FaultConfig)
    injected: Counter[str] = field(default_factory=Counter)
    requests: int = 0
    log: list[tuple[float, str, str, str]] = field(default_factory=list)  # (time, method, path, fault)
    enabled: bool = True
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _server: ThreadingTCPServer | None = None
    _thread: threading.Thread | None = None
    _random: random.Random = field(default_factory=random.Random)

    def __post_init__(self) -> None:
        self._random = random.Random(self.config.seed)
        parts = urlsplit(self.upstream)
        self._host = parts.hostname or "127.0.0.1"
        self._port = parts.port or 80

    # -- lifecycle --

    def start(self, port: int = 0) -> FaultProxy:
        proxy = self

        class Handler(BaseRequestHandler):
            def handle(self) -> None:
                proxy._serve_connection(self.request)

        class Server(ThreadingTCPServer):
            daemon_threads = True
            allow_reuse_address = True

        self._server = Server(("127.0.0.1", port), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, name="faultproxy", daemon=True)
        self._thread.start()
        return self

    @property
    def port(self) -> int:
        assert self._server is not None
        port: int = self._server.server_address[1]
        return port

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> FaultProxy:
        return self.start() if self._server is None else self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @contextmanager
    def paused(self) -> Iterator[None]:
        """No faults inside the block."""
        old, self.enabled = self.enabled, False
        try:
            yield
        finally:
            self.enabled = old

    def reseed(self, seed: int) -> None:
        with self._lock:
            self.config.seed = seed
            self._random = random.Random(seed)

    @property
    def total_injected(self) -> int:
        return sum(self.injected.values())

    # -- one client connection: requests one after the other (keep-alive) --

    def _choose(self, method: str, path: str) -> str:
        with self._lock:
            self.requests += 1
            fault = "none"
            matching = self.config.methods is None or method in self.config.methods
            if self.enabled and matching and self.config.script:
                fault = self.config.script.pop(0)
                if fault != "none":
                    self.injected[fault] += 1
            elif self.enabled and matching and self.config.rate > 0:
                roll = self._random.random()
                kind = self._random.choice(list(self.config.faults))  # drawn always: a stable sequence
                if roll < self.config.rate:
                    fault = kind
                    self.injected[fault] += 1
            self.log.append((time.monotonic(), method, path, fault))
            return fault

    def _serve_connection(self, conn: socket.socket) -> None:
        conn.settimeout(30)
        reader = conn.makefile("rb")
        try:
            while True:
                request = _read_request(reader)
                if request is None:
                    return
                method, path, headers, body = request
                fault = self._choose(method, path)
                if not self._answer(conn, fault, method, path, headers, body):
                    return
        except OSError:
            return
        finally:
            reader.close()
            with suppress(OSError):
                conn.close()

    def _answer(
        self,
        conn: socket.socket,
        fault: str,
        method: str,
        path: str,
        headers: list[tuple[str, str]],
        body: bytes,
    ) -> bool:
        """Handle one request; False when the connection is to be dropped."""
        cfg = self.config
        if fault == "reset":
            _reset(conn)
            return False
        if fault == "timeout":
            time.sleep(cfg.hang)
            return False
        if fault.startswith("http_") and not fault.endswith("_after"):
            code = int(fault[5:8])
            extra = [("Retry-After", str(cfg.retry_after))] if fault in ("http_503_ra", "http_429") else []
            _send(conn, code, _REASONS[code], extra, f"injected {code}\n".encode())
            return True
        status, reason, answer_headers, answer = self._forward(method, path, headers, body)
        if fault == "reset_after":
            _reset(conn)
            return False
        if fault == "http_502_after":
            _send(conn, 502, "Bad Gateway", [], b"injected 502 after the server answered\n")
            return True
        if fault == "slow":
            time.sleep(cfg.slow_delay)
        if fault == "truncate" and len(answer) >= 2:
            head = _head(status, reason, answer_headers, len(answer))
            conn.sendall(head + answer[: len(answer) // 2])
            return False
        _send(conn, status, reason, answer_headers, answer)
        return True

    def _forward(
        self, method: str, path: str, headers: list[tuple[str, str]], body: bytes
    ) -> tuple[int, str, list[tuple[str, str]], bytes]:
        upstream = http.client.HTTPConnection(self._host, self._port, timeout=60)
        try:
            upstream.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
            for name, value in headers:
                if name.lower() not in _HOP and name.lower() != "content-length":
                    upstream.putheader(name, value)
            upstream.putheader("Content-Length", str(len(body)))
            upstream.endheaders(body)
            response = upstream.getresponse()
            data = response.read()
            kept = [(k, v) for k, v in response.getheaders() if k.lower() not in _HOP | {"content-length"}]
            return response.status, response.reason, kept, data
        finally:
            upstream.close()


def _read_request(reader: object) -> tuple[str, str, list[tuple[str, str]], bytes] | None:
    assert hasattr(reader, "readline") and hasattr(reader, "read")
    line = reader.readline(65537)
    while line in (b"\r\n", b"\n"):
        line = reader.readline(65537)
    if not line:
        return None
    parts = line.decode("latin-1").split()
    if len(parts) != 3:
        return None
    method, path, _ = parts
    headers: list[tuple[str, str]] = []
    length = 0
    chunked = False
    while True:
        raw = reader.readline(65537)
        if raw in (b"\r\n", b"\n", b""):
            break
        name, _, value = raw.decode("latin-1").partition(":")
        name, value = name.strip(), value.strip()
        headers.append((name, value))
        if name.lower() == "content-length":
            length = int(value)
        elif name.lower() == "transfer-encoding" and "chunked" in value.lower():
            chunked = True
    if chunked:
        body = b""
        while True:
            size = int(reader.readline(65537).split(b";")[0].strip() or b"0", 16)
            if size == 0:
                reader.readline(65537)
                break
            body += reader.read(size)
            reader.readline(65537)
    else:
        body = reader.read(length) if length else b""
    return method, path, headers, body


def _head(status: int, reason: str, headers: list[tuple[str, str]], length: int) -> bytes:
    lines = [f"HTTP/1.1 {status} {reason}"]
    lines += [f"{k}: {v}" for k, v in headers]
    lines.append(f"Content-Length: {length}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def _send(conn: socket.socket, status: int, reason: str, headers: list[tuple[str, str]], body: bytes) -> None:
    conn.sendall(_head(status, reason, headers, len(body)) + body)


def _reset(conn: socket.socket) -> None:
    """Close with RST instead of FIN: what the client sees when a server or a middlebox dies."""
    try:
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        conn.close()
    except OSError:
        pass
