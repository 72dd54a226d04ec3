"""plansync's own CalDAV server: Radicale, in-process, in a thread, on 127.0.0.1.

With the shipped config (`caldav.url: embedded`) `plansync sync` needs nothing else installed, and a
person can open the calendars in Thunderbird or DAVx5 while `plansync serve` keeps it running.
Radicale's default `[auth] type` is `denyall`, and it would read /etc/radicale/config if asked to; here
the configuration is built from scratch and explicit. Radicale's own server is used, not
hypercorn (which answers 500 to successful PUTs).
"""

from __future__ import annotations

import errno
import logging
import socket
import threading
import time
from pathlib import Path
from types import TracebackType

from plansync.errors import PlansyncError

EMBEDDED_USER = "plansync"  # the principal the calendars live under: /plansync/
# Authentication is off (loopback only): any password is accepted; sending one carries the user name.
EMBEDDED_PASSWORD = "embedded"
START_TIMEOUT = 10.0


class EmbeddedServerError(PlansyncError):
    pass


class EmbeddedRadicale:
    """A context manager: `with EmbeddedRadicale(host, port, storage) as server: server.url`."""

    def __init__(self, host: str, port: int, storage: Path) -> None:
        if host not in ("127.0.0.1", "localhost", "::1"):
            raise EmbeddedServerError(
                f"the embedded server has no authentication and listens only on loopback, "
                f"not on {host}; set caldav.embedded.host to 127.0.0.1"
            )
        self.host = host
        self.port = port
        self.storage = storage
        self._thread: threading.Thread | None = None
        self._shutdown: socket.socket | None = None
        self._shutdown_peer: socket.socket | None = None
        self._failure: BaseException | None = None

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}/"

    def __enter__(self) -> EmbeddedRadicale:
        self.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def start(self) -> None:
        import radicale.config
        import radicale.server

        self._check_port()
        try:
            self.storage.mkdir(mode=0o700, parents=True, exist_ok=True)
        except OSError as exc:
            raise EmbeddedServerError(
                f"cannot create the embedded server's storage {self.storage}: {exc.strerror}; "
                "check caldav.embedded.storage in the config"
            ) from None
        configuration = radicale.config.load()  # no paths: never a system or user config file
        host = f"[{self.host}]" if ":" in self.host else self.host
        configuration.update(
            {
                "server": {"hosts": f"{host}:{self.port}"},
                "auth": {"type": "none"},  # loopback only; the default would be denyall
                "rights": {"type": "owner_only"},
                "storage": {"filesystem_folder": str(self.storage)},
                "logging": {"level": "warning", "mask_passwords": "True"},
            },
            "plansync embedded server",
        )
        # Radicale warns loudly that auth is off; on loopback that is the point.
        logging.getLogger("radicale").setLevel(logging.ERROR)
        self._shutdown, self._shutdown_peer = socket.socketpair()

        def run() -> None:
            try:
                radicale.server.serve(configuration, self._shutdown_peer)
            except BaseException as exc:
                self._failure = exc

        self._thread = threading.Thread(target=run, name="plansync-embedded-radicale", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self._failure is not None or not self._thread.is_alive():
                self.stop()
                raise EmbeddedServerError(
                    f"the embedded CalDAV server did not start on {self.host}:{self.port}: "
                    f"{self._failure or 'it stopped'}"
                )
            if _answers(self.host, self.port):
                return
            time.sleep(0.02)
        self.stop()
        raise EmbeddedServerError(
            f"the embedded CalDAV server did not start on {self.host}:{self.port} "
            f"within {START_TIMEOUT:.0f} s"
        )

    def _check_port(self) -> None:
        if _answers(self.host, self.port):
            raise self._taken()
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        with socket.socket(family, socket.SOCK_STREAM) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind((self.host, self.port))
            except OSError as exc:
                if exc.errno in (errno.EADDRINUSE, errno.EACCES):
                    raise self._taken() from None
                raise EmbeddedServerError(
                    f"cannot listen on {self.host}:{self.port}: {exc.strerror}"
                ) from None

    def _taken(self) -> EmbeddedServerError:
        return EmbeddedServerError(
            f"port {self.port} on {self.host} is already in use, so the embedded CalDAV server cannot start "
            "(is `plansync serve` running? it syncs by itself); stop the other program or set "
            "caldav.embedded.port in the config to a free port"
        )

    def stop(self) -> None:
        if self._shutdown is not None:
            self._shutdown.close()  # closing our end makes Radicale's serve() return
            self._shutdown = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
        if self._shutdown_peer is not None:
            self._shutdown_peer.close()
            self._shutdown_peer = None


def _answers(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.2):
            return True
    except OSError:
        return False
