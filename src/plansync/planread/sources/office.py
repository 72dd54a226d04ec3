"""Old Word documents (.doc) and .rtf, converted to .docx by LibreOffice in headless mode (in a private
temporary folder, with its own profile, bounded in time) and then read as .docx. Without LibreOffice
the message names the Debian package that brings it."""

from __future__ import annotations

import dataclasses
import shutil
import subprocess
import tempfile
from pathlib import Path

from plansync.errors import InvalidInput, Problem
from plansync.planread.sources.docx_file import read_docx
from plansync.planread.sources.model import Document

PACKAGE = "libreoffice-writer-nogui"  # the Debian package with `soffice`
TIMEOUT = 120  # seconds: a plan converts in a few; a document that takes longer is not one


def _refuse(file: str, message: str, fix: str) -> InvalidInput:
    return InvalidInput([Problem(file, 1, 1, "(file)", message, fix)])


def soffice() -> str | None:
    return shutil.which("soffice") or shutil.which("libreoffice")


def read_converted(path: Path) -> Document:
    """The document of a .doc or .rtf file, through LibreOffice's conversion to .docx."""
    file = str(path)
    program = soffice()
    kind = path.suffix.lower() or "this kind of"
    if program is None:
        raise _refuse(
            file,
            f"reading {kind} files needs LibreOffice, which is not installed",
            f"install it (Debian: apt-get install {PACKAGE}), or save the plan as .docx and import that",
        )
    with tempfile.TemporaryDirectory(prefix="plansync-convert-") as folder:
        work = Path(folder)
        source = work / f"plan{path.suffix.lower()}"
        shutil.copyfile(path, source)  # LibreOffice names its output after its input
        command = [
            program,
            f"-env:UserInstallation={(work / 'profile').as_uri()}",
            "--headless",
            "--norestore",
            "--convert-to",
            "docx:MS Word 2007 XML",
            "--outdir",
            str(work / "out"),
            str(source),
        ]
        try:
            subprocess.run(command, capture_output=True, timeout=TIMEOUT, check=False, cwd=work)
        except subprocess.TimeoutExpired:
            raise _refuse(
                file,
                f"LibreOffice did not finish converting the file in {TIMEOUT} s",
                "save the plan as .docx and import that",
            ) from None
        converted = work / "out" / "plan.docx"
        if not converted.is_file():
            raise _refuse(
                file,
                f"LibreOffice could not convert the file (not a readable {kind} document?)",
                "open it in a word processor and save it as .docx",
            )
        try:
            document = read_docx(converted)
        except InvalidInput as exc:  # name the file the person gave, not the converted copy
            raise InvalidInput([dataclasses.replace(p, file=file) for p in exc.problems]) from None
    document.file = file
    return document
