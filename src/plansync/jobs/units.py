"""The systemd units for this install of plansync: filled in from the shipped ones (where plansync, its
config and its docs are), written into a folder and checked with `systemd-analyze verify`."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from plansync.errors import PlansyncError, UsageError
from plansync.util.fileio import write_atomic
from plansync.util.shipped import UNITS, docs_folder, shipped_folder

SYSTEM_UNITS = Path("/etc/systemd/system")
SYSTEM_CONFIG = Path("/etc/plansync/plansync.yaml")
# What the units' ProtectHome=yes hides from the service: a plansync installed there cannot start.
HOMES = (Path("/home"), Path("/root"), Path("/run/user"))


@dataclass
class Written:
    folder: Path
    written: list[Path] = field(default_factory=list)
    unchanged: list[Path] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    verified: str | None = None  # what `systemd-analyze verify` said ("": nothing); None: not run


def plansync_command() -> str:
    """How a unit starts this plansync: its entry script beside the interpreter of its venv (as installed:
    a venv's python is a link, and following it would leave the venv), else `python -m plansync`."""
    script = Path(sys.executable).with_name("plansync")
    if script.is_file() and os.access(script, os.X_OK):
        return str(script)
    return f"{sys.executable} -m plansync"


def render_unit(name: str, *, command: str, config: Path) -> str:
    """The shipped unit `name` for plansync started as `command`, reading `config`."""
    template = (shipped_folder("units", name) / name).read_text(encoding="utf-8")
    return (
        template.replace("@PLANSYNC@", command)
        .replace("@CONFIG_DIR@", str(config.parent))
        .replace("@CONFIG@", str(config))
        .replace("@DOCS@", str(docs_folder()))
    )


def install_units(folder: Path, config: Path, *, force: bool = False, command: str | None = None) -> Written:
    """Write the five units into `folder` for `config` (an absolute path), never replacing a unit that
    differs unless `force`; then verify them. Refuses a plansync the units could not see."""
    if not config.is_absolute():
        raise UsageError(f"--config {config}: give the config's full path, the units start in /")
    command = command or plansync_command()
    result = Written(folder)
    hidden = _under_a_home(Path(command.split(" ")[0]))
    if hidden is not None:
        raise PlansyncError(
            f"plansync is installed under {hidden} ({command.split(' ')[0]}), which the units hide from "
            "the service (ProtectHome=yes): install it outside home folders, e.g. `pipx install --global "
            "plansync-*.whl` or `python3 -m venv /opt/plansync && /opt/plansync/bin/pip install "
            "plansync-*.whl` (docs/install.md)"
        )
    base = Path(sys.executable).resolve()
    hidden = _under_a_home(base)
    if hidden is not None:
        result.warnings.append(
            f"the Python of this install is {base}, under {hidden}, which the units hide from the service "
            "(ProtectHome=yes): the service will not start. Make the venv from the system's Python "
            "(/usr/bin/python3 -m venv …), see docs/install.md"
        )
    texts = {name: render_unit(name, command=command, config=config) for name in UNITS}
    for name, text in texts.items():
        target = folder / name
        if target.exists() and not force and target.read_text(encoding="utf-8", errors="replace") != text:
            raise UsageError(
                f"{target} exists and differs from the unit plansync would write; keep yours, or pass "
                "--force to replace it"
            )
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"cannot create {folder}: {exc.strerror}; run as root, or give --dir") from None
    for name, text in texts.items():
        target = folder / name
        if target.exists() and target.read_text(encoding="utf-8", errors="replace") == text:
            result.unchanged.append(target)
            continue
        try:
            write_atomic(target, text.encode("utf-8"), mode=0o644)
        except OSError as exc:
            raise UsageError(f"cannot write {target}: {exc.strerror}; run as root, or give --dir") from None
        result.written.append(target)
    result.verified = verify([folder / name for name in UNITS])
    return result


def verify(units: list[Path]) -> str | None:
    """What `systemd-analyze verify` says of the units ("" when nothing); None when it is not installed."""
    tool = shutil.which("systemd-analyze")
    if tool is None:
        return None
    done = subprocess.run(
        [tool, "verify", *map(str, units)], capture_output=True, text=True, check=False, timeout=120
    )
    said = (done.stderr + done.stdout).strip()
    return said if done.returncode != 0 or said else ""


def _under_a_home(path: Path) -> Path | None:
    absolute = path.absolute()
    for home in HOMES:
        if absolute.is_relative_to(home):
            return home
    return None
