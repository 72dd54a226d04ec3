"""Listing again after the writes: each calendar plansync created events in, as soon as its stamp has
settled, so that its sync token moves past plansync's own creations.

A server may leave out of a later delta a resource created and deleted after the token (Xandikos
does): then a person deleting an event plansync just created would go unnoticed. Updates and deletions
need no such step: those resources existed at the token, so a later delta reports what happens to them,
and our own writes come back in it with the etags we already hold (nothing to fetch). Each calendar's
stamp is taken before it is listed, so that the next run can tell it unchanged without listing it
(plansync.sync.stamps): a calendar is listed while the others are still written once its stamp has
settled, and the last ones after the writes.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence

from plansync.caldav.backend import STAMP_SETTLE_S, Stamp
from plansync.caldav.retry import stop_waiting
from plansync.sync.looking import Looked

# A stamp has a resolution of a second and settles STAMP_SETTLE_S after the last change: asked sooner,
# it would have to be asked again.
RELIST_AFTER_S = STAMP_SETTLE_S + 1.0

ListAgain = Callable[[Looked, Mapping[str, Stamp]], None]  # list a calendar, with the stamps just asked


class Relister:
    """Lists each calendar plansync created events in, during the writing of the others, as soon as its
    own writes are done and its stamp has settled; the rest once all writes are done (`finish`)."""

    def __init__(self, ask: Callable[[Sequence[str]], dict[str, Stamp]], list_again: ListAgain) -> None:
        self.ask = ask  # the stamps of these calendars, now
        self.list_again = list_again
        self.waiting: dict[str, tuple[float, Looked]] = {}  # url → (when to ask its stamp, calendar)
        self.listed: set[str] = set()  # urls

    def written(self, done: Sequence[Looked]) -> None:
        """Called between the writers' answers with the calendars whose writes just ended."""
        now = time.monotonic()
        for cal in done:
            if cal.created and cal.url is not None:
                self.waiting[cal.url] = (now + RELIST_AFTER_S, cal)
        due = [cal for at, cal in self.waiting.values() if at <= now]
        if not due:
            return
        urls = [c.url for c in due if c.url is not None]
        stamps = self.ask(urls)
        for cal in due:
            assert cal.url is not None
            stamp = stamps.get(cal.url)
            if stamp is not None and not stamp.settled:
                self.waiting[cal.url] = (time.monotonic() + max(stamp.settles_in, 0.5), cal)
                continue
            del self.waiting[cal.url]
            self.list_again(cal, stamps)
            self.listed.add(cal.url)

    def finish(self, calendars: Sequence[Looked]) -> None:
        """After the writes: list the calendars not listed yet, waiting for their stamps to settle when
        that costs less than listing them again next run."""
        relist = [c for c in calendars if c.created and c.url is not None and c.url not in self.listed]
        if not relist:
            return
        urls = [c.url for c in relist if c.url is not None]
        stamps = self.ask(urls)
        asked = time.monotonic()
        later_urls = [u for u in urls if u in stamps and not stamps[u].settled]
        later = [c for c in relist if c.url in later_urls]
        for cal in relist:
            if cal.url not in later_urls:
                self.list_again(cal, stamps)
        if not later:
            return
        wait = min(STAMP_SETTLE_S, max(stamps[u].settles_in for u in later_urls)) - (time.monotonic() - asked)
        if wait <= 0 or (wait < _listing_estimate(calendars, later) and not stop_waiting.wait(wait + 0.05)):
            stamps = self.ask(later_urls)
        for cal in later:
            self.list_again(cal, stamps)


def _listing_estimate(calendars: Sequence[Looked], these: Sequence[Looked]) -> float:
    """How long listing `these` would take, at the pace of this run's listings (0 when there were none
    to go by): what waiting for their stamps to settle saves the next run."""
    seconds = sum(c.listing_s for c in calendars)
    listed = sum(c.listed for c in calendars)
    if not listed:
        return 0.0
    return seconds / listed * sum(len(c.desired) for c in these)
