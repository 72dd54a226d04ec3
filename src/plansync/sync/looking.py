"""Looking at one calendar in a run: what it holds (from the held listing while its stamp says it stands,
else listed, the changed objects fetched and read, and the state brought up to date), as the
reconciler's Actuals; and the record of all that is known of a calendar between looking and writing."""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass, field

from plansync.caldav.backend import Backend, Listing, Stamp
from plansync.calendar import identity, readback
from plansync.calendar.desired import Desired
from plansync.config.model import SyncConfig
from plansync.sync.reconcile import Actual, Decision
from plansync.sync.report import CalendarReport
from plansync.sync.stamps import held_after_listing, unchanged
from plansync.sync.state import SeenItem, State

log = logging.getLogger(__name__)


@dataclass
class Looked:
    """Everything known about one calendar between looking and writing."""

    report: CalendarReport
    key: str
    url: str | None
    owners: frozenset[str]
    desired: dict[str, Desired]
    bodies: dict[str, tuple[str, bytes]]  # href → (etag, body) fetched this run
    decision: Decision | None = None
    token: str | None = None  # sync token and ctag after the listing
    ctag: str | None = None
    created: bool = False  # this run created an event in it (or may have: the answer was lost)
    wrote: bool = False  # the server confirmed one of this run's creations
    digest: str = ""  # of the desired events (see _in_sync_digest)
    in_sync: bool = False  # known unchanged on both sides: not looked at
    server: dict[str, str | None] = field(default_factory=dict)  # uid → owned-field hash on the server
    listing_s: float = 0.0  # time the server took to list it this run, and the resources it listed
    listed: int = 0


class Looker:
    """Looks at the calendars of one run: their listings, fetched objects and the state kept of them."""

    def __init__(self, backend: Backend, state: State, settings: SyncConfig) -> None:
        self.backend = backend
        self.state = state
        self.settings = settings

    def actual(
        self,
        cal: Looked,
        url: str,
        token: str | None,
        ctag: str | None,
        dry_run: bool,
        *,
        stamp: Stamp | None = None,
        force: bool = False,
        empty: bool = False,
    ) -> list[Actual]:
        """The calendar's resources, from the cached listing when its stamp says it stands, else listed
        (`empty`: created just now, nothing to list yet; the writes are followed by a listing anyway)."""
        held = self.state.stamp(url)
        cached = self.state.items(url)
        if not force and unchanged(held, stamp, self.settings):
            return [
                Actual(s.href, s.etag, s.uid, managed(cal, s), s.hash, s.recorded_hash)
                for s in cached.values()
            ]
        listed_at = time.time()
        started = time.monotonic()
        listing = (
            Listing(complete=True, items={})
            if empty
            else self.backend.listing(url, sync_token=token, ctag=ctag)
        )
        if listing.outside:
            shown = ", ".join(listing.outside[:3]) + (", …" if len(listing.outside) > 3 else "")
            cal.report.notices.append(
                f"the server listed {len(listing.outside)} href(s) outside this calendar ({shown}): "
                "ignored, nothing is sent there"
            )
        if listing.complete:
            etags = dict(listing.items)
        else:
            etags = {h: s.etag for h, s in cached.items() if h not in listing.removed}
            etags.update(listing.items)
        if not empty:
            cal.listing_s += time.monotonic() - started
            cal.listed += len(etags)
        need = sorted(h for h, e in etags.items() if h not in cached or cached[h].etag != e)
        fetched = self.backend.fetch(url, need) if need else {}
        cal.bodies.update(fetched)
        seen: dict[str, SeenItem] = {}
        fields: dict[str, Mapping[str, str] | None] = {}
        for href in etags:
            if href in fetched:
                etag, body = fetched[href]
                parsed = readback.parse(body)
                seen[href] = SeenItem(href, etag, parsed.uid, parsed.owner, parsed.hash, parsed.recorded_hash)
                fields[href] = parsed.fields
                notice(cal, href, parsed)
            elif href in cached and cached[href].etag == etags[href]:
                seen[href] = cached[href]
            # else: gone between the listing and the multiget
        changed = (
            listing.complete
            or bool(listing.items)
            or bool(listing.removed)
            or listing.sync_token != token
            or listing.ctag != ctag
        )
        cal.token, cal.ctag = listing.sync_token, listing.ctag
        if not dry_run:
            with self.state.transaction():
                if changed:
                    self.state.replace_items(url, seen.values())
                    self.state.set_tokens(cal.key, listing.sync_token, listing.ctag)
                if stamp is not None:
                    now_held = held_after_listing(
                        held, stamp, cached, seen, listed_at, url=url, wrote=cal.wrote
                    )
                    self.state.set_stamp(url, now_held)
        return [
            Actual(s.href, s.etag, s.uid, managed(cal, s), s.hash, s.recorded_hash, fields.get(s.href))
            for s in seen.values()
        ]


def managed(cal: Looked, item: SeenItem) -> bool:
    """plansync's own object for this calendar: its markers name a plan of this run and this calendar,
    and its UID is the one plansync derives from them (a person's copy keeps the markers, not the UID)."""
    return item.owner in cal.owners and identity.owns(item.uid, item.owner)


def notice(cal: Looked, href: str, parsed: readback.Parsed) -> None:
    """Say once (when it is first fetched) what plansync leaves alone and why."""
    copied = parsed.copy_of
    if copied is not None and parsed.marker is not None:
        owner = f"{parsed.marker.plan_id}:{parsed.marker.calendar_id}"
        if owner in cal.owners:
            original = cal.desired.get(copied)
            what = original.label if original is not None else parsed.marker.event_key
            cal.report.notices.append(f"{href} looks like a copy of {what}: a person's event, left alone")
    elif parsed.problem is not None and parsed.owner not in cal.owners:
        cal.report.notices.append(f"{href} cannot be read ({parsed.problem}): not plansync's, left alone")
