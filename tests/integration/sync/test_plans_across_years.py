"""Next year's plan joins the same calendars: an organizer's calendar holds its events of every plan in
the config (named without the year), the calendars an earlier version named «… — план 2024» are adopted,
not made again beside them, a plan removed from the config leaves its events in place, and
`--prune-plan` removes them."""

from __future__ import annotations

import itertools
from dataclasses import replace
from pathlib import Path

import pytest

from plansync.caldav.client import CalDAVBackend
from plansync.config.model import CalendarTarget, SyncConfig
from plansync.errors import UsageError
from plansync.model.plan import Plan
from plansync.sync.engine import sync
from plansync.sync.report import SyncResult
from plansync.sync.state import open_state
from tests.support.plans import event, plan
from tests.support.servers import RunningServer, radicale

pytestmark = [pytest.mark.timeout(120), pytest.mark.slow]  # slow: real Radicale
_users = itertools.count(1)
SETTINGS = SyncConfig(combined_calendar=False)


def _plan_2024() -> Plan:
    return plan(
        event("e1", "12 марта", title="Семинар 2024", form="семинар"),
        event("e2", "20 мая", "konb", "gaidar", title="Вебинар 2024", form="вебинар"),
    )


def _plan_2025() -> Plan:
    events = (
        event("e1", "11 марта", title="Семинар 2025", form="семинар", year=2025),
        event("e9", "2 июня", "gaidar", title="Конкурс 2025", form="конкурс", year=2025),
    )
    return replace(plan(*events, plan_id="plan-2025", title="Сводный план 2025"), year=2025)


class Run:
    def __init__(self, server: RunningServer, tmp_path: Path) -> None:
        self.user = f"years{next(_users)}"
        self.server = server
        self.state = tmp_path / "state"

    def __call__(
        self, plans: list[Plan], *, targets: dict[str, CalendarTarget] | None = None, **kwargs: object
    ) -> SyncResult:
        backend = CalDAVBackend(self.server.url, username=self.user, password="x")
        state = open_state(self.state)
        try:
            return sync(
                plans, backend=backend, state=state, targets=targets or {}, settings=SETTINGS, **kwargs
            )  # type: ignore[arg-type]
        finally:
            state.close()
            backend.close()


def test_the_next_plan_joins_the_same_calendars(radicale: RunningServer, tmp_path: Path) -> None:
    run = Run(radicale, tmp_path)
    # What an earlier version made: calendars named with the plan's year (its default names).
    old_names = {
        "konb": CalendarTarget(name="КОНБ — план 2024"),
        "gaidar": CalendarTarget(name="Гайдара — план 2024"),
    }
    first = run([_plan_2024()], targets=old_names)
    urls = {c.key: c.url for c in first.calendars}
    mark = radicale.log.mark()

    both = run([_plan_2024(), _plan_2025()])  # the new defaults, and next year's plan beside this year's
    assert both.exit_code == 0, both
    assert {c.key: c.url for c in both.calendars} == urls  # adopted: the same calendars
    writes = radicale.log.writes_since(mark)
    assert not any(m == "MKCALENDAR" for m, _ in writes)
    assert {p.rsplit("/", 1)[1] for m, p in writes if m == "PUT"} == {
        "plan-2025.e1.konb.plansync.ics",
        "plan-2025.e9.gaidar.plansync.ics",
    }  # only next year's events are written; nothing of 2024 changes
    assert not any(m == "DELETE" for m, _ in writes)

    mark = radicale.log.mark()
    only_2025 = run([_plan_2025()])  # 2024 leaves the config: its events stay where they are
    assert only_2025.exit_code == 0 and radicale.log.writes_since(mark) == []

    with pytest.raises(UsageError, match="still in the config"):
        run([_plan_2025()], prune=["plan-2025"])
    pruned = run([_plan_2025()], prune=["plan-2024"], force_delete=True)
    assert pruned.exit_code == 0
    deleted = {p.rsplit("/", 1)[1] for m, p in radicale.log.writes_since(mark) if m == "DELETE"}
    assert deleted == {
        "plan-2024.e1.konb.plansync.ics",
        "plan-2024.e2.konb.plansync.ics",
        "plan-2024.e2.gaidar.plansync.ics",
    }
