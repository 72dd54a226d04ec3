"""Reading what a CalDAV server answers in XML: a multistatus parsed as it arrives (expat: no entities
resolved, nothing fetched), and the few properties plansync asks for."""

from __future__ import annotations

import email.utils
import logging
import typing
from collections.abc import Callable
from xml.etree import ElementTree as ET

from plansync.caldav.backend import BackendError

log = logging.getLogger(__name__)

DAV = "{DAV:}"
CALDAV = "{urn:ietf:params:xml:ns:caldav}"
CS = "{http://calendarserver.org/ns/}"

Picked = tuple[str, str | None, str | None]  # (href as given, etag, a text: calendar data or ctag)


def pick_object(resp: ET.Element) -> Picked | None:
    href_el = resp.find(f"{DAV}href")
    data = resp.find(f".//{CALDAV}calendar-data")
    if href_el is None or not href_el.text or data is None:
        return None  # gone meanwhile (404 in the response)
    return href_el.text, etag_of(resp), data.text or ""


class Multistatus:
    """A multistatus answer parsed as it arrives (expat: no entities resolved, nothing fetched), each
    DAV:response kept as `pick` makes it and dropped from the tree."""

    def __init__(self, pick: Callable[[ET.Element], Picked | None]) -> None:
        self._parser: ET.XMLPullParser[ET.Element] = ET.XMLPullParser(events=("start", "end"))
        self._pick = pick
        self._root: ET.Element | None = None
        self.picked: list[Picked] = []
        self.sync_token: str | None = None
        self.failed: str | None = None

    def feed(self, chunk: bytes) -> None:
        if self.failed is None:
            try:
                self._parser.feed(chunk)
                self._drain()
            except ET.ParseError as exc:
                self.failed = str(exc)

    def close(self) -> None:
        if self.failed is None:
            try:
                self._parser.close()
                self._drain()
            except ET.ParseError as exc:
                self.failed = str(exc)

    def check(self) -> None:
        if self.failed is not None:
            raise BackendError(f"the server sent a malformed XML answer ({self.failed})")

    def _drain(self) -> None:
        for pair in self._parser.read_events():
            event, element = typing.cast(tuple[str, ET.Element], pair)  # ("start" and "end" give elements)
            if event == "start":
                if self._root is None:
                    self._root = element
                continue
            if element.tag == f"{DAV}response":
                found = self._pick(element)
                if found is not None:
                    self.picked.append(found)
                element.clear()
                if self._root is not None and len(self._root) and self._root[-1] is element:
                    self._root.remove(element)  # not even the empty shell stays
            elif element.tag == f"{DAV}sync-token" and element.text:
                self.sync_token = element.text


def is_calendar(resp: ET.Element) -> bool:
    return resp.find(f".//{DAV}resourcetype/{CALDAV}calendar") is not None


def prop_href(resp: ET.Element, name: str) -> str | None:
    """The first DAV:href inside property `name` of a 200 propstat."""
    for propstat in resp.iter(f"{DAV}propstat"):
        status = propstat.find(f"{DAV}status")
        if status is not None and " 200" not in (status.text or ""):
            continue
        el = propstat.find(f"{DAV}prop/{name}/{DAV}href")
        if el is not None and el.text and el.text.strip():
            return el.text.strip()
    return None


def ok_prop(resp: ET.Element, name: str) -> str | None:
    """The text of property `name` in a 200 propstat of one multistatus response, if any."""
    for propstat in resp.iter(f"{DAV}propstat"):
        status = propstat.find(f"{DAV}status")
        if status is not None and " 200" not in (status.text or ""):
            continue
        el = propstat.find(f"{DAV}prop/{name}")
        if el is not None and el.text and el.text.strip():
            return el.text.strip()
    return None


def http_date(text: str | None) -> float | None:
    if not text:
        return None
    try:
        return email.utils.parsedate_to_datetime(text).timestamp()
    except (TypeError, ValueError, IndexError):
        return None


def etag_of(resp: ET.Element) -> str | None:
    for propstat in resp.iter(f"{DAV}propstat"):
        status = propstat.find(f"{DAV}status")
        if status is not None and " 200" not in (status.text or ""):
            continue
        el = propstat.find(f".//{DAV}getetag")
        if el is not None and el.text:
            return el.text.strip()
    return None
