"""Configs for the tests: in code (`make_config`, `smtp_config`) and as files (`write_sync_config`)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from plansync.config.model import (
    CalDAVConfig,
    Config,
    DigestConfig,
    MailConfig,
    PasswordSource,
    SMTPConfig,
    SyncConfig,
)
from tests.support.paths import PLAN_2024

SENDER = "Сводный план библиотек <plansync@library.test>"
REPLY_TO = "Методический отдел КОНБ <nmo@lib39.ru>"
NOW = dt.datetime(2024, 5, 17, 6, 0, tzinfo=dt.UTC)


def make_config(
    tmp: Path,
    *,
    plans: tuple[Path, ...] = (PLAN_2024,),
    smtp: SMTPConfig | None = None,
    templates: Path | None = None,
    send_empty: bool = False,
    attach_ics: bool = True,
    include_others: bool = False,
) -> Config:
    """A config in code. `include_others` is off by default: the week of 20 May then goes to exactly
    the two libraries with events of their own, which the ledger and transport tests count on."""
    mail = (
        MailConfig(transport="smtp", outbox=tmp / "outbox", smtp=smtp, sender=SENDER, reply_to=REPLY_TO)
        if smtp
        else MailConfig(outbox=tmp / "outbox", sender=SENDER, reply_to=REPLY_TO)
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
            include_others=include_others,
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


SYNC_PLAN = """\
plan: {{id: plan-2024, title: Тестовый план, year: 2024, timezone: Europe/Kaliningrad}}
organizations:
  - {{id: konb, name: ГБУК «КОНБ», short_name: КОНБ, kind: library}}
  - {{id: gaidar, name: ГБУК «Гайдара», short_name: Гайдара, kind: library}}
events:
  - {{key: e1, form: семинар, title: Семинар один, date: 12 марта, organizers: [konb]}}
  - {{key: e2, form: вебинар, title: {title}, date: "14 марта, 10:00", organizers: [konb, gaidar]}}
  - {{key: e3, title: Мониторинг, date: II квартал, organizers: [konb]}}
"""


def write_sync_config(tmp: Path, url: str, *, user: str, title: str = "Вебинар два", extra: str = "") -> Path:
    (tmp / "plan.yaml").write_text(SYNC_PLAN.format(title=title), encoding="utf-8")
    config = tmp / "plansync.yaml"
    config.write_text(
        f"plans: [plan.yaml]\nstate_dir: state\ncaldav:\n  url: {url}\n  username: {user}\n"
        f"  password_env: TEST_CALDAV_PASSWORD\n"
        f"calendars:\n  konb: {{name: КОНБ {user}}}\n  gaidar: {{name: Гайдара {user}}}\n{extra}",
        encoding="utf-8",
    )
    return config
