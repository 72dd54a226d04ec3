"""A plan with unreadable events, read for a sync or a digest: the other events, the left-out keys and
their problems; anything that is not one event's problem still refuses the plan."""

from __future__ import annotations

from pathlib import Path

import pytest

from plansync.errors import InvalidInput
from plansync.planread.planfile import load_plan, load_plan_partial
from tests.support.plans import GOOD_PLAN


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "plan.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_an_unreadable_date_leaves_out_its_event_only(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD_PLAN.replace("15 января", "31 февраля"))
    with pytest.raises(InvalidInput):
        load_plan(path)  # what `validate` and `serve` read: strict
    plan = load_plan_partial(path)
    assert [e.key for e in plan.events] == ["dated-02"]
    assert plan.left_out == ("dated-01",)
    (problem,) = plan.problems
    line = GOOD_PLAN.splitlines().index("    date: 15 января") + 1
    assert problem.field == "events[0].date" and problem.line == line and "31 февраля" in problem.message


def test_an_event_with_an_unknown_field_is_left_out_whole(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD_PLAN.replace("    date: 15 января", "    date: 15 января\n    colour: red"))
    plan = load_plan_partial(path)
    assert [e.key for e in plan.events] == ["dated-02"] and plan.left_out == ("dated-01",)


def test_a_clean_plan_leaves_nothing_out(tmp_path: Path) -> None:
    plan = load_plan_partial(write(tmp_path, GOOD_PLAN))
    assert len(plan.events) == 2 and plan.left_out == () and plan.problems == ()


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("key: dated-01", "key: Dated 01"),  # the key: what the calendars hold of it could not be told
        ("Гайдара\n    kind: library", "Гайдара\n    kind: librarу"),  # an organization
        ("year: 2025", "year: 20250"),  # the plan itself
        ("1 - 5 июля", "32 июля"),  # together with the other: not one event readable
    ],
    ids=["key", "organization", "plan", "every event"],
)
def test_anything_else_refuses_the_plan(tmp_path: Path, old: str, new: str) -> None:
    text = GOOD_PLAN.replace(old, new)
    if new == "32 июля":
        text = text.replace("15 января", "31 февраля")
    assert text != GOOD_PLAN
    with pytest.raises(InvalidInput):
        load_plan_partial(write(tmp_path, text))
