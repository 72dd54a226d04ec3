"""Stamps: noticing that nothing changed in a calendar without listing it.

Answering a sync-collection REPORT or a getctag costs Radicale time in proportion to the calendar
(it reads every item), while its DAV:getlastmodified of a calendar comes from file times, for all of a
user's calendars in one PROPFIND. So each run first asks for those
stamps, and a calendar whose stamp equals the one held is not listed: the cached listing stands for it.

Held is only a *settled* stamp (STAMP_SETTLE_S older than the server's clock when it answered, taken
before a listing): whatever changes after that listing gets a later stamp, even within the same
second. A run that created events takes the stamps of those calendars before listing them again (a
listing it does anyway: see SyncEngine._apply_all). The calendars written last may not have settled by then:
the run waits for them (a few seconds) only when listing them next time would take longer, by how long this
run's listings took; else the next run lists them once more.
A calendar whose stamp stayed while its events changed (seen when it is listed) is not trusted
again; every calendar is listed at least every sync.recheck_every regardless. A server without
last-modified stamps (Xandikos) is asked for getctag, which serves as a stamp that is settled at once
(it changes with every change); a server with neither has its calendars listed every run.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping, Sequence

from plansync.caldav.backend import Backend, BackendError, Stamp, parent_collection
from plansync.config.model import SyncConfig
from plansync.sync.state import HeldStamp, SeenItem, State

log = logging.getLogger(__name__)


def ask_stamps(
    backend: Backend, urls: Sequence[str], state: State, settings: SyncConfig, dry_run: bool
) -> dict[str, Stamp]:
    """The calendars' stamps: last-modified, else getctag. A calendar home whose calendars had no
    last-modified (Xandikos) is asked for getctag instead, and one that had neither is asked nothing;
    each is asked again after sync.recheck_every (a server may have been upgraded). Radicale is never
    asked for getctag: it reads every event of a calendar to answer."""
    if not settings.recheck_every:
        return {}
    now = time.time()
    recheck = settings.recheck_every.total_seconds()
    parents: dict[str, list[str]] = {}
    for url in urls:
        parents.setdefault(parent_collection(url), []).append(url)
    found: dict[str, Stamp] = {}
    for ctag in (False, True):
        asked = {
            parent: group
            for parent, group in parents.items()
            if not _stampless_since(state, parent, now - recheck, ctag=ctag)
        }
        if asked:
            try:
                found.update(backend.stamps([u for group in asked.values() for u in group], ctag=ctag))
            except BackendError:
                return found  # then those calendars are listed, which reports what is wrong if it persists
        without = {parent: group for parent, group in parents.items() if not any(u in found for u in group)}
        if not dry_run:
            for parent in asked:
                state.set_stampless(parent, now if parent in without else None, ctag=ctag)
        parents = without  # asked for the other kind
        if not parents:
            break
    return found


def _stampless_since(state: State, parent: str, since: float, *, ctag: bool) -> bool:
    at = state.stampless_at(parent, ctag=ctag)
    return at is not None and at > since


def unchanged(held: HeldStamp | None, stamp: Stamp | None, settings: SyncConfig | None) -> bool:
    """The cached listing of a calendar still stands for it: no need to list it."""
    if held is None or stamp is None or held.value is None or not held.trusted or settings is None:
        return False
    recent = time.time() - held.listed_at < settings.recheck_every.total_seconds()
    return recent and held.value == stamp.value


def held_after_listing(
    held: HeldStamp | None,
    stamp: Stamp,
    cached: Mapping[str, SeenItem],
    seen: Mapping[str, SeenItem],
    listed_at: float,
    *,
    url: str,
    wrote: bool,
) -> HeldStamp:
    """What to hold for a calendar just listed: its stamp, if settled, and whether it is trusted."""
    trusted = held.trusted if held is not None else True
    if held is not None and held.value is not None and held.value == stamp.value:
        # The stamp stayed since a settled one; then nothing may have changed since (our own writes are
        # in the cache already, so a difference is someone else's, or ours after that stamp).
        others = set(cached) != set(seen) or any(
            cached[h].etag != s.etag for h, s in seen.items() if h in cached
        )
        if others or wrote:
            log.info("%s: its last-modified stamp does not follow its changes; it is listed every run", url)
            trusted = False
    return HeldStamp(stamp.value if stamp.settled else None, listed_at, trusted)
