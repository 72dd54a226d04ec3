"""plansync.caldav.http: one keep-alive connection per host, reopened when the server closed it, Basic auth
sent up front and never shown, errors raised (never retried here)."""

from __future__ import annotations

import base64
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from plansync.caldav.http import HTTPSession

pytestmark = [pytest.mark.timeout(30), pytest.mark.slow]  # slow: starts HTTP servers


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format: str, *args: object) -> None:
        pass

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        self.server.seen.append(
            (self.command, self.path, self.client_address[1], self.headers.get("Authorization"), body)
        )
        if self.path.startswith("/hang"):
            threading.Event().wait(2)
            self.close_connection = True
            return
        if self.path.startswith("/slow"):
            threading.Event().wait(0.3)  # long enough for the other requests to be under way
        out = f"{self.command} {self.path}".encode()
        self.send_response(207 if self.command == "PROPFIND" else 200)
        self.send_header("ETag", '"e1"')
        self.send_header("Content-Length", str(len(out)))
        if self.path.startswith("/close"):
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        self.wfile.write(out)

    do_GET = do_PUT = do_DELETE = do_PROPFIND = do_REPORT = _answer


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.seen: list[tuple[str, str, int, str | None, bytes]] = []


@pytest.fixture
def server() -> Iterator[_Server]:
    srv = _Server()
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    try:
        yield srv
    finally:
        srv.shutdown()
        srv.server_close()


def base(srv: _Server) -> str:
    return f"http://127.0.0.1:{srv.server_address[1]}"


def test_one_connection_carries_many_requests(server: _Server) -> None:
    session = HTTPSession(timeout=5)
    try:
        for n in range(5):
            answer = session.request(
                "PUT", f"{base(server)}/cal/{n}.ics", b"BEGIN:VCALENDAR", {"If-Match": "*"}
            )
            assert answer.status == 200 and answer.headers.get("etag") == '"e1"'
        answer = session.request("PROPFIND", f"{base(server)}/cal/", b"<x/>", {"Depth": "1"})
        assert answer.status == 207 and answer.body == b"PROPFIND /cal/"
    finally:
        session.close()
    ports = {port for _, _, port, _, _ in server.seen}
    assert len(server.seen) == 6 and len(ports) == 1
    assert server.seen[0][4] == b"BEGIN:VCALENDAR"


def test_a_closed_connection_is_opened_again(server: _Server) -> None:
    session = HTTPSession(timeout=5)
    try:
        assert session.request("GET", f"{base(server)}/close/a").status == 200
        assert session.request("GET", f"{base(server)}/b").status == 200
        # the server drops the idle connection: noticed before it is reused
        conn = next(iter(session._idle.values()))[0]
        assert conn.sock is not None
        conn.sock.shutdown(socket.SHUT_RDWR)  # as if the peer had closed it: EOF is readable
        assert session.request("GET", f"{base(server)}/c").status == 200
    finally:
        session.close()
    assert [p for _, p, _, _, _ in server.seen] == ["/close/a", "/b", "/c"]
    assert server.seen[0][2] != server.seen[1][2] != server.seen[2][2]


def test_requests_at_the_same_time_each_have_a_connection_then_reuse_them(server: _Server) -> None:
    import threading

    session = HTTPSession(timeout=5)
    barrier = threading.Barrier(3)
    statuses: list[int] = []

    def send(n: int) -> None:
        barrier.wait()
        statuses.append(session.request("GET", f"{base(server)}/slow/{n}").status)

    try:
        threads = [threading.Thread(target=send, args=(n,)) for n in range(3)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        for n in range(6):
            assert session.request("GET", f"{base(server)}/after/{n}").status == 200
    finally:
        session.close()
    assert statuses == [200, 200, 200]
    first = {port for _, p, port, _, _ in server.seen if p.startswith("/slow/")}
    later = {port for _, p, port, _, _ in server.seen if p.startswith("/after/")}
    assert len(first) == 3  # concurrent: three connections, none waited for another
    assert later <= first and len(later) == 1  # then one idle connection serves the rest


def test_basic_auth_is_sent_up_front_and_never_shown(server: _Server) -> None:
    session = HTTPSession(username="иван", password="s3cret-pw", timeout=5)
    try:
        session.request("GET", f"{base(server)}/a")
    finally:
        session.close()
    expected = "Basic " + base64.b64encode("иван:s3cret-pw".encode()).decode()
    assert server.seen[0][3] == expected
    assert "s3cret" not in repr(session) and expected.split()[1] not in repr(session)
    anonymous = HTTPSession(timeout=5)
    try:
        anonymous.request("GET", f"{base(server)}/b")
    finally:
        anonymous.close()
    assert server.seen[1][3] is None


def test_a_bearer_token_is_sent_with_every_request_and_never_shown(server: _Server) -> None:
    session = HTTPSession(username="ignored", password="tok-123.abc", auth="bearer", timeout=5)
    try:
        session.request("GET", f"{base(server)}/a")
        session.request("PROPFIND", f"{base(server)}/b")
    finally:
        session.close()
    assert [s[3] for s in server.seen] == ["Bearer tok-123.abc"] * 2
    assert "tok-123" not in repr(session) and session.scheme == "bearer"


def test_digest_only_never_sends_the_password_as_basic(server: _Server) -> None:
    session = HTTPSession(username="u", password="s3cret-pw", auth="digest", timeout=5)
    try:
        session.request("GET", f"{base(server)}/a")  # no challenge from this server: nothing sent
    finally:
        session.close()
    assert server.seen[0][3] is None


def test_paths_are_encoded_once(server: _Server) -> None:
    session = HTTPSession(timeout=5)
    try:
        session.request("GET", f"{base(server)}/cal/%D0%B0 b.ics")
    finally:
        session.close()
    assert server.seen[0][1] == "/cal/%D0%B0%20b.ics"


def test_a_timeout_raises_and_the_next_request_gets_a_fresh_connection(server: _Server) -> None:
    session = HTTPSession(timeout=0.5)
    try:
        with pytest.raises(TimeoutError, match="timed out"):
            session.request("GET", f"{base(server)}/hang")
        assert session.request("GET", f"{base(server)}/after").status == 200
    finally:
        session.close()
    assert server.seen[0][2] != server.seen[1][2]


def test_a_refused_connection_raises() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    session = HTTPSession(timeout=2)
    with pytest.raises(ConnectionRefusedError):
        session.request("GET", f"http://127.0.0.1:{port}/")
    with pytest.raises(ValueError, match="not an http"):
        session.request("GET", "ftp://127.0.0.1/")
