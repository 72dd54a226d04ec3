"""A plan published as an OpenDocument text (.odt): content.xml (and styles.xml for named styles) read
with defusedxml after the package passed the size checks. Italic comes from the span's or paragraph's
style and the styles they inherit from; notes (footnotes) are left out; a paragraph inside a list is a
list item; a cell's rows spanned are kept (the covered cells below are left out) and the table's header
rows are marked. `where` counts the body's paragraphs and table rows from 1."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from xml.etree.ElementTree import Element

import defusedxml.ElementTree as safe_xml  # type: ignore[import-untyped]
from defusedxml import DefusedXmlException

from plansync.errors import InvalidInput, Problem
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
    is_mark,
)
from plansync.planread.sources.unzip import open_package, read_part

_NS = {
    "office": "urn:oasis:names:tc:opendocument:xmlns:office:1.0",
    "text": "urn:oasis:names:tc:opendocument:xmlns:text:1.0",
    "table": "urn:oasis:names:tc:opendocument:xmlns:table:1.0",
    "style": "urn:oasis:names:tc:opendocument:xmlns:style:1.0",
    "fo": "urn:oasis:names:tc:opendocument:xmlns:xsl-fo-compatible:1.0",
}


def _q(name: str) -> str:
    prefix, local = name.split(":")
    return f"{{{_NS[prefix]}}}{local}"


_P, _H, _SPAN, _A, _S, _TAB, _LB = (
    _q(n) for n in ("text:p", "text:h", "text:span", "text:a", "text:s", "text:tab", "text:line-break")
)
_LIST, _LIST_ITEM, _SECTION = (_q(n) for n in ("text:list", "text:list-item", "text:section"))
_TABLE, _ROW, _CELL, _COVERED = (
    _q(n) for n in ("table:table", "table:table-row", "table:table-cell", "table:covered-table-cell")
)
_ROW_GROUPS = frozenset(
    _q(n) for n in ("table:table-header-rows", "table:table-rows", "table:table-row-group")
)
_STYLE_NAME, _PARENT, _COUNT = _q("text:style-name"), _q("style:parent-style-name"), _q("text:c")
_SPANNED, _REPEATED = _q("table:number-columns-spanned"), _q("table:number-rows-repeated")
_ROWS_SPANNED, _COLUMNS_REPEATED = _q("table:number-rows-spanned"), _q("table:number-columns-repeated")
_HEADER_ROWS = _q("table:table-header-rows")
_MAX_REPEAT = 100  # a repeated empty row is layout; more than this is no plan


def _bad(file: str, message: str) -> InvalidInput:
    return InvalidInput([Problem(file, 1, 1, "(file)", message, "save the plan again as .odt")])


def _parse(data: bytes, file: str, part: str) -> Element:
    try:
        root: Element = safe_xml.fromstring(data, forbid_dtd=True)
    except DefusedXmlException:
        raise _bad(file, f"{part} declares a DTD or entities, which plansync does not read") from None
    except safe_xml.ParseError as exc:
        raise _bad(file, f"{part} is not well-formed XML ({exc})") from None
    return root


def _raised_styles(*roots: Element) -> set[str]:
    """Names of the text styles that raise text (superscript): footnote marks are written in them."""
    raised: set[str] = set()
    for root in roots:
        for style in root.iter(_q("style:style")):
            props = style.find(_q("style:text-properties"))
            position = (props.get(_q("style:text-position")) or "") if props is not None else ""
            first = position.split(" ")[0].rstrip("%")
            if first == "super" or (first.isdigit() and int(first) > 0):
                raised.add(style.get(_q("style:name")) or "")
    return raised


def _italic_styles(*roots: Element) -> dict[str, bool]:
    """Style name → italic, following parent styles."""
    own: dict[str, bool | None] = {}
    parents: dict[str, str] = {}
    for root in roots:
        for style in root.iter(_q("style:style")):
            name = style.get(_q("style:name"))
            if not name:
                continue
            props = style.find(_q("style:text-properties"))
            posture = props.get(_q("fo:font-style")) if props is not None else None
            own[name] = None if posture is None else posture in ("italic", "oblique")
            parent = style.get(_PARENT)
            if parent:
                parents[name] = parent
    italic: dict[str, bool] = {}
    for name in own:
        current: str | None = name
        value = None
        for _ in range(20):  # bounded: parents may loop
            if current is None:
                break
            value = own.get(current)
            if value is not None:
                break
            current = parents.get(current)
        italic[name] = bool(value)
    return italic


class _Reader:
    def __init__(self, path: Path, italic: dict[str, bool], raised: set[str]) -> None:
        self.raised = raised
        self.doc = Document(str(path))
        self.limits = Limits(str(path))
        self.italic = italic
        self.where = 0

    def read(self, body: Element) -> Document:
        for element, _listed in self.blocks(body, False):
            self.where += 1
            self.limits.block(self.where)
            if element.tag == _TABLE:
                self.doc.blocks.append(self.table(element))
            else:
                text = "".join(r.text for r in self.runs(element)).strip()
                if text:
                    self.doc.blocks.append(TextBlock(self.where, text))
        return self.doc

    def blocks(self, parent: Element, listed: bool) -> Iterator[tuple[Element, bool]]:
        """Paragraphs, headings and tables in order; lists and sections are looked into."""
        for child in parent:
            if child.tag in (_P, _H, _TABLE):
                yield child, listed
            elif child.tag in (_LIST, _LIST_ITEM):
                yield from self.blocks(child, True)
            elif child.tag == _SECTION:
                yield from self.blocks(child, listed)

    def rows(self, table: Element, header: bool = False) -> Iterator[tuple[Element, bool]]:
        """The table's rows, each with whether it is one of the header rows."""
        for child in table:
            if child.tag == _ROW:
                yield child, header
            elif child.tag in _ROW_GROUPS:
                yield from self.rows(child, header or child.tag == _HEADER_ROWS)

    def table(self, element: Element) -> Table:
        table = Table()
        for tr, header in self.rows(element):
            cells: list[Cell] = []
            for tc in tr:
                if tc.tag == _CELL:
                    cell = self.cell(tc)
                    repeat = tc.get(_COLUMNS_REPEATED, "1")
                    copies = min(int(repeat), MAX_CELLS) if repeat.isdigit() else 1
                    cells.extend([cell] * max(copies, 1))
                elif tc.tag == _COVERED:
                    continue  # what a merged cell covers is in its spans
                self.limits.row(self.where, len(cells))
            repeat = tr.get(_REPEATED, "1")
            copies = min(int(repeat), _MAX_REPEAT) if repeat.isdigit() else 1
            if any(c.text() for c in cells):
                copies = 1  # a repeated row with text is written once per row anyway
            for _ in range(copies):
                self.where += 1
                table.rows.append(Row(self.where, cells, header=header))
                self.limits.row(self.where, len(cells))
        return table

    def cell(self, tc: Element) -> Cell:
        spanned, rows = tc.get(_SPANNED, "1"), tc.get(_ROWS_SPANNED, "1")
        cell = Cell(
            [],
            span=max(1, min(int(spanned), MAX_CELLS)) if spanned.isdigit() else 1,
            rowspan=max(1, min(int(rows), MAX_ROWS)) if rows.isdigit() else 1,
        )
        chars = 0
        for element, listed in self.blocks(tc, False):
            if element.tag == _TABLE:  # a nested table reads as paragraphs of its cells
                for tr, _ in self.rows(element):
                    for inner in tr:
                        for p, _ in self.blocks(inner, False):
                            if p.tag != _TABLE:
                                cell.paragraphs.append(self.runs(p))
                continue
            runs = self.runs(element)
            chars += sum(len(r.text) for r in runs)
            self.limits.cell_text(self.where, chars)
            if listed and any(r.text.strip() for r in runs):
                cell.listed.add(len(cell.paragraphs))
            cell.paragraphs.append(runs)
            cell.list_item = cell.list_item or listed
        return cell

    def runs(self, p: Element) -> list[Run]:
        runs: list[Run] = []
        self.inline(p, self.italic.get(p.get(_STYLE_NAME, ""), False), runs)
        return [Run(r.text.replace("\u00a0", " "), r.italic) for r in runs]

    def inline(self, element: Element, italic: bool, runs: list[Run]) -> None:
        if element.text:
            runs.append(Run(element.text, italic))
        for child in element:
            if child.tag == _SPAN:
                style = child.get(_STYLE_NAME, "")
                if style in self.raised and is_mark("".join(child.itertext())):
                    if child.tail:  # a footnote mark is left out, the text after it is not
                        runs.append(Run(child.tail, italic))
                    continue
                self.inline(child, self.italic.get(style, italic) if style in self.italic else italic, runs)
            elif child.tag == _A:
                self.inline(child, italic, runs)
            elif child.tag == _S:
                count = child.get(_COUNT, "1")
                runs.append(Run(" " * (min(int(count), 100) if count.isdigit() else 1), italic))
            elif child.tag in (_TAB, _LB):
                runs.append(Run(" " if child.tag == _TAB else "\n", italic))
            # a note (footnote) and anything unknown are left out, but the text after them stays
            if child.tail:
                runs.append(Run(child.tail, italic))


def read_odt(path: Path) -> Document:
    file = str(path)
    with open_package(path, ".odt") as package:
        content = _parse(read_part(package, "content.xml", file), file, "content.xml")
        names = set(package.namelist())
        styles = (
            _parse(read_part(package, "styles.xml", file), file, "styles.xml")
            if "styles.xml" in names
            else None
        )
    roots = [r for r in (styles, content) if r is not None]
    italic, raised = _italic_styles(*roots), _raised_styles(*roots)
    body = content.find(f"{_q('office:body')}/{_q('office:text')}")
    if body is None:
        raise _bad(file, "content.xml has no text body")
    return _Reader(path, italic, raised).read(body)
