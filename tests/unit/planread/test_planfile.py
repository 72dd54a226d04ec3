"""The plan loader: the 2024 plan loads, and every validation rule gives its file:line message."""

from __future__ import annotations

import datetime as dt
import textwrap
from pathlib import Path

import pytest

from plansync.errors import InvalidInput, Problem
from plansync.planread.planfile import check_plan, load_plan, override_warnings
from tests.support.paths import PLAN_2024
from tests.support.plans import GOOD_PLAN


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "plan.yaml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def problems(tmp_path: Path, text: str) -> list[Problem]:
    return check_plan(write(tmp_path, text))


def only(tmp_path: Path, text: str) -> Problem:
    found = problems(tmp_path, text)
    assert len(found) == 1, "\n".join(map(str, found))
    return found[0]


def test_the_2024_plan_is_valid_and_complete() -> None:
    plan = load_plan(PLAN_2024)
    assert plan.year == 2024 and plan.timezone == "Europe/Kaliningrad"
    assert len(plan.events) == 35
    assert sum(e.section == "year-round" for e in plan.events) == 10
    assert sum(e.section == "dated" for e in plan.events) == 25
    assert len(plan.organizations) == 7
    with_mail = {o.id: o.contacts.emails for o in plan.organizations if o.contacts.emails}
    assert with_mail == {
        "konb": ("nmo@lib39.ru",),
        "gaidar": ("gaidar39@librgaidar.net",),
        "mayakovsky": ("mayak_biblio@mail.ru",),
        "kosb": ("kobs@inbox.ru",),
    }
    broken_row = next(e for e in plan.events if e.key == "dated-15")
    assert broken_row.title.endswith("слабовидящими пользователями библиотеки»")
    assert broken_row.reading.start == broken_row.reading.end == dt.date(2024, 7, 26)
    first = next(e for e in plan.events if e.key == "year-round-01")
    assert first.organizers == ("project-office-rgb", "minculture", "konb")
    assert first.form == "Еженедельные совещания"
    assert "<i>" not in first.title and first.title.endswith("Мониторинг.")


def test_good_plan_loads(tmp_path: Path) -> None:
    plan = load_plan(write(tmp_path, GOOD_PLAN))
    assert [e.key for e in plan.events] == ["dated-01", "dated-02"]
    assert plan.events[1].reading.start == dt.date(2025, 7, 1)
    assert plan.events[1].reading.end == dt.date(2025, 7, 5)
    assert plan.events_of("gaidar") == (plan.events[1],)


def test_message_format_names_file_line_col_field_and_fix(tmp_path: Path) -> None:
    p = only(tmp_path, GOOD_PLAN.replace("organizers: [konb, gaidar]", "organizers: [konb, gaidr]"))
    assert str(p) == (
        f"{tmp_path / 'plan.yaml'}:32:24: events[1].organizers[1]: unknown organization id 'gaidr'"
        " — did you mean 'gaidar'?"
    )


def test_malformed_yaml(tmp_path: Path) -> None:
    p = only(tmp_path, GOOD_PLAN.replace("  year: 2025", "  year: [2025"))
    assert p.field == "(file)" and "not valid YAML" in p.message and p.line >= 4


def test_unknown_field_suggests_the_right_one(tmp_path: Path) -> None:
    found = problems(tmp_path, GOOD_PLAN.replace("    organizers: [konb]\n", "    organisers: [konb]\n"))
    assert [(p.line, p.field, p.message, p.hint) for p in found] == [
        (
            22,
            "events[0].organizers",
            "required field 'organizers' is missing",
            "add `organizers:` to events[0]",
        ),
        (28, "events[0].organisers", "unknown field 'organisers'", "did you mean 'organizers'?"),
    ]


def test_missing_required_field(tmp_path: Path) -> None:
    found = problems(tmp_path, GOOD_PLAN.replace("    title: Фестиваль\n", ""))
    assert [(p.field, p.message) for p in found] == [("events[1].title", "required field 'title' is missing")]
    assert found[0].line == 29  # the event's first line


def test_wrong_types(tmp_path: Path) -> None:
    found = problems(
        tmp_path, GOOD_PLAN.replace("year: 2025", "year: двадцать").replace("number: 1", "number: [1]")
    )
    fields = {p.field: p.message for p in found}
    assert "whole number" in fields["plan.year"]
    assert "expected a text" in fields["events[0].number"]


@pytest.mark.parametrize("number", ["7", "1.1", "'1.10'", "1.1.2", "II.1", "IV"])
def test_event_numbers_as_published(tmp_path: Path, number: str) -> None:
    assert problems(tmp_path, GOOD_PLAN.replace("number: 1", f"number: {number}")) == []


@pytest.mark.parametrize("number", ["один", "1a", "1..2", "'-'"])
def test_what_is_no_event_number(tmp_path: Path, number: str) -> None:
    found = problems(tmp_path, GOOD_PLAN.replace("number: 1", f"number: {number}"))
    assert [p.message for p in found] == [f"'{number.strip(chr(39))}' is not an event number"]


def test_duplicate_keys_in_a_mapping(tmp_path: Path) -> None:
    p = only(tmp_path, GOOD_PLAN.replace("    form: Вебинар\n", "    form: Вебинар\n    form: Семинар\n"))
    assert p.message == "duplicate key 'form' (first given on line 25)" and p.line == 26


def test_duplicate_event_keys_and_ids(tmp_path: Path) -> None:
    p = only(tmp_path, GOOD_PLAN.replace("key: dated-02", "key: dated-01"))
    assert (p.line, p.message) == (29, "event key 'dated-01' is already used by events[0]")
    found = problems(tmp_path, GOOD_PLAN.replace("id: gaidar", "id: konb"))
    assert [p.message for p in found] == [
        "organization id 'konb' is used twice",
        "unknown organization id 'gaidar'",
    ]


def test_unknown_section(tmp_path: Path) -> None:
    p = only(tmp_path, GOOD_PLAN.replace("section: dated", "section: datted"))
    assert p.message == "unknown section 'datted'" and p.hint == "did you mean 'dated'?"


@pytest.mark.parametrize(
    ("date", "expected"),
    [
        ("31 февраля", "February 2025 has 28 days"),
        ("16+", "16+"),
        ("7–11 кл.", "7–11 кл."),
        ("мартобря", "мартобря"),
    ],
)
def test_unreadable_or_impossible_dates(tmp_path: Path, date: str, expected: str) -> None:
    p = only(tmp_path, GOOD_PLAN.replace("date: 15 января", f"date: {date}"))
    assert p.field == "events[0].date" and p.line == 27
    assert f"cannot read the date «{date}»" in p.message and expected in p.message
    assert "start:" in p.hint


def test_exact_start_overrides_an_unreadable_date(tmp_path: Path) -> None:
    text = GOOD_PLAN.replace("date: 15 января", "date: по согласованию\n    start: 2025-01-20")
    plan = load_plan(write(tmp_path, text))
    assert plan.events[0].reading.start == plan.events[0].reading.end == dt.date(2025, 1, 20)


def test_overrides_refine_the_reading(tmp_path: Path) -> None:
    text = GOOD_PLAN.replace(
        "date: 15 января", 'date: январь\n    start: 2025-01-20\n    time: "14:00"\n    end_time: "16:30"'
    )
    event = load_plan(write(tmp_path, text)).events[0]
    assert event.reading.start == event.reading.end == dt.date(2025, 1, 20)
    assert event.reading.start_precision == "day"
    assert (event.reading.time, event.reading.end_time) == (dt.time(14, 0), dt.time(16, 30))
    assert event.reading.note is None and event.date_text == "январь"


@pytest.mark.parametrize(
    ("override", "field", "message"),
    [
        ("start: 2025-02-30", "events[0].start", "'2025-02-30' is not a valid date"),
        ('time: "25:00"', "events[0].time", "'25:00' is not a valid time"),
        (
            "rrule: EVERY=WEEK",
            "events[0].rrule",
            "'EVERY=WEEK' is not a recurrence rule plansync understands",
        ),
        (
            "start: 2025-03-02\n    end: 2025-03-01",
            "events[0].end",
            "end 2025-03-01 is before start 2025-03-02",
        ),
    ],
)
def test_invalid_overrides(tmp_path: Path, override: str, field: str, message: str) -> None:
    p = only(tmp_path, GOOD_PLAN.replace("date: 15 января", f"date: 15 января\n    {override}"))
    assert (p.field, p.message) == (field, message)


def test_invalid_email_and_phone(tmp_path: Path) -> None:
    text = GOOD_PLAN.replace("emails: [nmo@lib39.ru]", 'emails: [nmo@lib39, "a@b.ru\\r\\nBcc: x@y.ru"]')
    text = text.replace("phones: [8(4012) 93-70-21]", "phones: [звоните]")
    found = problems(tmp_path, text)
    assert [p.message for p in found] == [
        "'звоните' does not look like a phone number",
        "'nmo@lib39' is not a valid e-mail address",
        "'a@b.ru\r\nBcc: x@y.ru' is not a valid e-mail address",
    ]


def test_unknown_time_zone(tmp_path: Path) -> None:
    p = only(tmp_path, GOOD_PLAN.replace("Europe/Kaliningrad", "Europe/Kaliningard"))
    assert (
        p.message == "unknown time zone 'Europe/Kaliningard'"
        and p.hint == "did you mean 'Europe/Kaliningrad'?"
    )


def test_bad_ids_and_kinds(tmp_path: Path) -> None:
    found = problems(
        tmp_path,
        GOOD_PLAN.replace("id: gaidar", "id: Гайдар").replace(
            "kind: library\n    contacts", "kind: museum\n    contacts"
        ),
    )
    messages = [p.message for p in found]
    assert "'Гайдар' is not a valid id" in messages
    assert "unknown kind 'museum'" in messages


def test_aliases_are_refused(tmp_path: Path) -> None:
    text = GOOD_PLAN.replace("    contacts:\n      phones", "    contacts: &c\n      phones").replace(
        "    kind: library\nevents", "    kind: library\n    contacts: *c\nevents"
    )
    p = only(tmp_path, text)
    assert "anchors and aliases" in p.message


def test_all_problems_at_once(tmp_path: Path) -> None:
    text = GOOD_PLAN.replace("year: 2025", "year: 1900").replace("date: 1 - 5 июля", "date: 5 - 1 июля")
    text = text.replace("organizers: [konb]", "organizers: []")
    found = problems(tmp_path, text)
    assert {p.field for p in found} == {"plan.year", "events[0].organizers", "events[1].date"}


def test_not_utf8_points_at_the_byte(tmp_path: Path) -> None:
    path = tmp_path / "plan.yaml"
    path.write_bytes(GOOD_PLAN.encode("utf-8").replace("Фестиваль".encode(), "Фестиваль".encode("cp1251")))
    (p,) = check_plan(path)
    assert p.line == 30 and "not valid UTF-8" in p.message


def test_empty_and_missing_files(tmp_path: Path) -> None:
    assert only(tmp_path, "").message == "the file is empty"
    (p,) = check_plan(tmp_path / "nope.yaml")
    assert "cannot read the file" in p.message


def test_load_raises_with_every_problem(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput) as info:
        load_plan(write(tmp_path, GOOD_PLAN.replace("konb]", "nobody]").replace("[konb,", "[anybody,")))
    assert "unknown organization id 'nobody'" in str(info.value)
    assert info.value.summary().startswith("2 problems in ")


@pytest.mark.parametrize(
    ("rrule", "expected"),
    [
        ("FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=31", "gives no day from 2025-01-01 to 2025-12-31"),
        ("FREQ=MONTHLY;BYMONTH=4;BYMONTHDAY=31", "gives no day from 2025-01-01 to 2025-12-31"),
        ("FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30", "gives no day from 2025-01-01 to 2025-12-31"),
    ],
)
def test_a_recurrence_that_gives_no_day_is_a_problem(tmp_path: Path, rrule: str, expected: str) -> None:
    text = GOOD_PLAN.replace("    date: 15 января\n", f"    date: январь–декабрь\n    rrule: {rrule}\n")
    p = only(tmp_path, text)
    assert p.field == "events[0].rrule" and expected in p.message and "rrule: none" in p.hint


def test_a_recurrence_with_days_in_the_period_is_fine(tmp_path: Path) -> None:
    text = GOOD_PLAN.replace(
        "    date: 15 января\n", "    date: январь–декабрь\n    rrule: FREQ=MONTHLY;BYMONTHDAY=31\n"
    )
    assert problems(tmp_path, text) == []


def test_an_event_contact_is_read(tmp_path: Path) -> None:
    text = GOOD_PLAN.replace(
        "    organizers: [konb]\n", "    organizers: [konb]\n    contact: Смирнова Е.А., тел. 72-33-45\n"
    )
    plan = load_plan(write(tmp_path, text))
    assert plan.events[0].contact == "Смирнова Е.А., тел. 72-33-45"
    assert plan.events[1].contact is None
    broken = text.replace("contact: Смирнова Е.А., тел. 72-33-45", "contact: [Смирнова]")
    assert only(tmp_path, broken).field == "events[0].contact"


def test_a_date_that_refers_to_its_section_reads_as_the_section(tmp_path: Path) -> None:
    text = GOOD_PLAN.replace("    title: Январь\n", "    title: III квартал\n").replace(
        "    date: 15 января\n", "    date: в течение квартала\n"
    )
    plan = load_plan(write(tmp_path, text))
    assert (plan.events[0].reading.start, plan.events[0].reading.end) == (
        dt.date(2025, 7, 1),
        dt.date(2025, 9, 30),
    )
    elsewhere = text.replace("    title: III квартал\n", "    title: Методическая работа\n")
    assert "refers to its section" in only(tmp_path, elsewhere).message


def test_an_override_the_date_contradicts_is_a_warning_with_its_position(tmp_path: Path) -> None:
    text = GOOD_PLAN.replace("    date: 15 января\n", "    date: декабрь\n    start: 2025-11-20\n")
    path = write(tmp_path, text)
    load_plan(path)  # not an error: the person may know better
    warnings = override_warnings(path)
    line = text.splitlines().index("    start: 2025-11-20") + 1
    assert [(w.line, w.col, w.field) for w in warnings] == [(line, 12, "events[0].start")]
    assert warnings[0].message.startswith("2025-11-20 is outside the date «декабрь»")
    assert override_warnings(write(tmp_path, GOOD_PLAN)) == []
