"""When the digests are due (digest.schedule), on its own (the service tests cover the loop around it)."""

from __future__ import annotations

import datetime as dt

import pytest

from plansync.digest.schedule import last_digest_time, next_digest_time

TZ = "Europe/Kaliningrad"  # UTC+2 all year
MONDAY_8 = (0, dt.time(8, 0))


@pytest.mark.parametrize(
    ("now_utc", "expected_local"),
    [
        ("2024-05-20T06:00:00+00:00", "2024-05-20T08:00:00+02:00"),  # exactly at 08:00 local
        ("2024-05-20T05:59:00+00:00", "2024-05-13T08:00:00+02:00"),  # a minute before: last week's
        ("2024-05-22T12:00:00+00:00", "2024-05-20T08:00:00+02:00"),  # Wednesday
        ("2024-05-26T21:59:00+00:00", "2024-05-20T08:00:00+02:00"),  # Sunday 23:59 local
        ("2024-05-26T22:00:00+00:00", "2024-05-20T08:00:00+02:00"),  # Monday 00:00 local, before 08:00
    ],
)
def test_last_digest_time(now_utc: str, expected_local: str) -> None:
    moment = last_digest_time(dt.datetime.fromisoformat(now_utc), *MONDAY_8, TZ)
    assert moment == dt.datetime.fromisoformat(expected_local)
    assert moment.utcoffset() == dt.timedelta(hours=2)


def test_next_digest_time_is_a_week_after_the_last() -> None:
    now = dt.datetime(2024, 5, 22, 12, 0, tzinfo=dt.UTC)
    assert next_digest_time(now, *MONDAY_8, TZ) == dt.datetime.fromisoformat("2024-05-27T08:00:00+02:00")


def test_other_weekday_and_time() -> None:
    friday_15 = (4, dt.time(15, 30))
    now = dt.datetime(2024, 5, 24, 13, 29, tzinfo=dt.UTC)  # Friday 15:29 local
    assert last_digest_time(now, *friday_15, TZ) == dt.datetime.fromisoformat("2024-05-17T15:30:00+02:00")
    now = dt.datetime(2024, 5, 24, 13, 30, tzinfo=dt.UTC)
    assert last_digest_time(now, *friday_15, TZ) == dt.datetime.fromisoformat("2024-05-24T15:30:00+02:00")


THURSDAY_10 = (3, dt.time(10, 0))


def test_a_digest_due_on_a_holiday_goes_out_the_working_day_before() -> None:
    from plansync.digest.schedule import due_digest, next_due_digest

    # Thursday 9 May 2024 is Victory Day: the digest for 13–19 May goes out Wednesday 8 May at 10:00.
    wednesday = dt.datetime.fromisoformat("2024-05-08T10:00:00+02:00")
    assert due_digest(wednesday, *THURSDAY_10, TZ) == (wednesday, dt.date(2024, 5, 9))
    before = wednesday - dt.timedelta(minutes=1)
    assert due_digest(before, *THURSDAY_10, TZ) == (
        dt.datetime.fromisoformat("2024-05-02T10:00:00+02:00"),
        dt.date(2024, 5, 2),
    )
    assert next_due_digest(before, *THURSDAY_10, TZ) == wednesday
    # An ordinary Thursday is its own day.
    thursday = dt.datetime.fromisoformat("2024-05-16T10:00:00+02:00")
    assert due_digest(thursday + dt.timedelta(hours=1), *THURSDAY_10, TZ) == (thursday, dt.date(2024, 5, 16))
