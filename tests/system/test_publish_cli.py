"""`plansync publish` as a process: the site from the shipped config's 2024 plan, rewritten only where it
changed, and user mistakes as one clear line with an exit status, never a traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.paths import REPO

pytestmark = pytest.mark.slow  # runs plansync as a process

CONFIG = REPO / "config" / "plansync.yaml"


def publish(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("PLANSYNC_")}
    return subprocess.run(
        [sys.executable, "-m", "plansync", "publish", "--config", str(CONFIG), *args],
        capture_output=True, text=True, timeout=120, cwd=cwd, env=environ,
    )  # fmt: skip


def test_publish_writes_the_site_and_then_only_what_changed(tmp_path: Path) -> None:
    out = tmp_path / "site"
    first = publish("--out", str(out), "--base-url", "https://lib39.example/plan/", cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    assert "published 35 events" in first.stdout and "0 unchanged" in first.stdout
    assert (out / "index.html").exists() and (out / "feeds" / "plan-2024.ics").exists()
    assert 'href="https://lib39.example/plan/feeds/plan-2024.ics"' in (out / "index.html").read_text()
    again = publish("--out", str(out), "--base-url", "https://lib39.example/plan/", cwd=tmp_path)
    assert again.returncode == 0 and "(0 files changed" in again.stdout


def test_mistakes_are_one_line_without_a_traceback(tmp_path: Path) -> None:
    bad_url = publish("--out", str(tmp_path / "s"), "--base-url", "ftp://x", cwd=tmp_path)
    assert bad_url.returncode == 2 and "--base-url 'ftp://x' is not an http(s) URL" in bad_url.stderr
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    blocked = publish("--out", str(blocker / "site"), cwd=tmp_path)
    assert blocked.returncode == 1, blocked.stderr
    assert "Traceback" not in blocked.stderr and "site folder" in blocked.stderr
