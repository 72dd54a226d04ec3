"""The state folder and the files in it are plansync's own and nobody else's.

Whoever can write the state folder can make plansync overwrite other files through symlinks, feed it a
database or a cache of their own, or read the digests' addresses: a folder that exists already is used
only when it is owned by the running user and nobody else may write it, and files in it are opened
without following symlinks.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from plansync.errors import PlansyncError


def private_dir(folder: Path) -> Path:
    """Create `folder` (0700) or check the one there: a real folder (not a symlink), owned by this user,
    writable by nobody else. Returns it."""
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        info = folder.lstat()
    except OSError as exc:
        raise PlansyncError(
            f"cannot use the state folder {folder}: {exc.strerror}; check state_dir in the config "
            "(or PLANSYNC_STATE_DIR) and its permissions"
        ) from None
    if stat.S_ISLNK(info.st_mode) or not stat.S_ISDIR(info.st_mode):
        raise PlansyncError(
            f"the state folder {folder} is a symlink or not a folder; plansync keeps its state only in a "
            "folder of its own: point state_dir at a real folder"
        )
    if info.st_uid != os.getuid():
        raise PlansyncError(
            f"the state folder {folder} belongs to another user (uid {info.st_uid}), not to plansync's "
            f"(uid {os.getuid()}); use a folder of plansync's own user, or `chown` this one to it"
        )
    if info.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        raise PlansyncError(
            f"others may write in the state folder {folder} (mode {stat.S_IMODE(info.st_mode):o}); "
            f"make it private: chmod 700 {folder}"
        )
    return folder


def private_file(path: Path, *, create: bool = True) -> Path:
    """Create `path` 0600 (or check the one there) without following a symlink; a symlink or anything
    but a regular file is refused. Returns it."""
    flags = os.O_RDWR | os.O_NOFOLLOW | (os.O_CREAT if create else 0)
    try:
        os.close(os.open(path, flags, 0o600))
        info = path.lstat()
    except OSError as exc:
        why = "it is a symlink" if exc.errno == 40 else exc.strerror  # ELOOP: O_NOFOLLOW met a symlink
        raise PlansyncError(f"cannot use {path}: {why}; remove it and run again") from None
    if not stat.S_ISREG(info.st_mode) or info.st_uid != os.getuid():
        raise PlansyncError(f"{path} is not a file of plansync's own; remove it and run again")
    if stat.S_IMODE(info.st_mode) & 0o077:
        path.chmod(0o600)
    return path
