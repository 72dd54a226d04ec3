"""Readers of the documents plans are published as. Each turns one file format into the same
`Document` (plansync.planread.sources.model); plansync.planread.layout finds the plan in it."""

from __future__ import annotations

from pathlib import Path

from plansync.errors import InvalidInput, Problem
from plansync.planread.sources.model import MAX_FILE_BYTES, Document

READERS = {
    ".txt": "tab text",
    ".tsv": "tab text",
    ".docx": "docx",
    ".odt": "odt",
    ".html": "html",
    ".htm": "html",
}


def read_document(path: Path) -> Document:
    """The document in the file, by its extension; InvalidInput for an unknown or unreadable one."""
    kind = READERS.get(path.suffix.lower())
    if kind is None:
        raise InvalidInput(
            [
                Problem(
                    str(path),
                    1,
                    1,
                    "(file)",
                    f"plansync cannot read '{path.suffix}' files",
                    "save the plan as .docx, .odt, .html or tab-separated .txt",
                )
            ]
        )
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        raise InvalidInput(
            [
                Problem(
                    str(path),
                    1,
                    1,
                    "(file)",
                    f"the file is {size} bytes, more than {MAX_FILE_BYTES}",
                    "a plan is a few hundred kilobytes; check that this is the right file",
                )
            ]
        )
    if kind == "docx":
        from plansync.planread.sources.docx_file import read_docx

        return read_docx(path)
    if kind == "odt":
        from plansync.planread.sources.odt_file import read_odt

        return read_odt(path)
    data = path.read_bytes()
    text = _decode(data, str(path))
    if kind == "html":
        from plansync.planread.sources.html_table import read_html

        return read_html(text, str(path))
    from plansync.planread.sources.tab_text import read_tab_text

    return read_tab_text(text, str(path))


def _decode(data: bytes, file: str) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InvalidInput(
            [Problem(file, 1, 1, "(file)", f"not UTF-8 text ({exc.reason})", "convert the file to UTF-8")]
        ) from None
