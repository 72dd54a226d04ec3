"""Plans for the tests: built in code (`event`, `plan`, `small_plan`, `make_plan`) or written as YAML."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from plansync.model.plan import Contacts, Event, Organization, Plan, Section
from plansync.planread.dates import Reading, read_date

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
    date_text: str,
    *organizers: str,
    title: str | None = None,
    form: str | None = None,
    year: int = YEAR,
) -> Event:
    return Event(
        key=key,
        section="dated",
        number=None,
        form=form,
        title=title or f"Мероприятие {key}",
        date_text=date_text,
        organizers=organizers or ("konb",),
        reading=read_date(date_text, year),
    )


def plan(
    *events: Event,
    plan_id: str = "plan-2024",
    title: str = "Сводный план 2024",
    organizations: tuple[Organization, ...] = ORGS,
) -> Plan:
    return Plan(
        id=plan_id,
        title=title,
        year=YEAR,
        timezone="Europe/Kaliningrad",
        sections=(Section("dated", None),),
        organizations=organizations,
        events=tuple(events),
    )


DIGEST_ORGS = (
    Organization(
        "lib-a", "ГБУК «Библиотека А»", "Библиотека А", "library", Contacts(("8 000",), ("a@lib.example",))
    ),
    Organization("lib-b", "ГБУК «Библиотека Б»", "Библиотека Б", "library", Contacts((), ("b@lib.example",))),
    Organization("office", "Проектный офис", "Проектный офис", "project-office"),
)


def make_plan(*events: Event, organizations: tuple[Organization, ...] = DIGEST_ORGS) -> Plan:
    """A plan of the digest tests: libraries A and B (with e-mail) and a project office (without)."""
    return replace(
        plan(*events, plan_id="test-plan", title="Тестовый план на 2024 год", organizations=organizations),
        sections=(),
    )


def write_plan_yaml(path: Path, events: list[tuple[str, str, str, list[str]]]) -> Path:
    """A plan file with the two test libraries: events as (key, title, date, organizers)."""
    import json

    lines = [
        "plan: {id: test-plan, title: Тестовый план, year: 2024, timezone: Europe/Kaliningrad}",
        "organizations:",
        "  - {id: lib-a, name: ГБУК «Библиотека А», short_name: Библиотека А, kind: library,",
        "     contacts: {emails: [a@lib.example]}}",
        "  - {id: lib-b, name: ГБУК «Библиотека Б», short_name: Библиотека Б, kind: library,",
        "     contacts: {emails: [b@lib.example]}}",
        "events:",
    ]
    for key, title, date, organizers in events:
        lines.append(f"  - key: {key}")
        lines.append(f"    title: {json.dumps(title, ensure_ascii=False)}")
        lines.append(f"    date: {json.dumps(date, ensure_ascii=False)}")
        lines.append(f"    organizers: [{', '.join(organizers)}]")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def small_plan() -> Plan:
    return plan(
        event("e1", "12 марта", title="Семинар «Библиотека, ты где?»", form="семинар"),
        event("e2", "12 марта, 14:00", "konb", "gaidar", title="Вебинар по обслуживанию", form="семинар"),
        event("e3", "II квартал", title="Мониторинг деятельности", form="мониторинг"),
    )


def retitle(p: Plan, key: str, title: str) -> Plan:
    return replace(p, events=tuple(replace(e, title=title) if e.key == key else e for e in p.events))


def without(p: Plan, *keys: str) -> Plan:
    return replace(p, events=tuple(e for e in p.events if e.key not in keys))


def with_event(p: Plan, e: Event) -> Plan:
    return replace(p, events=(*p.events, e))


GOOD_PLAN = """\
plan:
  id: test-2025
  title: Тестовый план
  year: 2025
  timezone: Europe/Kaliningrad
sections:
  - id: dated
    title: Январь
organizations:
  - id: konb
    name: ГБУК «Калининградская областная научная библиотека»
    short_name: КОНБ
    kind: library
    contacts:
      phones: [8(4012) 93-70-21]
      emails: [nmo@lib39.ru]
  - id: gaidar
    name: ГБУК «Калининградская областная детская библиотека им. А.П. Гайдара»
    short_name: Гайдара
    kind: library
events:
  - key: dated-01
    section: dated
    number: 1
    form: Вебинар
    title: Вебинар «Пушкинская карта»
    date: 15 января
    organizers: [konb]
  - key: dated-02
    title: Фестиваль
    date: 1 - 5 июля
    organizers: [konb, gaidar]
"""
