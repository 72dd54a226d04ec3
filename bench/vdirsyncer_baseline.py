"""vdirsyncer (from PyPI) as a baseline: the same .ics objects synced from a folder (vdir storage) to
the same CalDAV server.

vdirsyncer lives in a virtualenv of its own (its dependencies may conflict with plansync's), created by
`ensure_venv()` with `python -m venv` + pip the first time and reused afterwards; it is pinned so that
numbers compare across runs. `write_config()` writes a pair "vdir folder → server" with one collection
per calendar folder, created on the server by `discover` (implicit = "create").
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

VERSION = "0.21.0"
DEFAULT_VENV = Path(__file__).resolve().parent / ".venv-vdirsyncer"


def ensure_venv(venv: Path = DEFAULT_VENV, *, timeout: float = 600) -> Path:
    """The vdirsyncer executable, installing it into `venv` when missing. Raises RuntimeError with the
    reason when it cannot be built (e.g. offline)."""
    exe = venv / "bin" / "vdirsyncer"
    if exe.exists() and _version(exe) == VERSION:
        return exe
    try:
        if not (venv / "bin" / "python").exists():
            subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=timeout)
        subprocess.run(
            [str(venv / "bin" / "python"), "-m", "pip", "install", "-q", f"vdirsyncer=={VERSION}"],
            check=True,
            timeout=timeout,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired, OSError) as exc:
        detail = getattr(exc, "stderr", "") or ""
        raise RuntimeError(
            f"cannot install vdirsyncer {VERSION} into {venv}: {exc} {detail[-500:]}"
        ) from None
    if _version(exe) != VERSION:
        raise RuntimeError(f"vdirsyncer in {venv} does not run")
    return exe


def _version(exe: Path) -> str | None:
    try:
        out = subprocess.run([str(exe), "--version"], capture_output=True, text=True, timeout=60).stdout
    except (OSError, subprocess.TimeoutExpired):
        return None
    return out.strip().rsplit(" ", 1)[-1] if out.strip() else None


def write_config(folder: Path, vdir: Path, url: str, user: str) -> Path:
    """A config syncing every calendar folder of `vdir` to `url`; status kept in `folder`."""
    config = folder / "vdirsyncer.conf"
    config.write_text(
        f"""[general]
status_path = "{folder / "status"}/"

[pair bench]
a = "bench_local"
b = "bench_remote"
collections = ["from a"]
implicit = "create"
conflict_resolution = "a wins"

[storage bench_local]
type = "filesystem"
path = "{vdir}/"
fileext = ".ics"

[storage bench_remote]
type = "caldav"
url = "{url}"
username = "{user}"
password = "x"
""",
        encoding="utf-8",
    )
    return config


def commands(exe: Path, config: Path) -> dict[str, list[list[str]]]:
    """Per case, the command lines to run (the first run discovers, i.e. creates, the collections)."""
    base = [str(exe), "--config", str(config)]
    return {
        "first": [[*base, "discover", "bench"], [*base, "sync", "bench"]],
        "noop": [[*base, "sync", "bench"]],
        "edit": [[*base, "sync", "bench"]],
    }


def environment() -> dict[str, str]:
    # No proxies from the environment: everything goes to 127.0.0.1.
    return {k: v for k, v in os.environ.items() if "proxy" not in k.lower()}
