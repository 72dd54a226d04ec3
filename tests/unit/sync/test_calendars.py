"""The calendars' default names: one per organizer for the plans of every year, said the same everywhere."""

from __future__ import annotations

from plansync.calendar.identity import COMBINED
from plansync.config.schema import KEY
from plansync.model.plan import Organization
from plansync.sync.calendars import default_calendar_name
from tests.support.paths import REPO

KONB = Organization("konb", "ГБУК «Калининградская областная научная библиотека»", "КОНБ", "library")


def test_a_default_name_has_no_year() -> None:
    assert default_calendar_name(KONB, ()) == "КОНБ — план"
    whole = Organization(COMBINED, "Сводный план", "Сводный план", "other")
    assert default_calendar_name(whole, ()) == "Сводный план"


def test_the_docs_and_the_shipped_config_say_the_same_name() -> None:
    said = {
        "the schema": str(KEY["calendars"].shown) + KEY["sync.combined_calendar"].help,
        "config/plansync.yaml": (REPO / "config" / "plansync.yaml").read_text(encoding="utf-8"),
        "docs/configuration.md": (REPO / "docs" / "configuration.md").read_text(encoding="utf-8"),
        "docs/calendar.md": (REPO / "docs" / "calendar.md").read_text(encoding="utf-8"),
    }
    for where, text in said.items():
        assert "— план <year>" not in text and "Сводный план 20" not in text and "план …" not in text, where
    assert (
        "<short name> — план" in said["the schema"] and "<short name> — план" in said["config/plansync.yaml"]
    )
