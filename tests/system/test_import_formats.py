"""The formats people send besides .docx, .odt and HTML: an old Word .doc and an .rtf converted by
LibreOffice (a clear message naming the package without it), a PDF with a text layer and a ruled table
read with pdfplumber, a scanned PDF refused saying why, and a .docx renamed .txt recognised by its
content."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from plansync.errors import InvalidInput
from plansync.planread.importer import import_plan, render_yaml
from plansync.planread.sources import format_of, read_document
from tests.support.expected_plan import LAYOUTS, differences, expected
from tests.support.paths import REPO

REGISTRY = REPO / "data" / "organizations.yaml"


def _differences(source: Path, name: str) -> list[str]:
    imported = import_plan(source, REGISTRY, 2025, "plan-2025", "Europe/Moscow")
    return differences(yaml.safe_load(render_yaml(imported.document, source.name)), expected(name))


@pytest.mark.slow  # starts a process
@pytest.mark.parametrize("extension", ["doc", "rtf"])
def test_old_word_and_rtf_are_converted_by_libreoffice(extension: str) -> None:
    assert shutil.which("soffice"), "LibreOffice is installed by scripts/system-deps"
    assert _differences(LAYOUTS / f"ozersk-2025.{extension}", "ozersk-2025") == []


@pytest.mark.slow  # starts a process
def test_without_libreoffice_the_message_names_the_package(tmp_path: Path) -> None:
    env = {**os.environ, "PATH": str(tmp_path)}  # no soffice on it
    result = subprocess.run(
        [sys.executable, "-m", "plansync", "import", str(LAYOUTS / "ozersk-2025.doc"), "--year", "2025"],
        capture_output=True,
        text=True,
        check=False,
        env=env,
        cwd=tmp_path,
    )
    assert result.returncode == 1
    assert (
        "needs LibreOffice" in result.stderr and "apt-get install libreoffice-writer-nogui" in result.stderr
    )
    assert "Traceback" not in result.stderr


def test_a_pdf_with_a_text_layer_and_a_ruled_table_is_read() -> None:
    assert _differences(LAYOUTS / "ozersk-2025.pdf", "ozersk-2025") == []


def test_a_scanned_pdf_is_refused_saying_why() -> None:
    with pytest.raises(InvalidInput) as info:
        read_document(LAYOUTS / "scanned.pdf")
    problem = info.value.problems[0]
    assert "no text layer" in problem.message and "scan" in problem.message
    assert "OCR" in problem.hint


def test_a_docx_renamed_txt_is_recognised_by_its_content(tmp_path: Path) -> None:
    renamed = tmp_path / "plan.txt"
    shutil.copyfile(LAYOUTS / "ozersk-2025.docx", renamed)
    found = format_of(renamed)
    assert found is not None and found.name == "Word"
    assert _differences(renamed, "ozersk-2025") == []


@pytest.mark.parametrize(
    ("name", "format_name"), [("sevlib-2025.odt", "OpenDocument"), ("berezovo-2025.html", "HTML")]
)
def test_other_formats_are_recognised_by_content_whatever_their_name(
    tmp_path: Path, name: str, format_name: str
) -> None:
    renamed = tmp_path / "plan.dat"
    shutil.copyfile(LAYOUTS / name, renamed)
    found = format_of(renamed)
    assert found is not None and found.name == format_name


def test_a_web_page_in_windows_1251_is_read(tmp_path: Path) -> None:
    page = tmp_path / "plan.html"
    text = (
        (LAYOUTS / "berezovo-2025.html")
        .read_text(encoding="utf-8")
        .replace('charset="utf-8"', 'charset="windows-1251"')
    )
    page.write_bytes(text.encode("cp1251"))
    assert _differences(page, "berezovo-2025") == []


def test_a_pdf_whose_table_has_no_lines_is_refused_saying_why() -> None:
    with pytest.raises(InvalidInput) as info:  # the web page's table, saved without its borders
        read_document(LAYOUTS / "berezovo-2025.pdf")
    assert "no ruled table" in info.value.problems[0].message
