"""Events plansync wrote that a person moved to another calendar of the account, keeping their UID: looked
for before such an event is made again where plansync had put it, so that nobody has it twice (and a
server that keeps one event per UID, as Cyrus does, is not sent a copy it refuses)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from plansync.caldav.backend import Backend, BackendError
from plansync.sync.reconcile import Action, Record

# Events looked for in one run (a request for each other calendar of the account each): a run that finds
# more gone leaves the rest for the next runs, which go on from there; none is made again unlooked.
LOOKUPS = 20


class Elsewhere:
    """One run's search for moved events, bounded by LOOKUPS."""

    def __init__(self, backend: Backend) -> None:
        self.backend = backend
        self.asked = 0

    def check(
        self, calendar_url: str, actions: Sequence[Action], records: Mapping[str, Record]
    ) -> list[Action]:
        """The actions, with each re-creation of an event plansync had written here (someone took it
        away) turned into a conflict that says where it went, when it is in another calendar."""
        return [self._check(calendar_url, a, records) for a in actions]

    def _check(self, calendar_url: str, action: Action, records: Mapping[str, Record]) -> Action:
        record = records.get(action.uid)
        if action.kind != "create" or record is None or record.href is None:
            return action
        if self.asked >= LOOKUPS:
            why = (
                f"gone from here; not made again yet: plansync looks for moved events {LOOKUPS} at a time, "
                "the next run goes on"
            )
            return _conflict(action, why)
        self.asked += 1
        try:
            found = self.backend.find_uid(action.uid, besides=calendar_url)
        except BackendError as exc:
            return _conflict(
                action, f"gone from here; not made again: could not look whether it was moved ({exc})"
            )
        if found is None:
            return action
        return _conflict(
            action,
            f"moved by someone to {found}: not made again here (move it back for plansync to keep it up to "
            "date, or delete it there)",
        )


def _conflict(action: Action, why: str) -> Action:
    return Action("conflict", action.uid, action.label, desired=action.desired, conflict=why)
