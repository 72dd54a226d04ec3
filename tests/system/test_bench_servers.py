"""The benchmark's servers: each answers on 127.0.0.1 behind the counting proxy and keeps a client's
connection open; Xandikos runs on its own aiohttp server (as the `xandikos` command runs it), Radicale
through the threaded keep-alive WSGI front (its own server closes every connection)."""

from __future__ import annotations

import base64
import http.client
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from bench.servers import running_server

pytestmark = pytest.mark.slow  # starts the benchmark's servers

PROPFIND = (
    b'<?xml version="1.0" encoding="utf-8"?><d:propfind xmlns:d="DAV:">'
    b"<d:prop><d:current-user-principal/></d:prop></d:propfind>"
)

# Radicale's rights are owner_only with any password accepted: a user name is needed, Xandikos ignores it.
BASIC = "Basic " + base64.b64encode(b"bench:x").decode()


@pytest.mark.timeout(60)
@pytest.mark.parametrize(("kind", "front"), [("xandikos", "aiohttp"), ("radicale", "BaseHTTP")])
def test_server_keeps_the_connection_and_is_counted(tmp_path: Path, kind: str, front: str) -> None:
    with running_server(kind, tmp_path) as server:
        parts = urlsplit(server.url)
        conn = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=10)
        try:
            answers = []
            for _ in range(2):
                headers = {"Depth": "0", "Content-Type": "application/xml", "Authorization": BASIC}
                conn.request("PROPFIND", "/", PROPFIND, headers)
                response = conn.getresponse()
                answers.append((response.status, response.getheader("Server") or "", response.read()))
        finally:
            conn.close()
        traffic = server.proxy.snapshot()

    assert [status for status, _, _ in answers] == [207, 207]
    assert all(b"current-user-principal" in body for _, _, body in answers)
    assert front in answers[0][1]
    assert traffic.requests == 2
    assert traffic.methods == {"PROPFIND": 2}
    assert traffic.connections == 1  # both requests on one kept-alive connection
