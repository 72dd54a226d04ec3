"""The files `plansync init` writes: a starter config with its state beside it, the example plan with
placeholder addresses, and for a system install the empty password files and the systemd units."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from plansync.config.starter import starter_config
from plansync.errors import UsageError
from plansync.jobs.units import Written, install_units
from plansync.util.shipped import EXAMPLE_PLAN, shipped_file

CONFIG_NAME = "plansync.yaml"
OWN_PLAN = "plan.yaml"
SYSTEM_FOLDER = Path("/etc/plansync")
PASSWORD_FILES = ("caldav-password", "smtp-password")  # the units' LoadCredential= files
_ADDRESS = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_EXAMPLE_NOTE = (
    "# Written by `plansync init --example`. The e-mail addresses below are placeholders (example.org\n"
    "# receives no mail, and plansync's SMTP sends none there): put each library's own address in before\n"
    "# the digests go out, or try them first with `plansync digest --redirect-to ADDRESS`: every\n"
    "# digest then goes to your own ADDRESS.\n#\n"
)


@dataclass
class Started:
    folder: Path
    config: Path
    plan: Path  # where the config expects the plan (written with --example)
    written: list[Path] = field(default_factory=list)
    units: Written | None = None


def start(folder: Path, *, example: bool, system: bool, units_dir: Path | None) -> Started:
    """Write the starter files into `folder`, never over an existing file (nothing is written then)."""
    plan_name = EXAMPLE_PLAN if example else OWN_PLAN
    config = folder / CONFIG_NAME
    result = Started(folder, config, folder / plan_name)
    targets = {config: starter_config(plan_name, system=system).encode("utf-8")}
    if example:
        plan = shipped_file("example", EXAMPLE_PLAN).read_text(encoding="utf-8")
        targets[folder / EXAMPLE_PLAN] = placeholder_plan(plan).encode("utf-8")
    for target in targets:
        if target.exists():
            raise UsageError(f"{target} already exists; remove it, or run `plansync init` in another folder")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(
            f"cannot create {folder}: {exc.strerror}; choose a folder you may write to"
        ) from None
    for target, data in reversed(targets.items()):  # the config last: it is what the next command reads
        _write_new(target, data, 0o644)
        result.written.append(target)
    if system:
        for name in PASSWORD_FILES:
            path = folder / name
            if not path.exists():
                _write_new(path, b"", 0o600)  # passed to the units as credentials; empty: no password
                result.written.append(path)
        result.units = install_units(units_dir or Path("/etc/systemd/system"), config.absolute())
    return result


def placeholder_plan(text: str) -> str:
    """The example plan with every e-mail address at example.org, which receives no mail: whoever tries
    plansync mails no real library by mistake."""
    return _EXAMPLE_NOTE + _ADDRESS.sub(lambda m: f"{m[0].partition('@')[0]}@example.org", text)


def _write_new(path: Path, data: bytes, mode: int) -> None:
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)  # never replaces a file
    except FileExistsError:
        raise UsageError(
            f"{path} already exists; remove it, or run `plansync init` in another folder"
        ) from None
    except OSError as exc:
        raise UsageError(f"cannot write {path}: {exc.strerror}; choose a folder you may write to") from None
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
