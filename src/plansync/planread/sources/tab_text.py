"""The tab-separated text form of a plan (as first converted from the published document): a title
line, rows of tab-separated cells with the form in `<i>…</i>`, section headings as lines without tabs
between the rows, and a «Контактная информация» block of name / «Тел.: …, e-mail: …» lines."""

from __future__ import annotations

import re

from plansync.planread.sources.model import Cell, Document, Limits, Row, Run, Table, TextBlock

_ITALIC_TAG_RE = re.compile(r"(</?i>)")
_CONTACTS_RE = re.compile(r"контактная информация", re.IGNORECASE)
COLUMNS = 4  # number, title, date, organizers


def marked_runs(text: str) -> list[Run]:
    """`<i>…</i>` markup as italic runs."""
    runs: list[Run] = []
    italic = False
    for piece in _ITALIC_TAG_RE.split(text):
        if piece == "<i>":
            italic = True
        elif piece == "</i>":
            italic = False
        elif piece:
            runs.append(Run(piece, italic))
    return runs


def read_tab_text(text: str, file: str) -> Document:
    doc = Document(
        file, columns={"number": [0], "title": [1], "date": [2], "organizers": [3]}, row_word="line"
    )
    limits = Limits(file)
    table: Table | None = None
    in_contacts = False
    for line_no, raw in enumerate(text.splitlines(), start=1):
        line = raw.rstrip("\r\n")
        if not line.strip():
            continue
        limits.block(line_no)
        if in_contacts or "\t" not in line:
            stripped = line.strip()
            if _CONTACTS_RE.match(stripped):
                in_contacts = True
            if table is not None and not in_contacts:  # a heading between the rows spans the table
                table.rows.append(Row(line_no, [Cell([[Run(stripped)]], span=COLUMNS)]))
            else:
                doc.blocks.append(TextBlock(line_no, stripped))
            continue
        cells = [cell.strip() for cell in line.split("\t")]
        limits.row(line_no, len(cells))
        cells = [*cells[: COLUMNS - 1], " ".join(cells[COLUMNS - 1 :]).strip()]
        for cell in cells:
            limits.cell_text(line_no, len(cell))
        if table is None:
            table = Table()
            doc.blocks.append(table)
        table.rows.append(Row(line_no, [Cell([marked_runs(cell)]) for cell in cells]))
    return doc
