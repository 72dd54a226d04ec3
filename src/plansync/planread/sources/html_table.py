"""A plan published as a web page: the text around the tables as blocks, each table as rows of cells.
`<i>`/`<em>` (and an italic inline style) make italic runs; `<p>`, `<br>`, `<li>` split a cell into
paragraphs, and a `<li>` is a list item; a cell's `rowspan` is kept (the rows below leave it out), and
the rows of `<thead>` are the header; `<sup>` footnote marks and scripts are left out. Nested tables
read as their outer cell's text."""

from __future__ import annotations

import re
from html.parser import HTMLParser

from plansync.planread.sources.model import (
    MAX_CELLS,
    MAX_ROWS,
    Cell,
    Document,
    Limits,
    Row,
    Run,
    Table,
    TextBlock,
)

_BLOCK_TAGS = frozenset(
    {
        "p",
        "div",
        "li",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "br",
        "tr",
        "table",
        "ul",
        "ol",
        "section",
        "article",
        "header",
        "footer",
        "blockquote",
        "pre",
        "address",
        "caption",
    }
)
_ITALIC_TAGS = frozenset({"i", "em", "cite"})
_SKIP_TAGS = frozenset({"script", "style", "head", "title", "template", "sup", "noscript"})
_VOID_TAGS = frozenset({"br", "img", "hr", "meta", "link", "input", "col", "wbr", "area", "base", "source"})
_ITALIC_STYLE_RE = re.compile(r"font-style\s*:\s*(?:italic|oblique)", re.IGNORECASE)
_SPAN_RE = re.compile(r"\s*(\d{1,3})")


class _Reader(HTMLParser):
    def __init__(self, file: str) -> None:
        super().__init__(convert_charrefs=True)
        self.doc = Document(file)
        self.limits = Limits(file)
        self.stack: list[tuple[str, bool]] = []  # open tags and whether each made text italic
        self.skip = 0
        self.table_depth = 0
        self.table: Table | None = None
        self.row: Row | None = None
        self.cell: Cell | None = None
        self.cell_chars = 0
        self.list_depth = 0  # <ol> inside the current cell: its items are numbered
        self.item_open = False  # a <li> began: the cell's next paragraph with text is a list item
        self.in_head = False  # inside <thead>
        self.text: list[str] = []  # the current text block outside tables

    # -- where text goes

    @property
    def italic(self) -> bool:
        return any(flag for _, flag in self.stack)

    def new_paragraph(self) -> None:
        if self.cell is not None:
            if self.cell.paragraphs and self.cell.paragraphs[-1]:
                self.cell.paragraphs.append([])
        else:
            self.flush_text()  # every paragraph outside the tables is a block of its own

    def flush_text(self) -> None:
        text = "".join(self.text).strip()
        self.text = []
        if text:
            self.limits.block(self.getpos()[0])
            self.doc.blocks.append(TextBlock(self.getpos()[0], text))

    # -- parser callbacks

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIP_TAGS:
            self.skip += 1
            return
        if self.skip:
            return
        attributes = dict(attrs)
        if tag == "table":
            self.table_depth += 1
            if self.table_depth == 1:
                self.flush_text()
                self.table = Table()
                self.doc.blocks.append(self.table)
                return
        if self.table_depth == 1 and self.table is not None:
            if tag in ("thead", "tbody", "tfoot"):
                self.end_row()
                self.in_head = tag == "thead"
                return
            if tag == "tr":
                self.end_row()
                self.row = Row(self.getpos()[0], [], header=self.in_head)
                self.stack.clear()  # formatting left open in a cell ends with it
                return
            if tag in ("td", "th"):
                if self.row is None:
                    self.row = Row(self.getpos()[0], [], header=self.in_head)
                span = _SPAN_RE.match(attributes.get("colspan") or "1")
                rows = _SPAN_RE.match(attributes.get("rowspan") or "1")
                self.cell = Cell(
                    [[]],
                    span=max(1, min(int(span[1]) if span else 1, MAX_CELLS)),
                    rowspan=max(1, min(int(rows[1]) if rows else 1, MAX_ROWS)),
                )
                self.stack.clear()
                self.cell_chars = 0
                self.item_open = False
                self.row.cells.append(self.cell)
                self.limits.row(self.row.where, len(self.row.cells))
                return
        if tag == "ol" and self.cell is not None:
            self.list_depth += 1
        if tag == "li" and self.cell is not None and self.list_depth:
            self.cell.list_item = True
        if tag in _BLOCK_TAGS:
            self.new_paragraph()
        if tag == "li" and self.cell is not None:
            self.item_open = True
        if tag not in _VOID_TAGS:
            style = attributes.get("style") or ""
            self.stack.append((tag, tag in _ITALIC_TAGS or bool(_ITALIC_STYLE_RE.search(style))))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _BLOCK_TAGS and not self.skip:
            self.new_paragraph()

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP_TAGS:
            self.skip = max(0, self.skip - 1)
            return
        if self.skip:
            return
        if tag == "table":
            if self.table_depth == 1:
                self.end_row()
                self.table = None
            self.table_depth = max(0, self.table_depth - 1)
            return
        if self.table_depth == 1:
            if tag in ("tr", "thead"):
                self.end_row()
                self.in_head = self.in_head and tag != "thead"
                return
            if tag in ("td", "th"):
                self.cell = None
                return
        if tag == "ol" and self.list_depth:
            self.list_depth -= 1
        for index in range(len(self.stack) - 1, -1, -1):  # close it and whatever was left open inside
            if self.stack[index][0] == tag:
                del self.stack[index:]
                break
        if tag in _BLOCK_TAGS:
            self.new_paragraph()

    def handle_data(self, data: str) -> None:
        if self.skip:
            return
        if self.cell is not None:
            self.cell_chars += len(data)
            self.limits.cell_text(self.getpos()[0], self.cell_chars)
            if self.item_open and data.strip():
                self.item_open = False
                self.cell.listed.add(len(self.cell.paragraphs) - 1)
            self.cell.paragraphs[-1].append(Run(" ".join(data.split(" ")).replace("\n", " "), self.italic))
        elif self.table is None:
            self.text.append(" ".join(data.split()) + (" " if data[-1:].isspace() else ""))

    def end_row(self) -> None:
        if self.row is not None and self.table is not None:
            self.table.rows.append(self.row)
        self.row = None
        self.cell = None


def read_html(text: str, file: str) -> Document:
    reader = _Reader(file)
    reader.feed(text)
    reader.close()
    reader.end_row()
    reader.flush_text()
    return reader.doc
