"""The shipped systemd units pass `systemd-analyze verify`, and the service is hardened (exposure ≤ 2.0)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.paths import REPO

pytestmark = pytest.mark.slow  # runs systemd-analyze

UNITS = sorted((REPO / "systemd").glob("plansync*"))
ANALYZE = shutil.which("systemd-analyze")
needs_analyze = pytest.mark.skipif(
    ANALYZE is None and not os.environ.get("CI"), reason="systemd-analyze missing (scripts/system-deps)"
)


def installed_copy(tmp_path: Path, unit: Path) -> Path:
    """The unit as installed, but pointing at this checkout's plansync (verify checks ExecStart exists)."""
    plansync = Path(sys.executable).with_name("plansync")
    assert plansync.exists(), "plansync must be installed in the test environment"
    text = unit.read_text(encoding="utf-8").replace("/opt/plansync/.venv/bin/plansync", str(plansync))
    copy = tmp_path / unit.name
    copy.write_text(text, encoding="utf-8")
    return copy


def test_all_units_are_there() -> None:
    names = {u.name for u in UNITS}
    assert names == {
        "plansync.service",
        "plansync-sync.service",
        "plansync-sync.timer",
        "plansync-digest.service",
        "plansync-digest.timer",
    }


@needs_analyze
@pytest.mark.parametrize("unit", UNITS, ids=lambda u: u.name)
def test_verify(tmp_path: Path, unit: Path) -> None:
    assert ANALYZE is not None, "systemd-analyze is required in CI"
    for name in UNITS:
        installed_copy(tmp_path, name)  # timers need their services beside them
    result = subprocess.run([ANALYZE, "verify", str(tmp_path / unit.name)], capture_output=True, text=True)
    assert result.returncode == 0 and not result.stderr.strip(), result.stderr


@needs_analyze
@pytest.mark.parametrize("name", ["plansync.service", "plansync-sync.service", "plansync-digest.service"])
def test_security_exposure_at_most_2(tmp_path: Path, name: str) -> None:
    assert ANALYZE is not None, "systemd-analyze is required in CI"
    unit = installed_copy(tmp_path, REPO / "systemd" / name)
    result = subprocess.run(
        [ANALYZE, "security", "--offline=true", "--no-pager", str(unit)], capture_output=True, text=True
    )
    match = re.search(r"Overall exposure level for \S+: (\d+\.\d+)", result.stdout)
    assert match is not None, result.stdout + result.stderr
    assert float(match[1]) <= 2.0, result.stdout


def test_service_is_hardened_the_way_the_issue_asks() -> None:
    text = (REPO / "systemd" / "plansync.service").read_text(encoding="utf-8")
    for line in (
        "Type=notify",
        "WatchdogSec=",
        "DynamicUser=yes",
        "ProtectSystem=strict",
        "StateDirectory=plansync",
        "NoNewPrivileges=yes",
        "LoadCredential=caldav-password:",
        "ExecReload=/bin/kill -HUP $MAINPID",
    ):
        assert line in text, line
