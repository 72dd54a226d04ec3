"""A plan published as a Word document (.docx), read with python-docx after the package passed the
size checks. Italic comes from the run, its character style or its paragraph's style; footnote
references and superscript marks are left out; a numbered or bulleted paragraph is a list item; a cell
Word merged down (`w:vMerge`) says so, and a header row Word repeats on every page (`w:tblHeader`) is
marked. `where` counts the body's paragraphs and table rows from 1."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import docx
from docx.enum.style import WD_STYLE_TYPE
from docx.oxml.ns import qn

from plansync.errors import InvalidInput, Problem
from plansync.planread.sources.model import Cell, Document, Limits, Row, Run, Table, TextBlock, is_mark
from plansync.planread.sources.unzip import open_package, read_part

_P, _R, _T, _TBL, _TR, _TC = (qn(t) for t in ("w:p", "w:r", "w:t", "w:tbl", "w:tr", "w:tc"))
_SDT, _SDT_CONTENT = qn("w:sdt"), qn("w:sdtContent")
_BREAKS = frozenset({qn("w:br"), qn("w:cr")})
_TAB, _NB_HYPHEN = qn("w:tab"), qn("w:noBreakHyphen")
_RPR, _PPR, _I, _VERT, _VAL = qn("w:rPr"), qn("w:pPr"), qn("w:i"), qn("w:vertAlign"), qn("w:val")
_RSTYLE, _PSTYLE, _NUMPR, _NUM_ID = qn("w:rStyle"), qn("w:pStyle"), qn("w:numPr"), qn("w:numId")
_TCPR, _GRID_SPAN, _POSITION = qn("w:tcPr"), qn("w:gridSpan"), qn("w:position")
_V_MERGE, _TRPR, _TBL_HEADER = qn("w:vMerge"), qn("w:trPr"), qn("w:tblHeader")
_FALSE = frozenset({"0", "false", "off"})


def _on(element: Any) -> bool | None:
    """A toggle property: True, False, or None when the element is absent."""
    if element is None:
        return None
    return element.get(_VAL, "true").lower() not in _FALSE


def _raised(r_pr: Any) -> bool:
    vert = r_pr.find(_VERT)
    if vert is not None and vert.get(_VAL) == "superscript":
        return True
    position = r_pr.find(_POSITION)
    value = position.get(_VAL, "0") if position is not None else "0"
    return value.isdigit() and int(value) > 0


def _italic_styles(document: Any) -> dict[str, bool]:
    """Style id → whether the style (or a style it is based on) makes text italic."""
    italic: dict[str, bool] = {}
    for style in document.styles:
        if style.type not in (WD_STYLE_TYPE.CHARACTER, WD_STYLE_TYPE.PARAGRAPH):
            continue
        current, seen = style, 0
        value = None
        while current is not None and value is None and seen < 20:  # bounded: styles may loop
            value = current.font.italic
            current, seen = current.base_style, seen + 1
        italic[style.style_id] = bool(value)
    return italic


def _numbering(p_pr: Any) -> bool | None:
    """Whether the paragraph properties number the paragraph; None when they do not say."""
    num_pr = p_pr.find(_NUMPR) if p_pr is not None else None
    if num_pr is None:
        return None
    num_id = num_pr.find(_NUM_ID)
    return num_id is None or num_id.get(_VAL, "0") != "0"  # numId 0 takes a style's numbering away


def _listed_styles(document: Any) -> set[str]:
    """Ids of the paragraph styles that number or bullet their paragraphs («List Bullet»)."""
    listed: set[str] = set()
    for style in document.styles:
        if style.type != WD_STYLE_TYPE.PARAGRAPH:
            continue
        current, seen = style, 0
        value = None
        while current is not None and value is None and seen < 20:  # bounded: styles may loop
            value = _numbering(current.element.find(_PPR))
            current, seen = current.base_style, seen + 1
        if value:
            listed.add(style.style_id)
    return listed


class _Reader:
    def __init__(self, path: Path, document: Any) -> None:
        self.doc = Document(str(path))
        self.limits = Limits(str(path))
        self.italic_styles = _italic_styles(document)
        self.listed_styles = _listed_styles(document)
        self.where = 0

    def listed(self, p: Any) -> bool:
        p_pr = p.find(_PPR)
        own = _numbering(p_pr)
        if own is not None:
            return own
        style = p_pr.find(_PSTYLE) if p_pr is not None else None
        return style is not None and style.get(_VAL) in self.listed_styles

    def blocks(self, parent: Any) -> Iterator[Any]:
        for child in parent.iterchildren():
            if child.tag == _SDT:  # content controls wrap paragraphs and tables
                content = child.find(_SDT_CONTENT)
                if content is not None:
                    yield from self.blocks(content)
            elif child.tag in (_P, _TBL):
                yield child

    def read(self, body: Any) -> Document:
        for block in self.blocks(body):
            self.where += 1
            self.limits.block(self.where)
            if block.tag == _P:
                text = "".join(r.text for r in self.runs(block)).strip()
                if text:
                    self.doc.blocks.append(TextBlock(self.where, text))
            else:
                self.doc.blocks.append(self.table(block))
        return self.doc

    def table(self, tbl: Any) -> Table:
        table = Table()
        for tr in tbl.iter(_TR):
            if next(tr.iterancestors(_TBL), None) is not tbl:
                continue  # rows of a nested table read as their cell's paragraphs
            self.where += 1
            cells: list[Cell] = []
            for tc in tr.iterchildren(_TC):
                cells.append(self.cell(tc))
                self.limits.row(self.where, len(cells))
            tr_pr = tr.find(_TRPR)
            header = tr_pr is not None and bool(_on(tr_pr.find(_TBL_HEADER)))
            table.rows.append(Row(self.where, cells, header=header))
        return table

    def cell(self, tc: Any) -> Cell:
        span = 1
        merged_up = False
        tc_pr = tc.find(_TCPR)
        if tc_pr is not None:
            if (grid := tc_pr.find(_GRID_SPAN)) is not None:
                value = grid.get(_VAL, "1")
                span = max(1, min(int(value), 64)) if value.isdigit() else 1
            v_merge = tc_pr.find(_V_MERGE)
            merged_up = v_merge is not None and v_merge.get(_VAL, "continue") == "continue"
        cell = Cell([], span=span, merged_up=merged_up)
        chars = 0
        for p in tc.iter(_P):
            runs = self.runs(p)
            chars += sum(len(r.text) for r in runs)
            self.limits.cell_text(self.where, chars)
            if self.listed(p):
                cell.list_item = True
                if any(r.text.strip() for r in runs):
                    cell.listed.add(len(cell.paragraphs))
            cell.paragraphs.append(runs)
        return cell

    def runs(self, p: Any) -> list[Run]:
        p_pr = p.find(_PPR)
        p_style = p_pr.find(_PSTYLE) if p_pr is not None else None
        paragraph_italic = self.italic_styles.get(p_style.get(_VAL), False) if p_style is not None else False
        runs: list[Run] = []
        for r in p.iter(_R):
            r_pr = r.find(_RPR)
            italic = paragraph_italic
            if r_pr is not None:
                style = r_pr.find(_RSTYLE)
                if style is not None and self.italic_styles.get(style.get(_VAL)):
                    italic = True
                direct = _on(r_pr.find(_I))
                if direct is not None:
                    italic = direct
                if _raised(r_pr) and is_mark("".join(t.text or "" for t in r.iter(_T))):
                    continue  # a footnote mark, never part of the plan's words
            text: list[str] = []
            for child in r.iterchildren():
                if child.tag == _T:
                    text.append(child.text or "")
                elif child.tag in _BREAKS:
                    text.append("\n")
                elif child.tag == _TAB:
                    text.append(" ")
                elif child.tag == _NB_HYPHEN:
                    text.append("-")
            if text:
                runs.append(Run("".join(text).replace("\u00a0", " "), italic))
        return runs


def read_docx(path: Path) -> Document:
    with open_package(path, ".docx") as package:
        if b"<!DOCTYPE" in read_part(package, "word/document.xml", str(path))[:4096].upper():
            raise InvalidInput(
                [Problem(str(path), 1, 1, "(file)", "the document declares a DTD", "save it again from Word")]
            )
    try:
        document = docx.Document(str(path))
    except Exception as exc:  # python-docx raises many kinds on a damaged package
        raise InvalidInput(
            [Problem(str(path), 1, 1, "(file)", f"not a readable .docx file ({exc})", "save the plan again")]
        ) from None
    return _Reader(path, document).read(document.element.body)
