"""Where the calendars live for one process: the configured CalDAV server, or plansync's embedded one.

`CalendarServer` is the one owner of the embedded server's life: `plansync sync` and `run` enter it for
one run, `plansync serve` for its whole life; each sync asks it for a fresh backend.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from types import TracebackType
from urllib.parse import urlsplit

from plansync.caldav.client import CalDAVBackend
from plansync.caldav.embedded import EMBEDDED_USER, EmbeddedRadicale
from plansync.caldav.session import caldav_auth
from plansync.config.model import CalDAVConfig

log = logging.getLogger(__name__)


class CalendarServer:
    """`with CalendarServer(config.caldav) as server: backend = server.backend()`."""

    def __init__(self, caldav: CalDAVConfig, environ: Mapping[str, str] | None = None) -> None:
        self.caldav = caldav
        self.environ = os.environ if environ is None else environ
        self._embedded: EmbeddedRadicale | None = None

    @property
    def url(self) -> str:
        return self._embedded.url if self._embedded is not None else self.caldav.url

    def __enter__(self) -> CalendarServer:
        if self.caldav.is_embedded:
            settings = self.caldav.embedded
            user = self.caldav.username or EMBEDDED_USER
            self._embedded = EmbeddedRadicale(settings.host, settings.port, settings.folder, user)
            self._embedded.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._embedded is not None:
            self._embedded.stop()
            self._embedded = None

    def backend(self) -> CalDAVBackend:
        """A backend for one run; close it when the run ends."""
        caldav = self.caldav
        if self._embedded is not None:
            return CalDAVBackend(
                self._embedded.url,
                username=self._embedded.user,
                password=self._embedded.password,
                timeout=caldav.timeout,
                writers=caldav.connections,
                max_response_bytes=caldav.max_response_mb * 1024 * 1024,
            )
        secret = caldav.password.resolve(self.environ)
        url = urlsplit(caldav.url)
        if (
            secret is not None
            and url.scheme == "http"
            and url.hostname not in ("127.0.0.1", "localhost", "::1")
        ):
            log.warning(
                "caldav.url %s is plain http: the password goes over the network in clear; use https",
                f"http://{url.hostname}{f':{url.port}' if url.port else ''}{url.path}",
            )
        return CalDAVBackend(
            caldav.url,
            username=caldav.username,
            password=secret.reveal() if secret else None,
            verify_tls=caldav.verify_tls,
            timeout=caldav.timeout,
            writers=caldav.connections,
            auth=caldav_auth(caldav.auth),
            ca_file=str(caldav.ca_file) if caldav.ca_file is not None else None,
            max_response_bytes=caldav.max_response_mb * 1024 * 1024,
        )
