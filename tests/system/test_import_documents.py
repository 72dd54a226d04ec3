"""Importing the documents plans are published as: the 2024 plan as .docx, .odt and HTML gives exactly
the committed plan, and a made-up plan in another region's layout imports with every event right."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from plansync.planread.importer import import_source
from tests.support.paths import PLAN_2024, REPO

SOURCES = REPO / "data" / "sources"
OTHER = SOURCES / "other-region"
REGISTRY = REPO / "data" / "organizations.yaml"
KONB = "ГБУК «Калининградская областная научная библиотека»"


def _import(source: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "plansync", "import", str(source), *args],
        capture_output=True,
        text=True,
        check=False,
    )


def _without_source_line(text: str) -> list[str]:
    return [line for line in text.splitlines() if not line.startswith("# Imported by `plansync import` from")]


@pytest.mark.parametrize("extension", ["docx", "odt", "html"])
def test_the_2024_document_imports_to_the_committed_plan(extension: str) -> None:
    source = SOURCES / f"plan-2024.{extension}"
    result = _import(source, "--year", "2024", "--registry", str(REGISTRY))
    assert result.returncode == 0, result.stderr
    assert f"from plan-2024.{extension}." in result.stdout
    assert _without_source_line(result.stdout) == _without_source_line(PLAN_2024.read_text(encoding="utf-8"))


def test_columns_given_by_hand_override_the_header_words() -> None:
    by_hand = _import(
        SOURCES / "plan-2024.docx",
        "--year",
        "2024",
        "--columns",
        "number=1,title=2,date=3,organizers=4",
    )
    assert by_hand.returncode == 0, by_hand.stderr
    assert _without_source_line(by_hand.stdout) == _without_source_line(PLAN_2024.read_text(encoding="utf-8"))
    # the columns by hand win over the header words
    swapped = _import(
        SOURCES / "plan-2024.docx", "--year", "2024", "--columns", "title=3,date=2,organizers=4"
    )
    assert swapped.returncode == 4, swapped.stderr  # written; the titles in the date column are listed
    first = yaml.safe_load(swapped.stdout)["events"][0]
    assert (first["title"], first["date"]) == ("январь–декабрь", _first_2024_title())
    wrong = _import(SOURCES / "plan-2024.docx", "--year", "2024", "--columns", "title=2,when=3")
    assert wrong.returncode == 2
    assert "--columns: cannot read 'when=3'" in wrong.stderr


def _first_2024_title() -> str:
    title: str = yaml.safe_load(PLAN_2024.read_text(encoding="utf-8"))["events"][0]["title"]
    return title


OTHER_EVENTS = [
    (
        "В течение года",
        1,
        "Мониторинг",
        "Мониторинг деятельности муниципальных библиотек области",
        "январь–декабрь",
        ["ponb", "cbs-lesnoy"],
        "Место проведения: Библиотеки области",
    ),
    (
        "В течение года",
        2,
        "Акция",
        "«Читаем вместе»: областная акция",
        "III квартал",
        ["minculture-p", "podb", "ponb"],
        None,
    ),
    (
        "I квартал",
        3,
        "Вебинар",
        "Вебинар «Новые книги для подростков»",
        "12.03.2025, 11:00",
        ["podb"],
        "Место проведения: Онлайн",
    ),
    (
        "I квартал",
        4,
        "Семинар",
        "Областной семинар «Библиотека и местное сообщество»",
        "20 марта",
        ["ponb", "cbs-lesnoy"],
        "Место проведения: г. Лесной, ул. Садовая, 5",
    ),
    (
        "II квартал",
        5,
        "Конкурс",
        "Конкурс буктрейлеров «Книга в кадре»",
        "апрель – май",
        ["podb", "cbs-lesnoy"],
        None,
    ),
    (
        "II квартал",
        6,
        "Совещание",
        "Совещание директоров муниципальных библиотек",
        "15.05.2025 10:00–13:00",
        ["minculture-p", "ponb"],
        "Место проведения: ПОНБ, конференц-зал",
    ),
]


@pytest.mark.parametrize("extension", ["docx", "odt", "html"])
def test_another_regions_layout_imports_every_event_date_and_organizer(
    extension: str, tmp_path: Path
) -> None:
    """Eight columns («Форма», «Сроки проведения» and «Дата и время», «Ответственные» and «Исполнители»,
    «Место проведения»), headings merged across the table, the columns numbered under the header,
    cells of several paragraphs and line breaks, a footnote mark, and contacts in either layout."""
    text = import_source(
        OTHER / f"plan-2025.{extension}", OTHER / "organizations.yaml", 2025, "plan-2025", "Europe/Moscow"
    )
    plan = yaml.safe_load(text)
    assert plan["plan"]["title"] == "План мероприятий библиотек Приозёрской области на 2025 год"
    headings = {s["id"]: s.get("title") for s in plan["sections"]}
    got = [
        (
            headings[e["section"]],
            e["number"],
            e.get("form"),
            e["title"],
            e["date"],
            e["organizers"],
            e.get("notes"),
        )
        for e in plan["events"]
    ]
    assert got == [tuple(row) for row in OTHER_EVENTS]
    contacts = {o["id"]: o.get("contacts") for o in plan["organizations"]}
    assert contacts["ponb"] == {"phones": ["8 (8112) 00-00-01"], "emails": ["metod@ponb.example"]}
    assert contacts["podb"] == {"phones": ["8 (8112) 00-00-02"], "emails": ["deti@podb.example"]}
    out = tmp_path / "plan.yaml"
    out.write_text(text, encoding="utf-8")
    check = subprocess.run(
        [sys.executable, "-m", "plansync", "validate", str(out)], capture_output=True, text=True, check=False
    )
    assert check.returncode == 0, check.stdout + check.stderr


def test_a_row_without_a_date_is_kept_undated_and_validate_warns(tmp_path: Path) -> None:
    source = tmp_path / "plan.html"
    source.write_text(
        "<p>План на 2024 год</p><table>"
        "<tr><th>№</th><th>Наименование</th><th>Сроки</th><th>Ответственные</th></tr>"
        f"<tr><td>1</td><td>Семинар</td><td>по отдельному плану</td><td>{KONB}</td></tr>"
        f"<tr><td>2</td><td>Вебинар</td><td>12 марта</td><td>{KONB}</td></tr></table>",
        encoding="utf-8",
    )
    out = tmp_path / "plan.yaml"
    result = _import(source, "--year", "2024", "--registry", str(REGISTRY), "-o", str(out))
    assert result.returncode == 0, result.stderr
    events = yaml.safe_load(out.read_text(encoding="utf-8"))["events"]
    assert [e.get("date_known", True) for e in events] == [False, True]
    check = subprocess.run(
        [sys.executable, "-m", "plansync", "validate", str(out)], capture_output=True, text=True, check=False
    )
    assert check.returncode == 0
    assert "warning: event dated-01: the date is not known yet («по отдельному плану»)" in check.stderr
    assert "valid: 2 events" in check.stdout
