"""The protocol's limit: one PUT per event over one keep-alive connection, nothing else.

    python -m bench.putloop URL USER VDIR [--only LIST_FILE]

VDIR holds one folder per calendar with the .ics objects plansync would write (the benchmark writes
them with plansync.calendar.ical.desired_events). Without --only: MKCALENDAR each calendar under the
user's home
(/USER/ on Radicale, /user/calendars/ on Xandikos, found with one PROPFIND each), then PUT every object
with If-None-Match: *. With --only: PUT just the objects named in LIST_FILE ("calendar/name.ics" lines),
the edit case's floor. Uses http.client with one persistent connection (re-opened only if the server
closes it; the number of connections is printed). Exits 1 if any request fails.
"""

from __future__ import annotations

import argparse
import base64
import http.client
import re
import sys
from pathlib import Path
from urllib.parse import quote, urlsplit


class Connection:
    def __init__(self, url: str, user: str) -> None:
        parts = urlsplit(url)
        self.host = parts.hostname or "127.0.0.1"
        self.port = parts.port or 80
        self.auth = "Basic " + base64.b64encode(f"{user}:x".encode()).decode()
        self.opened = 0
        self._conn: http.client.HTTPConnection | None = None

    def request(
        self, method: str, path: str, body: bytes = b"", headers: dict[str, str] | None = None
    ) -> tuple[int, bytes]:
        for attempt in (1, 2):
            if self._conn is None:
                self._conn = http.client.HTTPConnection(self.host, self.port, timeout=60)
                self.opened += 1
            try:
                self._conn.request(method, path, body, {"Authorization": self.auth, **(headers or {})})
                response = self._conn.getresponse()
                data = response.read()
                if response.will_close:
                    self._conn.close()
                    self._conn = None
                return response.status, data
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                self._conn.close()
                self._conn = None
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")


def home(conn: Connection, user: str) -> str:
    """The calendar home: current-user-principal, then calendar-home-set (two PROPFINDs)."""
    found = "/"
    for prop, ns in (("current-user-principal", "d"), ("calendar-home-set", "c")):
        body = (
            '<?xml version="1.0" encoding="utf-8"?><d:propfind xmlns:d="DAV:" '
            f'xmlns:c="urn:ietf:params:xml:ns:caldav"><d:prop><{ns}:{prop}/></d:prop></d:propfind>'
        ).encode()
        status, data = conn.request(
            "PROPFIND", found, body, {"Depth": "0", "Content-Type": "application/xml"}
        )
        match = re.search(rb"<[^>]*" + prop.encode() + rb"[^>]*>\s*<[^>]*href[^>]*>([^<]+)<", data)
        if status != 207 or match is None:
            raise SystemExit(f"putloop: cannot find {prop} (HTTP {status})")
        found = match.group(1).decode()
    return found if found.endswith("/") else found + "/"


def mkcalendar(conn: Connection, path: str, name: str) -> int:
    body = (
        '<?xml version="1.0" encoding="utf-8"?><c:mkcalendar xmlns:d="DAV:" '
        'xmlns:c="urn:ietf:params:xml:ns:caldav"><d:set><d:prop>'
        f"<d:displayname>{name}</d:displayname></d:prop></d:set></c:mkcalendar>"
    ).encode()
    status, _ = conn.request("MKCALENDAR", path, body, {"Content-Type": "application/xml; charset=utf-8"})
    return status


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("url")
    parser.add_argument("user")
    parser.add_argument("vdir", type=Path)
    parser.add_argument("--only", type=Path)
    args = parser.parse_args()
    conn = Connection(args.url, args.user)
    base = home(conn, args.user)
    failed = 0
    puts = 0
    if args.only is not None:
        work = [Path(line) for line in args.only.read_text(encoding="utf-8").split()]
        condition: dict[str, str] = {}
    else:
        work = [p.relative_to(args.vdir) for p in sorted(args.vdir.glob("*/*.ics"))]
        condition = {"If-None-Match": "*"}
        for folder in sorted(p for p in args.vdir.iterdir() if p.is_dir()):
            # With a body: Xandikos answers 415 to a MKCALENDAR without one.
            status = mkcalendar(conn, f"{base}{quote(folder.name)}/", folder.name)
            if status not in (200, 201):
                print(f"putloop: MKCALENDAR {folder.name}: HTTP {status}", file=sys.stderr)
                failed += 1
    for rel in work:
        body = (args.vdir / rel).read_bytes()
        path = f"{base}{quote(rel.parent.name)}/{quote(rel.name)}"
        status, _ = conn.request(
            "PUT", path, body, {"Content-Type": "text/calendar; charset=utf-8", **condition}
        )
        puts += 1
        if status not in (200, 201, 204):
            print(f"putloop: PUT {path}: HTTP {status}", file=sys.stderr)
            failed += 1
    print(f"putloop: {puts} PUTs, {failed} failed, {conn.opened} connection(s)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
