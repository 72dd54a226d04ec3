"""Plan events as iCalendar: dates, approximation, recurrence, zones, ownership, hashing, merging."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import icalendar
import pytest

from plansync.calendar import ical, identity, merge, readback, vtimezone, wording
from tests.support.paths import PLAN_2024
from tests.support.plans import event, plan, reading, small_plan

STAMP = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)


def vevent(date_text: str, **kwargs: object) -> icalendar.Event:
    p = plan(event("x", date_text, title="Событие", form="семинар"))
    built = ical.build_vevent(p, p.events[0], "konb", ical.Rendering(**kwargs), stamp=STAMP)  # type: ignore[arg-type]
    assert built is not None
    return built


def test_uid_is_deterministic_per_plan_event_and_calendar() -> None:
    a = ical.desired_events(small_plan(), "konb", stamp=STAMP)
    b = ical.desired_events(small_plan(), "konb", stamp=dt.datetime(2025, 5, 5, tzinfo=dt.UTC))
    assert list(a) == list(b) == [f"plan-2024.e{i}.konb@plansync" for i in (1, 2, 3)]
    assert [d.hash for d in a.values()] == [d.hash for d in b.values()]  # DTSTAMP is not compared
    gaidar = ical.desired_events(small_plan(), "gaidar")
    assert list(gaidar) == ["plan-2024.e2.gaidar@plansync"]  # one UID per calendar


def test_exact_day_is_all_day_with_exclusive_end() -> None:
    v = vevent("12 марта")
    assert v["DTSTART"].dt == dt.date(2024, 3, 12) and v["DTEND"].dt == dt.date(2024, 3, 13)
    assert "TRANSP" not in v and "STATUS" not in v


def test_day_range_spans_all_days() -> None:
    v = vevent("3 - 7 ноября")
    assert (v["DTSTART"].dt, v["DTEND"].dt) == (dt.date(2024, 11, 3), dt.date(2024, 11, 8))


def test_time_gives_timed_event_in_plan_zone_with_minimal_vtimezone() -> None:
    desired = ical.desired_events(small_plan(), "konb")["plan-2024.e2.konb@plansync"]
    cal = icalendar.Calendar.from_ical(desired.body)
    v = cal.walk("VEVENT")[0]
    assert v["DTSTART"].params["TZID"] == "Europe/Kaliningrad"
    assert v["DTSTART"].dt.replace(tzinfo=None) == dt.datetime(2024, 3, 12, 14, 0)
    assert desired.fields["start"] == "2024-03-12T12:00:00Z"  # UTC+2
    zones = cal.walk("VTIMEZONE")
    assert len(zones) == 1 and b"RDATE" not in zones[0].to_ical()
    assert [p["TZOFFSETTO"].td for p in zones[0].subcomponents] == [dt.timedelta(hours=2)]


def test_vtimezone_of_a_zone_with_dst_has_each_transition_once() -> None:
    zone = vtimezone.vtimezone("Europe/Berlin", 2024, 2024)
    parts = zone.subcomponents
    assert b"RDATE" not in zone.to_ical()
    changes = [(p.name, p["DTSTART"].dt) for p in parts[1:]]
    assert ("DAYLIGHT", dt.datetime(2024, 3, 31, 2, 0)) in changes
    assert ("STANDARD", dt.datetime(2024, 10, 27, 3, 0)) in changes
    # It agrees with zoneinfo for every hour of the plan year, on a sample.
    tz = zoneinfo.ZoneInfo("Europe/Berlin")
    for month in range(1, 13):
        local = dt.datetime(2024, month, 15, 12, tzinfo=tz)
        active = [p for p in parts if p["DTSTART"].dt <= local.replace(tzinfo=None)][-1]
        assert active["TZOFFSETTO"].td == local.utcoffset()


@pytest.mark.parametrize("text", ["июнь", "III квартал", "II полугодие", "в течение года"])
def test_approximate_periods_are_transparent_tentative_and_say_so(text: str) -> None:
    v = vevent(text)
    assert str(v["TRANSP"]) == "TRANSPARENT" and str(v["STATUS"]) == "TENTATIVE"
    assert "ориентировочные" in str(v["DESCRIPTION"])


# The rules table of docs/calendar.md, row by row: (date text, first day, last day, title label, the
# description's first line). The last day is inclusive; None: no label / no such line.
RULES = [
    ("12 марта", dt.date(2024, 3, 12), dt.date(2024, 3, 12), None, "Форма:"),
    ("3 - 7 ноября", dt.date(2024, 11, 3), dt.date(2024, 11, 7), None, "Форма:"),
    ("май", dt.date(2024, 5, 2), dt.date(2024, 5, 2), "(в мае, дата уточняется)",
     "Сроки ориентировочные: в течение месяца (в мае);"),
    ("февраль–апрель", dt.date(2024, 2, 1), dt.date(2024, 2, 1), "(с февраля по апрель)",
     "Сроки ориентировочные: в течение нескольких месяцев (с февраля по апрель);"),
    ("II квартал", dt.date(2024, 4, 1), dt.date(2024, 4, 1), "(во II квартале, дата уточняется)",
     "Сроки ориентировочные: в течение квартала (во II квартале);"),
    ("II полугодие", dt.date(2024, 7, 1), dt.date(2024, 7, 1), "(во II полугодии, дата уточняется)",
     "Сроки ориентировочные: в течение полугодия (во II полугодии);"),
    ("январь–декабрь", dt.date(2024, 1, 9), dt.date(2024, 1, 9), "(в течение 2024 года)",
     "Сроки ориентировочные: в течение года;"),
    ("январь–декабрь, еженедельно", dt.date(2024, 1, 9), dt.date(2024, 1, 9),
     "(еженедельно в течение 2024 года)", "Повторяется еженедельно в течение 2024 года; дни повторений"),
    ("еженедельно, по вторникам", dt.date(2024, 1, 2), None, None, "Повторяется в течение 2024 года."),
    ("до 20 ноября", dt.date(2024, 11, 20), dt.date(2024, 11, 20), "Срок:", "Форма:"),
    ("с 3 ноября", dt.date(2024, 11, 3), dt.date(2024, 11, 3), "(начало)", "Форма:"),
    ("с мая", dt.date(2024, 5, 2), dt.date(2024, 5, 2), "(начало в мае, дата уточняется)", "Форма:"),
    ("I–II квартал", dt.date(2024, 1, 9), dt.date(2024, 1, 9), "(с I квартала по II квартал)",
     "Сроки ориентировочные: в течение нескольких месяцев (с I квартала по II квартал);"),
    ("январь - 31 октября", dt.date(2024, 10, 31), dt.date(2024, 10, 31), "(с января по 31 октября)",
     "Сроки по плану: с января по 31 октября;"),
]  # fmt: skip


@pytest.mark.parametrize(("text", "first", "last", "label", "words"), RULES)
def test_rules_table(text: str, first: dt.date, last: dt.date | None, label: str | None, words: str) -> None:
    v = vevent(text)
    assert v["DTSTART"].dt == first
    if last is None:
        assert "RRULE" in v  # a series whose days the plan names
    else:
        assert "RRULE" not in v and v["DTEND"].dt == last + dt.timedelta(days=1)
    title = str(v["SUMMARY"]).replace("\xa0", " ")  # (no-break spaces keep «31 октября» on one line)
    if label is not None and label.endswith(":"):  # a deadline is named as one, ahead of the title
        assert title == f"{label} Событие"
    else:
        assert title == "Событие" + (f" {label}" if label else "")
    assert str(v["DESCRIPTION"]).replace("\xa0", " ").startswith(words)
    assert ("месяца" in str(v["DESCRIPTION"])) == (text == "май")  # the words match the precision


def test_marker_day_is_the_first_working_day() -> None:
    assert wording.first_working_day(dt.date(2024, 1, 1), dt.date(2024, 12, 31)) == dt.date(2024, 1, 9)
    assert wording.first_working_day(dt.date(2024, 6, 1), dt.date(2024, 6, 30)) == dt.date(2024, 6, 3)
    assert wording.first_working_day(dt.date(2024, 6, 1), dt.date(2024, 6, 2)) == dt.date(2024, 6, 1)


def test_classic_layout_keeps_spans_and_expanded_series() -> None:
    year = vevent("январь–декабрь", layout="classic")
    assert (year["DTSTART"].dt, year["DTEND"].dt) == (dt.date(2024, 1, 1), dt.date(2025, 1, 1))
    assert str(year["SUMMARY"]) == "Событие"
    weekly = vevent("январь–декабрь, еженедельно", layout="classic")
    assert weekly["RRULE"]["FREQ"] == ["WEEKLY"] and weekly["DTSTART"].dt == dt.date(2024, 1, 1)
    assert "в течение месяца" not in str(weekly["DESCRIPTION"])  # the words are right in both layouts
    opened = vevent("с мая", layout="classic")
    assert (opened["DTSTART"].dt, opened["DTEND"].dt) == (dt.date(2024, 5, 1), dt.date(2024, 5, 2))


def test_combined_calendar_holds_every_event_once_naming_all_organizers() -> None:
    p = small_plan()
    combined = ical.desired_events(p, identity.COMBINED)
    assert len(combined) == len(p.events)
    assert all(u.endswith(f".{identity.COMBINED}@plansync") for u in combined)
    shared = next(e for e in p.events if len(e.organizers) > 1)
    text = combined[identity.event_uid(p.id, shared.key, identity.COMBINED)].fields["description"]
    assert all(p.organization(o).name in text for o in shared.organizers)


def test_long_span_policies() -> None:
    span = vevent("1 марта – 30 апреля", long_span_days=31)
    assert (span["DTSTART"].dt, span["DTEND"].dt) == (dt.date(2024, 3, 1), dt.date(2024, 5, 1))
    assert str(span["TRANSP"]) == "TRANSPARENT"
    marker = vevent("1 марта – 30 апреля", long_span_days=31, long_span_policy="start-marker")
    assert (marker["DTSTART"].dt, marker["DTEND"].dt) == (dt.date(2024, 3, 1), dt.date(2024, 3, 2))
    assert "по 30.04.2024" in str(marker["DESCRIPTION"])
    p = plan(event("x", "1 марта – 30 апреля", title="t", form="семинар"))
    assert ical.build_vevent(p, p.events[0], "konb", ical.Rendering("skip", 31)) is None
    short = vevent("1 марта – 30 апреля", long_span_days=100)
    assert "TRANSP" not in short


def test_recurrence_is_one_vevent_bounded_by_the_period() -> None:
    v = vevent("март–декабрь, ежемесячно", layout="classic")
    assert v["DTSTART"].dt == dt.date(2024, 3, 1)
    rule = v["RRULE"]
    assert rule["FREQ"] == ["MONTHLY"] and rule["UNTIL"] == [dt.date(2024, 12, 31)]


def test_weekly_recurrence_starts_on_its_first_occurrence() -> None:
    v = vevent("еженедельно, по вторникам")
    assert v["DTSTART"].dt == dt.date(2024, 1, 2)  # the first Tuesday of 2024
    assert v["RRULE"]["BYDAY"] == ["TU"]


def test_deadline_and_open_start_are_single_days_explained() -> None:
    deadline = vevent("до 20 ноября")
    assert deadline["DTSTART"].dt == dt.date(2024, 11, 20) and "до 20.11.2024" in str(deadline["DESCRIPTION"])
    opened = vevent("с 3 ноября")
    assert opened["DTSTART"].dt == dt.date(2024, 11, 3) and "с 03.11.2024" in str(opened["DESCRIPTION"])


def test_description_categories_markers_and_no_scheduling_properties() -> None:
    p = small_plan()
    v = ical.build_vevent(p, p.events[1], "konb", stamp=STAMP)
    assert v is not None
    text = str(v["DESCRIPTION"])
    assert "Форма: семинар" in text and "Дата по плану: 12 марта, 14:00" in text
    assert "8(4012) 93-70-21" in text and "nmo@lib39.ru" in text and "Гайдара" in text
    assert [str(c) for c in v["CATEGORIES"].cats] == ["семинар"]
    assert str(v["SUMMARY"]) == "Вебинар по обслуживанию"
    assert (str(v[identity.MARK_PLAN]), str(v[identity.MARK_EVENT]), str(v[identity.MARK_CALENDAR])) == (
        "plan-2024",
        "e2",
        "konb",
    )
    assert "ORGANIZER" not in v and "ATTENDEE" not in v


def test_hash_ignores_serialisation_details() -> None:
    desired = ical.desired_events(small_plan(), "konb")["plan-2024.e2.konb@plansync"]
    cal = icalendar.Calendar.from_ical(desired.body)
    v = cal.walk("VEVENT")[0]
    # What a server might do: new DTSTAMP and PRODID, property order, an extra X- property.
    v.pop("DTSTAMP")
    v.add("DTSTAMP", dt.datetime(2030, 1, 1, tzinfo=dt.UTC))
    summary = v.pop("SUMMARY")
    v.add("SUMMARY", summary)
    v.add("X-SERVER-THING", "1")
    cal.pop("PRODID")
    cal.add("PRODID", "-//other//EN")
    parsed = readback.parse(cal.to_ical())
    assert parsed.hash == desired.hash and parsed.recorded_hash == desired.hash
    # The same instant written in UTC is the same start.
    v.pop("DTSTART")
    v.add("DTSTART", dt.datetime(2024, 3, 12, 12, 0, tzinfo=dt.UTC))
    assert readback.parse(cal.to_ical()).hash == desired.hash
    v.pop("SUMMARY")
    v.add("SUMMARY", "другое")
    assert readback.parse(cal.to_ical()).hash != desired.hash


def test_tzid_is_resolved_with_zoneinfo_not_with_the_servers_vtimezone() -> None:
    desired = ical.desired_events(small_plan(), "konb")["plan-2024.e2.konb@plansync"]
    # A truncated zone as Radicale may return it: +03 instead of +02.
    broken = desired.body.replace(b"TZOFFSETTO:+0200", b"TZOFFSETTO:+0300")
    assert readback.parse(broken).fields["start"] == "2024-03-12T12:00:00Z"  # type: ignore[index]


def test_merge_replaces_owned_fields_and_keeps_everything_else() -> None:
    old = ical.desired_events(small_plan(), "konb")["plan-2024.e1.konb@plansync"]
    server = icalendar.Calendar.from_ical(old.body)
    v = server.walk("VEVENT")[0]
    alarm = icalendar.Alarm()
    alarm.add("ACTION", "DISPLAY")
    alarm.add("TRIGGER", dt.timedelta(minutes=-15))
    v.add_component(alarm)
    v.add("X-MOZ-LASTACK", "20240101T000000Z")
    v.add("SEQUENCE", 3)
    from tests.support.plans import retitle

    new = ical.desired_events(retitle(small_plan(), "e1", "Новое"), "konb")["plan-2024.e1.konb@plansync"]
    merged = merge.merge(server.to_ical(), new.body)
    parsed = readback.parse(merged)
    assert parsed.hash == new.hash and parsed.recorded_hash == new.hash
    result = icalendar.Calendar.from_ical(merged).walk("VEVENT")[0]
    assert (
        result.walk("VALARM")
        and str(result["X-MOZ-LASTACK"]) == "20240101T000000Z"
        and result["SEQUENCE"] == 4  # plansync's change is a new revision
    )
    assert result["LAST-MODIFIED"].dt > dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
    assert len([p for p in merged.split(b"\r\n") if p.startswith(b"SUMMARY")]) == 1


def test_merge_without_a_change_keeps_sequence_and_last_modified() -> None:
    body = ical.desired_events(small_plan(), "konb")["plan-2024.e1.konb@plansync"].body
    server = icalendar.Calendar.from_ical(body)
    server.walk("VEVENT")[0].add("SEQUENCE", 2)
    merged = icalendar.Calendar.from_ical(merge.merge(server.to_ical(), body)).walk("VEVENT")[0]
    assert merged["SEQUENCE"] == 2 and "LAST-MODIFIED" not in merged


def test_merge_into_a_series_that_is_no_longer_one_drops_its_exceptions() -> None:
    classic = ical.Rendering(layout="classic")
    p = plan(event("x", "январь–декабрь, еженедельно", title="Клуб"))
    series = ical.desired_events(p, "konb", classic)["plan-2024.x.konb@plansync"].body
    server = icalendar.Calendar.from_ical(series)
    server.walk("VEVENT")[0].add("EXDATE", dt.date(2024, 1, 8))
    moved = icalendar.Event()
    moved.add("UID", "plan-2024.x.konb@plansync")
    moved.add("RECURRENCE-ID", dt.date(2024, 1, 15))
    moved.add("DTSTART", dt.date(2024, 1, 16))
    server.add_component(moved)
    marker = ical.desired_events(p, "konb")["plan-2024.x.konb@plansync"].body
    merged = icalendar.Calendar.from_ical(merge.merge(server.to_ical(), marker))
    assert len(merged.walk("VEVENT")) == 1
    assert "RRULE" not in merged.walk("VEVENT")[0] and "EXDATE" not in merged.walk("VEVENT")[0]


def test_parse_tolerates_other_peoples_broken_items() -> None:
    assert readback.parse(b"not a calendar").uid is None
    todo = b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VTODO\r\nUID:t1\r\nEND:VTODO\r\nEND:VCALENDAR\r\n"
    parsed = readback.parse(todo)
    assert parsed.uid == "t1" and parsed.marker is None and parsed.hash is None


# The hash of a rendered event is computed from the built event, not from its bytes read back; a
# reader of the bytes (the server's copy) must get the very same fields, or every no-op run would
# rewrite. Every date kind, every long-span policy, texts that need escaping and folding.
PARITY_DATES = (
    "12 марта",
    "12 марта, 14:00",
    "12 марта, 14:00–16:30",
    "1 - 5 июля",
    "с 28 февраля по 3 марта",
    "май",
    "май – июнь",
    "II квартал",
    "I полугодие",
    "январь–декабрь, ежеквартально",
    "январь–декабрь, ежемесячно",
    "в течение года",
    "до 15 ноября",
)


@pytest.mark.parametrize("policy", ["span", "start-marker", "skip"])
def test_hash_of_built_event_matches_the_bytes_read_back(policy: str) -> None:
    from pathlib import Path

    from plansync.planread.planfile import load_plan

    made = plan(
        *(
            event(
                f"e{n}",
                d,
                title=f"Семинар «Строка; с запятой, и \\ обратной чертой» {n} " + "длинно " * 12,
                form="семинар",
            )
            for n, d in enumerate(PARITY_DATES)
        )
    )
    real = load_plan(PLAN_2024)
    rendering = ical.Rendering(policy, 31)
    checked = 0
    for p in (made, real):
        for org in {o for e in p.events for o in e.organizers}:
            for desired in ical.desired_events(p, org, rendering).values():
                seen = readback.parse(desired.body)
                assert seen.fields == desired.fields, desired.uid
                assert seen.hash == desired.hash == seen.recorded_hash
                checked += 1
    assert checked >= 30  # (the skip policy leaves the long spans out)


def test_serialising_waits_for_the_write_and_gives_the_same_bytes_later(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import time

    calls: list[int] = []
    real = icalendar.Calendar.to_ical

    def counting(self: icalendar.Calendar, *args: object, **kwargs: object) -> bytes:
        calls.append(1)
        return real(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(icalendar.Calendar, "to_ical", counting)
    desired = next(iter(ical.desired_events(small_plan(), "konb").values()))
    assert calls == [] and not desired.is_stub  # hashed and ready, not yet serialised
    first = desired.body
    time.sleep(1.05)  # DTSTAMP has whole seconds: it must be the one fixed when rendering
    assert desired.body == first and len(calls) == 2
    assert b"DTSTAMP:" in first and readback.parse(first).hash == desired.hash


# -- what people and servers put in a calendar ---------------------------------------------------------

MALFORMED = [
    b"RRULE:FREQ=WEEKLY;UNTIL=2024xx",  # a bad UNTIL
    b"DTSTART;VALUE=DATE:20240315T100000",  # a date that is a date-time
    b"DTSTART;VALUE=PERIOD:garbage",  # an odd value type
    b"DTSTART:99991231T235959Z\r\nDTEND:00010101T000000Z",  # extreme dates
    b"SUMMARY;ENCODING=BASE64:@@@@",  # a broken encoding
    b"DURATION:P1000000000000D",  # an absurd duration
    b"CATEGORIES:\xff\xfe\xfa",  # not UTF-8
]


def _ours_with(line: bytes) -> bytes:
    body = ical.desired_events(small_plan(), "konb", stamp=STAMP)["plan-2024.e1.konb@plansync"].body
    return body.replace(b"END:VEVENT", line + b"\r\nEND:VEVENT")


@pytest.mark.parametrize("line", MALFORMED)
def test_a_malformed_object_of_ours_is_known_but_unreadable(line: bytes) -> None:
    parsed = readback.parse(_ours_with(line))
    assert parsed.uid == "plan-2024.e1.konb@plansync"
    assert parsed.owner == "plan-2024:konb"
    if parsed.problem is not None:  # the text the library gave up on: never the hash of any content
        assert parsed.hash == readback.UNREADABLE and parsed.fields is None


@pytest.mark.parametrize(
    "line", [b"RRULE:FREQ=WEEKLY;UNTIL=2024xx", b"RRULE:FREQ=FOO", b"RRULE:FREQ=WEEKLY;BYDAY=XX"]
)
def test_what_the_libraries_raise_on_makes_an_unreadable_object_not_a_crash(line: bytes) -> None:
    parsed = readback.parse(_ours_with(line))
    assert parsed.problem is not None and parsed.hash == readback.UNREADABLE
    assert parsed.owner == "plan-2024:konb"  # from its raw lines: still known as plansync's


def test_a_broken_start_makes_an_unreadable_object() -> None:
    body = _ours_with(b"")
    start = next(line for line in body.split(b"\r\n") if line.startswith(b"DTSTART"))
    parsed = readback.parse(body.replace(start, b"DTSTART;VALUE=DATE:2024031"))
    assert parsed.problem is not None and parsed.uid == "plan-2024.e1.konb@plansync"


def test_parse_never_raises_on_any_bytes() -> None:
    from hypothesis import given
    from hypothesis import strategies as st

    base = _ours_with(b"")

    @given(st.integers(0, len(base)), st.binary(max_size=40))
    def check(position: int, junk: bytes) -> None:
        parsed = readback.parse(base[:position] + junk + base[position:])
        assert parsed.hash is None or isinstance(parsed.hash, str)

    check()


def test_a_copy_keeps_the_markers_but_is_not_ours() -> None:
    body = _ours_with(b"")
    copy = readback.parse(body.replace(b"UID:plan-2024.e1.konb@plansync", b"UID:5F3A-copy@thunderbird"))
    assert copy.marker is not None and copy.owner is None
    assert copy.copy_of == "plan-2024.e1.konb@plansync"
    original = readback.parse(body)
    assert original.owner == "plan-2024:konb" and original.copy_of is None
    assert identity.owns("plan-2024.e1.konb@plansync", "plan-2024:konb")
    assert not identity.owns("5F3A-copy@thunderbird", "plan-2024:konb")
    assert not identity.owns("plan-2024.e1.konb@plansync", "plan-2024:gaidar")


def test_merge_of_an_unreadable_copy_writes_the_plans_version() -> None:
    desired = ical.desired_events(small_plan(), "konb", stamp=STAMP)["plan-2024.e1.konb@plansync"].body
    for line in MALFORMED:
        merged = merge.merge(_ours_with(line), desired)
        assert readback.parse(merged).problem is None


def test_a_deadline_is_marked_as_a_deadline() -> None:
    due = vevent("до 20 ноября")
    assert str(due["SUMMARY"]).startswith("Срок: ")
    assert "Срок" in [str(c) for c in due["CATEGORIES"].cats]
    assert due["TRANSP"] == "TRANSPARENT"
    assert due.decoded("DTSTART") == dt.date(2024, 11, 20)
    meeting = vevent("20 ноября")
    assert not str(meeting["SUMMARY"]).startswith("Срок") and "TRANSP" not in meeting
