"""Small plans built in code for the sync tests: a few events, two organizers, every kind of date."""

from __future__ import annotations

from dataclasses import replace

from plansync.dates import Reading, read_date
from plansync.plan import Contacts, Event, Organization, Plan, Section

YEAR = 2024
ORGS = (
    Organization(
        "konb",
        "ГБУК «Калининградская областная научная библиотека»",
        "КОНБ",
        "library",
        Contacts(("8(4012) 93-70-21",), ("nmo@lib39.ru",)),
    ),
    Organization("gaidar", "ГБУК «Детская библиотека им. А.П. Гайдара»", "Гайдара", "library"),
)


def reading(text: str) -> Reading:
    return read_date(text, YEAR)


def event(
    key: str,
    title: str,
    date_text: str,
    organizers: tuple[str, ...] = ("konb",),
    form: str | None = "семинар",
) -> Event:
    return Event(
        key=key,
        section="dated",
        number=None,
        form=form,
        title=title,
        date_text=date_text,
        organizers=organizers,
        reading=reading(date_text),
    )


def plan(*events: Event, plan_id: str = "plan-2024") -> Plan:
    return Plan(
        id=plan_id,
        title="Сводный план 2024",
        year=YEAR,
        timezone="Europe/Kaliningrad",
        sections=(Section("dated", None),),
        organizations=ORGS,
        events=tuple(events),
    )


def small_plan() -> Plan:
    return plan(
        event("e1", "Семинар «Библиотека, ты где?»", "12 марта"),
        event("e2", "Вебинар по обслуживанию", "12 марта, 14:00", ("konb", "gaidar")),
        event("e3", "Мониторинг деятельности", "II квартал", form="мониторинг"),
    )


def retitle(p: Plan, key: str, title: str) -> Plan:
    return replace(p, events=tuple(replace(e, title=title) if e.key == key else e for e in p.events))


def without(p: Plan, *keys: str) -> Plan:
    return replace(p, events=tuple(e for e in p.events if e.key not in keys))


def with_event(p: Plan, e: Event) -> Plan:
    return replace(p, events=(*p.events, e))
