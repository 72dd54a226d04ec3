"""Date phrases regional plans write (issue 25): a monthly weekday in words, two months in one cell,
the common misspelling «в течении», a label before a date, a closing word that adds nothing."""

from __future__ import annotations

import pytest

from plansync.planread.dates import DateReadError, read_date, read_in_section


def _read(text: str) -> tuple[str | None, str | None, str | None, bool, str | None]:
    r = read_date(text, 2025)
    return (r.start and r.start.isoformat(), r.end and r.end.isoformat(), r.rrule, r.deadline, r.note)


YEAR = ("2025-01-01", "2025-12-31")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # a weekday's place in the month, in words
        ("ежемесячно, последний четверг", (*YEAR, "FREQ=MONTHLY;BYDAY=-1TH", False, None)),
        ("ежемесячно, последняя пятница", (*YEAR, "FREQ=MONTHLY;BYDAY=-1FR", False, None)),
        ("каждую последнюю пятницу месяца", (*YEAR, "FREQ=MONTHLY;BYDAY=-1FR", False, None)),
        ("в первую среду месяца", (*YEAR, "FREQ=MONTHLY;BYDAY=1WE", False, None)),
        ("последний вторник каждого месяца", (*YEAR, "FREQ=MONTHLY;BYDAY=-1TU", False, None)),
        ("ежемесячно, каждый второй вторник", (*YEAR, "FREQ=MONTHLY;BYDAY=2TU", False, None)),
        # two or more months: an occurrence in each
        ("март, октябрь", ("2025-03-01", "2025-10-31", "FREQ=YEARLY;BYMONTH=3,10", False, None)),
        ("апрель, сентябрь", ("2025-04-01", "2025-09-30", "FREQ=YEARLY;BYMONTH=4,9", False, None)),
        ("февраль, май, ноябрь", ("2025-02-01", "2025-11-30", "FREQ=YEARLY;BYMONTH=2,5,11", False, None)),
        ("октябрь, март", ("2025-03-01", "2025-10-31", "FREQ=YEARLY;BYMONTH=3,10", False, None)),
        # days of one month, or one after another: those days
        ("17, 24 сентября", ("2025-09-17", "2025-09-24", "FREQ=MONTHLY;BYMONTHDAY=17,24", False, None)),
        ("12 и 15 марта", ("2025-03-12", "2025-03-15", "FREQ=MONTHLY;BYMONTHDAY=12,15", False, None)),
        ("4, 5 декабря", ("2025-12-04", "2025-12-05", None, False, None)),
        ("Первый день – 4 декабря, второй день – 5 декабря", ("2025-12-04", "2025-12-05", None, False, None)),
        ("Первый день – 4 декабря Второй день – 5 декабря", ("2025-12-04", "2025-12-05", None, False, None)),
        # a weekday's place in every third month
        ("ежеквартально, последняя пятница", (*YEAR, "FREQ=MONTHLY;INTERVAL=3;BYDAY=-1FR", False, None)),
        # «в течении» for «в течение»
        ("в течении года", (*YEAR, None, False, None)),
        ("в течении всего года", (*YEAR, None, False, None)),
        ("В течении года (по плану)", (*YEAR, None, False, "по плану")),
        # words before a date: a label, kept as the note
        ("Мероприятия с 31 января по 5 февраля", ("2025-01-31", "2025-02-05", None, False, "Мероприятия")),
        ("Сбор сведений – до 1 марта", (None, "2025-03-01", None, True, "Сбор сведений")),
        ("Заезд участников – 14 апреля", ("2025-04-14", "2025-04-14", None, False, "Заезд участников")),
        ("Первый день – 4 декабря", ("2025-12-04", None, None, False, None)),
        ("Приём заявок в марте", ("2025-03-01", "2025-03-31", None, False, "Приём заявок")),
        # a closing word that adds nothing
        ("15 мая г.", ("2025-05-15", "2025-05-15", None, False, None)),
        ("май месяц", ("2025-05-01", "2025-05-31", None, False, None)),
        ("ноябрь-декабрь гг.", ("2025-11-01", "2025-12-31", None, False, None)),
        ("15 мая, г. Лесной", ("2025-05-15", "2025-05-15", None, False, "г. Лесной")),
    ],
)
def test_phrase(text: str, expected: tuple[str | None, str | None, str | None, bool, str | None]) -> None:
    assert _read(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "после 20 ноября",  # the word changes the date's meaning
        "не в мае",
        "кроме 5 мая",
        "Начало – 3 – 7 мая",  # which day opens what?
        "12 марта, 15 апреля",  # two days: not two months
        "март, 15 апреля",
        "ежемесячно, последний четверг, по средам",  # two ways of repeating
    ],
)
def test_what_still_has_no_single_reading(text: str) -> None:
    with pytest.raises(DateReadError):
        read_date(text, 2025)


@pytest.mark.parametrize(
    ("text", "heading", "period"),
    [
        ("в течение квартала", "III квартал", ("2025-07-01", "2025-09-30")),
        ("в течении месяца", "ОКТЯБРЬ", ("2025-10-01", "2025-10-31")),
        ("в течение полугодия", "II полугодие", ("2025-07-01", "2025-12-31")),
        ("в течение квартала", "Методическая работа", None),  # the heading is no quarter
        ("в течение месяца", "III квартал", None),  # nor the unit the cell says
    ],
)
def test_a_date_that_refers_to_its_section(text: str, heading: str, period: tuple[str, str] | None) -> None:
    if period is None:
        with pytest.raises(DateReadError, match="refers to its section"):
            read_in_section(text, 2025, heading)
        return
    r = read_in_section(text, 2025, heading)
    assert (r.start and r.start.isoformat(), r.end and r.end.isoformat()) == period
    with pytest.raises(DateReadError):
        read_date(text, 2025)  # alone, without its section, it names no period


def test_two_months_are_no_invented_days_in_calendars() -> None:
    from plansync.calendar.wording import date_kind, title_label, when_words

    r = read_date("март, октябрь", 2025)
    assert date_kind(r) == "vague-series"  # one labelled item, no day the plan does not give
    assert title_label("vague-series", r, r.start, r.end) == "в марте и октябре, дата уточняется"  # type: ignore[arg-type]
    assert when_words(r) == (
        "Повторяется в марте и октябре; дни повторений в плане не указаны, уточняйте у организаторов."
    )
