"""The one backoff: doubling from the first delay, capped, for seconds and for durations alike."""

from __future__ import annotations

import datetime as dt

from plansync.util.backoff import doubling


def test_doubles_from_the_first_delay_and_is_capped() -> None:
    cap = dt.timedelta(minutes=15)
    delays = [doubling(n, dt.timedelta(seconds=30), cap) for n in range(1, 8)]
    assert delays[:5] == [dt.timedelta(seconds=s) for s in (30, 60, 120, 240, 480)]
    assert delays[5:] == [cap, cap]
    assert doubling(10_000, dt.timedelta(seconds=30), cap) == cap  # no overflow after a long outage


def test_seconds_as_floats() -> None:
    assert [doubling(n, 0.5, 8.0) for n in range(1, 7)] == [0.5, 1.0, 2.0, 4.0, 8.0, 8.0]
    assert doubling(0, 0.5, 8.0) == 0.5  # no failure yet counts as the first
