"""Which calendar is an organizer's: its default name, the target the config gives, the one the state
knows (a calendar an earlier version named with the plan's year is adopted, not made again beside it),
found or made on the server."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence

from plansync.caldav.backend import Backend, BackendError
from plansync.calendar import identity
from plansync.config.model import CalendarTarget
from plansync.model.plan import Organization, Plan
from plansync.sync.state import State

log = logging.getLogger(__name__)

COMBINED_NAME = "Сводный план"


def combined_organization() -> Organization:
    """The whole plan once, as one more calendar: the engine treats it like an organizer's."""
    return Organization(identity.COMBINED, COMBINED_NAME, COMBINED_NAME, "other")


def default_calendar_name(org: Organization, plans: Sequence[Plan]) -> str:
    """«КОНБ — план»; the combined calendar: «Сводный план». Without the year: an organizer's calendar
    holds its events of every plan, so next year's plan lands where people already look."""
    return COMBINED_NAME if org.id == identity.COMBINED else f"{org.short_name} — план"


def _earlier_default(org: Organization, spec: str) -> bool:
    """A calendar an earlier version found or made under its default name («КОНБ — план 2024»)."""
    return spec.startswith(f"name:{default_calendar_name(org, ())} ")


def target_spec(target: CalendarTarget) -> str:
    return f"url:{target.url}" if target.url else f"name:{target.name}"


class Calendars:
    """The calendars of one run's organizers: by the config's targets, the state's memory and the server."""

    def __init__(
        self, plans: Sequence[Plan], targets: Mapping[str, CalendarTarget], state: State, backend: Backend
    ) -> None:
        self.plans = plans
        self.targets = targets
        self.state = state
        self.backend = backend

    def target(self, org: Organization) -> CalendarTarget:
        return self.targets.get(org.id) or CalendarTarget(name=default_calendar_name(org, self.plans))

    def known_url(self, key: str, target: CalendarTarget) -> str | None:
        known = self.state.calendar(key)
        return known.url if known is not None and self._same_target(key, known.target, target) else None

    def _same_target(self, key: str, known: str, target: CalendarTarget) -> bool:
        """The calendar the state knows is this target's: the same URL or name, or (for a calendar not
        named in the config) the one an earlier version named with the plan's year: adopted, not made
        again beside it."""
        if known == target_spec(target):
            return True
        org = next((o for p in self.plans for o in p.organizations if o.id == key), None)
        if key == identity.COMBINED:
            org = combined_organization()
        return org is not None and key not in self.targets and _earlier_default(org, known)

    def to_be_made(self, org: Organization) -> bool:
        """The organizer's calendar does not exist yet, and this run is to make it: then it is empty, and
        all there is to decide is to create its events (nothing for the safety brake to weigh)."""
        target = self.target(org)
        if target.url is not None or self.known_url(org.id, target) is not None:
            return False
        try:
            return self.backend.resolve_calendar(org.id, url=None, name=target.name, create=False) is None
        except BackendError:
            return False  # looked at in the usual way, which reports what is wrong

    def resolve(
        self, key: str, target: CalendarTarget, dry_run: bool
    ) -> tuple[str | None, str | None, str | None, bool]:
        """The calendar's URL, sync token and ctag, and whether it was created just now (so is empty)."""
        spec = target_spec(target)
        known = self.state.calendar(key)
        if known is not None and self._same_target(key, known.target, target):
            # Found or created before: no discovery requests on later runs.
            if known.target != spec and not dry_run:
                self.state.adopt_calendar(key, spec)  # (an earlier version's name: kept, not made again)
            return known.url, known.sync_token, known.ctag, False
        url = self.backend.resolve_calendar(key, url=target.url, name=target.name, create=not dry_run)
        if url is not None and not dry_run:
            self.state.set_calendar(key, spec, url)
        return url, None, None, url is not None and self.backend.made(url)
