"""plansync as a user installs it: the wheel is built once per test session from this checkout's files,
installed with the locked dependency versions into a venv in a temporary folder, and run from an empty
folder with a home of its own, so that nothing of the checkout or of the user's own plansync is in
sight (as scripts/check-install does).

Import the fixture explicitly: `from tests.support.installed import installed  # noqa: F401`.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.paths import REPO

# What the wheel is made of (whatever of these the checkout has).
WHEEL_PARTS = ("pyproject.toml", "README.md", "src", "templates", "config", "data", "systemd", "docs")
_QUIET = ("--quiet", "--disable-pip-version-check")


@dataclass(frozen=True)
class Installed:
    venv: Path
    wheel: Path

    @property
    def plansync(self) -> Path:
        return self.venv / "bin" / "plansync"

    def env(self, home: Path, extra: Mapping[str, str] | None = None) -> dict[str, str]:
        """A user's environment: their own home and XDG folders, the install's bin first on PATH, and no
        PLANSYNC_*, state or credentials variables of the test run."""
        dropped = ("PLANSYNC_", "XDG_", "STATE_DIRECTORY", "CREDENTIALS_DIRECTORY", "PYTHON", "VIRTUAL_ENV")
        env = {k: v for k, v in os.environ.items() if not k.startswith(dropped)}
        env |= {
            "HOME": str(home),
            "XDG_CONFIG_HOME": str(home / ".config"),
            "XDG_STATE_HOME": str(home / ".local" / "state"),
            "PATH": f"{self.venv / 'bin'}:/usr/local/bin:/usr/bin:/bin",
            "LANG": "C.UTF-8",
        }
        return env | dict(extra or {})

    def run(
        self,
        *args: str,
        cwd: Path,
        home: Path | None = None,
        env: Mapping[str, str] | None = None,
        timeout: float = 180,
    ) -> subprocess.CompletedProcess[str]:
        """`plansync ARGS` as the installed command, in `cwd`, with `home` (default: cwd/../home)."""
        home = home if home is not None else cwd.parent / "home"
        home.mkdir(parents=True, exist_ok=True)
        return subprocess.run(
            [str(self.plansync), *args],
            capture_output=True,
            text=True,
            cwd=cwd,
            env=self.env(home, env),
            timeout=timeout,
            check=False,
        )

    def python(self, code: str) -> str:
        """Run Python code in the install's interpreter; its standard output."""
        done = subprocess.run(
            [str(self.venv / "bin" / "python"), "-c", code],
            capture_output=True,
            text=True,
            cwd="/",
            check=True,
            timeout=60,
        )
        return done.stdout


def build_and_install(work: Path) -> Installed:
    source = work / "source"
    source.mkdir(parents=True)
    for part in WHEEL_PARTS:
        if (REPO / part).is_dir():
            shutil.copytree(REPO / part, source / part, ignore=shutil.ignore_patterns("__pycache__"))
        elif (REPO / part).is_file():
            shutil.copy2(REPO / part, source / part)
    pip = [sys.executable, "-m", "pip"]
    subprocess.run([*pip, "wheel", *_QUIET, "--no-deps", "-w", str(work / "dist"), str(source)], check=True)
    wheel = next((work / "dist").glob("plansync-*.whl"))
    venv = work / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    vpip = [str(venv / "bin" / "python"), "-m", "pip"]
    subprocess.run([*vpip, "install", *_QUIET, "-r", str(REPO / "requirements.lock")], check=True)
    subprocess.run([*vpip, "install", *_QUIET, "--no-deps", str(wheel)], check=True)
    return Installed(venv, wheel)


# One build per session: each test module that imports the fixture gets its own copy of it, and pytest
# would run a session fixture once per copy.
_BUILT: dict[Path, Installed] = {}


@pytest.fixture(scope="session")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Installed:
    session = tmp_path_factory.getbasetemp()
    if session not in _BUILT:
        _BUILT[session] = build_and_install(tmp_path_factory.mktemp("installed"))
    return _BUILT[session]


def empty_folder(tmp_path: Path, name: str = "work") -> Path:
    """A new, empty working folder (its home beside it: see Installed.run)."""
    folder = tmp_path / name
    folder.mkdir()
    return folder
