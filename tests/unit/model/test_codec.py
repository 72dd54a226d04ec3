"""Plans to JSON-ready data and back (the render cache): the same plan, and nothing but plan data."""

from __future__ import annotations

import json

import pytest

from plansync.model.codec import decode_plan, encode
from plansync.planread.planfile import load_plan
from tests.support.paths import PLAN_2024


def test_the_2024_plan_round_trips_through_json() -> None:
    plan = load_plan(PLAN_2024)
    assert decode_plan(json.loads(json.dumps(encode(plan)))) == plan


@pytest.mark.parametrize(
    "data", [None, {}, [], ["x"], "plan", [1, 2, 3, 4, 5, 6, 7, 8], {"__reduce__": "os.system"}]
)
def test_anything_else_is_refused(data: object) -> None:
    with pytest.raises((TypeError, ValueError)):
        decode_plan(data)


def test_a_wrong_type_inside_is_refused() -> None:
    encoded = encode(load_plan(PLAN_2024))
    encoded[2] = "2024"  # the year as text
    with pytest.raises(TypeError):
        decode_plan(encoded)
