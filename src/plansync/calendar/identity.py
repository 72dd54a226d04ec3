"""Whose an event is: plansync's UIDs and X-PLANSYNC-* markers, what of a VEVENT it owns, the names it
gives resources. A UID comes from (plan id, event key, calendar id); an object is plansync's when it
carries the markers AND the UID derived from them."""

from __future__ import annotations

from dataclasses import dataclass

MARK_PLAN = "X-PLANSYNC-PLAN"
MARK_EVENT = "X-PLANSYNC-EVENT"
MARK_CALENDAR = "X-PLANSYNC-CALENDAR"
MARK_HASH = "X-PLANSYNC-HASH"
MARKS = (MARK_PLAN, MARK_EVENT, MARK_CALENDAR, MARK_HASH)
# What plansync owns in a VEVENT; an update replaces these and keeps everything else (alarms, X- props).
OWNED = ("SUMMARY", "DESCRIPTION", "DTSTART", "DTEND", "DURATION", "RRULE", "TRANSP", "STATUS", "CATEGORIES",
         *MARKS)  # fmt: skip

# The calendar of the whole plan (each event once, all its organizers named); no organization id
# can be this, since ids are [a-z0-9-].
COMBINED = "_all"


@dataclass(frozen=True)
class Marker:
    plan_id: str
    event_key: str
    calendar_id: str


def event_uid(plan_id: str, event_key: str, calendar_id: str) -> str:
    """Ids are [a-z0-9-] (planfile checks), so '.' separates them without ambiguity. One UID per
    calendar: some servers (Cyrus) want UIDs unique across all calendars of a user."""
    return f"{plan_id}.{event_key}.{calendar_id}@plansync"


def split_uid(uid: str) -> tuple[str, str, str] | None:
    """(plan id, event key, calendar id) of a UID made by `event_uid`; None for any other UID."""
    head, at, tail = uid.partition("@")
    parts = head.split(".")
    if at != "@" or tail != "plansync" or len(parts) != 3:
        return None
    return parts[0], parts[1], parts[2]


def owner_of(uid: str | None, marker: Marker | None) -> str | None:
    """'plan:calendar' of an object plansync wrote: it carries plansync's markers AND the UID plansync
    derives from them. A calendar app that duplicates an event keeps the markers under a new UID: that
    copy is a person's, never plansync's to update or delete."""
    if marker is None or uid != event_uid(marker.plan_id, marker.event_key, marker.calendar_id):
        return None
    return f"{marker.plan_id}:{marker.calendar_id}"


def owns(uid: str | None, owner: str | None) -> bool:
    """Whether a listed object with this UID and recorded owner ('plan:calendar') is plansync's."""
    parts = split_uid(uid) if uid is not None else None
    return parts is not None and owner == f"{parts[0]}:{parts[2]}"


def resource_name(uid: str) -> str:
    return uid.replace("@", ".") + ".ics"
