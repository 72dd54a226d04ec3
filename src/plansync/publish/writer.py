"""Writing a built site into its folder: each changed file replaced atomically, unchanged files left
alone (so their ETag and Last-Modified stay), and only files this writer wrote before ever removed:
the folder may hold other people's files (a web server's own pages)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from plansync.errors import PlansyncError
from plansync.util.fileio import write_atomic

MANIFEST = ".plansync-site.json"  # the files the last publish wrote


@dataclass(frozen=True)
class Written:
    changed: tuple[str, ...]
    unchanged: int
    removed: tuple[str, ...]


def _target(out: Path, name: str) -> Path:
    path = PurePosixPath(name)
    if path.is_absolute() or ".." in path.parts or not path.parts:
        raise ValueError(f"not a site path: {name!r}")  # a bug in the builder, not a user error
    return out.joinpath(*path.parts)


def _previous(out: Path) -> list[str]:
    try:
        data = json.loads((out / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    files = data.get("files") if isinstance(data, dict) else None
    return [f for f in files if isinstance(f, str)] if isinstance(files, list) else []


def write_site(out: Path, files: Mapping[str, bytes]) -> Written:
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise PlansyncError(
            f"cannot create the site folder {out}: {exc.strerror}; check publish.out / --out"
        ) from None
    changed: list[str] = []
    try:
        for name, data in sorted(files.items()):
            target = _target(out, name)
            try:
                if target.read_bytes() == data:
                    continue
            except OSError:
                pass
            write_atomic(target, data)
            changed.append(name)
        removed = []
        for name in _previous(out):
            if name in files:
                continue
            try:
                _target(out, name).unlink(missing_ok=True)
            except ValueError:
                continue  # a manifest someone edited: never delete outside the folder
            removed.append(name)
        manifest = json.dumps({"files": sorted(files)}, ensure_ascii=False, indent=1).encode("utf-8")
        write_atomic(out / MANIFEST, manifest)
    except OSError as exc:
        raise PlansyncError(
            f"cannot write the site into {out}: {exc}; check the folder's permissions"
        ) from None
    return Written(tuple(changed), len(files) - len(changed), tuple(removed))
