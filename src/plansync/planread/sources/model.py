"""The source model every reader produces: blocks of text and tables of cells, where a cell is
paragraphs of runs and formatting is data (a run is italic or not), never markup in strings."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from plansync.errors import InvalidInput, Problem

# Bounds on untrusted documents: a yearly plan has a few hundred rows of short cells.
MAX_FILE_BYTES = 20_000_000
MAX_UNPACKED_BYTES = 100_000_000  # all the parts of a .docx/.odt, unpacked
MAX_PARTS = 2_000
MAX_ROWS = 20_000
MAX_CELLS = 64  # per row
MAX_CELL_CHARS = 20_000
MAX_BLOCKS = 50_000

_SPACE_RE = re.compile(r"\s+")
_MARK_RE = re.compile(r"\s*[0-9*†‡]{1,3}\)?\s*")


def is_mark(text: str) -> bool:
    """Raised text that is a footnote mark («1», «*», «2)»)."""
    return bool(_MARK_RE.fullmatch(text))


@dataclass(frozen=True)
class Run:
    text: str
    italic: bool = False


@dataclass
class Cell:
    paragraphs: list[list[Run]] = field(default_factory=list)
    span: int = 1  # the columns it covers
    list_item: bool = False  # the cell holds an item of a numbered list (its number is not text)
    listed: set[int] = field(default_factory=set)  # the paragraphs that are list items (bullet or number)
    rowspan: int = 1  # the rows it covers (HTML rowspan, ODT rows spanned): the rows below leave it out
    merged_up: bool = False  # the cell above goes on over this one (Word's vertical merge)

    def lines(self) -> list[tuple[str, bool]]:
        """The cell's lines as a person sees them: each paragraph, split at its line breaks, with whether
        it is a list item (only a paragraph's first line is)."""
        out: list[tuple[str, bool]] = []
        for index, paragraph in enumerate(self.paragraphs):
            text = "".join(run.text for run in paragraph)
            for number, written in enumerate(text.split("\n")):
                line = _SPACE_RE.sub(" ", written).strip()
                if line:
                    out.append((line, number == 0 and index in self.listed))
        return out

    def runs(self) -> list[Run]:
        """The cell's runs in one line: paragraphs and line breaks are spaces."""
        out: list[Run] = []
        for paragraph in self.paragraphs:
            if out and paragraph:
                out.append(Run(" "))
            out.extend(paragraph)
        return out

    def text(self) -> str:
        return flat(self.runs())


@dataclass
class Row:
    where: int  # the line (text) or row ordinal (documents) for messages
    cells: list[Cell]
    header: bool = False  # marked as the table's header (repeated on every page, <thead>)


@dataclass
class Table:
    rows: list[Row] = field(default_factory=list)


@dataclass
class TextBlock:
    where: int
    text: str  # line breaks kept: a block may hold several lines (a contacts block)


@dataclass
class Document:
    file: str
    blocks: list[TextBlock | Table] = field(default_factory=list)
    columns: dict[str, list[int]] | None = None  # fixed by the format itself (tab text), else found
    row_word: str = "row"  # how a person counts the table's rows: by row, or by line (tab text)


def flat(runs: list[Run]) -> str:
    """The runs' text, every kind of white space one space."""
    return _SPACE_RE.sub(" ", "".join(r.text for r in runs)).strip()


def too_big(file: str, where: int, what: str, limit: int) -> InvalidInput:
    return InvalidInput(
        [
            Problem(
                file,
                where,
                1,
                "(file)",
                f"the document has more than {limit} {what}",
                "a plan is one table of a few hundred rows; check that this is the right file",
            )
        ]
    )


class Limits:
    """Counts what a reader has taken in and stops a hostile document early."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.rows = 0
        self.blocks = 0

    def row(self, where: int, cells: int) -> None:
        self.rows += 1
        if self.rows > MAX_ROWS:
            raise too_big(self.file, where, "table rows", MAX_ROWS)
        if cells > MAX_CELLS:
            raise too_big(self.file, where, "cells in a row", MAX_CELLS)

    def block(self, where: int) -> None:
        self.blocks += 1
        if self.blocks > MAX_BLOCKS:
            raise too_big(self.file, where, "paragraphs", MAX_BLOCKS)

    def cell_text(self, where: int, length: int) -> None:
        if length > MAX_CELL_CHARS:
            raise too_big(self.file, where, "characters in a cell", MAX_CELL_CHARS)
