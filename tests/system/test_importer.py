"""The importer: the committed 2024 plan is exactly its output, and bad sources are reported by line."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from plansync.errors import InvalidInput
from plansync.planread.importer import (
    OrganizerMatcher,
    event_form,
    import_source,
    load_registry,
    parse_source,
)
from plansync.planread.sources.tab_text import marked_runs
from tests.support.paths import PLAN_2024, REPO, SEED

REGISTRY = REPO / "data" / "organizations.yaml"


def test_import_reproduces_the_committed_plan_byte_for_byte(tmp_path: Path) -> None:
    out = tmp_path / "plan.yaml"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "plansync",
            "import",
            str(SEED),
            "--year",
            "2024",
            "-o",
            str(out),
            "--registry",
            str(REGISTRY),
        ],
        check=True,
        capture_output=True,
    )
    assert out.read_bytes() == PLAN_2024.read_bytes()


def test_every_row_and_contact_is_read() -> None:
    doc = parse_source(SEED.read_text(encoding="utf-8"), "seed")
    assert doc.title.startswith("Сводный план основных профессиональных мероприятий")
    assert [len(s.rows) for s in doc.sections] == [10, 25]
    assert [s.heading for s in doc.sections] == [None, "Январь"]
    assert [r.number for r in doc.sections[1].rows] == list(range(1, 26))
    assert [(c.phones, c.emails) for c in doc.contacts] == [
        (["8(4012) 93-70-21"], ["nmo@lib39.ru"]),
        (["8(4012) 96-02-56"], ["gaidar39@librgaidar.net"]),
        (["8(4012) 64-18-82"], ["mayak_biblio@mail.ru"]),
        (["8(4012) 45-08-19"], ["kobs@inbox.ru"]),
    ]


def test_run_together_organizer_cells_are_split() -> None:
    matcher = OrganizerMatcher(load_registry(REGISTRY))
    cell = (
        "Проектный офис РГБ Министерство по культуре и туризму КО "
        "ГБУК «Калининградская областная научная библиотека»"
    )
    found, unmatched = matcher.split(cell)
    assert [o.id for o in found] == ["project-office-rgb", "minculture", "konb"]
    assert unmatched == []
    found, unmatched = matcher.split(
        "ГБУК «Калининградская областная научная библиотека» Проектный офис КОНБ"
    )
    assert [o.id for o in found] == ["konb", "project-office-konb"]


def test_unknown_organizer_is_reported_with_its_line_and_nothing_written(tmp_path: Path) -> None:
    source = tmp_path / "plan.txt"
    text = SEED.read_text(encoding="utf-8").replace(
        "8 февраля\tГБУК «Калининградская областная юношеская библиотека им. В. Маяковского»",
        "8 февраля\tМБУК «Централизованная библиотечная система г. Гусева»",
    )
    source.write_text(text, encoding="utf-8")
    out = tmp_path / "out.yaml"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "plansync",
            "import",
            str(source),
            "--year",
            "2024",
            "-o",
            str(out),
            "--registry",
            str(REGISTRY),
        ],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 1
    line = next(i for i, row in enumerate(text.splitlines(), 1) if "г. Гусева»" in row and "8 февраля" in row)
    assert f"{source}:{line}:1: row 6: organizers: no known organization matches " in result.stderr
    assert "«МБУК «Централизованная библиотечная система г. Гусева»»" in result.stderr
    assert "Traceback" not in result.stderr
    assert not out.exists()


def test_malformed_rows_are_reported(tmp_path: Path) -> None:
    source = tmp_path / "plan.txt"
    source.write_text("План\n\n1\tТолько название\n\tпродолжение\t\t\nx\ta\tb\tc\n", encoding="utf-8")
    with pytest.raises(InvalidInput) as info:
        import_source(source, REGISTRY, 2024, "p", "Europe/Kaliningrad")
    assert [(p.line, p.message) for p in info.value.problems] == [
        (3, "a row needs its date, organizers filled"),
        (4, "a continuation row with no row above it"),
        (5, "the first cell «x» is not a row number"),
    ]


@pytest.mark.parametrize(
    ("title_html", "form"),
    [
        (
            "<i>Цикл вебинаров</i> в рамках национального проекта « <i>Методическая среда</i> »",
            "Цикл вебинаров",
        ),
        ("<i>Мониторинг деятельности</i> общедоступных библиотек", "Мониторинг деятельности"),
        # The whole title in italics is emphasis, not a form: the kind named in it is the form.
        ("<i>Конкурс лучших практик, реализованных муниципальными библиотеками</i>", "Конкурс"),
        ("<i>Цикл вебинаров «Библиотерапия».</i> <i>Методические рекомендации.</i>", "Цикл вебинаров"),
        ("Семинар-практикум «Программа «Пушкинская карта»: от замысла к реализации»", "Семинар-практикум"),
        ("Областной детский литературно-театральный конкурс «Голубая чашка»", "Конкурс"),
        ("Работа с заявками на конкурсный отбор. Консультации", "Приём заявок"),
        ("Круглый стол для сотрудников библиотек г. Гусева", "Круглый стол"),
        ("Что-то без формы", None),
    ],
)
def test_form(title_html: str, form: str | None) -> None:
    assert event_form(marked_runs(title_html)) == form
