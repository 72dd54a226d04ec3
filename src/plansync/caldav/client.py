"""The CalDAV backend: listing a calendar, fetching its objects, writing them, over the session and the
discovery below it. It follows what was measured on real servers:

* create with `If-None-Match: *`, update and delete with `If-Match: <etag>`; never caldav's `save()`
  (it bumps SEQUENCE and switches to `If-Schedule-Tag-Match` on Xandikos);
* the new ETag comes from the PUT response, so a write costs one request;
* listing: RFC 6578 sync-collection with the stored token (an expired token is 403 on Radicale, 412 on
  Xandikos: start again without one), else getctag, else a full etag listing — never caldav's silent
  `fake-` token fallback; a REPORT the server does not support (403 with DAV:supported-report, or
  400/405/501) falls back to the next way of listing for the rest of the run;
* contents: one calendar-multiget REPORT, not a GET per object;
* hrefs are the ones the server reports, and only those inside the calendar are taken.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import quote, urljoin
from xml.etree import ElementTree as ET
from xml.sax.saxutils import escape

from plansync.caldav.backend import (
    BackendError,
    Listing,
    NotAllowed,
    PreconditionFailed,
    Stamp,
    UidClash,
    norm_href,
    parent_collection,
)
from plansync.caldav.discovery import Discovery
from plansync.caldav.problems import UID_CLASH, Refusal, explain, read_refusal
from plansync.caldav.retry import RETRY_STATUSES
from plansync.caldav.session import AuthError, body_of, short_body, shown
from plansync.caldav.xml import CS, DAV, Picked, etag_of, http_date, ok_prop, pick_object

log = logging.getLogger(__name__)

MULTIGET_BATCH = 100


class CalDAVBackend(Discovery):
    """The Backend protocol over CalDAV: raw requests on keep-alive connections, discovery included."""

    def listing(self, calendar_url: str, *, sync_token: str | None, ctag: str | None) -> Listing:
        if self._options.sync_collection is not False:
            try:
                return self._sync_collection(calendar_url, sync_token)
            except _TokenRejected:
                log.info("%s: the sync token was not accepted; listing everything", shown(calendar_url))
                return self._sync_collection(calendar_url, None)
            except _Unsupported:
                log.info(
                    "%s does not support sync-collection; listing by ctag and etags", shown(calendar_url)
                )
                self._options.sync_collection = False
        if ctag:
            current = self._ctag(calendar_url)
            if current is not None and current == ctag:
                return Listing(complete=False, items={}, ctag=ctag)
        return self._propfind_listing(calendar_url)

    def stamps(self, calendar_urls: Sequence[str], *, ctag: bool = False) -> dict[str, Stamp]:
        # Asked of the parent with Depth 1, so that all of a user's calendars cost one request; of the
        # calendar itself (Depth 0) when it is the only one asked for there: the server then looks at
        # it alone. One property at a time: Radicale computes a ctag from every item of a calendar,
        # its last-modified from file times; Xandikos has no last-modified, and its ctag is the
        # calendar's git tree id.
        by_parent: dict[str, list[str]] = {}
        for url in calendar_urls:
            by_parent.setdefault(parent_collection(url), []).append(url)
        prop = f"{CS}getctag" if ctag else f"{DAV}getlastmodified"
        body = (
            '<?xml version="1.0" encoding="utf-8"?>'
            '<d:propfind xmlns:d="DAV:" xmlns:cs="http://calendarserver.org/ns/"><d:prop>'
            f"{'<cs:getctag/>' if ctag else '<d:getlastmodified/>'}</d:prop></d:propfind>"
        )
        out: dict[str, Stamp] = {}
        for parent, urls in by_parent.items():
            asked, depth = (urls[0], "0") if len(urls) == 1 else (parent, "1")
            headers = {"Depth": depth, "Content-Type": "application/xml; charset=utf-8"}
            try:
                response = self._request(asked, "PROPFIND", body, headers)
                if int(response.status) != 207:
                    continue
                root = self._xml(response)
            except (BackendError, AuthError) as exc:
                # Not knowing the stamps costs a listing per calendar, which says what is wrong if it is.
                log.debug("PROPFIND %s for stamps: %s", shown(asked), exc)
                continue
            now = http_date(response.headers.get("Date"))
            wanted = {norm_href(u).rstrip("/"): u for u in urls}
            for resp in root.iter(f"{DAV}response"):
                href_el = resp.find(f"{DAV}href")
                found = wanted.get(norm_href(href_el.text or "").rstrip("/")) if href_el is not None else None
                value = ok_prop(resp, prop)
                if found is None or value is None:
                    continue
                out[found] = Stamp.ctag(value) if ctag else Stamp.read(value, http_date(value), now)
        return out

    def _sync_collection(self, calendar_url: str, token: str | None) -> Listing:
        body = (
            '<?xml version="1.0" encoding="utf-8"?>'
            '<d:sync-collection xmlns:d="DAV:">'
            f"<d:sync-token>{escape(token or '')}</d:sync-token>"
            "<d:sync-level>1</d:sync-level><d:prop><d:getetag/></d:prop></d:sync-collection>"
        )
        headers = {"Depth": "0", "Content-Type": "application/xml; charset=utf-8"}

        def pick(resp: ET.Element) -> Picked | None:
            href_el = resp.find(f"{DAV}href")
            if href_el is None or not href_el.text:
                return None
            direct = resp.find(f"{DAV}status")
            gone = direct is not None and " 404" in (direct.text or "")
            return href_el.text, None if gone else etag_of(resp), None

        try:
            response, parsed = self._multistatus(calendar_url, "REPORT", body, headers, pick)
        except AuthError as exc:
            if exc.refusal.has("supported-report"):
                raise _Unsupported from None  # SabreDAV 1.x: 403, the RFC 3253 way
            if token and exc.status == 403:
                raise _TokenRejected from None  # Radicale: an unknown token is 403
            raise exc.public() from None
        status = int(response.status)
        if status == 404:
            raise BackendError(
                f"calendar {shown(calendar_url)} not found (404); check calendars.*.url in the config"
            )
        if status in RETRY_STATUSES:  # overloaded or down: not a sign that sync-collection is unknown
            raise BackendError(f"REPORT {shown(calendar_url)}: HTTP {status}; try again later")
        if status != 207:
            if token:
                raise _TokenRejected  # Xandikos: 412; others: 409 or 400 with DAV:valid-sync-token
            raise _Unsupported
        parsed.check()
        items: dict[str, str] = {}
        removed: set[str] = set()
        outside: list[str] = []
        for raw, etag, _ in parsed.picked:
            href = self._inside(raw, calendar_url, outside)
            if href is None:
                continue
            if etag is None:
                removed.add(href)
            else:
                items[href] = etag
        new_token = parsed.sync_token
        if new_token is None:
            self._options.sync_collection = False  # without a token there is no increment to have
        return Listing(
            complete=token is None,
            items=items,
            removed=frozenset(removed),
            sync_token=new_token,
            outside=tuple(outside),
        )

    def _ctag(self, calendar_url: str) -> str | None:
        body = (
            '<?xml version="1.0" encoding="utf-8"?>'
            '<d:propfind xmlns:d="DAV:" xmlns:cs="http://calendarserver.org/ns/">'
            "<d:prop><cs:getctag/></d:prop></d:propfind>"
        )
        response = self._propfind(calendar_url, body, depth=0)
        root = self._xml(response)
        el = root.find(f".//{CS}getctag")
        return el.text if el is not None and el.text else None

    def _propfind(self, url: str, body: str, *, depth: int) -> Any:
        headers = {"Depth": str(depth), "Content-Type": "application/xml; charset=utf-8"}
        try:
            response = self._request(url, "PROPFIND", body, headers)
        except AuthError as exc:
            raise exc.public() from None
        if int(response.status) == 404:
            raise BackendError(f"calendar {shown(url)} not found (404); check calendars.*.url in the config")
        if int(response.status) != 207:
            raise BackendError(f"PROPFIND {shown(url)}: HTTP {response.status}")
        return response

    def _propfind_listing(self, calendar_url: str) -> Listing:
        body = (
            '<?xml version="1.0" encoding="utf-8"?>'
            '<d:propfind xmlns:d="DAV:" xmlns:cs="http://calendarserver.org/ns/">'
            "<d:prop><d:getetag/><d:resourcetype/><cs:getctag/></d:prop></d:propfind>"
        )
        base = norm_href(calendar_url).rstrip("/")

        def pick(resp: ET.Element) -> Picked | None:
            href_el = resp.find(f"{DAV}href")
            if href_el is None or not href_el.text:
                return None
            if norm_href(urljoin(calendar_url, href_el.text)).rstrip("/") == base:
                el = resp.find(f".//{CS}getctag")
                return "", None, el.text if el is not None and el.text else None  # the calendar itself
            if resp.find(f".//{DAV}collection") is not None:
                return None
            return href_el.text, etag_of(resp), None

        headers = {"Depth": "1", "Content-Type": "application/xml; charset=utf-8"}
        try:
            response, parsed = self._multistatus(calendar_url, "PROPFIND", body, headers, pick)
        except AuthError as exc:
            raise exc.public() from None
        if int(response.status) == 404:
            raise BackendError(
                f"calendar {shown(calendar_url)} not found (404); check calendars.*.url in the config"
            )
        if int(response.status) != 207:
            raise BackendError(f"PROPFIND {shown(calendar_url)}: HTTP {response.status}")
        parsed.check()
        items: dict[str, str] = {}
        ctag: str | None = None
        outside: list[str] = []
        for raw, etag, data in parsed.picked:
            if raw == "":
                ctag = data
                continue
            href = self._inside(raw, calendar_url, outside)
            if href is not None and etag is not None:
                items[href] = etag
        return Listing(complete=True, items=items, ctag=ctag, outside=tuple(outside))

    # -- contents --

    def fetch(self, calendar_url: str, hrefs: Sequence[str]) -> dict[str, tuple[str, bytes]]:
        out: dict[str, tuple[str, bytes]] = {}
        for start in range(0, len(hrefs), MULTIGET_BATCH):
            batch = hrefs[start : start + MULTIGET_BATCH]
            body = (
                '<?xml version="1.0" encoding="utf-8"?>'
                '<c:calendar-multiget xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav">'
                "<d:prop><d:getetag/><c:calendar-data/></d:prop>"
                + "".join(f"<d:href>{escape(norm_href(h))}</d:href>" for h in batch)
                + "</c:calendar-multiget>"
            )
            # RFC 4791 7.9: no Depth header for calendar-multiget.
            headers = {"Content-Type": "application/xml; charset=utf-8"}
            try:
                response, parsed = self._multistatus(calendar_url, "REPORT", body, headers, pick_object)
            except AuthError as exc:
                raise exc.public() from None
            if int(response.status) != 207:
                raise BackendError(f"calendar-multiget on {shown(calendar_url)}: HTTP {response.status}")
            if parsed.failed is not None:
                # One object's bytes (a NUL, say) can make the whole answer bad XML: fetch that batch one
                # object at a time, so that the bad one is read as what it is and the others as usual.
                out.update((norm_href(h), found) for h in batch if (found := self.get(h)) is not None)
                continue
            asked = {norm_href(h) for h in batch}
            for raw, etag, data in parsed.picked:
                href = self._inside(raw, calendar_url)
                if href is not None and href in asked and etag is not None and data is not None:
                    out[href] = (etag, data.encode("utf-8"))  # (anything not asked for is not taken)
        return out

    def get(self, href: str) -> tuple[str, bytes] | None:
        try:
            response = self._request(self._abs(href), "GET")
        except AuthError as exc:
            raise exc.public() from None
        status = int(response.status)
        if status in (404, 410):
            return None
        if status != 200:
            raise BackendError(f"GET {href}: HTTP {status}")
        etag = response.headers.get("ETag")
        if not etag:
            etag = self._etag(href)
        return (etag or "", body_of(response))

    def _etag(self, href: str) -> str | None:
        body = (
            '<?xml version="1.0" encoding="utf-8"?>'
            '<d:propfind xmlns:d="DAV:"><d:prop><d:getetag/></d:prop></d:propfind>'
        )
        try:
            response = self._request(self._abs(href), "PROPFIND", body, {"Depth": "0"})
        except AuthError as exc:
            raise exc.public() from None
        if int(response.status) != 207:
            return None
        el = self._xml(response).find(f".//{DAV}getetag")
        return el.text if el is not None else None

    # -- writes --

    def create(self, calendar_url: str, name: str, body: bytes) -> tuple[str, str]:
        href = norm_href(urljoin(calendar_url, quote(name)))
        etag = self._put(href, body, {"If-None-Match": "*"})
        return href, etag

    def update(self, href: str, etag: str, body: bytes) -> str:
        return self._put(href, body, {"If-Match": etag})

    def _put(self, href: str, body: bytes, condition: Mapping[str, str]) -> str:
        headers = {"Content-Type": "text/calendar; charset=utf-8", **condition}
        try:
            response = self._request(self._abs(href), "PUT", body, headers)
        except AuthError as exc:
            if exc.refusal.conditions and set(exc.refusal.conditions) & UID_CLASH:
                raise _uid_clash(href, exc.refusal) from None
            raise exc.public() from None
        status = int(response.status)
        refusal = read_refusal(body_of(response)) if status >= 400 else Refusal()
        if set(refusal.conditions) & UID_CLASH:  # 409 (Radicale), 412 (Xandikos), 403 (Cyrus)
            raise _uid_clash(href, refusal)
        if status in (412, 404) and ("If-Match" in condition or status == 412):
            raise PreconditionFailed(href)
        if status not in (200, 201, 204):
            said = explain(refusal)
            if said is not None:
                raise NotAllowed(f"PUT {href}: HTTP {status}: {said}")
            raise BackendError(f"PUT {href}: HTTP {status} {short_body(response)}")
        etag = response.headers.get("ETag")
        if not etag:
            # Allowed when the server altered the content; ask for it rather than guess.
            etag = self._etag(href)
        if not etag:
            raise BackendError(f"PUT {href}: the server reported no ETag")
        return str(etag)

    def delete(self, href: str, etag: str) -> None:
        try:
            response = self._request(self._abs(href), "DELETE", "", {"If-Match": etag})
        except AuthError as exc:
            raise exc.public() from None
        status = int(response.status)
        if status in (404, 410):
            return
        if status == 412:
            raise PreconditionFailed(href)
        if status not in (200, 204):
            raise BackendError(f"DELETE {href}: HTTP {status} {short_body(response)}")


def _uid_clash(href: str, refusal: Refusal) -> UidClash:
    holder = refusal.hrefs[0] if refusal.hrefs else None
    where = f" at {holder}" if holder else ""
    return UidClash(
        f"PUT {href}: the server already holds an event with this UID{where} (someone moved or copied it "
        "there); move it back or delete that copy, then run again — plansync never takes over an event "
        "it did not write for this calendar",
        href,
        holder,
    )


class _TokenRejected(Exception):
    pass


class _Unsupported(Exception):
    pass
