"""A hostile CalDAV server for the tests and `python -m bench.faults`: it answers like a calendar
server, but its listings point elsewhere, its answers are huge or endless, or it drips them.

    with HostileServer(mode="escape") as server:     # server.calendar_url(key), server.log, server.other
        ... sync with calendars.<key>.url = server.calendar_url(key) ...

Modes:
  escape  listings name hrefs outside the calendar collection: another calendar of the server, `..`
          segments, an absolute URL and a `//host:port` path to a second server (`server.other`),
          each holding an event with plansync's markers that a sync would delete if it believed them
  huge    the listing is `huge_bytes` long (streamed, never held in memory here)
  slow    the listing comes one byte every `drip_s` seconds
  normal  a well-behaved server (for comparison)

Everything received is logged as (method, path, Authorization header or "") in `log`; the second
server logs the same in `other.log`.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from xml.sax.saxutils import escape

EVENT = """BEGIN:VCALENDAR\r
VERSION:2.0\r
PRODID:-//hostile//EN\r
BEGIN:VEVENT\r
UID:{uid}\r
DTSTAMP:20240101T000000Z\r
DTSTART;VALUE=DATE:20240315\r
SUMMARY:{summary}\r
X-PLANSYNC-PLAN:{plan}\r
X-PLANSYNC-EVENT:{key}\r
X-PLANSYNC-CALENDAR:{calendar}\r
END:VEVENT\r
END:VCALENDAR\r
"""


Answer = tuple[int, list[tuple[str, str]], Iterator[bytes]]  # status, headers, body chunks


@dataclass
class RequestLog:
    entries: list[tuple[str, str, str]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, method: str, path: str, authorization: str) -> None:
        with self.lock:
            self.entries.append((method, path, authorization))

    def with_credentials(self) -> list[tuple[str, str, str]]:
        with self.lock:
            return [e for e in self.entries if e[2]]

    def writes(self) -> list[tuple[str, str, str]]:
        with self.lock:
            return [e for e in self.entries if e[0] in ("PUT", "DELETE", "MKCALENDAR", "PROPPATCH")]


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _any(self) -> None:
        owner = self.server.owner
        owner.log.add(self.command, self.path, self.headers.get("Authorization", ""))
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        status, headers, chunks = owner.answer(self.command, self.path, body)
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.end_headers()
        try:
            for chunk in chunks:
                self.wfile.write(chunk)
                self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up: that is the point

    do_GET = do_PUT = do_DELETE = do_PROPFIND = do_REPORT = do_OPTIONS = do_MKCALENDAR = _any


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    owner: HostileServer


class HostileServer:
    def __init__(
        self,
        mode: str = "escape",
        *,
        plan_id: str = "plan-2024",
        huge_bytes: int = 64 * 1024 * 1024,
        drip_s: float = 0.5,
        with_other: bool = True,
    ) -> None:
        self.mode = mode
        self.plan_id = plan_id
        self.huge_bytes = huge_bytes
        self.drip_s = drip_s
        self.log = RequestLog()
        self.objects: dict[str, bytes] = {}  # path → body (what plansync PUT, and the traps)
        self._lock = threading.Lock()
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.owner = self
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self.other = HostileServer("normal", with_other=False) if with_other else None

    @property
    def port(self) -> int:
        port: int = self._server.server_address[1]
        return port

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def calendar_url(self, key: str) -> str:
        return f"{self.base}/cal/{key}/"

    def __enter__(self) -> HostileServer:
        if self.other is not None:
            self.other.__enter__()
        self._thread.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._server.shutdown()
        self._server.server_close()
        if self.other is not None:
            self.other.__exit__(kind, value, tb)

    # -- answers --

    def traps(self, key: str) -> dict[str, bytes]:
        """href as the listing gives it → an event with plansync's markers for this calendar, which a
        sync that believed the href would delete (it is not in the plan)."""
        other = self.other.base if self.other is not None else "http://127.0.0.1:9"
        out = {}
        for n, href in enumerate(
            (
                "/cal/someone-else/trap-0.ics",
                f"/cal/{key}/../someone-else/trap-1.ics",
                f"{other}/cal/{key}/trap-2.ics",
                f"//{other.split('//', 1)[1]}/cal/{key}/trap-3.ics",
                f"/cal/{key}/%2e%2e/someone-else/trap-4.ics",
            )
        ):
            uid = f"{self.plan_id}.gone-{n}.{key}@plansync"
            out[href] = EVENT.format(
                uid=uid, summary=f"trap {n}", plan=self.plan_id, key=f"gone-{n}", calendar=key
            ).encode()
        return out

    def answer(
        self, method: str, path: str, body: bytes
    ) -> tuple[int, list[tuple[str, str]], Iterator[bytes]]:
        key = path.split("/")[2] if path.startswith("/cal/") and path.count("/") >= 3 else ""
        if method == "PUT":
            with self._lock:
                self.objects[path] = body
            return 201, [("ETag", _etag(body)), ("Content-Length", "0")], iter(())
        if method == "DELETE":
            with self._lock:
                self.objects.pop(path, None)
            return 204, [("Content-Length", "0")], iter(())
        if method == "GET":
            found = self.objects.get(path)
            if found is None:
                return 404, [("Content-Length", "0")], iter(())
            return 200, [("ETag", _etag(found)), ("Content-Length", str(len(found)))], iter((found,))
        if method == "PROPFIND" and path.rstrip("/") == "/.well-known/caldav" and self.other is not None:
            # discovery that leads elsewhere: the password must not follow
            return 301, [("Location", f"{self.other.base}/dav/"), ("Content-Length", "0")], iter(())
        if method == "PROPFIND":
            return 404, [("Content-Length", "0")], iter(())  # no stamps, no ctag: every run lists
        if method == "REPORT" and b"sync-collection" in body:
            return self._listing(key)
        if method == "REPORT" and b"calendar-multiget" in body:
            return self._multiget(key, body)
        return 405, [("Content-Length", "0")], iter(())

    def _own(self, key: str) -> dict[str, bytes]:
        with self._lock:
            return {p: b for p, b in self.objects.items() if p.startswith(f"/cal/{key}/")}

    def _listing(self, key: str) -> Answer:
        items = {**self._own(key), **(self.traps(key) if self.mode == "escape" else {})}
        xml = _multistatus((href, _etag(b), None) for href, b in items.items()).replace(
            b"</d:multistatus>", b"<d:sync-token>t1</d:sync-token></d:multistatus>"
        )
        if self.mode == "huge":
            return 207, [("Content-Length", str(self.huge_bytes))], _huge(xml, self.huge_bytes)
        if self.mode == "slow":
            return 207, [("Content-Length", str(len(xml)))], _drip(xml, self.drip_s)
        return 207, [("Content-Length", str(len(xml))), ("Content-Type", "application/xml")], iter((xml,))

    def _multiget(self, key: str, body: bytes) -> Answer:
        known = {**self._own(key), **self.traps(key)}
        asked = [h.decode() for h in _hrefs(body)]
        xml = _multistatus((h, _etag(known[h]), known[h]) for h in asked if h in known)
        return 207, [("Content-Length", str(len(xml))), ("Content-Type", "application/xml")], iter((xml,))


def _etag(body: bytes) -> str:
    return '"' + hashlib.sha256(body).hexdigest()[:16] + '"'


def _hrefs(body: bytes) -> list[bytes]:
    import re

    return re.findall(rb"<d:href>([^<]*)</d:href>", body)


def _multistatus(items: Any) -> bytes:
    parts = [
        '<?xml version="1.0" encoding="utf-8"?>',
        '<d:multistatus xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav">',
    ]
    for href, etag, data in items:
        prop = f"<d:getetag>{escape(etag)}</d:getetag>"
        if data is not None:
            prop += f"<c:calendar-data>{escape(data.decode())}</c:calendar-data>"
        parts.append(
            f"<d:response><d:href>{escape(href)}</d:href><d:propstat><d:prop>{prop}</d:prop>"
            "<d:status>HTTP/1.1 200 OK</d:status></d:propstat></d:response>"
        )
    parts.append("</d:multistatus>")
    return "".join(parts).encode()


def _huge(start: bytes, size: int) -> Iterator[bytes]:
    """A well-formed start, then an endless comment up to `size` bytes."""
    head = start.replace(b"</d:multistatus>", b"<!--")
    yield head
    sent = len(head)
    block = b"x" * (1024 * 1024)
    while sent < size:
        chunk = block[: size - sent]
        sent += len(chunk)
        yield chunk


def _drip(data: bytes, every: float) -> Iterator[bytes]:
    for i in range(len(data)):
        time.sleep(every)
        yield data[i : i + 1]
