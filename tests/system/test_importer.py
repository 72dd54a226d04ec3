"""The importer: the committed 2024 plan is exactly its output, and bad sources are reported by line."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from plansync.errors import InvalidInput
from plansync.planread.importer import (
    OrganizerMatcher,
    event_form,
    import_plan,
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
    assert [r.number for r in doc.sections[1].rows] == [str(n) for n in range(1, 26)]
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


def test_unknown_organizers_are_proposed_for_review_and_merged_once_accepted(tmp_path: Path) -> None:
    source = tmp_path / "plan.txt"
    text = SEED.read_text(encoding="utf-8").replace(
        "8 февраля\tГБУК «Калининградская областная юношеская библиотека им. В. Маяковского»",
        "8 февраля\tМБУК «Централизованная библиотечная система г. Гусева» "
        "Калининградская областная детская библиотека им. Гайдара",
    )
    source.write_text(text, encoding="utf-8")
    out = tmp_path / "out.yaml"
    args = [sys.executable, "-m", "plansync", "import", str(source), "--year", "2024", "-o", str(out)]
    result = subprocess.run([*args, "--registry", str(REGISTRY)], capture_output=True, text=True)
    assert result.returncode == 4, result.stderr  # written, with organizers to review
    line = next(i for i, row in enumerate(text.splitlines(), 1) if "г. Гусева»" in row and "8 февраля" in row)
    proposed = tmp_path / "out.proposed-organizations.yaml"
    assert "2 organizers to review:" in result.stderr
    assert (
        f"  line {line} (№ 6): «МБУК «Централизованная библиотечная система г. Гусева»» is not in"
        in result.stderr
    )
    assert f"--registry {REGISTRY} --registry {proposed}" in result.stderr
    assert "Traceback" not in result.stderr
    entries = yaml.safe_load(proposed.read_text(encoding="utf-8"))["organizations"]
    assert [(e["id"], e["name"], e.get("alias_of"), e["seen"]) for e in entries] == [
        (
            "tsentralizovannaya-bibliotechnaya",
            "МБУК «Централизованная библиотечная система г. Гусева»",
            None,
            [f"{source.name}, line {line} (№ 6)"],
        ),
        # close to a known organization: proposed as its alias, not applied
        (
            "kaliningradskaya-oblastnaya-detskaya",
            "Калининградская областная детская библиотека им. Гайдара",
            "gaidar",
            [f"{source.name}, line {line} (№ 6)"],
        ),
    ]
    plan = yaml.safe_load(out.read_text(encoding="utf-8"))
    row = next(e for e in plan["events"] if e["key"] == "dated-06")
    assert row["organizers"] == ["tsentralizovannaya-bibliotechnaya", "kaliningradskaya-oblastnaya-detskaya"]
    assert (
        subprocess.run(
            [sys.executable, "-m", "plansync", "validate", str(out)], capture_output=True
        ).returncode
        == 0
    )
    # accepted as written: the new library is known, the near-match becomes an alias of gaidar
    again = subprocess.run(
        [*args, "--registry", str(REGISTRY), "--registry", str(proposed)], capture_output=True, text=True
    )
    assert again.returncode == 0, again.stderr
    assert "not in the registry" not in again.stderr
    row = next(e for e in yaml.safe_load(out.read_text(encoding="utf-8"))["events"] if e["key"] == "dated-06")
    assert row["organizers"] == ["tsentralizovannaya-bibliotechnaya", "gaidar"]


def test_an_alias_of_an_unknown_organization_is_reported(tmp_path: Path) -> None:
    proposed = tmp_path / "p.yaml"
    proposed.write_text(
        "organizations:\n  - {id: x, name: X, short_name: X, kind: other, alias_of: nobody}\n",
        encoding="utf-8",
    )
    with pytest.raises(InvalidInput) as info:
        load_registry([REGISTRY, proposed])
    assert info.value.problems[0].message == "unknown organization 'nobody'"


def test_malformed_rows_are_reported_and_the_plan_still_written(tmp_path: Path) -> None:
    source = tmp_path / "plan.txt"
    source.write_text("План\n\n1\tТолько название\n\tпродолжение\t\t\nx\ta\tb\tc\n", encoding="utf-8")
    imported = import_plan(source, REGISTRY, 2024, "p", "Europe/Kaliningrad")
    events = imported.document["events"]
    assert [(e.get("number"), e["title"], e["date"], e.get("date_known")) for e in events] == [
        (1, "Только название продолжение", "не указана", False),
        (None, "a", "b", False),
    ]
    assert [(i.kind, i.where) for i in imported.review if i.kind != "organizer"] == [
        ("undated", "line 3 (№ 1)"),
        ("number", "line 5"),
        ("undated", "line 5"),
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
