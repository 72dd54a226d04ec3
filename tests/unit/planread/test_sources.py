"""The document readers and the layout step: formatting as data, merged headings, list numbers, footnote
marks, contacts anywhere, the header words of other regions, and untrusted files bounded."""

from __future__ import annotations

import zipfile
from pathlib import Path

import docx
import pytest

from plansync.errors import InvalidInput
from plansync.planread.importer import _Builder
from plansync.planread.layout import lay_out, parse_columns, role_of
from plansync.planread.sources import read_document
from plansync.planread.sources.html_table import read_html
from plansync.planread.sources.model import MAX_ROWS, MAX_UNPACKED_BYTES, Run, Table

HEADER = (
    "<tr><th>№ п/п</th><th>Наименование мероприятия</th><th>Сроки проведения</th><th>Ответственные</th></tr>"
)


@pytest.mark.parametrize(
    ("header", "role"),
    [
        ("№ п/п", "number"),
        ("Наименование мероприятия", "title"),
        ("Наименование мероприятия (форма и название)", "title"),
        ("Форма", "form"),
        ("Форма проведения", "form"),
        ("Сроки проведения", "date"),
        ("Дата и время", "date"),
        ("Дата проведения", "date"),
        ("Время", "time"),
        ("Ответственные", "organizers"),
        ("Исполнители", "organizers"),
        ("Организаторы мероприятия", "organizers"),
        ("Место проведения", "place"),
        ("Примечание", "notes"),
        ("Мероприятие", "title"),
        ("Бюджет", None),
    ],
)
def test_column_roles_from_header_words(header: str, role: str | None) -> None:
    assert role_of(header) == role


def _html(rows: str, before: str = "<p>План на 2025 год</p>", after: str = "") -> str:
    return f"<html><body>{before}<table>{HEADER}{rows}</table>{after}</body></html>"


def test_html_cells_formatting_is_data() -> None:
    doc = read_html(
        _html(
            "<tr><td>1</td><td><em>Вебинар</em>&nbsp;«Книги»<sup>2</sup></td><td>май</td><td>A<br>B</td></tr>"
        ),
        "p.html",
    )
    table = next(b for b in doc.blocks if isinstance(b, Table))
    cells = table.rows[1].cells
    assert cells[1].runs() == [Run("Вебинар", True), Run("\u00a0«Книги»")]
    assert cells[1].text() == "Вебинар «Книги»"
    assert cells[3].paragraphs == [[Run("A")], [Run("B")]]


def test_layout_headings_numbering_rows_lists_and_contacts_before_the_table() -> None:
    doc = read_html(
        _html(
            '<tr><td>1</td><td>2</td><td>3</td><td>4</td></tr><tr><td colspan="4">Январь</td></tr>'
            "<tr><td><ol><li></li></ol></td><td>Семинар</td><td>12 января</td><td>КОНБ</td></tr>"
            "<tr><td><ol><li></li></ol></td><td>Вебинар</td><td>20 января</td><td>КОНБ</td></tr>"
            "<tr><td></td><td>(продолжение)</td><td></td><td></td></tr>",
            before="<p>План на 2025 год</p><p>КОНБ</p><p>Тел.: 1-23-45, e-mail: a@b.ru</p>",
        ),
        "p.html",
    )
    plan = lay_out(doc)
    assert plan.title == "План на 2025 год"
    assert [s.heading for s in plan.sections] == ["Январь"]
    rows = plan.sections[0].rows
    assert [(r.number, "".join(x.text for x in r.title), r.date) for r in rows] == [
        ("1", "Семинар", "12 января"),
        ("2", "Вебинар (продолжение)", "20 января"),
    ]
    assert [(c.name, c.phones, c.emails) for c in plan.contacts] == [("КОНБ", ["1-23-45"], ["a@b.ru"])]


def test_a_document_without_a_plan_table_says_to_give_the_columns() -> None:
    doc = read_html("<p>План</p><table><tr><td>a</td><td>b</td></tr></table>", "p.html")
    with pytest.raises(InvalidInput) as info:
        lay_out(doc)
    assert "--columns" in info.value.problems[0].hint


def test_columns_by_hand_are_checked() -> None:
    assert parse_columns("number=1,title=2,date=3,organizers=4,organizers=5") == {
        "number": [0],
        "title": [1],
        "date": [2],
        "organizers": [3, 4],
    }


def test_too_many_rows_stop_the_reader() -> None:
    rows = "<tr><td>1</td><td>a</td><td>май</td><td>b</td></tr>" * (MAX_ROWS + 1)
    with pytest.raises(InvalidInput, match="more than"):
        read_html(_html(rows), "p.html")


def test_a_docx_zip_bomb_is_refused_before_unpacking(tmp_path: Path) -> None:
    bomb = tmp_path / "bomb.docx"
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as package:
        package.writestr("word/document.xml", b"\0" * (MAX_UNPACKED_BYTES + 1))
    with pytest.raises(InvalidInput) as info:
        read_document(bomb)
    assert "unpacks to" in info.value.problems[0].message


def test_an_odt_with_entities_is_refused(tmp_path: Path) -> None:
    odt = tmp_path / "laughs.odt"
    content = (
        b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]>'
        b'<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0">&b;'
        b"</office:document-content>"
    )
    with zipfile.ZipFile(odt, "w") as package:
        package.writestr("content.xml", content)
    with pytest.raises(InvalidInput) as info:
        read_document(odt)
    assert "DTD or entities" in info.value.problems[0].message


@pytest.mark.parametrize("name", ["plan.docx", "plan.odt"])
def test_a_file_that_is_no_package_is_a_clear_error(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    path.write_bytes(b"just text")
    with pytest.raises(InvalidInput, match="not a"):
        read_document(path)


def test_an_unknown_extension_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "plan.xyz"
    path.write_bytes(b"just bytes")
    with pytest.raises(InvalidInput, match=r"cannot read '\.xyz'") as info:
        read_document(path)
    assert ".docx" in info.value.problems[0].hint and ".pdf" in info.value.problems[0].hint


def test_docx_italic_styles_lists_and_footnote_marks(tmp_path: Path) -> None:
    document = docx.Document()
    document.add_paragraph("План на 2025 год")
    table = document.add_table(rows=3, cols=4)
    for cell, text in zip(table.rows[0].cells, ["№", "Наименование", "Дата", "Организаторы"], strict=True):
        cell.text = text
    heading = table.rows[1].cells[0].merge(table.rows[1].cells[3])
    heading.text = "II квартал"
    cells = table.rows[2].cells
    cells[0].text = "7."
    title = cells[1].paragraphs[0]
    title.add_run("Семинар").italic = True
    title.add_run(" «Чтение»")
    mark = title.add_run("1")
    mark.font.superscript = True
    cells[1].add_paragraph("вторая строка")
    cells[2].text = "апрель"
    cells[3].text = "КОНБ"
    path = tmp_path / "plan.docx"
    document.save(str(path))
    plan = lay_out(read_document(path))
    assert [s.heading for s in plan.sections] == ["II квартал"]
    row = plan.sections[0].rows[0]
    assert row.number == "7"
    assert row.title == [Run("Семинар", True), Run(" «Чтение»"), Run(" "), Run("вторая строка")]


def test_an_event_row_that_says_period_or_title_is_no_new_header() -> None:
    doc = read_html(
        _html(
            "<tr><td>1</td><td><p>Семинар</p><p>второй абзац названия</p></td>"
            "<td>в период с 3 по 14 марта</td><td>КОНБ</td></tr>"
            "<tr><td>2</td><td>Вебинар</td><td>май</td><td>КОНБ</td></tr>"
        ),
        "p.html",
    )
    rows = lay_out(doc).sections[0].rows
    assert [(r.number, r.organizers) for r in rows] == [("1", "КОНБ"), ("2", "КОНБ")]


def test_a_number_cell_that_is_no_number_is_reported_and_the_row_kept() -> None:
    rows = "<tr><td>x</td><td>a</td><td>май</td><td>b</td></tr>" * 500
    plan = lay_out(read_html(_html(rows), "p.html"))
    kept = plan.sections[0].rows
    assert len(kept) == 500 and all(r.number is None for r in kept)
    review = [item for row in kept for item in row.review]
    assert [(i.kind, i.where) for i in review[:2]] == [("number", "row 2"), ("number", "row 3")]
    assert "«x», which is no row number" in review[0].message


def test_the_docx_benchmark_document_imports_every_row(tmp_path: Path) -> None:
    from bench.import_docx import REGISTRY, make_docx
    from plansync.planread.importer import import_source

    path = tmp_path / "bench.docx"
    make_docx(path, 120)
    text = import_source(path, REGISTRY, 2025, "plan-2025", "Europe/Kaliningrad")
    assert text.count("\n  - key: ") == 120


def test_html_formatting_left_open_ends_with_its_cell_and_the_contacts_heading_is_no_name() -> None:
    doc = read_html(
        _html(
            "<tr><td>1</td><td><i>Семинар</td><td>май</td><td>КОНБ</td></tr>",
            after="<p>Контактная информация:</p><p>Тел.: 1-23-45, e-mail: a@b.ru</p>",
        ),
        "p.html",
    )
    table = next(b for b in doc.blocks if isinstance(b, Table))
    assert [c.runs() for c in table.rows[1].cells[1:3]] == [[Run("Семинар", True)], [Run("май")]]
    plan = lay_out(doc)
    # no organization named: the plan's own library's contacts (the importer gives them to it)
    assert [(c.name, c.phones, c.emails, c.text) for c in plan.contacts] == [
        ("", ["1-23-45"], ["a@b.ru"], "Тел.: 1-23-45, e-mail: a@b.ru")
    ]
    assert plan.review == []


@pytest.mark.parametrize(
    ("title", "given_to"),
    [
        ("План мероприятий МБУК «Лесная ЦБС» на 2025 год", "МБУК «Лесная ЦБС»"),  # the issuer
        ("План мероприятий на 2025 год", None),  # no issuer: reported, left out
    ],
)
def test_contacts_that_name_no_organization_go_to_the_issuer(title: str, given_to: str | None) -> None:
    doc = read_html(
        _html(
            "<tr><td>1</td><td>Семинар</td><td>май</td><td>Смирнова Е.А.</td></tr>",
            before=f"<p>{title}</p><p>Контактная информация: методический отдел, тел. 8 (34675) 2-11-33</p>",
        ),
        "p.html",
    )
    imported = _Builder(lay_out(doc), [], 2025, "p.html").build("p", "Europe/Moscow")
    contacts = {o["name"]: o.get("contacts") for o in imported.document["organizations"]}
    review = [i.message for i in imported.review if i.kind == "contacts"]
    line = "«Контактная информация: методический отдел, тел. 8 (34675) 2-11-33» names no organization"
    if given_to is None:
        assert all(c is None for c in contacts.values())
        assert review == [f"{line}; left out"]
    else:
        assert contacts[given_to] == {"phones": ["8 (34675) 2-11-33"], "emails": []}
        assert review == [f"{line}: given to «{given_to}»"]


def test_a_title_in_the_tables_first_row_or_without_the_word_plan() -> None:
    in_table = read_html(
        "<table><tr><td colspan='4'>План мероприятий МБУК «Лесная ЦБС» на 2025 год</td></tr>"
        + HEADER
        + "<tr><td>1</td><td>Семинар</td><td>май</td><td>КОНБ</td></tr></table>",
        "p.html",
    )
    assert lay_out(in_table).title == "План мероприятий МБУК «Лесная ЦБС» на 2025 год"
    calendar = read_html(
        _html(
            "<tr><td>1</td><td>Семинар</td><td>май</td><td>КОНБ</td></tr>",
            before="<p>Главная</p><p>Календарь мероприятий библиотек района на 2025 год</p>",
        ),
        "p.html",
    )
    assert lay_out(calendar).title == "Календарь мероприятий библиотек района на 2025 год"


def test_a_title_over_two_paragraphs_after_an_approval_block() -> None:
    doc = read_html(
        _html(
            "<tr><td>1</td><td>Семинар</td><td>май</td><td>КОНБ</td></tr>",
            before="<p>УТВЕРЖДАЮ</p><p>Директор МБУК «Лесная ЦБС»</p><p>ПЛАН РАБОТЫ</p>"
            "<p>методического отдела МБУК «Лесная ЦБС»</p><p>на 2025 год</p><p>г. Лесной</p>",
        ),
        "p.html",
    )
    assert lay_out(doc).title == "ПЛАН РАБОТЫ методического отдела МБУК «Лесная ЦБС» на 2025 год"


def test_section_headings_as_paragraphs_between_the_tables() -> None:
    row = "<tr><td>{n}</td><td>{t}</td><td>май</td><td>КОНБ</td></tr>"
    doc = read_html(
        "<p>План мероприятий на 2025 год</p><p>I. Методическая работа</p>"
        f"<table>{HEADER}{row.format(n=1, t='Семинар')}</table>"
        f"<p>II. Повышение квалификации</p><table>{HEADER}{row.format(n=1, t='Курсы')}</table>",
        "p.html",
    )
    plan = lay_out(doc)
    assert plan.title == "План мероприятий на 2025 год"
    assert [(s.heading, [r.number for r in s.rows]) for s in plan.sections] == [
        ("I. Методическая работа", ["1"]),
        ("II. Повышение квалификации", ["1"]),
    ]
    assert plan.sections[1].rows[0].place == "table 2, row 2 (№ 1)"
