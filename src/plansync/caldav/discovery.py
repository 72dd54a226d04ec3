"""Finding the calendars: the calendar home from the configured URL, a calendar by its name, making one.

Discovery as RFC 6764 and RFC 4791 describe it: the configured URL may be the server's root,
`/.well-known/caldav` (its redirect is followed, nothing is appended to it; a 404 there means the
root), a principal, a calendar home or a calendar; current-user-principal → calendar-home-set. A URL
that does not answer as CalDAV (a web server's 405 on a root, a 404) sends plansync on to the host's
`/.well-known/caldav`, then its root, before it gives up naming every URL it tried. The calendars are
one Depth 1 PROPFIND of the home; MKCALENDAR sets the display name itself.
"""

from __future__ import annotations

import contextlib
import logging
import re
from urllib.parse import urljoin, urlsplit
from xml.sax.saxutils import escape

from plansync.caldav.backend import (
    BackendError,
    CalendarRefused,
    Unreachable,
    calendar_id,
    norm_href,
    parent_collection,
)
from plansync.caldav.hrefs import origin_of
from plansync.caldav.problems import explain, read_refusal
from plansync.caldav.retry import RETRY_STATUSES
from plansync.caldav.session import AuthError, DAVSession, body_of, shown
from plansync.caldav.xml import CALDAV, DAV, is_calendar, ok_prop, pick_object, prop_href

log = logging.getLogger(__name__)

WELL_KNOWN = "/.well-known/caldav"


class Discovery(DAVSession):
    """The session, and the calendars it finds or makes in the account's calendar home."""

    def resolve_calendar(
        self, key: str, *, url: str | None, name: str | None, create: bool = True
    ) -> str | None:
        if url is not None:
            return url if url.endswith("/") else url + "/"
        assert name is not None
        found = self._find_by_name(name)
        if found is not None or not create:
            return found
        return self._make_calendar(key, name)

    def _home(self) -> str:
        """The calendar home: from the configured URL through current-user-principal and
        calendar-home-set, following redirects. A failure is raised again, not asked again."""
        if self._options.home is not None:
            return self._options.home
        if self._discovery_error is not None:
            raise self._discovery_error
        try:
            self._options.home = self._base = self._discover()  # a redirect may lead to another host
        except BackendError as exc:
            if not isinstance(exc, Unreachable):
                self._discovery_error = exc
            raise
        return self._options.home

    def _discover(self) -> str:
        url = self.url
        body = (
            '<?xml version="1.0" encoding="utf-8"?>'
            '<d:propfind xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav"><d:prop>'
            "<d:current-user-principal/><c:calendar-home-set/><d:resourcetype/></d:prop></d:propfind>"
        )
        seen: list[str] = []
        tried: list[str] = []  # "URL (what it answered)", said when nothing leads to the calendars
        no_home = False  # a server answered, naming no calendar home for the account
        while True:
            if url in seen or len(seen) > 8:
                raise BackendError(
                    f"cannot find the calendars from {shown(self.url)}: the server sends plansync round "
                    f"in circles ({' → '.join(shown(u) for u in seen)}); check caldav.url"
                )
            seen.append(url)
            try:
                response = self._request(url, "PROPFIND", body, {"Depth": "0"})
            except AuthError as exc:
                raise exc.public() from None
            status = int(response.status)
            location = response.headers.get("Location")
            if status in (301, 302, 303, 307, 308) and location:
                url = self._same_origin(urljoin(url, location), "sends plansync to")  # RFC 6764: the way in
                continue
            answer = f"HTTP {status} {response.reason}".rstrip()
            if status == 207:
                resp = self._xml(response).find(f"{DAV}response")
                if resp is not None and is_calendar(resp):  # a calendar's URL: its parent is the home
                    return parent_collection(url)
                home = prop_href(resp, f"{CALDAV}calendar-home-set") if resp is not None else None
                if home is not None:
                    return _slash(self._same_origin(urljoin(url, home), "names a calendar home on"))
                principal = prop_href(resp, f"{DAV}current-user-principal") if resp is not None else None
                if principal is not None and urljoin(url, principal) not in seen:
                    url = self._same_origin(urljoin(url, principal), "names a principal on")
                    continue
                answer = "no calendar home named"
                no_home = True
            tried.append(f"{shown(url)} ({answer})")
            following = _next_try(url, seen)
            if following is not None:
                url = following
                continue
            if no_home and len(tried) == 1:
                raise BackendError(
                    f"the account has no calendar home on {shown(url)} (the server names no "
                    "calendar-home-set); check caldav.url and caldav.username, or ask the server's "
                    "administrator to enable calendars for this account"
                )
            raise BackendError(
                f"cannot find the calendars: nothing answered as a CalDAV server ({'; '.join(tried)}); "
                "check caldav.url (docs/servers.md names the URL each server wants), the username "
                "and the password"
            )

    def _find_by_name(self, name: str) -> str | None:
        return self._list_home().get(name)

    def uids_elsewhere(self, contains: str, *, besides: str) -> dict[str, dict[str, str]]:
        """Calendar URL → {UID: href} of the events whose UID contains `contains`, in every calendar of
        the account but `besides`: one calendar-query REPORT each (a UID text-match, asking for the UID
        alone)."""
        self._list_home()
        query = (
            '<?xml version="1.0" encoding="utf-8"?>'
            '<c:calendar-query xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav"><d:prop><d:getetag/>'
            '<c:calendar-data><c:comp name="VCALENDAR"><c:comp name="VEVENT"><c:prop name="UID"/>'
            "</c:comp></c:comp></c:calendar-data></d:prop><c:filter>"
            '<c:comp-filter name="VCALENDAR"><c:comp-filter name="VEVENT"><c:prop-filter name="UID">'
            f"<c:text-match>{escape(contains)}</c:text-match></c:prop-filter></c:comp-filter></c:comp-filter>"
            "</c:filter></c:calendar-query>"
        )
        headers = {"Depth": "1", "Content-Type": "application/xml; charset=utf-8"}
        out: dict[str, dict[str, str]] = {}
        for calendar in self._options.every_calendar or []:
            if norm_href(calendar).rstrip("/") == norm_href(besides).rstrip("/"):
                continue
            try:
                response, parsed = self._multistatus(calendar, "REPORT", query, headers, pick_object)
            except AuthError as exc:
                if exc.status == 401:
                    raise exc.public() from None
                continue  # a calendar this account may not read: nothing of ours can be there
            if int(response.status) != 207 or parsed.failed is not None:
                continue
            found = {
                uid: href
                for raw, _, data in parsed.picked
                if (href := self._inside(raw, calendar)) is not None and data is not None
                for uid in _uids(data)
                if contains in uid
            }
            if found:
                out[calendar] = found
        return out

    def _list_home(self) -> dict[str, str]:
        """The calendars of the home, once a run: display name → URL (and every calendar's URL)."""
        if self._options.calendars is not None:
            return self._options.calendars
        home = self._home()
        body = (
            '<?xml version="1.0" encoding="utf-8"?>'
            '<d:propfind xmlns:d="DAV:"><d:prop><d:displayname/><d:resourcetype/></d:prop></d:propfind>'
        )
        try:
            response = self._request(home, "PROPFIND", body, {"Depth": "1"})
        except AuthError as exc:
            raise exc.public() from None
        if int(response.status) != 207:
            raise BackendError(
                f"cannot list the calendars on {shown(home)}: HTTP {response.status} {response.reason}"
            )
        found: dict[str, str] = {}
        every: list[str] = []
        for resp in self._xml(response).iter(f"{DAV}response"):
            href_el = resp.find(f"{DAV}href")
            display = ok_prop(resp, f"{DAV}displayname")
            if href_el is None or not href_el.text or not is_calendar(resp):
                continue
            calendar = _slash(urljoin(home, href_el.text.strip()))
            if calendar.startswith(home) and origin_of(calendar) == self._origin:
                every.append(calendar)  # (another user's, or another host's: not ours)
                if display:
                    found.setdefault(display, calendar)
        self._options.calendars = found
        self._options.every_calendar = every
        return found

    def _make_calendar(self, key: str, name: str) -> str:
        home = self._home()
        url = urljoin(home, calendar_id(key, name) + "/")
        body = (
            '<?xml version="1.0" encoding="utf-8"?>'
            '<c:mkcalendar xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav"><d:set><d:prop>'
            f"<d:displayname>{escape(name)}</d:displayname>"
            '<c:supported-calendar-component-set><c:comp name="VEVENT"/></c:supported-calendar-component-set>'
            "</d:prop></d:set></c:mkcalendar>"
        )
        headers = {"Content-Type": "application/xml; charset=utf-8"}
        refusal: str | None = None
        try:
            response = self._request(url, "MKCALENDAR", body, headers)
        except AuthError as exc:
            if exc.status == 401:
                raise exc.public() from None
            refusal = exc.explained()
        except Unreachable:
            raise
        except BackendError as exc:
            # MKCALENDAR is sent once (it is not safe to repeat); an answer lost on the way may still
            # mean the calendar was made: look before saying so.
            self._options.calendars = None
            with contextlib.suppress(BackendError):
                found = self._find_by_name(name)
                if found is not None:
                    return found
            raise BackendError(
                f"could not create the calendar «{name}» on {shown(home)}: {exc}; run again later"
            ) from None
        else:
            status = int(response.status)
            if status in RETRY_STATUSES:
                raise BackendError(
                    f"could not create the calendar «{name}» on {shown(home)}: HTTP {status}; run again later"
                )
            if status not in (200, 201, 204):
                said = explain(read_refusal(body_of(response)))
                refusal = f"HTTP {status} {response.reason}" + (f": {said}" if said else "")
        if refusal is not None:
            raise CalendarRefused(
                f"the server refused to create the calendar «{name}» ({refusal}); create it by hand "
                f"and put its URL in the config as calendars.{key}.url"
            )
        if self._options.calendars is not None:
            self._options.calendars[name] = url
        if self._options.every_calendar is not None:
            self._options.every_calendar.append(url)
        self._made.add(url)
        return url

    def made(self, calendar_url: str) -> bool:
        return calendar_url in self._made


def _next_try(url: str, seen: list[str]) -> str | None:
    """Where to look next when `url` does not lead to the calendars (RFC 6764): the host's
    `/.well-known/caldav` (a server installed under a path, such as DAViCal's /davical/caldav.php/,
    redirects from there), and from there the root (Xandikos answers the well-known URL naming
    nothing)."""
    well_known = urljoin(url, WELL_KNOWN)
    if urlsplit(url).path.rstrip("/") != WELL_KNOWN and well_known not in seen:
        return well_known
    root = urljoin(url, "/")
    return root if root not in seen else None


def _uids(data: str) -> set[str]:
    """The UIDs in an iCalendar text (its lines unfolded)."""
    unfolded = re.sub(r"\r?\n[ \t]", "", data)
    return {m.strip() for m in re.findall(r"(?m)^UID[;:](?:[^:\r\n]*:)?(.*)$", unfolded)}


def _slash(url: str) -> str:
    return url if url.endswith("/") else url + "/"
