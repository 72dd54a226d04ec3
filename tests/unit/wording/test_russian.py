"""Russian date phrases built on CLDR month names."""

from __future__ import annotations

import datetime as dt

import pytest
from babel.dates import get_month_names

from plansync.wording import russian

D = dt.date


def test_month_forms_come_from_cldr() -> None:
    for month in range(1, 13):
        assert russian.month_genitive(month) == get_month_names("wide", "format", locale="ru")[month]
        assert russian.month_nominative(month) == get_month_names("wide", "stand-alone", locale="ru")[month]
    assert (russian.month_genitive(5), russian.month_nominative(5)) == ("мая", "май")


@pytest.mark.parametrize(
    ("month", "expected"),
    [(1, "январе"), (2, "феврале"), (3, "марте"), (4, "апреле"), (5, "мае"), (6, "июне"), (7, "июле"),
     (8, "августе"), (9, "сентябре"), (10, "октябре"), (11, "ноябре"), (12, "декабре")],
)  # fmt: skip
def test_prepositional_of_every_month(month: int, expected: str) -> None:
    assert russian.month_prepositional(month) == expected


def test_days_and_ranges() -> None:
    assert russian.day(D(2024, 1, 15)) == "15\xa0января"
    assert russian.day(D(2024, 1, 15), year=True) == "15\xa0января 2024\xa0г."
    assert russian.period_title(D(2024, 5, 13), D(2024, 5, 19)) == "13–19\xa0мая 2024\xa0г."
    assert russian.period_title(D(2024, 4, 29), D(2024, 5, 5)) == "29\xa0апреля – 5\xa0мая 2024\xa0г."
    assert (
        russian.period_title(D(2024, 12, 30), D(2025, 1, 5))
        == "30\xa0декабря 2024\xa0г. – 5\xa0января 2025\xa0г."
    )
    assert russian.from_to(D(2024, 7, 1), D(2024, 7, 5)) == "с 1 по 5\xa0июля"
    assert russian.from_to(D(2024, 4, 30), D(2024, 5, 2)) == "с 30\xa0апреля по 2\xa0мая"
    assert russian.day_range(D(2024, 7, 1), D(2024, 7, 1)) == "1\xa0июля"
    assert russian.deadline(D(2024, 11, 20)) == "до 20\xa0ноября"


def test_fuzzy_units_and_spans() -> None:
    assert russian.within(D(2024, 5, 1), "month") == "в мае"
    assert russian.within(D(2024, 4, 1), "quarter") == "во II квартале"
    assert russian.within(D(2024, 7, 1), "quarter") == "в III квартале"
    assert russian.within(D(2024, 1, 1), "half") == "в I полугодии"
    assert russian.within(D(2024, 7, 1), "half") == "во II полугодии"
    assert russian.within(D(2024, 1, 1), "year") == "в 2024 году"
    assert russian.span(D(2024, 2, 1), "month", D(2024, 4, 30), "month") == "с февраля по апрель"
    assert russian.span(D(2024, 1, 1), "month", D(2024, 10, 31), "day") == "с января по 31\xa0октября"
    assert (
        russian.span(D(2024, 4, 1), "quarter", D(2024, 12, 31), "quarter") == "со II квартала по IV квартал"
    )
    assert russian.span(D(2024, 7, 1), "day", D(2024, 7, 5), "day") == "с 1 по 5\xa0июля"


def test_times_and_weekdays() -> None:
    assert russian.times(dt.time(14, 0), None) == "14:00"
    assert russian.times(dt.time(9, 30), dt.time(12, 0)) == "9:30–12:00"
    assert russian.times(None, None) == ""
    assert russian.weekday_short(D(2024, 5, 20)) == "пн"
    assert russian.weekday_short(D(2024, 5, 26)) == "вс"


def test_rule_words() -> None:
    assert russian.rule_words("FREQ=WEEKLY") == "еженедельно"
    assert russian.rule_words("FREQ=MONTHLY;INTERVAL=3") == "ежеквартально"
    assert russian.rule_words("FREQ=WEEKLY;BYDAY=TU,TH") == "еженедельно: вт, чт"
    assert russian.rule_words("freq=yearly;interval=3;byday=mo") == "регулярно: пн"


def test_rule_words_of_what_plans_say_in_words() -> None:
    assert russian.rule_words("FREQ=YEARLY;BYMONTH=3,10") == "в марте и октябре"
    assert russian.rule_words("FREQ=YEARLY;BYMONTH=1,3,5") == "в январе, марте и мае"
    assert russian.rule_words("FREQ=MONTHLY;BYMONTHDAY=17,24") == "17 и 24 числа"
    assert russian.rule_words("FREQ=MONTHLY;BYDAY=-1TH") == "ежемесячно, в последний четверг"
    assert russian.rule_words("FREQ=MONTHLY;INTERVAL=3;BYDAY=-1FR") == "ежеквартально, в последнюю пятницу"
    assert russian.rule_words("FREQ=MONTHLY;BYDAY=1WE") == "ежемесячно, в первую среду"
