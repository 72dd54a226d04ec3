"""Readers of the documents plans are published as. Each turns one file format into the same
`Document` (plansync.planread.sources.model); plansync.planread.layout finds the plan in it.

FORMATS is the one table of formats: what a file's first bytes say (a .docx renamed .txt is still a
.docx) or, when they say nothing, its extension picks the reader. Adding a format is one entry."""

from __future__ import annotations

import re
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from plansync.errors import InvalidInput, Problem
from plansync.planread.sources.docx_file import read_docx
from plansync.planread.sources.html_table import read_html
from plansync.planread.sources.model import MAX_FILE_BYTES, MAX_PARTS, Document
from plansync.planread.sources.odt_file import read_odt
from plansync.planread.sources.office import read_converted
from plansync.planread.sources.pdf_file import read_pdf
from plansync.planread.sources.tab_text import read_tab_text

SNIFF_BYTES = 4096
_CHARSET_RE = re.compile(rb"charset=[\"']?([A-Za-z0-9_-]{3,20})")
_OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # the container of old Word (.doc) files
_ODT_MIME = b"application/vnd.oasis.opendocument.text"


def _zip_names(path: Path) -> set[str]:
    """The part names of a ZIP package, from its directory only (nothing is unpacked here)."""
    try:
        with zipfile.ZipFile(path) as package:
            infos = package.infolist()
            return {info.filename for info in infos[: MAX_PARTS + 1]}
    except (zipfile.BadZipFile, OSError):
        return set()


def _is_docx(head: bytes, path: Path) -> bool:
    return head.startswith(b"PK\x03\x04") and {"[Content_Types].xml", "word/document.xml"} <= _zip_names(path)


def _is_odt(head: bytes, path: Path) -> bool:
    if not head.startswith(b"PK\x03\x04"):
        return False
    return _ODT_MIME in head[:200] or {"content.xml", "mimetype"} <= _zip_names(path)


def _is_html(head: bytes, _: Path) -> bool:
    start = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    return start.startswith((b"<!doctype html", b"<html", b"<?xml")) and b"<html" in head.lower()


def _read_text_file(read: Callable[[str, str], Document]) -> Callable[[Path], Document]:
    def reader(path: Path) -> Document:
        return read(_decode(path.read_bytes(), str(path)), str(path))

    return reader


@dataclass(frozen=True)
class Format:
    name: str
    extensions: tuple[str, ...]
    sniff: Callable[[bytes, Path], bool]  # the first bytes (and the path, for a package's parts)
    read: Callable[[Path], Document]


FORMATS: tuple[Format, ...] = (
    Format("Word", (".docx",), _is_docx, read_docx),
    Format("OpenDocument", (".odt",), _is_odt, read_odt),
    Format("PDF", (".pdf",), lambda head, _: head.startswith(b"%PDF-"), read_pdf),
    Format("old Word", (".doc",), lambda head, _: head.startswith(_OLE), read_converted),
    Format("RTF", (".rtf",), lambda head, _: head.startswith(b"{\\rtf"), read_converted),
    Format("HTML", (".html", ".htm"), _is_html, _read_text_file(read_html)),
    Format("tab-separated text", (".txt", ".tsv"), lambda head, _: False, _read_text_file(read_tab_text)),
)


def _refuse(path: Path, message: str, fix: str) -> InvalidInput:
    return InvalidInput([Problem(str(path), 1, 1, "(file)", message, fix)])


def format_of(path: Path) -> Format | None:
    """The file's format by its content, else by its extension; None when neither says."""
    with path.open("rb") as stream:
        head = stream.read(SNIFF_BYTES)
    by_content = next((f for f in FORMATS if f.sniff(head, path)), None)
    if by_content is not None:
        return by_content
    if head.startswith(b"PK\x03\x04") and path.suffix.lower() in (".txt", ".tsv"):
        return None  # a package that is neither .docx nor .odt, named as text
    return next((f for f in FORMATS if path.suffix.lower() in f.extensions), None)


def read_document(path: Path) -> Document:
    """The document in the file; InvalidInput for an unknown, too large or unreadable one."""
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        raise _refuse(
            path,
            f"the file is {size} bytes, more than {MAX_FILE_BYTES}",
            "a plan is a few hundred kilobytes; check that this is the right file",
        )
    found = format_of(path)
    if found is None:
        known = ", ".join(e for f in FORMATS for e in f.extensions)
        raise _refuse(
            path,
            f"plansync cannot read '{path.suffix}' files"
            if path.suffix
            else "plansync cannot tell what this file is",
            f"save the plan as one of: {known}",
        )
    return found.read(path)


def _decode(data: bytes, file: str) -> str:
    """UTF-8, else the charset a web page declares, else Windows-1251 (older Russian sites save in it)."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        declared = _CHARSET_RE.search(data[:SNIFF_BYTES])
        for encoding in ([declared[1].decode("ascii")] if declared else []) + ["cp1251"]:
            try:
                return data.decode(encoding)
            except (UnicodeDecodeError, LookupError):
                continue
        raise InvalidInput(
            [Problem(file, 1, 1, "(file)", f"not UTF-8 text ({exc.reason})", "convert the file to UTF-8")]
        ) from None
