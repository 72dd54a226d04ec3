"""A small HTTP server for the published site (standard library): GET and HEAD of files inside the
site folder only, no directory listings, ETag and Last-Modified on every file, and 304 Not Modified
for `If-None-Match` / `If-Modified-Since`, so subscribed calendar apps re-download a feed only after
it changed. Binds 127.0.0.1 by default; a public site goes behind a real web server or proxy."""

from __future__ import annotations

import email.utils
import hashlib
import logging
import os
import threading
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlsplit

from plansync.errors import PlansyncError

log = logging.getLogger("plansync.publish.http")

TYPES = {
    ".html": "text/html; charset=utf-8",
    ".ics": "text/calendar; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".txt": "text/plain; charset=utf-8",
}
MAX_PATH = 1024  # longer request paths are not ours


class _Tags:
    """ETag per file, recomputed only when the file was replaced (its inode, size or mtime changed)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._known: dict[str, tuple[tuple[int, int, int], str]] = {}

    def etag(self, path: Path, info: os.stat_result, data: bytes) -> str:
        key = (info.st_ino, info.st_size, info.st_mtime_ns)
        with self._lock:
            known = self._known.get(str(path))
            if known is not None and known[0] == key:
                return known[1]
        tag = '"' + hashlib.sha256(data).hexdigest()[:32] + '"'
        with self._lock:
            self._known[str(path)] = (key, tag)
        return tag


def _matches(header: str, etag: str) -> bool:
    if header.strip() == "*":
        return True
    # Weak comparison (RFC 9110 13.1.2): W/"x" matches "x".
    wanted = {t.strip().removeprefix("W/") for t in header.split(",")}
    return etag in wanted


class SiteServer:
    """The server in a thread: `start()`, `url`, `stop()`."""

    def __init__(self, root: Path, host: str = "127.0.0.1", port: int = 8080) -> None:
        self.root = root
        tags = _Tags()
        site = root

        class Handler(BaseHTTPRequestHandler):
            server_version = "plansync"
            sys_version = ""

            def do_GET(self) -> None:
                self._serve(body=True)

            def do_HEAD(self) -> None:
                self._serve(body=False)

            def log_message(self, format: str, *args: object) -> None:
                log.debug("%s %s", self.address_string(), format % args)

            def _serve(self, *, body: bool) -> None:
                path = self._resolve()
                if path is None:
                    self._plain(HTTPStatus.NOT_FOUND, "not found\n", body)
                    return
                try:
                    with path.open("rb") as handle:
                        info = os.fstat(handle.fileno())
                        data = handle.read()
                except OSError:
                    self._plain(HTTPStatus.NOT_FOUND, "not found\n", body)
                    return
                etag = tags.etag(path, info, data)
                modified = email.utils.formatdate(int(info.st_mtime), usegmt=True)
                if self._not_modified(etag, int(info.st_mtime)):
                    self.send_response(HTTPStatus.NOT_MODIFIED)
                    self.send_header("ETag", etag)
                    self.send_header("Last-Modified", modified)
                    self.send_header("Cache-Control", "no-cache")
                    self.end_headers()
                    return
                self.send_response(HTTPStatus.OK)
                self.send_header("Content-Type", TYPES.get(path.suffix, "application/octet-stream"))
                self.send_header("Content-Length", str(len(data)))
                self.send_header("ETag", etag)
                self.send_header("Last-Modified", modified)
                self.send_header("Cache-Control", "no-cache")  # revalidate: a 304 costs little
                self.send_header("X-Content-Type-Options", "nosniff")
                self.end_headers()
                if body:
                    self.wfile.write(data)

            def _resolve(self) -> Path | None:
                """The file the request names, confined to the site; None for anything else."""
                raw = urlsplit(self.path).path
                if len(raw) > MAX_PATH:
                    return None
                name = unquote(raw, errors="strict") if "%" in raw else raw
                if "\x00" in name or "\\" in name:
                    return None
                parts = [p for p in name.split("/") if p]
                if any(p in (".", "..") or p.startswith(".") for p in parts):
                    return None  # no dot files either: the manifest and atomic temporaries
                target = site.joinpath(*parts) if parts else site
                if target.is_dir():
                    target = target / "index.html"
                try:
                    real = target.resolve(strict=True)
                except (OSError, RuntimeError):
                    return None
                if not real.is_relative_to(site.resolve()) or not real.is_file():
                    return None
                return real

            def _not_modified(self, etag: str, mtime: int) -> bool:
                match = self.headers.get("If-None-Match")
                if match is not None:
                    return _matches(match, etag)  # it beats If-Modified-Since (RFC 9110 13.2.2)
                since = self.headers.get("If-Modified-Since")
                if since is None:
                    return False
                try:
                    when = email.utils.parsedate_to_datetime(since)
                except (TypeError, ValueError, IndexError):
                    return False
                return when.timestamp() >= mtime

            def _plain(self, status: HTTPStatus, text: str, body: bool) -> None:
                data = text.encode()
                self.send_response(status)
                self.send_header("Content-Type", "text/plain; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                if body:
                    self.wfile.write(data)

        try:
            self._httpd = ThreadingHTTPServer((host, port), Handler)
        except OSError as exc:
            raise PlansyncError(
                f"cannot serve the site on {host}:{port}: {exc.strerror}; choose another publish.port"
            ) from None
        self._httpd.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        name = host.decode() if isinstance(host, bytes) else str(host)
        shown = f"[{name}]" if ":" in name else name
        return f"http://{shown}:{port}/"

    def start(self) -> SiteServer:
        self._thread = threading.Thread(target=self._httpd.serve_forever, name="site-http", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
