"""Opening .docx/.odt packages (ZIP files) without trusting them: the number of parts and their unpacked
sizes are checked from the ZIP directory before anything is unpacked, and reads are bounded as well."""

from __future__ import annotations

import zipfile
from pathlib import Path

from plansync.errors import InvalidInput, Problem
from plansync.planread.sources.model import MAX_PARTS, MAX_UNPACKED_BYTES


def _bad(file: str, message: str, fix: str) -> InvalidInput:
    return InvalidInput([Problem(file, 1, 1, "(file)", message, fix)])


def open_package(path: Path, kind: str) -> zipfile.ZipFile:
    """The checked ZIP file; InvalidInput when it is no ZIP or unpacks to too much."""
    file = str(path)
    try:
        package = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise _bad(file, f"not a {kind} file ({exc})", f"save the plan again as {kind}") from None
    infos = package.infolist()
    total = sum(info.file_size for info in infos)
    if len(infos) > MAX_PARTS or total > MAX_UNPACKED_BYTES:
        package.close()
        raise _bad(
            file,
            f"the {kind} file unpacks to {len(infos)} parts and {total} bytes, more than a plan can hold "
            f"({MAX_PARTS} parts, {MAX_UNPACKED_BYTES} bytes)",
            "check that this is the right file",
        )
    return package


def read_part(package: zipfile.ZipFile, name: str, file: str) -> bytes:
    """One part, read no further than the limit whatever its directory entry claims."""
    try:
        with package.open(name) as stream:
            data = stream.read(MAX_UNPACKED_BYTES + 1)
    except KeyError:
        raise _bad(file, f"the package has no part '{name}'", "save the plan again from its editor") from None
    except (zipfile.BadZipFile, OSError, EOFError) as exc:
        raise _bad(file, f"the part '{name}' cannot be unpacked ({exc})", "save the plan again") from None
    if len(data) > MAX_UNPACKED_BYTES:
        raise _bad(
            file, f"the part '{name}' unpacks to more than {MAX_UNPACKED_BYTES} bytes", "check the file"
        )
    return data
