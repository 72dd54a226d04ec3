"""The HTML digests pass axe-core in headless Chromium with no violations (tests/support/browser.py)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from plansync.digest.mail import ListInfo, Renderer
from plansync.digest.select import digest_period, select
from plansync.planread.planfile import load_plan
from tests.support.browser import axe_violations, chromium
from tests.support.paths import PLAN_2024

pytestmark = pytest.mark.slow  # runs Chromium

WEEKS = [  # the busiest January week, a week with the region's events, the «Голубая чашка» deadline
    ("2024-01-01", "konb"),
    ("2024-05-20", "mayakovsky"),
    ("2024-10-28", "gaidar"),
]


@pytest.mark.parametrize(("week", "org"), WEEKS)
def test_the_html_digest_has_no_axe_violations(tmp_path: Path, week: str, org: str) -> None:
    plan = load_plan(PLAN_2024)
    selection = select([plan], digest_period(dt.date.fromisoformat(week)))
    digest = next(d for d in selection.digests if d.organization.id == org)
    listing = ListInfo("nmo@lib39.ru", "https://lib39.ru/digest/stop")
    page = Renderer().render(digest, reply_to="Координатор <nmo@lib39.ru>", listing=listing).html
    path = tmp_path / "digest.html"
    path.write_text(page, encoding="utf-8")
    violations = axe_violations(chromium(), path, tmp_path / "profile")
    assert [(v["id"], v["help"], v["nodes"]) for v in violations] == []


def test_the_checker_finds_violations(tmp_path: Path) -> None:
    path = tmp_path / "bad.html"
    path.write_text(
        '<!DOCTYPE html><html><head><title>x</title></head><body><main><h1>x</h1><img src="x.png">'
        "</main></body></html>",
        encoding="utf-8",
    )
    found = axe_violations(chromium(), path, tmp_path / "profile")
    assert {v["id"] for v in found} >= {"image-alt", "html-has-lang"}
