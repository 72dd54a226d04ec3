"""The state folder and its files are plansync's own: someone else's folder, a folder others may write,
and symlinks (to the folder or to a file in it) are refused with a message that says what to do."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from plansync.errors import PlansyncError
from plansync.sync.state import open_state
from plansync.util.lock import sync_lock
from plansync.util.private import private_dir, private_file


def test_a_new_folder_is_made_private(tmp_path: Path) -> None:
    folder = private_dir(tmp_path / "a" / "state")
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700


def test_a_folder_others_may_write_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "state"
    folder.mkdir()
    folder.chmod(0o777)
    with pytest.raises(PlansyncError, match=r"others may write .* chmod 700"):
        private_dir(folder)
    with pytest.raises(PlansyncError, match="others may write"):
        open_state(folder)
    with pytest.raises(PlansyncError, match="others may write"), sync_lock(folder):
        pass


def test_a_symlinked_folder_is_refused(tmp_path: Path) -> None:
    real = tmp_path / "real"
    real.mkdir(mode=0o700)
    (tmp_path / "link").symlink_to(real)
    with pytest.raises(PlansyncError, match="symlink"):
        private_dir(tmp_path / "link")


def test_someone_elses_folder_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = private_dir(tmp_path / "state")
    monkeypatch.setattr(os, "getuid", lambda: folder.stat().st_uid + 1)
    with pytest.raises(PlansyncError, match="belongs to another user"):
        private_dir(folder)


def test_files_are_not_opened_through_symlinks(tmp_path: Path) -> None:
    folder = private_dir(tmp_path / "state")
    victim = tmp_path / "victim.txt"
    victim.write_text("precious", encoding="utf-8")
    (folder / "plansync.sqlite3").symlink_to(victim)
    with pytest.raises(PlansyncError, match="symlink"):
        open_state(folder)
    (folder / "sync.lock").symlink_to(victim)
    with pytest.raises(PlansyncError, match="lock file"), sync_lock(folder):
        pass
    assert victim.read_text(encoding="utf-8") == "precious"


def test_a_private_file_is_made_0600(tmp_path: Path) -> None:
    path = tmp_path / "x.db"
    path.write_bytes(b"")
    path.chmod(0o644)
    private_file(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
