"""The site's HTTP server on 127.0.0.1: ETag and Last-Modified, 304 for conditional requests, files of
the site only (no listings, no dot files, no way out of the folder)."""

from __future__ import annotations

import http.client
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from plansync.publish.server import SiteServer
from plansync.publish.writer import write_site
from tests.support.servers import free_port

pytestmark = pytest.mark.slow  # the site's HTTP server

FEED = b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//t//RU\r\nEND:VCALENDAR\r\n"


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[SiteServer, Path]]:
    site = tmp_path / "site"
    write_site(
        site, {"index.html": "<p>план</p>".encode(), "feeds/plan-2024.ics": FEED, "feeds/sub/x.ics": FEED}
    )
    (tmp_path / "secret.txt").write_text("outside")
    server = SiteServer(site, "127.0.0.1", free_port()).start()
    try:
        yield server, site
    finally:
        server.stop()


def get(
    server: SiteServer, path: str, headers: dict[str, str] | None = None, method: str = "GET"
) -> http.client.HTTPResponse:
    host, port = server.url.removeprefix("http://").rstrip("/").rsplit(":", 1)
    conn = http.client.HTTPConnection(host, int(port), timeout=10)
    conn.request(method, path, headers=headers or {})
    response = conn.getresponse()
    response.read()
    conn.close()
    return response


def test_feed_has_validators_and_a_conditional_get_answers_304(served: tuple[SiteServer, Path]) -> None:
    server, _ = served
    first = get(server, "/feeds/plan-2024.ics")
    assert first.status == 200
    assert first.getheader("Content-Type") == "text/calendar; charset=utf-8"
    etag, modified = first.getheader("ETag"), first.getheader("Last-Modified")
    assert etag and modified
    assert get(server, "/feeds/plan-2024.ics", {"If-None-Match": etag}).status == 304
    assert get(server, "/feeds/plan-2024.ics", {"If-None-Match": f'W/{etag}, "other"'}).status == 304
    assert get(server, "/feeds/plan-2024.ics", {"If-Modified-Since": modified}).status == 304
    assert get(server, "/feeds/plan-2024.ics", {"If-None-Match": '"stale"'}).status == 200
    # If-None-Match beats If-Modified-Since
    assert (
        get(
            server, "/feeds/plan-2024.ics", {"If-None-Match": '"stale"', "If-Modified-Since": modified}
        ).status
        == 200
    )
    head = get(server, "/feeds/plan-2024.ics", method="HEAD")
    assert head.status == 200 and head.getheader("ETag") == etag


def test_a_changed_feed_gets_a_new_etag(served: tuple[SiteServer, Path]) -> None:
    server, site = served
    etag = get(server, "/feeds/plan-2024.ics").getheader("ETag")
    assert etag
    time.sleep(1.1)  # Last-Modified has whole seconds
    write_site(
        site, {"index.html": "<p>план</p>".encode(), "feeds/plan-2024.ics": FEED.replace(b"t//t", b"u//u")}
    )
    changed = get(server, "/feeds/plan-2024.ics", {"If-None-Match": etag})
    assert changed.status == 200 and changed.getheader("ETag") != etag


@pytest.mark.parametrize(
    "path",
    ["/feeds/", "/feeds/sub", "/../secret.txt", "/%2e%2e/secret.txt", "/feeds/%2e%2e/%2e%2e/secret.txt",
     "/.plansync-site.json", "/missing.html", "/index.html%00.ics", "/" + "a" * 2000],
)  # fmt: skip
def test_only_files_of_the_site_are_served(served: tuple[SiteServer, Path], path: str) -> None:
    server, _ = served
    assert get(server, path).status == 404


def test_a_symlink_out_of_the_site_is_not_followed(served: tuple[SiteServer, Path]) -> None:
    server, site = served
    (site / "link.txt").symlink_to(site.parent / "secret.txt")
    assert get(server, "/link.txt").status == 404


def test_root_is_the_agenda_and_other_methods_are_refused(served: tuple[SiteServer, Path]) -> None:
    server, _ = served
    root = get(server, "/")
    assert root.status == 200 and root.getheader("Content-Type") == "text/html; charset=utf-8"
    assert get(server, "/index.html", method="POST").status == 501
