"""What goes into a digest: pure selection, no templates, no mail."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

from hypothesis import given
from hypothesis import strategies as st

from plansync.digest.select import Period, digest_period, select, today_in, view
from plansync.planread.dates import read_date
from tests.support.plans import DIGEST_ORGS as ORGS
from tests.support.plans import event, make_plan

D = dt.date
WEEKS_2024 = [digest_period(D(2024, 1, 1)).start + dt.timedelta(weeks=n) for n in range(53)]


def own(plan, period: Period, org: str = "lib-a") -> list[tuple[str, str]]:
    digest = next(d for d in select([plan], period).digests if d.organization.id == org)
    return [(i.event.key, i.kind) for i in digest.items]


def weeks_mentioning(plan, key: str) -> list[D]:
    return [w for w in WEEKS_2024 if any(k == key for k, _ in own(plan, digest_period(w)))]


def test_the_period_is_the_week_from_the_first_monday_on_or_after_as_of() -> None:
    may = Period(D(2024, 5, 20), D(2024, 5, 26))
    assert digest_period(D(2024, 5, 20)) == may
    assert digest_period(D(2024, 5, 17)) == may
    assert digest_period(D(2024, 5, 14)) == may
    assert digest_period(D(2024, 5, 13)) == Period(D(2024, 5, 13), D(2024, 5, 19))
    assert digest_period(D(2024, 12, 31)) == Period(D(2025, 1, 6), D(2025, 1, 12))


def test_today_is_taken_in_the_plans_time_zone() -> None:
    late_sunday_utc = dt.datetime(2024, 5, 19, 22, 30, tzinfo=dt.UTC)  # 00:30 on Monday in Kaliningrad
    assert today_in("Europe/Kaliningrad", late_sunday_utc) == D(2024, 5, 20)
    assert today_in("UTC", late_sunday_utc) == D(2024, 5, 19)


@given(st.dates(min_value=D(2000, 1, 1), max_value=D(2099, 12, 1)))
def test_period_invariants(as_of: D) -> None:
    period = digest_period(as_of)
    assert period.start.weekday() == 0 and 0 <= (period.start - as_of).days < 7
    assert (period.end - period.start).days == 6


def test_exact_days_come_first_in_date_and_time_order() -> None:
    plan = make_plan(
        event("month", "май", "lib-a"),
        event("late", "3 мая", "lib-a"),
        event("noon", "2 мая, 12:00", "lib-a"),
        event("morning", "2 мая, 9:00", "lib-a"),
        event("other", "1 мая", "lib-b"),
    )
    assert own(plan, digest_period(D(2024, 4, 29))) == [
        ("morning", "day"), ("noon", "day"), ("late", "day"), ("month", "undated")
    ]  # fmt: skip


def test_an_exact_day_is_announced_a_week_ahead_and_in_its_week() -> None:
    plan = make_plan(event("e", "22 мая", "lib-a"))
    # Issued Thursday 9 May, 13 days before; the digest issued 16 May is 6 days before: too late.
    assert weeks_mentioning(plan, "e") == [D(2024, 5, 13), D(2024, 5, 20)]
    ahead = own(plan, digest_period(D(2024, 5, 13)))
    assert ahead == [("e", "day")]
    digest = select([plan], digest_period(D(2024, 5, 13))).digests[0]
    assert [v.when for v in view(digest).ahead] == ["22\xa0мая, ср"] and view(digest).exact == ()


def test_a_short_range_is_in_every_week_it_touches() -> None:
    plan = make_plan(event("e", "30 апреля – 2 мая", "lib-a"), event("f", "25 мая – 2 июня", "lib-a"))
    assert weeks_mentioning(plan, "e") == [D(2024, 4, 22), D(2024, 4, 29)]
    assert weeks_mentioning(plan, "f") == [D(2024, 5, 20), D(2024, 5, 27)]


def test_month_events_in_the_last_digest_issued_before_the_month() -> None:
    plan = make_plan(event("may", "май", "lib-a"), event("sep", "сентябрь", "lib-a"))
    assert weeks_mentioning(plan, "may") == [D(2024, 4, 29)]  # issued Thursday 25 April
    assert weeks_mentioning(plan, "sep") == [D(2024, 9, 2)]  # issued Thursday 29 August
    digest = select([plan], digest_period(D(2024, 4, 29))).digests[0]
    assert view(digest).fuzzy[0].when == "в мае, дата уточняется"


def test_deadline_two_weeks_ahead_and_in_its_week() -> None:
    plan = make_plan(event("d", "до 20 ноября", "lib-a"))
    assert weeks_mentioning(plan, "d") == [D(2024, 11, 4), D(2024, 11, 18)]  # issued 31 October: 20 days
    digest = select([plan], digest_period(D(2024, 11, 18))).digests[0]
    assert (view(digest).exact[0].when, view(digest).exact[0].status) == ("до 20\xa0ноября, ср", "срок")


def test_year_round_activity_only_when_it_starts_and_ends() -> None:
    plan = make_plan(event("y", "январь–декабрь", "lib-a"), event("c", "февраль - май", "lib-a"))
    assert weeks_mentioning(plan, "y") == [D(2024, 1, 1), D(2024, 11, 25)]
    assert weeks_mentioning(plan, "c") == [D(2024, 1, 29), D(2024, 4, 29)]
    assert own(plan, digest_period(D(2024, 1, 29))) == [("c", "starts")]


def test_span_with_an_exact_end_is_announced_in_the_week_it_ends() -> None:
    plan = make_plan(event("g", "январь - 31 октября", "lib-a"))
    assert weeks_mentioning(plan, "g") == [D(2024, 1, 1), D(2024, 10, 21), D(2024, 10, 28)]
    digest = select([plan], digest_period(D(2024, 10, 28))).digests[0]
    item = view(digest).exact[0]
    assert (item.when, item.status) == ("с января по 31\xa0октября", "последний день, чт")


def test_weekly_activity_is_mentioned_once_a_month_not_every_week() -> None:
    plan = make_plan(event("w", "январь–декабрь, еженедельно", "lib-a"))
    weeks = weeks_mentioning(plan, "w")
    assert len(weeks) == 12
    assert all(w.replace(day=1) <= w or w.month == 12 for w in weeks)
    assert all(Period(w, w + dt.timedelta(days=6)).opens(w + dt.timedelta(days=6)) for w in weeks)


def test_quarterly_activity_in_the_first_digest_of_each_quarter() -> None:
    plan = make_plan(event("q", "январь–декабрь, ежеквартально", "lib-a"))
    assert weeks_mentioning(plan, "q") == [
        D(2024, 1, 1),
        D(2024, 4, 1),
        D(2024, 7, 1),
        D(2024, 9, 30),
        D(2024, 11, 25),
    ]
    kinds = [own(plan, digest_period(w))[0][1] for w in weeks_mentioning(plan, "q")]
    assert kinds == ["starts", "recurs", "recurs", "recurs", "ends"]


def test_monthly_rule_on_an_exact_day_recurs_in_the_week_of_each_occurrence() -> None:
    base = event("m", "15 января", "lib-a")
    reading = replace(read_date("15 января", 2024), end=D(2024, 4, 30), rrule="FREQ=MONTHLY")
    plan = make_plan(replace(base, reading=reading))
    assert weeks_mentioning(plan, "m") == [
        D(2024, 1, 8),  # its first day, announced ahead
        D(2024, 1, 15),
        D(2024, 2, 12),
        D(2024, 3, 11),
        D(2024, 4, 15),
        D(2024, 4, 29),
    ]
    assert own(plan, digest_period(D(2024, 2, 12))) == [("m", "recurs")]
    assert own(plan, digest_period(D(2024, 4, 29))) == [("m", "ends")]  # the series ends on 30 April


def test_long_exact_range_only_at_start_and_end() -> None:
    plan = make_plan(event("long", "1 марта – 20 апреля", "lib-a"))
    # Its end (20 April) is a deadline: announced two weeks ahead too.
    assert weeks_mentioning(plan, "long") == [D(2024, 2, 26), D(2024, 4, 8), D(2024, 4, 15)]


def test_open_start_once() -> None:
    plan = make_plan(event("o", "с 6 ноября", "lib-a"))
    assert weeks_mentioning(plan, "o") == [D(2024, 10, 28), D(2024, 11, 4)]


def test_the_regions_week_exact_days_and_month_events_in_the_months_first_digest() -> None:
    plan = make_plan(
        event("mine", "май", "lib-a"), event("theirs", "2 мая", "lib-b"), event("t2", "май", "lib-b")
    )
    period = digest_period(D(2024, 4, 29))
    a = select([plan], period).digests[0]
    assert [i.event.key for i in a.others] == ["theirs", "t2"]
    assert [i.event.key for i in select([plan], digest_period(D(2024, 5, 6))).digests[0].others] == []
    assert select([plan], period, include_others=False).digests[0].others == ()


def test_empty_digests_and_organizations_without_email() -> None:
    plan = make_plan(event("x", "2 мая", "lib-b", "office"))
    selection = select([plan], digest_period(D(2024, 4, 29)))
    by_org = {d.organization.id: d for d in selection.digests}
    assert set(by_org) == {"lib-a", "lib-b"}
    assert not by_org["lib-a"].empty and not by_org["lib-b"].empty  # lib-a: the region's week
    alone = {
        d.organization.id: d
        for d in select([plan], digest_period(D(2024, 4, 29)), include_others=False).digests
    }
    assert alone["lib-a"].empty and not alone["lib-b"].empty
    assert [(o.id, n) for o, n in selection.without_email] == [("office", 1)]
    assert ORGS[2].contacts.emails == ()


def test_a_month_long_intake_is_not_a_date_to_be_fixed() -> None:
    plan = make_plan(
        event("intake", "декабрь", "lib-a", title="Прием заявок на конкурс"),
        event("works", "январь (прием работ)", "lib-a", title="Региональный конкурс"),
        event("seminar", "декабрь", "lib-a", title="Семинар"),
    )
    december = view(select([plan], digest_period(D(2024, 12, 2))).digests[0])
    assert [v.when for v in december.fuzzy] == ["в течение декабря", "в декабре, дата уточняется"]
    january = view(select([plan], digest_period(D(2024, 1, 1))).digests[0])
    assert [v.when for v in january.fuzzy] == ["в январе, прием работ"]


def test_the_form_is_not_repeated_when_the_title_says_it_with_e_for_yo() -> None:
    plan = make_plan(
        replace(event("a", "20 мая", "lib-a", title="Вебинар «Приём гостей»"), form="Вебинар."),
        replace(event("b", "21 мая", "lib-a", title="Отчетный семинар"), form="Отчётный семинар"),
        replace(event("c", "22 мая", "lib-a", title="Встреча"), form="Семинар"),
    )
    items = view(select([plan], digest_period(D(2024, 5, 20))).digests[0]).exact
    assert [v.form for v in items] == ["", "", "Семинар"]
    assert [v.organizers_label for v in items] == ["Организатор"] * 3
