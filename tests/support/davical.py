"""A CalDAV server laid out the way Debian installs DAViCal: the server lives under
`/davical/caldav.php/`, the web server answers PROPFIND on `/` with 405 Method Not Allowed (it is a
plain web site there), and `/.well-known/caldav` redirects into the server (RFC 6764).

`davical_layout(app)` puts any WSGI CalDAV app (Radicale, which honours SCRIPT_NAME) behind such a
dispatcher: `start_radicale(storage, mount=davical_layout)`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from tests.support.servers import WSGIApp

PREFIX = "/davical/caldav.php"
SITE = b"<!DOCTYPE html><html><body><h1>It works!</h1></body></html>\n"


def davical_layout(app: WSGIApp, *, well_known: bool = True) -> WSGIApp:
    """`well_known=False`: a host that also has no /.well-known/caldav (404 there)."""

    def dispatch(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "") or "/"
        method = environ["REQUEST_METHOD"]
        if path == PREFIX or path.startswith(PREFIX + "/"):
            inner = dict(environ, SCRIPT_NAME=PREFIX, PATH_INFO=path[len(PREFIX) :] or "/")
            return app(inner, start_response)
        if path.rstrip("/") == "/.well-known/caldav":
            if not well_known:
                return _answer(start_response, "404 Not Found", b"<html><body>Not Found</body></html>\n")
            start_response("301 Moved Permanently", [("Location", PREFIX + "/"), ("Content-Length", "0")])
            return [b""]
        if method in ("GET", "HEAD"):
            return _answer(start_response, "200 OK", SITE)
        return _answer(
            start_response,
            "405 Method Not Allowed",
            b"<html><body>Method Not Allowed</body></html>\n",
            [("Allow", "GET, HEAD, POST, OPTIONS")],
        )

    return dispatch


def without_well_known(app: WSGIApp) -> WSGIApp:
    return davical_layout(app, well_known=False)


def _answer(
    start_response: Callable[..., Any], status: str, body: bytes, extra: list[tuple[str, str]] | None = None
) -> Iterable[bytes]:
    headers = [
        ("Content-Type", "text/html; charset=utf-8"),
        ("Content-Length", str(len(body))),
        *(extra or []),
    ]
    start_response(status, headers)
    return [body]
