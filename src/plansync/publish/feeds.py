"""The .ics feeds: per plan, one for the whole plan and one per organizer, through the one builder
(`plansync.calendar.ical`), so a feed's events are the synced calendars' events: same UIDs, same rules.

The whole-plan feed names each event as its FIRST organizer's calendar does (UID, calendar mark): an
event is in it once, an organizer subscribed to the whole plan and to their own calendar sees one event,
not two (apps merge equal UIDs), and the name stays put as long as the plan keeps its first organizer.

Each event is built and serialized once, and its copies for the other organizers made from those bytes
(`ical.vevent_chunks`). Pure. (Worker processes were tried: on two shared cores starting them cost more
than they saved.)
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from plansync.calendar import ical, vtimezone
from plansync.model.plan import Plan

FEEDS = "feeds"

DEFAULT_RENDERING = ical.Rendering()


@dataclass(frozen=True)
class Feed:
    path: str  # inside the site, e.g. feeds/plan-2024.ics or feeds/plan-2024/konb.ics
    name: str  # what a subscribing app calls the calendar
    plan_id: str
    organizer: str | None  # None: the whole plan
    events: int


def plan_feed_path(plan_id: str) -> str:
    return f"{FEEDS}/{plan_id}.ics"


def organizer_feed_path(plan_id: str, org_id: str) -> str:
    return f"{FEEDS}/{plan_id}/{org_id}.ics"


def calendar_name(plan: Plan, org_id: str) -> str:
    """A feed's display name: the organizer's calendar name and the plan's year (a feed holds one plan,
    the synced calendar every plan: plansync.sync.calendars.default_calendar_name)."""
    try:
        short = plan.organization(org_id).short_name
    except KeyError:
        short = org_id
    return f"{short} — план {plan.year}"


def build_feeds(
    plans: Sequence[Plan],
    rendering: ical.Rendering = DEFAULT_RENDERING,
    *,
    stamp: dt.datetime,
) -> tuple[list[Feed], dict[str, bytes]]:
    """The feeds and their files (path → bytes)."""
    feeds: list[Feed] = []
    files: dict[str, bytes] = {}
    for plan in plans:
        zone = vtimezone.vtimezone(plan.timezone, plan.year, plan.year)
        whole: list[bytes] = []
        by_org: dict[str, list[bytes]] = {}
        for event in plan.events:
            chunks = ical.vevent_chunks(plan, event, event.organizers, rendering, stamp=stamp)
            if not chunks:
                continue  # the long-span policy skips it, as in the synced calendars
            whole.append(chunks[event.organizers[0]])
            for org_id in event.organizers:
                by_org.setdefault(org_id, []).append(chunks[org_id])
        path = plan_feed_path(plan.id)
        files[path] = ical.calendar_of_chunks([zone], whole, name=plan.title)
        feeds.append(Feed(path, plan.title, plan.id, None, len(whole)))
        for org in plan.organizations:
            if org.id not in by_org:
                continue
            path = organizer_feed_path(plan.id, org.id)
            name = calendar_name(plan, org.id)
            files[path] = ical.calendar_of_chunks([zone], by_org[org.id], name=name)
            feeds.append(Feed(path, name, plan.id, org.id, len(by_org[org.id])))
    return feeds, files
