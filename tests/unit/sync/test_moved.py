"""The state carried over to a server that moved, on the memory backend: the calendars found at the new
address with plansync's events in them keep everything the state knew; others are found or made anew;
nothing is asked of the old address."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from plansync.config.model import CalendarTarget, SyncConfig
from plansync.sync.engine import sync
from plansync.sync.moved import carry_over
from plansync.sync.state import open_state
from tests.support.memory_backend import MemoryBackend
from tests.support.plans import small_plan

OLD, NEW = "http://old.invalid/dav/", "http://new.invalid/dav/"
TARGETS = {"konb": CalendarTarget(name="КОНБ"), "gaidar": CalendarTarget(name="Гайдара")}
SETTINGS = SyncConfig(combined_calendar=False)


def moved_copy(old: MemoryBackend) -> MemoryBackend:
    """The same calendars, as the new host serves them."""
    new = MemoryBackend(NEW)
    for url, cal in old.calendars.items():
        new.calendars[url.replace(OLD, NEW)] = dataclasses.replace(cal, url=url.replace(OLD, NEW))
    return new


def test_the_calendars_at_the_new_address_are_carried_over(tmp_path: Path) -> None:
    old = MemoryBackend(OLD)
    state = open_state(tmp_path)
    sync([small_plan()], backend=old, state=state, targets=TARGETS, settings=SETTINGS)
    new = moved_copy(old)
    asked = len(old.log)
    moved = carry_over(state, new, NEW)
    assert sorted(m.key for m in moved) == ["gaidar", "konb"] and all(m.new for m in moved)
    assert all(c.url.startswith(NEW) for c in state.all_calendars())
    result = sync([small_plan()], backend=new, state=state, targets=TARGETS, settings=SETTINGS)
    assert result.exit_code == 0 and result.writes == 0
    assert len(old.log) == asked  # never a request to the old address
    assert carry_over(state, new, NEW) == []  # once carried, nothing to carry
    state.close()


def test_a_new_server_without_them_starts_afresh(tmp_path: Path) -> None:
    old = MemoryBackend(OLD)
    state = open_state(tmp_path)
    sync([small_plan()], backend=old, state=state, targets=TARGETS, settings=SETTINGS)
    empty = MemoryBackend(NEW)
    moved = carry_over(state, empty, NEW)
    assert moved and all(m.new is None for m in moved) and state.all_calendars() == []
    result = sync([small_plan()], backend=empty, state=state, targets=TARGETS, settings=SETTINGS)
    assert result.exit_code == 0 and sum(c.count("create") for c in result.calendars) == 4
    state.close()


def test_another_organizers_calendar_at_the_same_path_is_not_taken(tmp_path: Path) -> None:
    old = MemoryBackend(OLD)
    state = open_state(tmp_path)
    sync([small_plan()], backend=old, state=state, targets=TARGETS, settings=SETTINGS)
    new = moved_copy(old)
    konb = next(c.url for c in state.all_calendars() if c.key == "konb")
    gaidar = next(c.url for c in state.all_calendars() if c.key == "gaidar")
    # At konb's old path the new server holds gaidar's calendar: not konb's, whatever its path says.
    new.calendars[konb.replace(OLD, NEW)] = dataclasses.replace(
        new.calendars[gaidar.replace(OLD, NEW)], url=konb.replace(OLD, NEW), name="x"
    )
    moved = {m.key: m.new for m in carry_over(state, new, NEW)}
    assert moved["konb"] is None and moved["gaidar"] == gaidar.replace(OLD, NEW)
    state.close()
