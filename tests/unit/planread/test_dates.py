"""The Russian fuzzy-date reader: every cell of the source plan, every kind of date, the errors, and
properties over generated text.

The expected values here are written by hand (month names included), so the tests do not share the
reader's own tables.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
import time
from pathlib import Path
from typing import cast

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from plansync.planread import dates
from plansync.planread.dates import DateReadError, Precision, Reading, read_date
from tests.support.paths import SEED

D = dt.date

# --- helpers -------------------------------------------------------------------------------------------

JSON_KEYS = [
    "text",
    "start",
    "end",
    "start_precision",
    "end_precision",
    "time",
    "end_time",
    "rrule",
    "deadline",
    "note",
]
PRECISIONS = {"day", "month", "quarter", "half", "year"}
_QUOTED = re.compile(r"'[^']*'")
_CYRILLIC = re.compile(r"[А-Яа-яЁё]")


def check_invariants(r: Reading) -> None:
    if r.deadline:
        assert r.start is None and r.start_precision is None
        assert r.end is not None and r.end_precision in PRECISIONS
    elif r.end is None:
        assert r.start is not None and r.start_precision in PRECISIONS and r.end_precision is None
    else:
        assert r.start is not None and r.start <= r.end
        assert r.start_precision in PRECISIONS and r.end_precision in PRECISIONS
    assert r.end_time is None or r.time is not None
    if r.time is not None and r.end_time is not None:
        assert r.time <= r.end_time
    assert r.note is None or (r.note == r.note.strip() and r.note and "  " not in r.note)
    assert r.rrule is None or r.rrule.startswith("FREQ=")


def read(text: str, year: int = 2025) -> Reading:
    r = read_date(text, year)
    check_invariants(r)
    assert r.text == text
    return r


def fails(text: str, *fragments: str, year: int = 2025) -> DateReadError:
    """The error for text; its message quotes every fragment and is English outside the quotes."""
    with pytest.raises(DateReadError) as info:
        read_date(text, year)
    err = info.value
    assert err.text == text
    assert str(err) == err.reason
    for fragment in fragments:  # quotes collapse whitespace
        assert " ".join(fragment.split()) in err.reason, (fragment, err.reason)
    assert not _CYRILLIC.search(_QUOTED.sub("", err.reason)), err.reason
    return err


def period(text: str, year: int = 2025) -> tuple[object, ...]:
    r = read(text, year)
    return (r.start, r.end, r.start_precision, r.end_precision)


# --- the source plan (2024) ---------------------------------------------------------------------------

Y = (D(2024, 1, 1), D(2024, 12, 31), "month", "month")


def months(a: int, b: int, year: int = 2024) -> tuple[object, ...]:
    return (D(year, a, 1), D(year, b, calendar.monthrange(year, b)[1]), "month", "month")


def day(m: int, d: int, year: int = 2024) -> tuple[object, ...]:
    return (D(year, m, d), D(year, m, d), "day", "day")


# (section-number, cell as published, (start, end, start precision, end precision), rrule, note)
SOURCE_PLAN: list[tuple[str, str, tuple[object, ...], str | None, str | None]] = [
    ("year-round-1", "январь–декабрь", Y, None, None),
    ("year-round-2", "январь–декабрь, по запросам", Y, None, "по запросам"),
    ("year-round-3", "январь–декабрь, <i>еженедельно</i>", Y, "FREQ=WEEKLY", None),
    ("year-round-4", "январь–декабрь", Y, None, None),
    ("year-round-5", "январь–декабрь", Y, None, None),
    ("year-round-6", "февраль –ноябрь", months(2, 11), None, None),
    ("year-round-7", "февраль –ноябрь", months(2, 11), None, None),
    ("year-round-8", "январь–декабрь, ежеквартально", Y, "FREQ=MONTHLY;INTERVAL=3", None),
    ("year-round-9", "январь - декабрь", Y, None, None),
    ("year-round-10", "январь - декабрь", Y, None, None),
    ("dated-1", "январь (прием работ)", months(1, 1), None, "прием работ"),
    ("dated-2", "15 января", day(1, 15), None, None),
    ("dated-3", "январь - 31 октября", (D(2024, 1, 1), D(2024, 10, 31), "month", "day"), None, None),
    ("dated-4", "февраль-апрель", months(2, 4), None, None),
    ("dated-5", "февраль", (D(2024, 2, 1), D(2024, 2, 29), "month", "month"), None, None),  # a leap year
    ("dated-6", "8 февраля", day(2, 8), None, None),
    ("dated-7", "февраль - май", months(2, 5), None, None),
    ("dated-8", "22 марта", day(3, 22), None, None),
    ("dated-9", "апрель", months(4, 4), None, None),
    ("dated-10", "май", months(5, 5), None, None),
    ("dated-11", "20 мая", day(5, 20), None, None),
    ("dated-12", "май", months(5, 5), None, None),
    ("dated-13", "24 мая", day(5, 24), None, None),
    ("dated-14", "1 - 5 июля", (D(2024, 7, 1), D(2024, 7, 5), "day", "day"), None, None),
    ("dated-15", "26 июля", day(7, 26), None, None),
    ("dated-16", "сентябрь", months(9, 9), None, None),
    ("dated-17", "сентябрь", months(9, 9), None, None),
    ("dated-18", "октябрь", months(10, 10), None, None),
    ("dated-19", "октябрь", months(10, 10), None, None),
    ("dated-20", "30 октября", day(10, 30), None, None),
    ("dated-21", "ноябрь", months(11, 11), None, None),
    ("dated-22", "ноябрь", months(11, 11), None, None),
    ("dated-23", "ноябрь", months(11, 11), None, None),
    ("dated-24", "декабрь", months(12, 12), None, None),
    ("dated-25", "декабрь", months(12, 12), None, None),
]


@pytest.mark.parametrize(
    ("key", "cell", "expected", "rrule", "note"), SOURCE_PLAN, ids=[r[0] for r in SOURCE_PLAN]
)
def test_source_plan_cell(
    key: str, cell: str, expected: tuple[object, ...], rrule: str | None, note: str | None
) -> None:
    r = read(cell, 2024)
    assert (r.start, r.end, r.start_precision, r.end_precision) == expected
    assert (r.rrule, r.note) == (rrule, note)
    assert (r.time, r.end_time, r.deadline) == (None, None, False)


def _seed_file() -> Path | None:
    """The published source: the copy kept in data/sources, else the original beside the checkout."""
    if SEED.is_file():
        return SEED
    for base in Path(__file__).resolve().parents:
        candidate = base / "shared" / "seed" / "000_d2dec4671fa5f813.txt"
        if candidate.is_file():
            return candidate
    return None


def test_source_plan_table_is_the_published_one() -> None:
    """The hand-made table above holds exactly the date cells of the published plan, in order."""
    seed = _seed_file()
    if seed is None:
        pytest.skip("the source plan (shared/seed) is not beside this checkout")
    cells = [
        columns[2]
        for columns in (line.split("\t") for line in seed.read_text(encoding="utf-8").splitlines())
        if len(columns) >= 3 and re.fullmatch(r"\d+\.?", columns[0].strip()) and columns[2].strip()
    ]
    assert cells == [row[1] for row in SOURCE_PLAN]
    assert len(cells) == 35


# --- every kind, with plan year 2025 --------------------------------------------------------------------

MAR12 = (D(2025, 3, 12), D(2025, 3, 12), "day", "day")
NOV3_7 = (D(2025, 11, 3), D(2025, 11, 7), "day", "day")
JUNE = (D(2025, 6, 1), D(2025, 6, 30), "month", "month")
YEAR = (D(2025, 1, 1), D(2025, 12, 31), "year", "year")


def q(n: int, year: int = 2025) -> tuple[object, ...]:
    return (D(year, 3 * n - 2, 1), D(year, 3 * n, calendar.monthrange(year, 3 * n)[1]), "quarter", "quarter")


def h(n: int, year: int = 2025) -> tuple[object, ...]:
    return (D(year, 6 * n - 5, 1), D(year, 6 * n, 30 if n == 1 else 31), "half", "half")


PERIODS: list[tuple[str, tuple[object, ...]]] = [
    # exact days
    ("12 марта", MAR12),
    ("12.03", MAR12),
    ("12.03.2025", MAR12),
    ("12.03.25", MAR12),
    ("Среда, 12 марта", MAR12),
    ("СР., 12.03", MAR12),
    ("ср 12.03.2025", MAR12),
    ("12 марта (среда)", MAR12),
    ("12 марта 2025 г.", MAR12),
    ("12 марта 2025 года", MAR12),
    ("12 марта 2025г.", MAR12),
    ("12.03.2025 г.", MAR12),
    ("12 МАРТА", MAR12),
    ("12 мар.", MAR12),
    ("12-го марта", MAR12),
    ("12 марта.", MAR12),
    ("  12\u00a0марта  ", MAR12),
    ("1.1", (D(2025, 1, 1), D(2025, 1, 1), "day", "day")),
    ("31.12.99", (D(2099, 12, 31), D(2099, 12, 31), "day", "day")),
    ("8 февраля 2024", (D(2024, 2, 8), D(2024, 2, 8), "day", "day")),
    # day ranges
    ("3 - 7 ноября", NOV3_7),
    ("3–7 ноября", NOV3_7),
    ("3—7 ноября", NOV3_7),
    ("3 −7 ноября", NOV3_7),
    ("с 3 по 7 ноября", NOV3_7),
    ("с 3 ноября по 7 ноября", NOV3_7),
    ("от 3 до 7 ноября", NOV3_7),
    ("3–7.11.2025", NOV3_7),
    ("3-7.11", NOV3_7),
    ("03.11–07.11", NOV3_7),
    ("03.11.2025 - 07.11.2025", NOV3_7),
    ("03.11 - 07.11.2025", NOV3_7),
    ("с 03.11 по 07.11", NOV3_7),
    ("с 1-го по 5-е ноября", (D(2025, 11, 1), D(2025, 11, 5), "day", "day")),
    ("3 - 7 ноября 2025 г.", NOV3_7),
    ("30 апреля – 2 мая", (D(2025, 4, 30), D(2025, 5, 2), "day", "day")),
    ("с 30 апреля по 2 мая", (D(2025, 4, 30), D(2025, 5, 2), "day", "day")),
    ("1 - 5 июля", (D(2025, 7, 1), D(2025, 7, 5), "day", "day")),
    ("с 10.05 до 12.05", (D(2025, 5, 10), D(2025, 5, 12), "day", "day")),
    ("28.12.2025 - 03.01.2026", (D(2025, 12, 28), D(2026, 1, 3), "day", "day")),
    # months
    ("июнь", JUNE),
    ("в июне", JUNE),
    ("Июнь 2025 г.", JUNE),
    ("июнь 2025", JUNE),
    ("ИЮНЬ", JUNE),
    ("июн.", JUNE),
    ("в течение июня", JUNE),
    ("май", (D(2025, 5, 1), D(2025, 5, 31), "month", "month")),
    ("в мае", (D(2025, 5, 1), D(2025, 5, 31), "month", "month")),
    ("в марте", (D(2025, 3, 1), D(2025, 3, 31), "month", "month")),
    ("февраль 2024", (D(2024, 2, 1), D(2024, 2, 29), "month", "month")),
    # month ranges
    ("март–май", (D(2025, 3, 1), D(2025, 5, 31), "month", "month")),
    ("март - май", (D(2025, 3, 1), D(2025, 5, 31), "month", "month")),
    ("февраль –ноябрь", (D(2025, 2, 1), D(2025, 11, 30), "month", "month")),
    ("январь - декабрь", (D(2025, 1, 1), D(2025, 12, 31), "month", "month")),
    ("с марта по май", (D(2025, 3, 1), D(2025, 5, 31), "month", "month")),
    ("с марта до конца мая", (D(2025, 3, 1), D(2025, 5, 31), "month", "month")),
    ("в марте–апреле", (D(2025, 3, 1), D(2025, 4, 30), "month", "month")),
    ("сен—ноя", (D(2025, 9, 1), D(2025, 11, 30), "month", "month")),
    ("март 2025 – май", (D(2025, 3, 1), D(2025, 5, 31), "month", "month")),
    ("декабрь 2024 – январь 2025", (D(2024, 12, 1), D(2025, 1, 31), "month", "month")),
    ("март - 15 мая", (D(2025, 3, 1), D(2025, 5, 15), "month", "day")),
    ("январь - 31 октября", (D(2025, 1, 1), D(2025, 10, 31), "month", "day")),
    ("15 марта – май", (D(2025, 3, 15), D(2025, 5, 31), "day", "month")),
    # quarters and halves
    ("III квартал", q(3)),
    ("3 квартал", q(3)),
    ("3-й квартал", q(3)),
    ("третий квартал", q(3)),
    ("I кв.", q(1)),
    ("IV кв", q(4)),
    ("в III квартале", q(3)),
    ("III квартал 2026 г.", q(3, 2026)),
    ("II полугодие", h(2)),
    ("2-е полугодие", h(2)),
    ("первое полугодие", h(1)),
    ("второе полугодие", h(2)),
    ("в первом полугодии", h(1)),
    ("I–II квартал", (D(2025, 1, 1), D(2025, 6, 30), "quarter", "quarter")),
    ("1-2 квартал", (D(2025, 1, 1), D(2025, 6, 30), "quarter", "quarter")),
    ("II - IV кв.", (D(2025, 4, 1), D(2025, 12, 31), "quarter", "quarter")),
    ("I квартал – май", (D(2025, 1, 1), D(2025, 5, 31), "quarter", "month")),
    # the whole year
    ("в течение года", YEAR),
    ("в течение всего года", YEAR),
    ("на протяжении года", YEAR),
    ("весь год", YEAR),
    ("круглый год", YEAR),
    ("2025 год", YEAR),
    ("2025 г.", YEAR),
    ("в 2025 году", YEAR),
    ("в течение 2025 года", YEAR),
    ("весь 2026 год", (D(2026, 1, 1), D(2026, 12, 31), "year", "year")),
    ("2024–2025 гг.", (D(2024, 1, 1), D(2025, 12, 31), "year", "year")),
]


@pytest.mark.parametrize(("text", "expected"), PERIODS)
def test_period(text: str, expected: tuple[object, ...]) -> None:
    r = read(text)
    assert (r.start, r.end, r.start_precision, r.end_precision) == expected
    assert (r.time, r.end_time, r.rrule, r.deadline, r.note) == (None, None, None, False, None)


def test_year_in_text_beats_plan_year() -> None:
    assert period("12.03.2026", 2025)[0] == D(2026, 3, 12)
    assert period("12 марта 2023 г.", 2025)[0] == D(2023, 3, 12)
    assert period("12 марта", 2031)[0] == D(2031, 3, 12)
    assert period("29 февраля", 2024)[0] == D(2024, 2, 29)


# --- month names: every month in every case ---------------------------------------------------------

NOMINATIVE = [
    "январь",
    "февраль",
    "март",
    "апрель",
    "май",
    "июнь",
    "июль",
    "август",
    "сентябрь",
    "октябрь",
    "ноябрь",
    "декабрь",
]
GENITIVE = [
    "января",
    "февраля",
    "марта",
    "апреля",
    "мая",
    "июня",
    "июля",
    "августа",
    "сентября",
    "октября",
    "ноября",
    "декабря",
]
PREPOSITIONAL = [
    "январе",
    "феврале",
    "марте",
    "апреле",
    "мае",
    "июне",
    "июле",
    "августе",
    "сентябре",
    "октябре",
    "ноябре",
    "декабре",
]
CLDR_ABBREVIATED = [
    "янв.",
    "февр.",
    "мар.",
    "апр.",
    "мая",
    "июн.",
    "июл.",
    "авг.",
    "сент.",
    "окт.",
    "нояб.",
    "дек.",
]
SHORT = ["янв", "фев", "мар", "апр", "май", "июн", "июл", "авг", "сен", "окт", "ноя", "дек"]


def _cases(word: str) -> list[str]:
    return [word, word.upper(), word.capitalize()]


@pytest.mark.parametrize("month", range(1, 13))
def test_every_month_in_every_case(month: int) -> None:
    last = calendar.monthrange(2025, month)[1]
    whole = (D(2025, month, 1), D(2025, month, last), "month", "month")
    one_day = (D(2025, month, 5), D(2025, month, 5), "day", "day")
    i = month - 1
    for word in _cases(NOMINATIVE[i]):
        assert period(word) == whole, word
        assert period(f"{word} 2025 г.") == whole, word
    for word in _cases(GENITIVE[i]):
        assert period(f"5 {word}") == one_day, word
        assert period(f"с {word}")[0] == whole[0], word
    for word in _cases(PREPOSITIONAL[i]):
        assert period(f"в {word}") == whole, word
    for abbreviation in (CLDR_ABBREVIATED[i], SHORT[i]):
        for word in (
            _cases(abbreviation) + _cases(abbreviation.rstrip(".")) + _cases(abbreviation.rstrip(".") + ".")
        ):
            assert period(word) == whole, word
            assert period(f"5 {word}") == one_day, word


def test_yo_and_ye_are_one_letter() -> None:
    assert read("октябрь (приём заявок)").note == "приём заявок"
    assert read("октябрь (прием заявок)").note == "прием заявок"
    assert period("в течЁние года") == YEAR
    assert read("четвёртый квартал").start == D(2025, 10, 1)
    assert read("четвертый квартал").start == D(2025, 10, 1)


# --- weekdays ------------------------------------------------------------------------------------------

WEEKDAYS = ["понедельник", "вторник", "среда", "четверг", "пятница", "суббота", "воскресенье"]
WEEKDAY_ABBR = ["пн", "вт", "ср", "чт", "пт", "сб", "вс"]
WEEKDAYS_EN = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
BYDAY = ["MO", "TU", "WE", "TH", "FR", "SA", "SU"]
DATIVE_PLURAL = ["понедельникам", "вторникам", "средам", "четвергам", "пятницам", "субботам", "воскресеньям"]
ACCUSATIVE = [
    "каждый понедельник",
    "каждый вторник",
    "каждую среду",
    "каждый четверг",
    "каждую пятницу",
    "каждую субботу",
    "каждое воскресенье",
]


@pytest.mark.parametrize("weekday", range(7))
def test_weekday_checks_the_date(weekday: int) -> None:
    d = 3 + weekday  # 3 March 2025 is a Monday
    for name in [*_cases(WEEKDAYS[weekday]), *_cases(WEEKDAY_ABBR[weekday]), WEEKDAY_ABBR[weekday] + "."]:
        assert read(f"{name}, {d} марта").start == D(2025, 3, d), name
        assert read(f"{d:02d}.03 ({name})").start == D(2025, 3, d), name
        wrong = d + 1
        err = fails(f"{name}, {wrong} марта", name, f"{wrong} марта")
        assert WEEKDAYS_EN[(weekday + 1) % 7] in err.reason  # says which weekday the date really is


@pytest.mark.parametrize("weekday", range(7))
def test_weekly_rules_for_every_weekday(weekday: int) -> None:
    rule = f"FREQ=WEEKLY;BYDAY={BYDAY[weekday]}"
    assert read(f"по {DATIVE_PLURAL[weekday]}").rrule == rule
    assert read(ACCUSATIVE[weekday]).rrule == rule
    assert read(f"еженедельно, по {DATIVE_PLURAL[weekday].upper()}").rrule == rule


def test_weekday_errors() -> None:
    fails("Вторник, 12 марта", "Вторник", "12 марта", "Wednesday")
    fails("март, среда", "среда", "март")
    fails("среда", "среда")
    fails("среду", "среду")


# --- recurrence -----------------------------------------------------------------------------------------

RULES: list[tuple[str, tuple[object, ...], str | None, str | None]] = [
    ("еженедельно", YEAR, "FREQ=WEEKLY", None),
    ("ежемесячно", YEAR, "FREQ=MONTHLY", None),
    ("ежеквартально", YEAR, "FREQ=MONTHLY;INTERVAL=3", None),
    ("раз в квартал", YEAR, "FREQ=MONTHLY;INTERVAL=3", None),
    ("ежедневно", YEAR, "FREQ=DAILY", None),
    ("раз в полгода", YEAR, "FREQ=MONTHLY;INTERVAL=6", None),
    ("ежегодно", YEAR, "FREQ=YEARLY", None),
    ("раз в месяц", YEAR, "FREQ=MONTHLY", None),
    ("1 раз в месяц", YEAR, "FREQ=MONTHLY", None),
    ("один раз в неделю", YEAR, "FREQ=WEEKLY", None),
    ("раз в 2 недели", YEAR, "FREQ=WEEKLY;INTERVAL=2", None),
    ("каждые три месяца", YEAR, "FREQ=MONTHLY;INTERVAL=3", None),
    ("каждый месяц", YEAR, "FREQ=MONTHLY", None),
    ("каждую среду", YEAR, "FREQ=WEEKLY;BYDAY=WE", None),
    ("по средам", YEAR, "FREQ=WEEKLY;BYDAY=WE", None),
    ("еженедельно, по вторникам", YEAR, "FREQ=WEEKLY;BYDAY=TU", None),
    ("по вторникам и четвергам", YEAR, "FREQ=WEEKLY;BYDAY=TU,TH", None),
    ("по вторникам, четвергам", YEAR, "FREQ=WEEKLY;BYDAY=TU,TH", None),
    ("каждый четверг и вторник", YEAR, "FREQ=WEEKLY;BYDAY=TU,TH", None),
    # «twice a month» has no exact RRULE without its days: the words are kept, no rule is guessed
    ("дважды в месяц", YEAR, None, "дважды в месяц"),
    ("2 раза в месяц", YEAR, None, "2 раза в месяц"),
    ("март–декабрь, ежемесячно", (D(2025, 3, 1), D(2025, 12, 31), "month", "month"), "FREQ=MONTHLY", None),
    (
        "январь–декабрь, ежеквартально",
        (D(2025, 1, 1), D(2025, 12, 31), "month", "month"),
        "FREQ=MONTHLY;INTERVAL=3",
        None,
    ),
    ("ежегодно в марте", (D(2025, 3, 1), D(2025, 3, 31), "month", "month"), "FREQ=YEARLY", None),
    ("II полугодие, по пятницам", h(2), "FREQ=WEEKLY;BYDAY=FR", None),
]


@pytest.mark.parametrize(("text", "expected", "rrule", "note"), RULES)
def test_recurrence(text: str, expected: tuple[object, ...], rrule: str | None, note: str | None) -> None:
    r = read(text)
    assert (r.start, r.end, r.start_precision, r.end_precision) == expected
    assert (r.rrule, r.note) == (rrule, note)


def test_open_start_with_recurrence() -> None:
    r = read("с марта, ежемесячно")
    assert (r.start, r.end, r.rrule) == (D(2025, 3, 1), None, "FREQ=MONTHLY")


def test_recurrence_errors() -> None:
    fails("ежемесячно, по средам", "ежемесячно", "по средам")
    fails("ежемесячно, дважды в месяц", "ежемесячно", "дважды в месяц")
    fails("до 20 ноября, ежемесячно", "ежемесячно", "до 20 ноября")


# --- times ------------------------------------------------------------------------------------------------

T = dt.time

TIMES: list[tuple[str, T, T | None]] = [
    ("12 марта, 14:00", T(14, 0), None),
    ("12 марта в 14.00", T(14, 0), None),
    ("12 марта в 9:30", T(9, 30), None),
    ("12.03 в 10.05", T(10, 5), None),
    ("12.03.2025 14:00", T(14, 0), None),
    ("14:00, 12 марта", T(14, 0), None),
    ("12 марта, 10:00–12:00", T(10, 0), T(12, 0)),
    ("12 марта с 10:00 до 12:00", T(10, 0), T(12, 0)),
    ("12 марта, с 10.00 до 12.00", T(10, 0), T(12, 0)),
    ("12 марта, 10.00-12.00", T(10, 0), T(12, 0)),
    ("12.03, 14.30", T(14, 30), None),
    ("12 марта в 14:00 - 16:00 ч.", T(14, 0), T(16, 0)),
    ("12 марта, 0:00", T(0, 0), None),
    ("12 марта, 23:59", T(23, 59), None),
]


@pytest.mark.parametrize(("text", "start", "end"), TIMES)
def test_time(text: str, start: T, end: T | None) -> None:
    r = read(text)
    assert (r.start, r.end) == (D(2025, 3, 12), D(2025, 3, 12))
    assert (r.time, r.end_time, r.note) == (start, end, None)


def test_time_with_a_weekly_rule_and_a_range_of_days() -> None:
    r = read("по средам, 14:00")
    assert (r.rrule, r.time, r.start, r.end) == (
        "FREQ=WEEKLY;BYDAY=WE",
        T(14, 0),
        D(2025, 1, 1),
        D(2025, 12, 31),
    )
    r = read("3–7 ноября, 10:00–17:00")
    assert (r.start, r.end, r.time, r.end_time) == (D(2025, 11, 3), D(2025, 11, 7), T(10, 0), T(17, 0))


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("12 марта, 25:00", "25:00"),
        ("12 марта, 14:60", "14:60"),
        ("12 марта, 24:00", "24:00"),
        ("12 марта, 16:00–14:00", "16:00–14:00"),
        ("14:00", "14:00"),
        ("с 10:00 до 12:00", "с 10:00 до 12:00"),
        ("март, 14:00", "14:00"),
        ("12 марта, 14:00, 15:00", "15:00"),
    ],
)
def test_time_errors(text: str, fragment: str) -> None:
    fails(text, fragment)


def test_ambiguous_dotted_pair_is_not_taken_for_a_time() -> None:
    # «10.05» could be 10 May or 10:05: without «в» it is a second date, which is an error, not a guess
    err = fails("12 марта, 10.05", "12 марта", "10.05")
    assert "10:05" in err.reason


# --- deadlines and open starts --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "end", "precision"),
    [
        ("до 20 ноября", D(2025, 11, 20), "day"),
        ("до 20.11", D(2025, 11, 20), "day"),
        ("до 20.11.2026", D(2026, 11, 20), "day"),
        ("не позднее 20 ноября", D(2025, 11, 20), "day"),
        ("не позже 20 ноября", D(2025, 11, 20), "day"),
        ("до конца марта", D(2025, 3, 31), "month"),
        ("до конца февраля 2024 г.", D(2024, 2, 29), "month"),
        ("до конца III квартала", D(2025, 9, 30), "quarter"),
        ("до конца первого полугодия", D(2025, 6, 30), "half"),
        ("до конца года", D(2025, 12, 31), "year"),
        ("до конца 2026 года", D(2026, 12, 31), "year"),
    ],
)
def test_deadline(text: str, end: dt.date, precision: str) -> None:
    r = read(text)
    assert (r.start, r.end, r.start_precision, r.end_precision, r.deadline) == (
        None,
        end,
        None,
        precision,
        True,
    )


@pytest.mark.parametrize(
    ("text", "start", "precision"),
    [
        ("с 3 ноября", D(2025, 11, 3), "day"),
        ("начиная с 3 ноября", D(2025, 11, 3), "day"),
        ("с 03.11.2026", D(2026, 11, 3), "day"),
        ("с марта", D(2025, 3, 1), "month"),
        ("начиная с III квартала", D(2025, 7, 1), "quarter"),
        ("со второго полугодия", D(2025, 7, 1), "half"),
    ],
)
def test_open_start(text: str, start: dt.date, precision: str) -> None:
    r = read(text)
    assert (r.start, r.end, r.start_precision, r.end_precision, r.deadline) == (
        start,
        None,
        precision,
        None,
        False,
    )


def test_deadline_errors() -> None:
    err = fails("до марта", "до марта")
    assert "28.02" in err.reason and "31.03" in err.reason  # both readings are offered, none is chosen
    fails("по ноябрь", "по ноябрь")  # «по D» is a deadline (issue 21); a month has no single last day
    fails("до конца 20 ноября", "до конца 20 ноября")


# --- notes ------------------------------------------------------------------------------------------------

NOTES: list[tuple[str, str]] = [
    ("октябрь (приём заявок)", "приём заявок"),
    ("январь (прием работ)", "прием работ"),
    ("январь–декабрь, по запросам", "по запросам"),
    ("весь год, по запросам", "по запросам"),
    ("весь год (по запросам)", "по запросам"),
    ("(по запросам) весь год", "по запросам"),
    ("12 марта (в читальном зале)", "в читальном зале"),
    ("12 марта, г. Гусев", "г. Гусев"),
    ("12 марта в  читальном\u00a0зале", "в читальном зале"),
    ("январь–декабрь; ежемесячно; по запросам", "по запросам"),
    ("март (онлайн); по заявкам", "онлайн; по заявкам"),
    ("март (приём (онлайн) заявок)", "приём (онлайн) заявок"),
    ("март – (по запросам)", "по запросам"),
    ("приём заявок: до 20 ноября", "приём заявок"),
    ("январь–декабрь, <i>по запросам</i>", "по запросам"),
    # numbers that count grades, minutes or ages are notes next to a date (alone they are errors below)
    ("12 марта (16+)", "16+"),
    ("12 марта, 7–11 кл.", "7–11 кл."),
    ("12 марта, для детей 6-10 лет", "для детей 6-10 лет"),
]


@pytest.mark.parametrize(("text", "note"), NOTES)
def test_note_keeps_the_words_not_read(text: str, note: str) -> None:
    assert read(text).note == note


def test_words_glued_before_a_date_are_an_error() -> None:
    # «после», «не ранее», «около» change what the date means: they are not dropped into a note
    fails("после 20 ноября", "после", "20 ноября")
    fails("не ранее 20 ноября", "не ранее")
    fails("около 20 ноября", "около")


# --- dashes, spaces and markup ------------------------------------------------------------------------------


@pytest.mark.parametrize("dash", ["-", "–", "—", "−", "‑"])
@pytest.mark.parametrize("space", ["", " ", "\u00a0", "  ", "\u202f"])
def test_dashes_and_spaces(dash: str, space: str) -> None:
    assert period(f"март{space}{dash}{space}май") == (D(2025, 3, 1), D(2025, 5, 31), "month", "month")
    assert period(f"3{space}{dash}{space}7 ноября") == NOV3_7
    assert period(f"03.11{space}{dash}{space}07.11") == NOV3_7
    assert read(f"12 марта, 10:00{space}{dash}{space}12:00").end_time == T(12, 0)


def test_markup_and_stray_characters() -> None:
    assert read("январь–декабрь, <i>еженедельно</i>").rrule == "FREQ=WEEKLY"
    assert period("<I>март</I>") == (D(2025, 3, 1), D(2025, 3, 31), "month", "month")
    assert period("<i>12 марта</i>.") == MAR12
    assert period("12 марта\t\n") == MAR12
    assert period("12\x00марта") == MAR12
    assert period("«12 марта»") == MAR12
    assert period("— 12 марта —") == MAR12


# --- errors ----------------------------------------------------------------------------------------------

ERRORS: list[tuple[str, list[str]]] = [
    # impossible dates
    ("31 февраля", ["31 февраля", "February 2025"]),
    ("30.02", ["30.02", "February"]),
    ("32 марта", ["32 марта"]),
    ("29 февраля 2025", ["29 февраля 2025", "leap"]),
    ("29.02.2025", ["29.02.2025"]),
    ("12.13", ["12.13", "month 13"]),
    ("12.13.2025", ["12.13.2025", "month 13"]),
    ("31.04", ["31.04", "April"]),
    ("0 марта", ["0 марта"]),
    ("V квартал", []),  # V is no Roman numeral of a quarter
    ("5 квартал", ["5 квартал", "quarter 5"]),
    ("III полугодие", ["III полугодие", "half-year 3"]),
    # not dates
    ("16+", ["16+"]),
    ("7–11 кл.", ["7–11 кл."]),
    ("3–7 мин.", ["3–7 мин."]),
    ("12", ["12"]),
    ("3–7", ["3–7"]),
    ("2025", ["2025"]),
    ("завтра", ["завтра"]),
    ("по согласованию", ["по согласованию"]),
    ("(приём заявок)", ["(приём заявок)"]),
    ("квартал", ["квартал"]),
    ("в течение учебного года", ["года"]),
    ("март этого года", ["года"]),
    # looks like a date, not fully readable
    ("12 мартобря", ["12 мартобря", "мартобря"]),
    ("январь, мартобрь", ["мартобрь"]),
    ("12 марта 99999", ["99999"]),
    ("99999999 марта", ["99999999 марта"]),
    ("123456789012 марта", ["123456789012"]),
    ("12 и 15 апреля, май", ["12", "15 апреля"]),
    ("12 марта, 3 дня", ["3 дня"]),  # a duration would change the period: not a note
    ("12 марта, каб. 305", ["305"]),
    # conflicting parts
    ("12 марта, 15 апреля", ["12 марта", "15 апреля"]),
    ("март, 15 мая", ["март", "15 мая"]),  # a month and a day: two dates of different kinds
    ("весь год, март", ["весь год", "март"]),
    # ranges that end before they start: no year is guessed
    ("ноябрь–февраль", ["ноябрь–февраль", "year"]),
    ("7–3 мая", ["7–3 мая"]),
    ("15 мая – 3 мая", ["15 мая – 3 мая"]),
    ("декабрь – январь 2025", ["декабрь – январь 2025"]),
    ("II–I квартал", ["II–I квартал"]),
    ("3 – май", ["3 – май"]),
    # years out of range
    ("12.03.0000", ["12.03.0000", "0"]),
    ("12 марта 1066", ["1066"]),
    ("весь 9999 год", ["9999"]),
]


@pytest.mark.parametrize(("text", "fragments"), ERRORS)
def test_error(text: str, fragments: list[str]) -> None:
    fails(text, *fragments)


@pytest.mark.parametrize("text", ["", "   ", "\u00a0", "\t\n", "<i></i>", ".", ",;"])
def test_empty_cells_are_errors(text: str) -> None:
    fails(text)


def test_too_long_and_bad_plan_year() -> None:
    err = fails("12 марта " + "x" * 600)
    assert "500" in err.reason
    fails("12 марта", year=0)
    fails("12 марта", year=99999)
    assert read("x" * 480 + ", 12 марта").note == "x" * 480


def test_error_object() -> None:
    with pytest.raises(DateReadError) as info:
        read_date("31 февраля", 2025)
    err = info.value
    assert isinstance(err, ValueError)
    assert err.to_json() == {"text": "31 февраля", "error": err.reason}
    assert list(err.to_json()) == ["text", "error"]
    assert str(err) == err.reason


# --- Reading.to_json ---------------------------------------------------------------------------------------


def test_to_json() -> None:
    r = read("12 марта, 10:00–12:00 (онлайн)")
    assert r.to_json() == {
        "text": "12 марта, 10:00–12:00 (онлайн)",
        "start": "2025-03-12",
        "end": "2025-03-12",
        "start_precision": "day",
        "end_precision": "day",
        "time": "10:00",
        "end_time": "12:00",
        "rrule": None,
        "deadline": False,
        "note": "онлайн",
    }
    assert list(r.to_json()) == JSON_KEYS
    deadline = read("до 20 ноября").to_json()
    assert (deadline["start"], deadline["end"], deadline["deadline"]) == (None, "2025-11-20", True)


def test_reading_is_frozen_and_deterministic() -> None:
    r = read("март–май")
    with pytest.raises(AttributeError):
        r.start = None  # type: ignore[misc]
    assert read_date("март–май", 2025) == r
    assert dates._read("март–май", 2025) == r


# --- properties --------------------------------------------------------------------------------------------

DASHES = st.sampled_from(["-", "–", "—", "−"])
SPACES = st.sampled_from(["", " ", "\u00a0", "  "])
ROMAN = ["I", "II", "III", "IV"]


def _case(draw: st.DrawFn, word: str) -> str:
    how = draw(st.sampled_from(["lower", "upper", "title", "mixed"]))
    if how == "upper":
        return word.upper()
    if how == "title":
        return word.capitalize()
    if how == "mixed":
        flips = draw(st.lists(st.booleans(), min_size=len(word), max_size=len(word)))
        return "".join(c.upper() if f else c for c, f in zip(word, flips, strict=True))
    return word


def _month_word(draw: st.DrawFn, month: int, *, genitive: bool) -> str:
    forms = [GENITIVE[month - 1] if genitive else NOMINATIVE[month - 1], SHORT[month - 1]]
    forms += [CLDR_ABBREVIATED[month - 1], CLDR_ABBREVIATED[month - 1].rstrip(".")]
    return _case(draw, draw(st.sampled_from(forms)))


def _year_suffix(draw: st.DrawFn, year: int | None) -> str:
    if year is None:
        return ""
    return f" {year}" + draw(st.sampled_from(["", " г.", " года", "г."]))


def _day_text(draw: st.DrawFn, d: dt.date, year: int | None) -> str:
    if draw(st.booleans()):
        return f"{d.day} {_month_word(draw, d.month, genitive=True)}{_year_suffix(draw, year)}"
    day = draw(st.sampled_from([str(d.day), f"{d.day:02d}"]))
    month = draw(st.sampled_from([str(d.month), f"{d.month:02d}"]))
    text = f"{day}.{month}"
    if year is not None:
        text += draw(st.sampled_from([f".{year}", f".{year % 100:02d}"]))
    return text


def _month_text(draw: st.DrawFn, month: int, year: int | None) -> str:
    return f"{_month_word(draw, month, genitive=False)}{_year_suffix(draw, year)}"


def _dash(draw: st.DrawFn) -> str:
    return draw(SPACES) + draw(DASHES) + draw(SPACES)


def _month_end(year: int, month: int) -> dt.date:
    return D(year, month, calendar.monthrange(year, month)[1])


@st.composite
def rendered_periods(draw: st.DrawFn) -> tuple[str, int, tuple[object, ...]]:
    """A period in one of many written styles, with the plan year and the expected reading."""
    plan_year = draw(st.integers(2000, 2098))
    explicit = draw(st.booleans())
    year = draw(st.integers(2000, 2098)) if explicit else plan_year
    written = year if explicit else None
    kind = draw(
        st.sampled_from(["day", "days", "day-day", "month", "months", "mixed", "quarter", "half", "cross"])
    )
    if kind == "day":
        d = draw(st.dates(D(year, 1, 1), D(year, 12, 31)))
        text = _day_text(draw, d, written)
        if draw(st.booleans()):
            text = f"{_case(draw, WEEKDAYS[d.weekday()])}, {text}"
        return text, plan_year, (d, d, "day", "day")
    if kind == "days":  # «3 – 7 ноября», «3–7.11.2025», «с 3 по 7 ноября»
        month = draw(st.integers(1, 12))
        last = calendar.monthrange(year, month)[1]
        a = draw(st.integers(1, last))
        b = draw(st.integers(a, last))
        if draw(st.booleans()):
            tail = f"{b} {_month_word(draw, month, genitive=True)}{_year_suffix(draw, written)}"
        else:
            tail = f"{b}.{month:02d}" + (f".{year}" if written else "")
        text = f"с {a} по {tail}" if draw(st.booleans()) else f"{a}{_dash(draw)}{tail}"
        return text, plan_year, (D(year, month, a), D(year, month, b), "day", "day")
    if kind == "day-day":
        since = draw(st.dates(D(year, 1, 1), D(year, 12, 31)))
        until = draw(st.dates(since, D(year, 12, 31)))
        first, second = _day_text(draw, since, written), _day_text(draw, until, written)
        text = f"с {first} по {second}" if draw(st.booleans()) else f"{first}{_dash(draw)}{second}"
        return text, plan_year, (since, until, "day", "day")
    if kind == "month":
        month = draw(st.integers(1, 12))
        if draw(st.booleans()):
            text = f"в {_case(draw, PREPOSITIONAL[month - 1])}{_year_suffix(draw, written)}"
        else:
            text = _month_text(draw, month, written)
        return text, plan_year, (D(year, month, 1), _month_end(year, month), "month", "month")
    if kind == "months":
        a = draw(st.integers(1, 12))
        b = draw(st.integers(a, 12))
        if draw(st.booleans()):
            text = f"{_month_text(draw, a, None)}{_dash(draw)}{_month_text(draw, b, written)}"
        else:
            text = f"с {_month_word(draw, a, genitive=True)} по {_month_text(draw, b, written)}"
        return text, plan_year, (D(year, a, 1), _month_end(year, b), "month", "month")
    if kind == "mixed":  # «март - 15 мая», «15 марта – май»
        a = draw(st.integers(1, 12))
        b = draw(st.integers(a, 12))
        if draw(st.booleans()):
            end = draw(st.dates(D(year, b, 1), _month_end(year, b)))
            text = f"{_month_text(draw, a, None)}{_dash(draw)}{_day_text(draw, end, written)}"
            return text, plan_year, (D(year, a, 1), end, "month", "day")
        begin = draw(st.dates(D(year, a, 1), _month_end(year, a)))
        text = f"{_day_text(draw, begin, None)}{_dash(draw)}{_month_text(draw, b, written)}"
        return text, plan_year, (begin, _month_end(year, b), "day", "month")
    if kind == "quarter":
        a = draw(st.integers(1, 4))
        b = draw(st.integers(a, 4))
        word = _case(draw, draw(st.sampled_from(["квартал", "кв.", "кв"])))
        number = [ROMAN[a - 1], str(a), f"{a}-й"] if a == b else [ROMAN[a - 1]]
        start = draw(st.sampled_from(number))
        if a == b:
            text = f"{start} {word}{_year_suffix(draw, written)}"
        else:
            text = f"{start}{_dash(draw)}{ROMAN[b - 1]} {word}{_year_suffix(draw, written)}"
        return text, plan_year, (D(year, 3 * a - 2, 1), _month_end(year, 3 * b), "quarter", "quarter")
    if kind == "half":
        n = draw(st.integers(1, 2))
        number = draw(st.sampled_from([ROMAN[n - 1], str(n), f"{n}-е", ["первое", "второе"][n - 1]]))
        text = f"{number} {_case(draw, 'полугодие')}{_year_suffix(draw, written)}"
        return text, plan_year, (D(year, 6 * n - 5, 1), _month_end(year, 6 * n), "half", "half")
    # a period across the new year: both years written
    since = draw(st.dates(D(year, 1, 1), D(year, 12, 31)))
    until = draw(st.dates(D(year + 1, 1, 1), D(year + 1, 12, 31)))
    text = f"{_day_text(draw, since, year)}{_dash(draw)}{_day_text(draw, until, year + 1)}"
    return text, plan_year, (since, until, "day", "day")


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rendered_periods())
def test_generated_periods_read_as_generated(case: tuple[str, int, tuple[object, ...]]) -> None:
    text, plan_year, expected = case
    r = read(text, plan_year)
    assert (r.start, r.end, r.start_precision, r.end_precision) == expected, text
    assert (r.time, r.end_time, r.rrule, r.deadline, r.note) == (None, None, None, False, None)
    # the shortcut for common cells and the full parser agree
    assert dates._read(text, plan_year, fast=False) == r


@settings(max_examples=100, deadline=None)
@given(st.data())
def test_impossible_days_are_errors(data: st.DataObject) -> None:
    year = data.draw(st.integers(2000, 2099))
    month = data.draw(st.integers(1, 12))
    day = data.draw(st.integers(calendar.monthrange(year, month)[1] + 1, 99))
    text = data.draw(st.sampled_from([f"{day} {GENITIVE[month - 1]}", f"{day}.{month:02d}.{year}"]))
    fails(text, text, year=year)


@settings(max_examples=100, deadline=None)
@given(st.integers(1, 12), st.integers(1, 12), DASHES, SPACES)
def test_month_ranges_in_either_order(a: int, b: int, dash: str, space: str) -> None:
    text = f"{NOMINATIVE[a - 1]}{space}{dash}{space}{NOMINATIVE[b - 1]}"
    if a <= b:
        assert period(text) == (D(2025, a, 1), _month_end(2025, b), "month", "month")
    else:
        fails(text, text)


_DATE_WORDS = [
    *GENITIVE,
    *NOMINATIVE,
    *PREPOSITIONAL,
    "кв.",
    "квартал",
    "полугодие",
    "год",
    "года",
    "г.",
    "в",
    "с",
    "по",
    "до",
    "конца",
    "течение",
    "весь",
    "не позднее",
    "начиная",
    "каждую",
    "среду",
    "по средам",
    "раз в",
    "месяц",
    "дважды",
    "ежемесячно",
    "ср",
    "среда",
    "III",
    "2-е",
    "2025",
    "12:00",
    "14.00",
    "<i>",
    "</i>",
    "(",
    ")",
    ",",
    ";",
    "–",
    "-",
    ".",
    "+",
    "ё",
    "\u00a0",
    "\x00",
    "İ",
    "٣",
]
date_like_text = st.lists(
    st.one_of(st.sampled_from(_DATE_WORDS), st.integers(0, 10**6).map(str), st.text(max_size=3)),
    max_size=12,
).map(lambda parts: " ".join(parts) if len(parts) % 2 else "".join(parts))


@settings(max_examples=250, deadline=None)
@given(
    st.one_of(st.text(max_size=60), st.text(min_size=490, max_size=520), date_like_text),
    st.integers(1900, 2100),
)
def test_any_text_reads_or_raises_date_read_error(text: str, year: int) -> None:
    started = time.perf_counter()
    try:
        r = read_date(text, year)
    except DateReadError as err:
        assert err.text == text and err.reason and str(err) == err.reason
        assert not _CYRILLIC.search(_QUOTED.sub("", err.reason)), err.reason
    else:
        check_invariants(r)
        assert dates._read(text, year, fast=False) == r
    # A guard against a hang (catastrophic backtracking), not a speed test: speed is in bench/.
    assert time.perf_counter() - started < 1.0


@settings(max_examples=100, deadline=None)
@given(st.one_of(rendered_periods().map(lambda c: (c[0], c[1])), st.tuples(date_like_text, st.just(2025))))
def test_to_json_round_trips(case: tuple[str, int]) -> None:
    text, year = case
    try:
        r = read_date(text, year)
    except DateReadError as err:
        assert err.to_json() == {"text": text, "error": err.reason}
        return
    data = r.to_json()
    assert list(data) == JSON_KEYS
    back = Reading(
        text=str(data["text"]),
        start=None if data["start"] is None else dt.date.fromisoformat(str(data["start"])),
        end=None if data["end"] is None else dt.date.fromisoformat(str(data["end"])),
        start_precision=cast("Precision | None", data["start_precision"]),
        end_precision=cast("Precision | None", data["end_precision"]),
        time=None if data["time"] is None else dt.time.fromisoformat(str(data["time"])),
        end_time=None if data["end_time"] is None else dt.time.fromisoformat(str(data["end_time"])),
        rrule=None if data["rrule"] is None else str(data["rrule"]),
        deadline=bool(data["deadline"]),
        note=None if data["note"] is None else str(data["note"]),
    )
    assert back == r
    assert isinstance(data["deadline"], bool)
    for key in ("start", "end"):
        assert data[key] is None or re.fullmatch(r"\d{4}-\d{2}-\d{2}", str(data[key]))
    for key in ("time", "end_time"):
        assert data[key] is None or re.fullmatch(r"\d{2}:\d{2}", str(data[key]))


def test_same_text_same_reading_with_or_without_the_cache() -> None:
    for row in SOURCE_PLAN:
        dates._read_cached.cache_clear()
        first = read_date(row[1], 2024)
        assert read_date(row[1], 2024) is first  # served by the cache
        assert dates._read(row[1], 2024) == first == dates._read(row[1], 2024, fast=False)
