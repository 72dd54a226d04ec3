"""The state carried over to a server that moved: another host name (`localhost` for `127.0.0.1`), a new
server with the calendars copied over, the embedded server on another port.

The state knows each calendar by its URL, and plansync sends nothing, and no password, to any origin but
the configured one. So a calendar the state holds under another origin is looked for on the configured
server, at the same path or by the name it was found by, and taken as the same calendar only when the
events in it carry plansync's markers for it (X-PLANSYNC-* and the UID plansync derives from them). Then
all the state keeps of it is filed under the new URL; otherwise it is forgotten, and the calendar is
found or made as on a first sync (where adoption by the markers still keeps events from being doubled).
The old origin is never asked anything.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

from plansync.caldav.backend import Backend, BackendError
from plansync.caldav.hrefs import origin_of
from plansync.calendar import readback
from plansync.sync.state import CalendarState, State

PROOF_OBJECTS = 20  # objects read to see whose markers a calendar holds


@dataclass(frozen=True)
class Moved:
    key: str
    old: str
    new: str | None  # None: not found there (or not plansync's): forgotten

    def notice(self) -> str:
        if self.new is None:
            return (
                f"the server moved (the state knew this calendar at {_show(self.old)}); it is not at the new "
                "address with plansync's events in it, so it is found or made as on a first sync"
            )
        return f"carried over from {_show(self.old)} (the server moved): plansync's events are in it"


def carry_over(state: State, backend: Backend, server_url: str) -> list[Moved]:
    """Re-file (or forget) every calendar the state holds under another origin than `server_url`'s.
    A dry run does it too: it is plansync's own bookkeeping, nothing changes on any server."""
    origin = origin_of(server_url)
    if origin is None:
        return []
    out = []
    for known in state.all_calendars():
        if origin_of(known.url) in (origin, None):
            continue
        new = _find(backend, known, server_url)
        if new is not None and not _holds_its_events(backend, new, known.key, state, known.url):
            new = None
        if new is None:
            state.forget_calendar(known.key, known.url)
        else:
            target = f"url:{new}" if known.target.startswith("url:") else known.target
            state.move_calendar(known.key, known.url, new, target)
        out.append(Moved(known.key, known.url, new))
    return out


def _find(backend: Backend, known: CalendarState, server_url: str) -> str | None:
    """The calendar on the configured server: at the same path, else by the name it was found by."""
    same_path = urljoin(server_url, urlsplit(known.url).path)
    try:
        backend.listing(same_path, sync_token=None, ctag=None)
        return same_path
    except BackendError:
        pass
    kind, _, name = known.target.partition(":")
    if kind != "name":
        return None
    try:
        return backend.resolve_calendar(known.key, url=None, name=name, create=False)
    except BackendError:
        return None


def _holds_its_events(backend: Backend, url: str, key: str, state: State, old_url: str) -> bool:
    """Whether the calendar at `url` is the one the state knew as `old_url`: the objects in it that carry
    plansync's markers are this calendar's; an empty one only if plansync wrote nothing into the old."""
    try:
        listing = backend.listing(url, sync_token=None, ctag=None)
        hrefs = sorted(listing.items)[:PROOF_OBJECTS]
        bodies = backend.fetch(url, hrefs) if hrefs else {}
    except BackendError:
        return False
    owners = [readback.parse(body).owner for _, body in bodies.values()]
    ours = [owner for owner in owners if owner is not None]
    if not ours:
        return not state.records(old_url)
    return all(owner.rpartition(":")[2] == key for owner in ours)


def _show(url: str) -> str:
    parts = urlsplit(url)
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{parts.hostname}{port}{parts.path}"
