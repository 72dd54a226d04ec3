"""The responsible column read as organizations and a contact (plansync.planread.responsible), the
contacts outside the table (plansync.planread.contacts), and the lines of one cell (cells)."""

from __future__ import annotations

import pytest

from plansync.planread.cells import items_of, join_date, split_when_where
from plansync.planread.contacts import read_contacts
from plansync.planread.organizations import library_in
from plansync.planread.responsible import read_responsible


@pytest.mark.parametrize(
    ("cell", "organizations", "contact"),
    [
        (
            "Смирнова Е.А., зав. отделом, тел. 8 (8172) 72-33-45",
            [],
            "Смирнова Е.А., зав. отделом, тел. 8 (8172) 72-33-45",
        ),
        ("отдел методической работы", [], "отдел методической работы"),
        ("Методический отдел, Орлова С.В.", [], "Методический отдел, Орлова С.В."),
        ("ЦРБ, ЦРДБ", ["ЦРБ", "ЦРДБ"], None),
        (
            "ПОНБ и Министерство культуры Приморской области",
            ["ПОНБ", "Министерство культуры Приморской области"],
            None,
        ),
        (
            "Центр чтения и информации и ГБУК «Северная областная детская библиотека»",
            ["Центр чтения и информации", "ГБУК «Северная областная детская библиотека»"],
            None,
        ),
        (
            "ГБУК «Озёрская краевая детская библиотека им. В. и Л. Сидоровых»",
            ["ГБУК «Озёрская краевая детская библиотека им. В. и Л. Сидоровых»"],
            None,
        ),
        (
            "ГБУК «Калининградская областная детская библиотека им. А.П. Гайдара»",
            ["ГБУК «Калининградская областная детская библиотека им. А.П. Гайдара»"],
            None,
        ),
        ("ПОНБ, Кузнецова Т.И., зав. НМО", ["ПОНБ"], "Кузнецова Т.И., зав. НМО"),
        ("ЦРБ им. И.С. Тургенева (по согласованию)", ["ЦРБ им. И.С. Тургенева"], None),
        ("Библиотека-филиал с. Ыб (Иванова А.А.)", ["Библиотека-филиал с. Ыб"], "Иванова А.А."),
        (
            "Министерство культуры, по делам национальностей и архивного дела Чувашской Республики",
            ["Министерство культуры, по делам национальностей и архивного дела Чувашской Республики"],
            None,
        ),
        (
            "Отдел культуры администрации Каменского района",
            ["Отдел культуры администрации Каменского района"],
            None,
        ),
        ("МЦБ, школьные библиотеки", ["МЦБ", "школьные библиотеки"], None),
        ("Зав. отделом обслуживания ЦДРБ Иванова В.В.", [], "Зав. отделом обслуживания ЦДРБ Иванова В.В."),
    ],
)
def test_responsible_cells(cell: str, organizations: list[str], contact: str | None) -> None:
    found = read_responsible(cell)
    assert (found.organizations, found.contact) == (organizations, contact)


def test_all_the_libraries_of_the_issuer() -> None:
    found = read_responsible("Все библиотеки ЦБС")
    assert found.everyone and found.organizations == []


@pytest.mark.parametrize(
    ("line", "contacts"),
    [
        (
            "Контакты: ВОНБ — тел. 8 (8172) 72-33-40, e-mail: metod@vonb.ru; ВОДБ — тел. 8 (8172) 72-11-22, "
            "e-mail: deti@vodb.ru",
            [
                ("ВОНБ", ["8 (8172) 72-33-40"], ["metod@vonb.ru"]),
                ("ВОДБ", ["8 (8172) 72-11-22"], ["deti@vodb.ru"]),
            ],
        ),
        (
            "Контактное лицо: Смирнова Елена Александровна, заведующий отделом ГБУК «Пензенская областная "
            "библиотека», тел. 8 (8412) 56-33-10",
            [("ГБУК «Пензенская областная библиотека»", ["8 (8412) 56-33-10"], [])],
        ),
        (
            "МБУК «Межпоселенческая библиотека» (МЦБ): тел. 8 (35141) 5-22-11, e-mail: kammcb@mail.ru",
            [("МБУК «Межпоселенческая библиотека»", ["8 (35141) 5-22-11"], ["kammcb@mail.ru"])],
        ),
        (
            "ГБУК «Библиотека для молодёжи»: 8 (343) 123-45-67, info@lib.ru",  # no «тел.», no «e-mail»
            [("ГБУК «Библиотека для молодёжи»", ["8 (343) 123-45-67"], ["info@lib.ru"])],
        ),
        (
            "БУ «Библиотека Югры», г. Ханты-Мансийск, ул. Мира, 2, тел./факс 8 (3467) 33-22-11, "
            "факс 33-22-12, почта: metod@библиотека.рф",
            [("БУ «Библиотека Югры»", ["8 (3467) 33-22-11"], ["metod@библиотека.рф"])],
        ),
        (
            "Адрес: 644099, г. Омск, ул. Ленина, 1 | Телефон: +7 (3812) 24-11-22 | E-mail: info@omsklib.ru",
            [("", ["+7 (3812) 24-11-22"], ["info@omsklib.ru"])],
        ),  # the plan's own library's
    ],
)
def test_contacts_in_one_paragraph(line: str, contacts: list[tuple[str, list[str], list[str]]]) -> None:
    found = read_contacts([(1, line)])
    assert [(c.name, c.phones, c.emails) for c in found.found] == contacts
    assert found.review == []


def test_contacts_of_a_name_line_then_a_phone_line_and_a_line_naming_nobody() -> None:
    found = read_contacts(
        [
            (1, "КОНБ"),
            (2, "Тел.: 8(4012) 93-70-21, e-mail: nmo@lib39.ru"),
            (3, "Справки по телефону 72-33-41"),
        ]
    )
    assert [(c.name, c.phones, c.emails) for c in found.found] == [
        ("КОНБ", ["8(4012) 93-70-21"], ["nmo@lib39.ru"])
    ]
    assert [(r.kind, r.where) for r in found.review] == [("contacts", "line 3")]


@pytest.mark.parametrize(
    ("lines", "heading", "items"),
    [
        (
            [("Неделя детской книги:", False), ("· «А»: чтения", False), ("· «Б»: викторина", False)],
            "Неделя детской книги:",
            ["«А»: чтения", "«Б»: викторина"],
        ),
        (
            [("1. Программа «Лето»", False), ("Площадка", True), ("Конкурс", True)],
            "1. Программа «Лето»",
            ["Площадка", "Конкурс"],
        ),
        (
            [
                ("Проект:", False),
                ("– «Была весна»:", False),
                ("цикл громких чтений", False),
                ("– «Память»", False),
            ],
            "Проект:",
            ["«Была весна»: цикл громких чтений", "«Память»"],
        ),
    ],
)
def test_list_items_in_a_cell(lines: list[tuple[str, bool]], heading: str, items: list[str]) -> None:
    found = items_of(lines)
    assert found is not None and (found.heading, found.items) == (heading, items)


def test_a_title_over_two_paragraphs_is_no_list() -> None:
    assert items_of([("Мониторинг деятельности", False), ("муниципальных библиотек", False)]) is None
    assert items_of([("Конкурс «Чтец»", False), ("– для детей 6–10 лет", False)]) is None


@pytest.mark.parametrize(
    ("lines", "date"),
    [
        (["15 марта", "11:00"], "15 марта 11:00"),
        (["1 –", "5 июля"], "1 – 5 июля"),
        (["июнь", "(по заявкам)"], "июнь (по заявкам)"),
        (["март", "октябрь"], "март, октябрь"),
    ],
)
def test_a_date_over_several_lines(lines: list[str], date: str) -> None:
    assert join_date(lines, 2025) == date


@pytest.mark.parametrize(
    ("lines", "date", "place"),
    [
        (["23 января", "ПОНБ, конференц-зал"], "23 января", "ПОНБ, конференц-зал"),
        (["15.03.2025, г. Лесной, ЦБ"], "15.03.2025", "г. Лесной, ЦБ"),
        (["30 января, 11:00 онлайн"], "30 января, 11:00", "онлайн"),
        (["12–14 февраля г. Приморск"], "12–14 февраля", "г. Приморск"),
        (["каждую последнюю пятницу месяца", "ПОНБ"], "каждую последнюю пятницу месяца", "ПОНБ"),
    ],
)
def test_a_date_and_a_place_in_one_cell(lines: list[str], date: str, place: str) -> None:
    assert split_when_where(lines, 2025) == (date, place)


@pytest.mark.parametrize(
    ("title", "library"),
    [
        (
            "План основных мероприятий Центральной районной детской библиотеки на 2025 год",
            "Центральная районная детская библиотека",
        ),
        ("План работы Озёрковской ЦБС на 2025 год", "Озёрковская ЦБС"),
        ("Сводный план мероприятий библиотек Озёрского края на 2025 год", None),
    ],
)
def test_the_library_a_title_names_in_the_genitive(title: str, library: str | None) -> None:
    assert library_in(title) == library
