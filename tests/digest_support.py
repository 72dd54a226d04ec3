"""Shared builders for the digest tests: small plans in code, configs on tmp folders."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from plansync.config import (
    CalDAVConfig,
    Config,
    DigestConfig,
    MailConfig,
    PasswordSource,
    SMTPConfig,
    SyncConfig,
)
from plansync.dates import read_date
from plansync.plan import Contacts, Event, Organization, Plan

ROOT = Path(__file__).resolve().parents[1]
PLAN_2024 = ROOT / "data" / "plan-2024.yaml"
SENDER = "Сводный план библиотек <plansync@example.org>"
REPLY_TO = "Методический отдел КОНБ <nmo@lib39.ru>"
NOW = dt.datetime(2024, 5, 17, 6, 0, tzinfo=dt.UTC)

ORGS = (
    Organization(
        "lib-a", "ГБУК «Библиотека А»", "Библиотека А", "library", Contacts(("8 000",), ("a@lib.example",))
    ),
    Organization("lib-b", "ГБУК «Библиотека Б»", "Библиотека Б", "library", Contacts((), ("b@lib.example",))),
    Organization("office", "Проектный офис", "Проектный офис", "project-office"),
)


def event(key: str, date_text: str, *organizers: str, title: str | None = None, year: int = 2024) -> Event:
    return Event(
        key=key,
        section="dated",
        number=None,
        form=None,
        title=title or f"Мероприятие {key}",
        date_text=date_text,
        organizers=organizers or ("lib-a",),
        reading=read_date(date_text, year),
    )


def make_plan(*events: Event, organizations: tuple[Organization, ...] = ORGS) -> Plan:
    return Plan(
        "test-plan", "Тестовый план на 2024 год", 2024, "Europe/Kaliningrad", (), organizations, events
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


def make_config(
    tmp: Path,
    *,
    plans: tuple[Path, ...] = (PLAN_2024,),
    smtp: SMTPConfig | None = None,
    templates: Path | None = None,
    send_empty: bool = False,
    attach_ics: bool = True,
) -> Config:
    mail = (
        MailConfig(transport="smtp", outbox=tmp / "outbox", smtp=smtp)
        if smtp
        else MailConfig(outbox=tmp / "outbox")
    )
    return Config(
        source=None,
        plans=plans,
        state_dir=tmp / "state",
        caldav=CalDAVConfig(),
        calendars={},
        sync=SyncConfig(),
        digest=DigestConfig(
            sender=SENDER,
            reply_to=REPLY_TO,
            send_empty=send_empty,
            attach_ics=attach_ics,
            templates=templates,
        ),
        mail=mail,
    )


def smtp_config(
    port: int,
    *,
    security: str = "starttls",
    ca_file: Path | None = None,
    user: str | None = None,
    password_env: str | None = "TEST_SMTP_PASSWORD",
    timeout: float = 5.0,
) -> SMTPConfig:
    return SMTPConfig(
        host="127.0.0.1",
        port=port,
        security=security,  # type: ignore[arg-type]
        username=user,
        password=PasswordSource(env=password_env),
        ca_file=ca_file,
        timeout=timeout,
    )
