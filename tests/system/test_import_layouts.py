"""Plans laid out as regions publish them (data/sources/layouts): each imports with every event, date,
organizer and contact the expectation written beforehand names, the same plan saved as .docx, .odt and
.html imports to the same YAML, what the import writes passes `plansync validate`, and the summary
lists what a person must look at by the source row."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from plansync.calendar.ical import build_vevent
from plansync.digest.select import Item, view_item
from plansync.planread.importer import import_plan, render_yaml
from plansync.planread.planfile import load_plan
from plansync.publish.agenda import LONG_SECTION, row_of, section_of
from plansync.wording.plan_text import plan_json
from tests.support.expected_plan import LAYOUTS, differences, expected
from tests.support.paths import REPO

REGISTRY = REPO / "data" / "organizations.yaml"
NAMES = sorted(p.name.removesuffix(".expected.yaml") for p in LAYOUTS.glob("*.expected.yaml"))
SOURCES = [
    (name, ext) for name in NAMES for ext in ("docx", "odt", "html") if (LAYOUTS / f"{name}.{ext}").exists()
]


def _text(name: str, extension: str) -> str:
    imported = import_plan(LAYOUTS / f"{name}.{extension}", REGISTRY, 2025, "plan-2025", "Europe/Moscow")
    return render_yaml(imported.document, f"{name}.{extension}")


def test_there_are_six_layouts_each_in_three_formats() -> None:
    assert len(NAMES) >= 6
    assert all((LAYOUTS / f"{name}.{ext}").exists() for name in NAMES for ext in ("docx", "odt", "html"))


@pytest.mark.parametrize(("name", "extension"), SOURCES, ids=[f"{n}.{e}" for n, e in SOURCES])
def test_every_event_date_organizer_and_contact_is_right(name: str, extension: str, tmp_path: Path) -> None:
    text = _text(name, extension)
    assert differences(yaml.safe_load(text), expected(name)) == []
    out = tmp_path / "plan.yaml"
    out.write_text(text, encoding="utf-8")
    load_plan(out)  # what the import writes passes `plansync validate`


@pytest.mark.parametrize("name", NAMES)
def test_the_formats_of_one_plan_import_to_the_same_yaml(name: str) -> None:
    def body(extension: str) -> list[str]:
        return [line for line in _text(name, extension).splitlines() if not line.startswith("# Imported by")]

    assert body("odt") == body("docx")
    assert body("html") == body("docx")


@pytest.mark.parametrize("name", NAMES)
def test_the_summary_names_the_rows_to_look_at(name: str) -> None:
    imported = import_plan(LAYOUTS / f"{name}.docx", REGISTRY, 2025, "plan-2025", "Europe/Moscow")
    listed = []
    for item in imported.review:
        if item.kind == "organizer":
            continue
        listed.append("contacts" if item.kind == "contacts" else item.where.split("(№ ")[-1].rstrip(")"))
    assert sorted(set(listed)) == sorted(expected(name)["review"])


@pytest.mark.slow  # starts a process
def test_the_command_imports_a_layout_and_validate_passes(tmp_path: Path) -> None:
    out = tmp_path / "sevlib.yaml"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "plansync",
            "import",
            str(LAYOUTS / "sevlib-2025.docx"),
            "--year",
            "2025",
            "-o",
            str(out),
        ],
        capture_output=True,
        text=True,
        check=False,
        cwd=tmp_path,
    )
    assert out.exists(), result.stderr
    check = subprocess.run(
        [sys.executable, "-m", "plansync", "validate", str(out)], capture_output=True, text=True, check=False
    )
    assert check.returncode == 0, check.stdout + check.stderr


def test_the_contact_is_shown_in_calendars_digests_and_the_site(tmp_path: Path) -> None:
    out = tmp_path / "plan.yaml"
    out.write_text(_text("sevlib-2025", "docx"), encoding="utf-8")
    plan = load_plan(out)
    event = next(e for e in plan.events if e.number == "1.1")
    contact = "Смирнова Е.А., зав. отделом, тел. 8 (8172) 72-33-45"
    assert event.contact == contact
    vevent = build_vevent(plan, event, event.organizers[0])
    assert vevent is not None and f"Контакт: {contact}" in str(vevent["DESCRIPTION"])
    item = Item(plan, event, "day", dt.date(2025, 3, 3), dt.date(2025, 3, 3), 0, "week")
    assert view_item(item).contact.startswith("Смирнова")
    assert row_of(plan, event).contact == contact


def test_the_site_lists_events_the_plan_gives_no_date(tmp_path: Path) -> None:
    out = tmp_path / "plan.yaml"
    out.write_text(_text("sevlib-2025", "docx"), encoding="utf-8")
    plan = load_plan(out)
    undated = [e for e in plan.events if not e.reading.dated]
    assert [e.number for e in undated] == ["2.4", "2.5"]
    assert [row_of(plan, e).read_date for e in undated] == ["дата уточняется", "дата уточняется"]
    assert {section_of(e.reading) for e in undated} == {LONG_SECTION}


def test_show_json_gives_numbers_as_written_and_whole_ones_as_numbers(tmp_path: Path) -> None:
    out = tmp_path / "plan.yaml"
    out.write_text(_text("sevlib-2025", "docx"), encoding="utf-8")
    plan = load_plan(out)
    assert [e["number"] for e in plan_json(plan, plan.events)["events"]][:3] == ["1.1", "1.2", "1.3"]
    seed = load_plan(REPO / "data" / "plan-2024.yaml")
    assert [e["number"] for e in plan_json(seed, seed.events)["events"]][:2] == [1, 2]
