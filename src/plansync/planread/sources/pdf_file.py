"""A plan published as a PDF with a text layer and a ruled table, read with pdfplumber: each page's
tables by their ruling lines (a merged cell is one cell spanning rows or columns), the text outside
them as paragraphs. A PDF made of pictures (a scan) has no text to read and is refused, saying so.

A PDF keeps no paragraphs, only lines: a cell's lines are joined again where a line goes on with the
next (no closing punctuation, a word carried over), and kept apart where the next starts a list item
or a new sentence. `where` counts the page's lines and table rows from 1."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from plansync.errors import InvalidInput, Problem
from plansync.planread.sources.model import MAX_CELLS, Cell, Document, Limits, Row, Run, Table, TextBlock

MAX_PAGES = 500
_ITEM_START_RE = re.compile(r"^\s*(?:[·•●◦▪■*–—-]|\d{1,2}[.)]\s|[а-я]\)\s)")
_PADDING = 6.0  # points between a cell's text and its right border (editors use 0.1–0.2 cm)
_SPACE = 2.0  # points: the least width of a space
_ENDS_LINE_RE = re.compile(r"[;:]\s*$")  # the heading of a list, an item of one


def _refuse(file: str, message: str, fix: str) -> InvalidInput:
    return InvalidInput([Problem(file, 1, 1, "(file)", message, fix)])


@dataclass(frozen=True)
class _Line:
    text: str
    end: float  # where its text ends on the right
    first_word: float  # the width of its first word


def _lines(chars: list[dict[str, Any]], extract_text: Any) -> list[_Line]:
    """The cell's lines, top to bottom."""
    rows: list[list[dict[str, Any]]] = []
    for char in sorted(chars, key=lambda c: (c["top"], c["x0"])):
        if rows and abs(rows[-1][0]["top"] - char["top"]) <= 2:
            rows[-1].append(char)
        else:
            rows.append([char])
    lines = []
    for row in rows:
        row.sort(key=lambda c: c["x0"])
        word = _first_word(row)
        lines.append(
            _Line(extract_text(row).strip(), max(c["x1"] for c in row), word[-1]["x1"] - row[0]["x0"])
        )
    return lines


def _first_word(row: list[dict[str, Any]]) -> list[dict[str, Any]]:
    word = [row[0]]
    for char in row[1:]:
        if char["text"].isspace() or char["x0"] - word[-1]["x1"] > 0.2 * (char["size"] or 1):
            break
        word.append(char)
    return word


def _paragraphs(lines: list[_Line], right: float) -> list[list[Run]]:
    """A cell's lines as paragraphs. A line goes on in the next one when the next line's first word
    would not have fit after it (so the text wrapped there), unless it ends a list's heading or item
    or the next line starts a list item. (A word too long for its column, broken inside, stays two.)"""
    paragraphs: list[str] = []
    previous: _Line | None = None
    for line in lines:
        if not line.text:
            continue
        wrapped = previous is not None and previous.end + _SPACE + line.first_word > right - _PADDING
        goes_on = (
            paragraphs
            and wrapped
            and not _ITEM_START_RE.match(line.text)
            and not _ENDS_LINE_RE.search(paragraphs[-1])
        )
        if goes_on:
            paragraphs[-1] += ("" if paragraphs[-1].endswith("-") else " ") + line.text  # «Мастер-» / «класс»
        else:
            paragraphs.append(line.text)
        previous = line
    return [[Run(p)] for p in paragraphs]


def _chars_in(chars: list[dict[str, Any]], box: tuple[float, float, float, float]) -> list[dict[str, Any]]:
    x0, top, x1, bottom = box
    return [
        c
        for c in chars
        if x0 <= (c["x0"] + c["x1"]) / 2 < x1 and top <= (c["top"] + c["bottom"]) / 2 < bottom
    ]


def _edges(values: list[float]) -> list[float]:
    """The distinct positions of cell edges (within half a point)."""
    out: list[float] = []
    for value in sorted(values):
        if not out or value - out[-1] > 0.5:
            out.append(value)
    return out


class _Reader:
    def __init__(self, path: Path) -> None:
        self.doc = Document(str(path))
        self.limits = Limits(str(path))
        self.where = 0

    def page(self, page: Any, extract_text: Any) -> None:
        """The page's text above, between and below its tables, in order, and the tables."""
        tables = sorted(page.find_tables(), key=lambda t: t.bbox[1])
        chars = page.chars
        outside = [c for c in chars if not self.inside(c, tables)]
        for table in [*tables, None]:
            end = table.bbox[1] if table is not None else float("inf")
            here = [c for c in outside if (c["top"] + c["bottom"]) / 2 < end]  # above this table
            outside = [c for c in outside if (c["top"] + c["bottom"]) / 2 >= end]
            lines: list[str] = []
            for line in (ln.strip() for ln in extract_text(here).splitlines()):
                if lines and line and (line[:1].islower() or lines[-1].endswith("-")):
                    lines[-1] += ("" if lines[-1].endswith("-") else " ") + line  # the paragraph goes on
                elif line:
                    lines.append(line)
            for line in lines:
                self.add(TextBlock(0, line))
            if table is not None:
                self.add(self.table(table, chars, extract_text))

    @staticmethod
    def inside(char: dict[str, Any], tables: list[Any]) -> bool:
        middle_x, middle_y = (char["x0"] + char["x1"]) / 2, (char["top"] + char["bottom"]) / 2
        return any(t.bbox[0] <= middle_x <= t.bbox[2] and t.bbox[1] <= middle_y <= t.bbox[3] for t in tables)

    def add(self, block: TextBlock | Table) -> None:
        if isinstance(block, TextBlock):
            self.where += 1
            block.where = self.where
        self.limits.block(self.where)
        self.doc.blocks.append(block)

    def table(self, table: Any, chars: list[dict[str, Any]], extract_text: Any) -> Table:
        cells = [tuple(c) for c in table.cells]
        columns = _edges([c[0] for c in cells])
        tops = _edges([c[1] for c in cells])
        out = Table()
        for top in tops:
            self.where += 1
            row = Row(self.where, [])
            for x0, y0, x1, y1 in sorted(c for c in cells if abs(c[1] - top) <= 0.5):
                lines = _lines(_chars_in(chars, (x0, y0, x1, y1)), extract_text)
                self.limits.cell_text(self.where, sum(len(line.text) for line in lines))
                span = max(1, sum(1 for e in columns if x0 - 0.5 <= e < x1 - 0.5))
                rowspan = max(1, sum(1 for e in tops if y0 - 0.5 <= e < y1 - 0.5))
                cell = Cell(_paragraphs(lines, x1), span=min(span, MAX_CELLS), rowspan=rowspan)
                row.cells.append(cell)
                self.limits.row(self.where, len(row.cells))
            out.rows.append(row)
        return out


def read_pdf(path: Path) -> Document:
    # pdfplumber (with pdfminer) takes a fifth of a second to import; only PDFs need it
    import pdfplumber  # noqa: PLC0415
    from pdfplumber.utils.text import extract_text  # noqa: PLC0415

    file = str(path)
    reader = _Reader(path)
    try:
        with pdfplumber.open(path) as pdf:
            if len(pdf.pages) > MAX_PAGES:
                raise _refuse(
                    file, f"the PDF has {len(pdf.pages)} pages, more than {MAX_PAGES}", "check the file"
                )
            if not any(page.chars for page in pdf.pages):
                raise _refuse(
                    file,
                    "the PDF has no text layer: its pages are pictures (a scan), and plansync reads text, "
                    "not pictures",
                    "ask for the plan as .docx, .odt or a PDF saved from the editor, or run the scan "
                    "through text recognition (OCR) first",
                )
            for page in pdf.pages:
                reader.page(page, extract_text)
            if not any(isinstance(block, Table) for block in reader.doc.blocks):
                raise _refuse(
                    file,
                    "the PDF has no ruled table: plansync finds a PDF's table by the lines around its cells",
                    "ask for the plan as .docx or .odt, or save it as PDF with the table's borders shown",
                )
    except InvalidInput:
        raise
    except Exception as exc:  # pdfminer raises many kinds on a damaged file
        raise _refuse(
            file, f"not a readable PDF ({type(exc).__name__})", "save the plan again as PDF"
        ) from None
    return reader.doc
