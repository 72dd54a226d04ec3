"""Writing the site: changed files only, atomically; other people's files are never touched."""

from __future__ import annotations

import json
from pathlib import Path

from plansync.publish.writer import MANIFEST, write_site


def test_only_changed_files_are_rewritten(tmp_path: Path) -> None:
    first = write_site(tmp_path, {"index.html": b"a", "feeds/p.ics": b"b"})
    assert sorted(first.changed) == ["feeds/p.ics", "index.html"]
    before = (tmp_path / "feeds/p.ics").stat().st_mtime_ns
    second = write_site(tmp_path, {"index.html": b"A", "feeds/p.ics": b"b"})
    assert second.changed == ("index.html",) and second.unchanged == 1
    assert (tmp_path / "feeds/p.ics").stat().st_mtime_ns == before  # its ETag and Last-Modified stay
    assert (tmp_path / "index.html").read_bytes() == b"A"


def test_files_we_no_longer_publish_go_and_foreign_files_stay(tmp_path: Path) -> None:
    (tmp_path / "robots.txt").write_text("theirs")
    write_site(tmp_path, {"index.html": b"a", "org-old.html": b"x"})
    result = write_site(tmp_path, {"index.html": b"a"})
    assert result.removed == ("org-old.html",)
    assert not (tmp_path / "org-old.html").exists()
    assert (tmp_path / "robots.txt").read_text() == "theirs"


def test_an_edited_manifest_cannot_delete_outside_the_folder(tmp_path: Path) -> None:
    site = tmp_path / "site"
    victim = tmp_path / "precious.txt"
    victim.write_text("keep")
    site.mkdir()
    (site / MANIFEST).write_text(json.dumps({"files": ["../precious.txt", "/etc/hostname", 3]}))
    write_site(site, {"index.html": b"a"})
    assert victim.read_text() == "keep"
