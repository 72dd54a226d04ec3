"""The systemd units `plansync install-units` writes: filled in for this install, never over a unit that
differs, and refused for a plansync the units could not see (ProtectHome=yes)."""

from __future__ import annotations

from pathlib import Path

import pytest

from plansync.errors import PlansyncError, UsageError
from plansync.jobs import units
from plansync.util.shipped import UNITS, docs_folder

CONFIG = Path("/etc/plansync/plansync.yaml")


@pytest.fixture(autouse=True)
def _no_systemd_analyze(monkeypatch: pytest.MonkeyPatch) -> None:
    """The quick loop starts no process: `systemd-analyze verify` runs in tests/system/test_deploy_install."""
    monkeypatch.setattr(units.shutil, "which", lambda name: None)


def test_the_units_name_this_plansync_its_config_and_its_docs(tmp_path: Path) -> None:
    written = units.install_units(tmp_path, CONFIG, command="/opt/plansync/bin/plansync")
    assert sorted(p.name for p in written.written) == sorted(UNITS) and written.verified is None
    service = (tmp_path / "plansync.service").read_text(encoding="utf-8")
    assert "ExecStart=/opt/plansync/bin/plansync serve --config /etc/plansync/plansync.yaml" in service
    assert f"Documentation=file:{docs_folder()}/install.md" in service
    assert "LoadCredential=caldav-password:/etc/plansync/caldav-password" in service
    assert "@" + "PLANSYNC@" not in service and "@CONFIG" not in service
    again = units.install_units(tmp_path, CONFIG, command="/opt/plansync/bin/plansync")
    assert again.written == [] and len(again.unchanged) == len(UNITS)


def test_a_unit_that_differs_is_kept_unless_forced(tmp_path: Path) -> None:
    (tmp_path / "plansync.service").write_text("[Service]\nExecStart=/mine\n", encoding="utf-8")
    with pytest.raises(UsageError, match="--force"):
        units.install_units(tmp_path, CONFIG, command="/opt/plansync/bin/plansync")
    assert (tmp_path / "plansync.service").read_text(encoding="utf-8") == "[Service]\nExecStart=/mine\n"
    assert not (tmp_path / "plansync-sync.service").exists()  # nothing written at all
    units.install_units(tmp_path, CONFIG, command="/opt/plansync/bin/plansync", force=True)
    assert "/opt/plansync/bin/plansync serve" in (tmp_path / "plansync.service").read_text(encoding="utf-8")


@pytest.mark.parametrize(
    "home", ["/root/.local/bin/plansync", "/home/ann/.local/pipx/venvs/plansync/bin/plansync"]
)
def test_a_plansync_under_a_home_folder_is_refused(tmp_path: Path, home: str) -> None:
    with pytest.raises(PlansyncError, match="ProtectHome=yes") as info:
        units.install_units(tmp_path, CONFIG, command=home)
    assert "pipx install --global" in str(info.value)
    assert list(tmp_path.iterdir()) == []


def test_the_config_is_named_by_its_full_path(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="full path"):
        units.install_units(tmp_path, Path("plansync.yaml"), command="/opt/plansync/bin/plansync")
