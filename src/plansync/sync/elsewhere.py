"""Events plansync wrote that a person moved to another calendar of the account, keeping their UID: looked
for before such an event is made again where plansync had put it, so that nobody has it twice (and a
server that keeps one event per UID, as Cyrus does, is not sent a copy it refuses).

A calendar that also holds copies of events still here is not where an event went (an earlier calendar
of the same organizer, left as it was): only a calendar without such copies counts as the one it was
moved to. A calendar emptied of plansync's events is the safety brake's business, not looked into here.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence

from plansync.caldav.backend import Backend, BackendError
from plansync.sync.reconcile import Action, Record

# Calendars whose gone events are looked for in one run (one request for each other calendar of the
# account each); the next runs go on with the rest, and none is made again unlooked.
LOOKUPS = 10


class Elsewhere:
    """One run's search for moved events, bounded by LOOKUPS."""

    def __init__(self, backend: Backend) -> None:
        self.backend = backend
        self.asked = 0

    def check(
        self,
        calendar_url: str,
        key: str,
        actions: Sequence[Action],
        records: Mapping[str, Record],
        here: Collection[str],
    ) -> list[Action]:
        """The actions, with each re-creation of an event plansync had written here (someone took it
        away) turned into a conflict that says where it went, when it is in another calendar. `here`:
        the UIDs the calendar holds now."""
        gone = [
            a
            for a in actions
            if a.kind == "create" and (record := records.get(a.uid)) is not None and record.href is not None
        ]
        if not gone or not here:
            return list(actions)
        found: dict[str, str] = {}
        if self.asked >= LOOKUPS:
            why = (
                f"gone from here; not made again yet: plansync looks for moved events in {LOOKUPS} calendars "
                "a run, the next run goes on"
            )
            return [_conflict(a, why) if a in gone else a for a in actions]
        self.asked += 1
        try:
            elsewhere = self.backend.uids_elsewhere(f".{key}@plansync", besides=calendar_url)
        except BackendError as exc:
            why = f"gone from here; not made again: could not look whether it was moved ({exc})"
            return [_conflict(a, why) if a in gone else a for a in actions]
        still = set(here) - {a.uid for a in gone}
        for uids in elsewhere.values():
            if still.isdisjoint(uids):  # not a calendar with copies of what is still here
                found.update(uids)
        return [
            _conflict(
                a,
                f"moved by someone to {found[a.uid]}: not made again here (move it back for plansync to "
                "keep it up to date, or delete it there)",
            )
            if a.uid in found and a in gone
            else a
            for a in actions
        ]


def _conflict(action: Action, why: str) -> Action:
    return Action("conflict", action.uid, action.label, desired=action.desired, conflict=why)
