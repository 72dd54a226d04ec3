"""How long importing a big Word plan takes (target: 1,000 rows under 5 s).

    python -m bench.import_docx [--rows N] [--repeat K]

Builds a .docx of N rows with python-docx (a title, a header row, a merged heading row every 50 rows,
italic forms, several paragraphs in some cells, a contacts block), then prints plansync's whole import
(read the package, lay out the table, match organizers, write the YAML) next to python-docx's own load
of the same file, measured in the same run.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import docx

from bench.plan_load import best_of, report
from plansync.planread.importer import import_source

REPO = Path(__file__).resolve().parents[1]
REGISTRY = REPO / "data" / "organizations.yaml"
ORGANIZERS = (
    "ГБУК «Калининградская областная научная библиотека»",
    "ГБУК «Калининградская областная детская библиотека им. А.П. Гайдара»",
    "ГБУК «Калининградская областная юношеская библиотека им. В. Маяковского»",
    "ГКУК «Калининградская областная специализированная библиотека для слепых»",
)
DATES = (
    "12 марта",
    "апрель – май",
    "III квартал",
    "в период с 3 по 14 марта",
    "до 20 ноября",
    "1-я декада мая",
)
MONTHS = ("Январь", "Февраль", "Март", "Апрель", "Май", "Июнь", "Июль", "Август", "Сентябрь", "Октябрь")


def make_docx(path: Path, rows: int) -> None:
    document = docx.Document()
    document.add_paragraph("Сводный план мероприятий библиотек на 2025 год")
    table = document.add_table(rows=1, cols=4)
    for cell, text in zip(
        table.rows[0].cells, ("№ п/п", "Наименование мероприятия", "Сроки", "Ответственные"), strict=True
    ):
        cell.text = text
    for index in range(rows):
        if index % 50 == 0:
            heading = table.add_row().cells
            heading[0].merge(heading[3]).text = MONTHS[(index // 50) % len(MONTHS)]
        cells = table.add_row().cells
        cells[0].text = f"{index + 1}."
        title = cells[1].paragraphs[0]
        title.add_run("Семинар").italic = True
        title.add_run(f" «Библиотека и чтение — {index + 1}» для специалистов муниципальных библиотек")
        if index % 3 == 0:
            cells[1].add_paragraph("второй абзац названия")
        cells[2].text = DATES[index % len(DATES)]
        cells[3].text = ORGANIZERS[index % len(ORGANIZERS)]
        if index % 4 == 0:
            cells[3].add_paragraph(ORGANIZERS[(index + 1) % len(ORGANIZERS)])
    document.add_paragraph("Контактная информация:")
    document.add_paragraph(ORGANIZERS[0])
    document.add_paragraph("Тел.: 8(4012) 93-70-21, e-mail: nmo@lib39.ru")
    document.save(str(path))


def measure(rows: int = 1_000, repeat: int = 3) -> tuple[float, list[tuple[str, float, float]]]:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "plan.docx"
        make_docx(path, rows)
        text = import_source(path, REGISTRY, 2025, "plan-2025", "Europe/Kaliningrad")
        assert text.count("\n  - key: ") == rows
        cases = [
            (
                "plansync import (read, lay out, match, write YAML)",
                lambda: import_source(path, REGISTRY, 2025, "plan-2025", "Europe/Kaliningrad"),
            ),
            ("baseline: docx.Document(path), python-docx's load", lambda: docx.Document(str(path))),
        ]
        return path.stat().st_size / 1e6, [(name, *best_of(repeat, action)) for name, action in cases]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    size, results = measure(args.rows, args.repeat)
    report(f"document: {args.rows} rows, {size:.2f} MB", args.repeat, results)
    print("target: plansync under 5 s at 1,000 rows")


if __name__ == "__main__":
    main()
