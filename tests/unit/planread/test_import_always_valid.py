"""Whatever table a document holds, what `plansync import` writes passes `plansync validate`: random
plans of real-looking and broken cells (numbers of any shape, dates that cannot be read or are empty,
people and phones for organizers, merged cells, control characters) import to a valid plan."""

from __future__ import annotations

import html
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from plansync.errors import InvalidInput
from plansync.planread.importer import import_plan, render_yaml
from plansync.planread.planfile import load_plan

NUMBERS = ["1", "1.", "2)", "1.1", "1.1.2", "II.", "II.1", "", "", "x", "—", "№ 5", "3а"]
TITLES = [
    "Семинар «Чтение»",
    "Вебинар: итоги",
    "",
    "·  пункт",
    "– выезд",
    "Круглый стол\x07",
    "a" * 300,
    "«»",
]
DATES = [
    "12 марта",
    "март, октябрь",
    "по согласованию",
    "",
    "после 20 ноября",
    "17, 24 сентября",
    "1 –",
    "31.02",
    "16+",
]
ORGANIZERS = [
    "ЦРБ, ЦРДБ", "Смирнова Е.А., тел. 8 (8172) 72-33-45", "", "ГБУК «Тестовая библиотека»", "отдел", "и", "«",
    "(по согласованию)",
]  # fmt: skip


def _cell(text: str, span: str) -> str:
    return f"<td{span}>{html.escape(text)}</td>"


rows = st.lists(
    st.tuples(
        st.sampled_from(NUMBERS),
        st.sampled_from(TITLES) | st.text(max_size=40),
        st.sampled_from(DATES) | st.text(max_size=20),
        st.sampled_from(ORGANIZERS) | st.text(max_size=30),
        st.sampled_from(["", "", "", ' rowspan="2"', ' colspan="2"']),
    ),
    min_size=1,
    max_size=12,
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    rows=rows,
    title=st.sampled_from(["План мероприятий МБУК «Тест» на 2025 год", "План", "", "Контакты: тел. 1"]),
)
def test_what_import_writes_always_validates(tmp_path: Path, rows: list[tuple[str, ...]], title: str) -> None:
    body = "".join(
        "<tr>" + _cell(number, "") + _cell(name, span) + _cell(date, "") + _cell(who, "") + "</tr>"
        for number, name, date, who, span in rows
    )
    page = tmp_path / "plan.html"
    page.write_text(
        f"<html><body><p>{html.escape(title)}</p><table><tr><th>№ п/п</th><th>Наименование мероприятия</th>"
        f"<th>Сроки</th><th>Ответственный</th></tr>{body}</table></body></html>",
        encoding="utf-8",
    )
    try:
        imported = import_plan(page, [], 2025, "plan-2025", "Europe/Moscow")
    except InvalidInput as exc:  # nothing written: only when there is no event to write
        assert exc.problems[0].message.startswith("the plan's table has no event rows")
        return
    out = tmp_path / "plan.yaml"
    out.write_text(render_yaml(imported.document, page.name), encoding="utf-8")
    load_plan(out)
