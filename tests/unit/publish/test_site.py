"""The published site built in memory from the 2024 plan: every event in the agenda and in the feeds of
each of its organizers and of the whole plan, the feeds exactly the synced calendars' events (one
builder), valid iCalendar, filters as plain pages, and escaping."""

from __future__ import annotations

import datetime as dt
import html
import re
from functools import cache

import icalendar
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from plansync.calendar import ical, identity, readback
from plansync.model.plan import Plan
from plansync.planread.planfile import load_plan
from plansync.publish import agenda
from plansync.publish.feeds import organizer_feed_path, plan_feed_path
from plansync.publish.site import Site, SiteBuilder
from tests.support.paths import PLAN_2024
from tests.support.plans import event, make_plan, reading

STAMP = dt.datetime(2024, 1, 9, 12, 0, tzinfo=dt.UTC)
BASE = "https://lib39.example/plan/"


@cache
def plan_2024() -> Plan:
    return load_plan(PLAN_2024)


@cache
def site_2024() -> Site:
    return SiteBuilder().build([plan_2024()], stamp=STAMP, base_url=BASE)


def vevents(data: bytes) -> dict[str, icalendar.Event]:
    cal = icalendar.Calendar.from_ical(data)
    return {str(e["UID"]): e for e in cal.walk("VEVENT")}


def test_every_event_is_in_the_agenda_with_both_dates() -> None:
    page = site_2024().files["index.html"].decode()
    for e in plan_2024().events:
        match = re.search(rf'<tr id="e-{plan_2024().id}-{e.key}">(.*?)</tr>', page, re.S)
        assert match, f"{e.key} not in index.html"
        row = html.unescape(match.group(1))
        assert " ".join(e.title.split()) in row
        assert f"по плану: {e.date_text}" in row
        assert agenda.when_words(e.reading) in row


def test_every_event_is_in_the_feeds_of_its_organizers_and_of_the_whole_plan() -> None:
    plan, files = plan_2024(), site_2024().files
    whole = vevents(files[plan_feed_path(plan.id)])
    assert len(whole) == len(plan.events)
    for e in plan.events:
        # The whole plan names each event as its first organizer's calendar does.
        assert identity.event_uid(plan.id, e.key, e.organizers[0]) in whole
        for org in e.organizers:
            assert identity.event_uid(plan.id, e.key, org) in vevents(
                files[organizer_feed_path(plan.id, org)]
            )
    for org in {o for e in plan.events for o in e.organizers}:
        assert len(vevents(files[organizer_feed_path(plan.id, org)])) == len(plan.events_of(org))


def test_feed_events_are_the_synced_calendars_events() -> None:
    """Same builder, same bytes: what the sync writes for (event, calendar) is what the feed holds."""
    plan, files = plan_2024(), site_2024().files
    for org in {o for e in plan.events for o in e.organizers}:
        feed = files[organizer_feed_path(plan.id, org)]
        for e in plan.events_of(org):
            built = ical.build_vevent(plan, e, org, stamp=STAMP)
            assert built is not None
            assert built.to_ical() in feed, f"{e.key} in {org}'s feed differs from the synced event"
            synced = ical.desired_events(plan, org, stamp=STAMP)[identity.event_uid(plan.id, e.key, org)]
            assert synced.hash == readback.content_hash(readback.owned_fields(vevents(feed)[synced.uid]))


@pytest.mark.parametrize("kind", ["whole", "organizer"])
def test_feeds_are_valid_icalendar_that_round_trips(kind: str) -> None:
    plan, files = plan_2024(), site_2024().files
    path = plan_feed_path(plan.id) if kind == "whole" else organizer_feed_path(plan.id, "konb")
    data = files[path]
    assert data.startswith(b"BEGIN:VCALENDAR\r\n") and data.endswith(b"END:VCALENDAR\r\n")
    assert all(len(line) <= 75 for line in data.split(b"\r\n")), "lines must be folded at 75 octets"
    cal = icalendar.Calendar.from_ical(data)
    for name in ("PRODID", "VERSION"):
        assert name in cal
    assert str(cal["VERSION"]) == "2.0" and str(cal["METHOD"]) == "PUBLISH" and "X-WR-CALNAME" in cal
    zones = {str(z["TZID"]) for z in cal.walk("VTIMEZONE")}
    uids = set()
    for e in cal.walk("VEVENT"):
        for name in ("UID", "DTSTAMP", "DTSTART", "SUMMARY"):
            assert name in e, f"{name} missing"
        assert str(e["UID"]) not in uids, "UIDs are unique in a feed"
        uids.add(str(e["UID"]))
        assert not ("DTEND" in e and "DURATION" in e)
        start = e["DTSTART"]
        if "TZID" in start.params:
            assert start.params["TZID"] in zones, "every TZID has its VTIMEZONE"
        if "DTEND" in e:
            assert e["DTEND"].dt >= start.dt
        assert "ORGANIZER" not in e and "ATTENDEE" not in e
    again = icalendar.Calendar.from_ical(cal.to_ical())
    assert {k: readback.owned_fields(v) for k, v in vevents(again.to_ical()).items()} == {
        k: readback.owned_fields(v) for k, v in vevents(data).items()
    }


def test_filter_pages_hold_exactly_their_events() -> None:
    plan, site = plan_2024(), site_2024()
    for org in {o for e in plan.events for o in e.organizers}:
        page = site.files[agenda.organizer_page(org)].decode()
        shown = set(re.findall(rf'<tr id="e-{plan.id}-([a-z0-9-]+)">', page))
        assert shown == {e.key for e in plan.events_of(org)}
    for form in {e.form for e in plan.events if e.form}:
        page = site.files[agenda.form_page(form)].decode()
        shown = set(re.findall(rf'<tr id="e-{plan.id}-([a-z0-9-]+)">', page))
        assert shown == {e.key for e in plan.events if e.form and e.form.casefold() == form.casefold()}


def test_pages_link_the_feeds_absolutely_and_say_how_to_subscribe() -> None:
    page = site_2024().files["index.html"].decode()
    assert f'href="{BASE}feeds/plan-2024.ics"' in page
    assert f'href="{BASE}feeds/plan-2024/konb.ics"' in page
    for app in ("Яндекс", "Google", "Outlook", "Apple", "Thunderbird"):
        assert app in page
    assert '<html lang="ru">' in page
    assert "@media print" in page


def test_the_same_plans_give_the_same_bytes() -> None:
    again = SiteBuilder().build([plan_2024()], stamp=STAMP, base_url=BASE)
    assert again.files == site_2024().files


def test_plan_text_is_escaped() -> None:
    hostile = '<script>alert("x")</script> & «Книги»'
    plan = make_plan(event("e1", "20 мая", "lib-a", title=hostile, form="<b>семинар</b>"))
    site = SiteBuilder().build([plan], stamp=STAMP)
    for name, data in site.files.items():
        if name.endswith(".html"):
            text = data.decode()
            assert "<script>" not in text and "<b>" not in text
    assert (
        "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; «Книги»" in site.files["index.html"].decode()
    )


def test_long_span_policy_skip_keeps_the_event_on_the_page_but_not_in_the_feeds() -> None:
    # (a long range of exact days: a period without days is one labelled item, whatever the policy)
    plan = make_plan(event("e1", "20 мая", "lib-a"), event("e2", "1 февраля – 30 апреля", "lib-a"))
    site = SiteBuilder().build([plan], stamp=STAMP, rendering=ical.Rendering("skip", 31))
    assert set(re.findall(r'<tr id="e-[a-z0-9-]+-(e\d)">', site.files["index.html"].decode())) == {"e1", "e2"}
    assert len(vevents(site.files[plan_feed_path(plan.id)])) == 1


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("20 мая", "20 мая 2024 г., пн"),
        ("22 мая, 14:00", "22 мая 2024 г., ср, 14:00"),
        ("до 20 ноября", "до 20 ноября 2024 г."),
        ("май", "в мае 2024 г."),
        ("II квартал", "во II квартале 2024 г."),
        ("1 - 5 июля", "с 1 по 5 июля 2024 г."),
    ],
)
def test_dates_in_words(text: str, words: str) -> None:
    # (with no-break spaces where a line must not break: «20 мая», «2024 г.»)
    assert agenda.when_words(reading(text)).replace("\xa0", " ") == words


def test_vevent_chunks_swap_only_the_identity_even_when_folded() -> None:
    long_key = "k" * 60  # a UID line longer than 75 octets is folded
    plan = make_plan(event(long_key, "20 мая", "lib-a", "lib-b"))
    chunks = ical.vevent_chunks(plan, plan.events[0], ["lib-a", "lib-b"], stamp=STAMP)
    for org in ("lib-a", "lib-b"):
        built = ical.build_vevent(plan, plan.events[0], org, stamp=STAMP)
        assert built is not None and chunks[org] == built.to_ical()


@given(st.text(alphabet=st.sampled_from("ab\\^;,:ЖёЯ€😀 "), max_size=400))
@example("a" * 73 + "\\n" + "b" * 10)  # an escape at the fold stays whole
@example("a" * 72 + "Ж" + "b" * 10)  # a two-octet letter at the fold moves to the next line
def test_fold_is_icalendar_folding(text: str) -> None:
    from icalendar.parser.string import _foldline

    assert ical.fold(text.encode()) == _foldline(text).encode()


def test_forms_differing_only_in_case_share_one_filter() -> None:
    plan = make_plan(
        event("e1", "20 мая", "lib-a", form="Семинар"), event("e2", "21 мая", "lib-a", form="семинар")
    )
    (only,) = agenda.forms([plan])
    assert (only.label, only.events) == ("Семинар", 2)
