"""The production calendar the digests avoid, checked against the official 2024 and 2025 calendars."""

from __future__ import annotations

import datetime as dt

from plansync.util.workdays import is_working_day, send_day

D = dt.date


def days(first: D, last: D) -> set[D]:
    return {first + dt.timedelta(days=n) for n in range((last - first).days + 1)}


# Non-working days other than ordinary weekends (weekends inside these ranges included).
OFFICIAL = {
    2024: days(D(2024, 1, 1), D(2024, 1, 8))
    | {D(2024, 2, 23), D(2024, 3, 8)}
    | days(D(2024, 4, 29), D(2024, 5, 1))
    | days(D(2024, 5, 9), D(2024, 5, 12))
    | {D(2024, 6, 12), D(2024, 11, 4)}
    | days(D(2024, 12, 30), D(2024, 12, 31)),
    # 23 February (a Sunday) and 8 March (a Saturday) of 2025 were transferred to 8 May and 13 June:
    # Monday 24 February and Monday 10 March were working days.
    2025: days(D(2025, 1, 1), D(2025, 1, 8))
    | {D(2025, 2, 23), D(2025, 3, 8)}
    | days(D(2025, 5, 1), D(2025, 5, 4))
    | days(D(2025, 5, 8), D(2025, 5, 11))
    | days(D(2025, 6, 12), D(2025, 6, 13))
    | days(D(2025, 11, 2), D(2025, 11, 4))
    | {D(2025, 12, 31)},
}


def test_send_days_are_the_working_weekdays_of_the_official_calendars() -> None:
    for year, off in OFFICIAL.items():
        for day in days(D(year, 1, 1), D(year, 12, 31)):
            expected = day.weekday() < 5 and day not in off
            assert is_working_day(day) == expected, day


def test_the_transferred_mondays_of_2025_are_working_days() -> None:
    assert is_working_day(D(2025, 2, 24)) and is_working_day(D(2025, 3, 10))


def test_a_holiday_moves_the_send_day_earlier() -> None:
    assert send_day(D(2024, 5, 9)) == D(2024, 5, 8)  # Victory Day, a Thursday
    assert send_day(D(2024, 1, 4)) == D(2023, 12, 29)  # the New Year holidays
    assert send_day(D(2025, 1, 2)) == D(
        2024, 12, 27
    )  # 28 December 2024 was a working Saturday, not a send day
    assert send_day(D(2024, 5, 16)) == D(2024, 5, 16)


def test_the_table_is_the_package_s_production_calendar() -> None:
    """util/days_off_ru.py (made by scripts/make-days-off) says what the `holidays` package says."""
    import holidays

    from plansync.util.days_off_ru import DAYS_OFF, FIRST_YEAR, LAST_YEAR

    for year in range(FIRST_YEAR, LAST_YEAR + 1):
        package = {d.isoformat() for d in holidays.country_holidays("RU", years=year) if d.weekday() < 5}
        table = {d for d in DAYS_OFF if d.startswith(f"{year}-")}
        assert table == package, year
    assert not is_working_day(D(LAST_YEAR + 1, 1, 1))  # past the table: the package itself
