"""plansync's embedded Radicale: loopback only, a password made at random on first start (kept 0600),
and only requests whose Host header names it (a page in a browser led there by DNS rebinding is
turned away)."""

from __future__ import annotations

import base64
import http.client
import stat
from pathlib import Path

import pytest

from plansync.caldav.embedded import EmbeddedRadicale, EmbeddedServerError, embedded_password, password_file
from tests.support.servers import free_port

pytestmark = [pytest.mark.timeout(60), pytest.mark.slow]  # slow: starts plansync's embedded Radicale


def _propfind(port: int, *, host: str, user: str | None = None, password: str | None = None) -> int:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    headers = {"Host": host, "Depth": "0"}
    if user is not None:
        token = base64.b64encode(f"{user}:{password}".encode()).decode()
        headers["Authorization"] = f"Basic {token}"
    conn.request("PROPFIND", f"/{user or 'plansync'}/", headers=headers)
    status = conn.getresponse().status
    conn.close()
    return status


def test_a_password_is_made_once_and_asked_for(tmp_path: Path) -> None:
    port = free_port()
    storage = tmp_path / "radicale"
    with EmbeddedRadicale("127.0.0.1", port, storage) as server:
        password = server.password
        assert len(password) >= 20
        assert stat.S_IMODE(password_file(storage).stat().st_mode) == 0o600
        host = f"127.0.0.1:{port}"
        assert _propfind(port, host=host, user="plansync", password=password) == 207
        assert _propfind(port, host=host, user="plansync", password="any password") == 401
        assert _propfind(port, host=host) == 401
    with EmbeddedRadicale("127.0.0.1", port, storage) as again:  # the same password after a restart
        assert again.password == password == embedded_password(storage)


@pytest.mark.parametrize(
    "host", ["evil.example:{port}", "127.0.0.1.nip.io:{port}", "localhost.evil:{port}", ""]
)
def test_a_request_for_another_host_is_turned_away(tmp_path: Path, host: str) -> None:
    port = free_port()
    with EmbeddedRadicale("127.0.0.1", port, tmp_path / "radicale") as server:
        status = _propfind(port, host=host.format(port=port), user="plansync", password=server.password)
        assert status == 421
        assert _propfind(port, host=f"localhost:{port}", user="plansync", password=server.password) == 207


def test_only_loopback(tmp_path: Path) -> None:
    with pytest.raises(EmbeddedServerError, match="loopback"):
        EmbeddedRadicale("0.0.0.0", free_port(), tmp_path / "radicale")
