"""plansync's own CalDAV server: Radicale's application, in-process, on 127.0.0.1 only.

With the shipped config (`caldav.url: embedded`) `plansync sync` needs nothing else installed, and a
person can open the calendars in Thunderbird or DAVx5 while `plansync serve` keeps it running.

Loopback is not a wall: every local user, and a web page in a browser on the same host (DNS
rebinding), can reach the port. So the server asks for a password, made at random when it first starts
and kept 0600 beside its storage (`plansync status` shows it to the owner), and it answers only requests
whose Host header names it. Radicale's configuration is built from scratch and explicit: its default
`[auth] type` is `denyall`, and it would read /etc/radicale/config if asked to.
"""

from __future__ import annotations

import errno
import logging
import secrets
import socket
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from socketserver import ThreadingMixIn
from types import TracebackType
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer

from plansync.errors import PlansyncError
from plansync.util.private import private_dir, private_file

EMBEDDED_USER = "plansync"  # the principal the calendars live under: /plansync/
PASSWORD_FILE = "embedded.htpasswd"  # beside the storage folder: `user:password`, 0600
START_TIMEOUT = 10.0
LOOPBACK = ("127.0.0.1", "localhost", "::1")

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class EmbeddedServerError(PlansyncError):
    pass


def password_file(storage: Path) -> Path:
    return storage.parent / PASSWORD_FILE


def embedded_password(storage: Path, user: str = EMBEDDED_USER) -> str:
    """The embedded server's password for `user`: made at random on first use and kept 0600."""
    path = password_file(storage)
    private_dir(path.parent)
    private_file(path)
    found = path.read_text(encoding="utf-8").strip()
    name, _, password = found.partition(":")
    if name == user and password:
        return password
    password = secrets.token_urlsafe(18)
    path.write_text(f"{user}:{password}\n", encoding="utf-8")
    return password


class EmbeddedRadicale:
    """A context manager: `with EmbeddedRadicale(host, port, storage) as server: server.url`."""

    def __init__(self, host: str, port: int, storage: Path, user: str = EMBEDDED_USER) -> None:
        if host not in LOOPBACK:
            raise EmbeddedServerError(
                f"the embedded server listens only on loopback, not on {host}; "
                "set caldav.embedded.host to 127.0.0.1"
            )
        self.host = host
        self.port = port
        self.storage = storage
        self.user = user
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}/"

    @property
    def password(self) -> str:
        return embedded_password(self.storage, self.user)

    def __enter__(self) -> EmbeddedRadicale:
        self.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def start(self) -> None:
        # Radicale (0.1 s) only when the embedded server starts: a sync to another server never needs it.
        import radicale.app  # noqa: PLC0415
        import radicale.config  # noqa: PLC0415

        self._check_port()
        try:
            private_dir(self.storage)
        except PlansyncError as exc:
            raise EmbeddedServerError(f"{exc} (caldav.embedded.storage)") from None
        self.password  # noqa: B018 (made now, before anyone can ask)
        configuration = radicale.config.load()  # no paths: never a system or user config file
        configuration.update(
            {
                "auth": {
                    "type": "htpasswd",
                    "htpasswd_filename": str(password_file(self.storage)),
                    "htpasswd_encryption": "plain",
                    "delay": "1",
                },
                "rights": {"type": "owner_only"},
                "storage": {"filesystem_folder": str(self.storage)},
                "logging": {"level": "warning", "mask_passwords": "True"},
            },
            "plansync embedded server",
        )
        logging.getLogger("radicale").setLevel(logging.ERROR)
        app = _host_checked(radicale.app.Application(configuration), self._hosts())
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        try:
            server = _Server((self.host, self.port), _QuietHandler, family=family)
        except OSError as exc:
            if exc.errno in (errno.EADDRINUSE, errno.EACCES):
                raise self._taken() from None
            raise EmbeddedServerError(f"cannot listen on {self.host}:{self.port}: {exc.strerror}") from None
        server.set_app(app)
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, name="plansync-embedded-radicale", daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + START_TIMEOUT
        while not _answers(self.host, self.port):
            if time.monotonic() > deadline or not self._thread.is_alive():
                self.stop()
                raise EmbeddedServerError(
                    f"the embedded CalDAV server did not start on {self.host}:{self.port}"
                )
            time.sleep(0.02)

    def _hosts(self) -> frozenset[str]:
        """The Host headers a request for this server carries: a browser led here by a name that
        resolves to 127.0.0.1 (DNS rebinding) sends that name, and is turned away."""
        names = {"127.0.0.1", "localhost", "[::1]"}
        return frozenset({*names, *(f"{n}:{self.port}" for n in names)})

    def _check_port(self) -> None:
        if _answers(self.host, self.port):
            raise self._taken()

    def _taken(self) -> EmbeddedServerError:
        return EmbeddedServerError(
            f"port {self.port} on {self.host} is already in use, so the embedded CalDAV server cannot start "
            "(is `plansync serve` running? it syncs by itself); stop the other program or set "
            "caldav.embedded.port in the config to a free port"
        )

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None


def _host_checked(app: WSGIApp, hosts: frozenset[str]) -> WSGIApp:
    def checked(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ.get("HTTP_HOST", "").lower() not in hosts:
            body = b"this server answers only requests for itself (Host)\n"
            headers = [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))]
            start_response("421 Misdirected Request", headers)
            return [body]
        return app(environ, start_response)

    return checked


class _Server(ThreadingMixIn, WSGIServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], handler: type[WSGIRequestHandler], *, family: int) -> None:
        self.address_family = family
        super().__init__(address, handler)


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


def _answers(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.2):
            return True
    except OSError:
        return False
