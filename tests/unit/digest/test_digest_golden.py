"""Golden files: the plain-text digests of whole 2024 weeks, as the libraries would receive them.

Each file holds every library's digest of one week (or why it is not sent), every Monday of the
year. They were read through by hand; after a deliberate change, regenerate with
PLANSYNC_UPDATE_GOLDEN=1 and read the diff.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pytest

from plansync.digest.mail import ListInfo, Renderer
from plansync.digest.select import digest_period, select
from plansync.planread.planfile import load_plan
from tests.support.paths import PLAN_2024

GOLDEN = Path(__file__).parent / "golden"
# Every Monday of 2024: the whole year as the libraries read it.
WEEKS = [(dt.date(2024, 1, 1) + dt.timedelta(weeks=n)).isoformat() for n in range(53)]


def render_week(as_of: dt.date) -> str:
    plan = load_plan(PLAN_2024)
    period = digest_period(as_of)
    renderer = Renderer()
    out = [f"# Дайджесты, --as-of {as_of.isoformat()}: {period.start} … {period.end}", ""]
    selection = select([plan], period)
    for digest in selection.digests:
        to = ", ".join(digest.recipients)
        if digest.empty:
            out += [f"## {digest.organization.id} <{to}>: не отправляется — мероприятий нет", ""]
            continue
        rendered = renderer.render(
            digest, reply_to="Координатор плана <plan@lib39.ru>", listing=ListInfo("plan@lib39.ru")
        )
        out += [f"## {digest.organization.id} <{to}>", f"Тема: {rendered.subject}", "", rendered.text]
    for org, count in selection.without_email:
        out.append(f"## {org.id}: нет e-mail, {count} пункт(ов) не отправлено")
    return "\n".join(out).rstrip("\n") + "\n"


@pytest.mark.parametrize("week", WEEKS)
def test_golden_week(week: str) -> None:
    path = GOLDEN / f"digest-{week}.txt"
    text = render_week(dt.date.fromisoformat(week))
    if os.environ.get("PLANSYNC_UPDATE_GOLDEN") == "1":
        path.write_text(text, encoding="utf-8")
    assert path.exists(), f"{path} is missing: run with PLANSYNC_UPDATE_GOLDEN=1 and review it"
    assert text == path.read_text(encoding="utf-8")


def test_as_of_a_friday_gives_the_same_week_as_its_monday() -> None:
    assert (
        render_week(dt.date(2024, 5, 17)).split("\n", 1)[1]
        == render_week(dt.date(2024, 5, 20)).split("\n", 1)[1]
    )
