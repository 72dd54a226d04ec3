"""The date reader, widened (issue 21): every phrasing real plans write that has one reading is read that
way, cells without a date are told apart from cells that are wrong, and refusals still name the fragment."""

from __future__ import annotations

import pytest

from plansync.planread.dates import DateReadError, read_date
from tests.support.date_cells import CELLS, Expected


def _reading(text: str) -> Expected:
    try:
        r = read_date(text, 2025)
    except DateReadError as exc:
        return "undated" if exc.undated else "error"
    return (
        r.start and r.start.isoformat(),
        r.end and r.end.isoformat(),
        r.time and f"{r.time:%H:%M}",
        r.rrule,
        r.deadline,
        r.note,
    )


@pytest.mark.parametrize(("text", "expected"), CELLS, ids=[c[0] for c in CELLS])
def test_realistic_cell_reads_the_one_way_a_person_reads_it(text: str, expected: Expected) -> None:
    assert _reading(text) == expected


def test_the_share_of_realistic_cells_read_right_meets_the_goal() -> None:
    right = sum(_reading(text) == expected for text, expected in CELLS)
    assert right / len(CELLS) >= 0.97


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("по III квартал", "по III квартал"),  # an end that is a period: which day?
        ("4-я декада мая", "4-я декада мая"),
        ("в 11 часов", "в 11 часов"),  # a time needs its day
        ("каждый последний вторник месяца, по средам", "по средам"),
        ("Начало – 3 – 7 мая", "Начало – 3 – 7 мая"),  # the start of a range is no single day
    ],
)
def test_new_forms_still_refuse_what_has_no_single_reading(text: str, fragment: str) -> None:
    with pytest.raises(DateReadError) as info:
        read_date(text, 2025)
    assert f"'{fragment}'" in info.value.reason
    assert not info.value.undated


def test_words_glued_to_a_date_still_refuse_unless_they_only_say_how_to_read_it() -> None:
    with pytest.raises(DateReadError, match="come right before the date"):
        read_date("после 20 ноября", 2025)
    march = read_date("Начало – март", 2025)
    assert (march.start and march.start.isoformat(), march.end, march.start_precision) == (
        "2025-03-01",
        None,
        "month",
    )
    assert read_date("предположительно 3-я декада мая", 2025).note == "предположительно"


def test_decade_with_a_year_and_ranges_of_decades() -> None:
    r = read_date("1-я декада марта – 2-я декада апреля 2026 г.", 2025)
    assert (r.start and r.start.isoformat(), r.end and r.end.isoformat()) == ("2026-03-01", "2026-04-20")
    assert read_date("3-я декада февраля 2024", 2025).end.isoformat() == "2024-02-29"  # type: ignore[union-attr]


def test_weekday_of_a_date_with_its_year_after_a_comma_is_checked() -> None:
    with pytest.raises(DateReadError, match="does not match"):
        read_date("Вторник, 12 марта, 2025", 2025)
