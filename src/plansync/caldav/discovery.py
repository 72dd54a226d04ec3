"""Finding the calendars: the calendar home from the configured URL, a calendar by its name, making one.

Discovery as RFC 6764 and RFC 4791 describe it: the configured URL may be the server's root,
`/.well-known/caldav` (its redirect is followed, nothing is appended to it; a 404 there means the
root), a principal, a calendar home or a calendar; current-user-principal → calendar-home-set; the
calendars are one Depth 1 PROPFIND of the home; MKCALENDAR sets the display name itself.
"""

from __future__ import annotations

import contextlib
import logging
from urllib.parse import urljoin, urlsplit
from xml.sax.saxutils import escape

from plansync.caldav.backend import BackendError, CalendarRefused, Unreachable, calendar_id, parent_collection
from plansync.caldav.hrefs import origin_of
from plansync.caldav.problems import explain, read_refusal
from plansync.caldav.retry import RETRY_STATUSES
from plansync.caldav.session import AuthError, DAVSession, body_of, shown
from plansync.caldav.xml import CALDAV, DAV, is_calendar, ok_prop, prop_href

log = logging.getLogger(__name__)


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
            well_known = urlsplit(url).path.rstrip("/").endswith("/.well-known/caldav")
            if status == 404 and well_known:
                url = urljoin(url, "/")  # RFC 6764 5: no well-known URL here, the root is the next try
                continue
            if status != 207:
                raise BackendError(
                    f"cannot find the calendars from {shown(url)}: HTTP {status} "
                    f"{response.reason}; check caldav.url, the username and the password"
                )
            resp = self._xml(response).find(f"{DAV}response")
            if resp is None:
                raise BackendError(f"cannot find the calendars from {shown(url)}: an empty answer")
            if is_calendar(resp):  # a calendar's URL: its parent is the home
                return parent_collection(url)
            home = prop_href(resp, f"{CALDAV}calendar-home-set")
            if home is not None:
                return _slash(self._same_origin(urljoin(url, home), "names a calendar home on"))
            principal = prop_href(resp, f"{DAV}current-user-principal")
            if principal is not None and urljoin(url, principal) not in seen:
                url = self._same_origin(urljoin(url, principal), "names a principal on")
                continue
            if well_known and urljoin(url, "/") not in seen:  # Xandikos answers there, naming nothing
                url = urljoin(url, "/")
                continue
            raise BackendError(
                f"the account has no calendar home on {shown(url)} (the server names no "
                "calendar-home-set); check caldav.url and caldav.username, or ask the server's "
                "administrator to enable calendars for this account"
            )

    def _find_by_name(self, name: str) -> str | None:
        if self._options.calendars is not None:
            return self._options.calendars.get(name)
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
        for resp in self._xml(response).iter(f"{DAV}response"):
            href_el = resp.find(f"{DAV}href")
            display = ok_prop(resp, f"{DAV}displayname")
            if href_el is None or not href_el.text or not display or not is_calendar(resp):
                continue
            calendar = _slash(urljoin(home, href_el.text.strip()))
            if calendar.startswith(home) and origin_of(calendar) == self._origin:
                found.setdefault(display, calendar)  # (another user's, or another host's: not ours)
        self._options.calendars = found
        return found.get(name)

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
        self._made.add(url)
        return url

    def made(self, calendar_url: str) -> bool:
        return calendar_url in self._made


def _slash(url: str) -> str:
    return url if url.endswith("/") else url + "/"
