"""The one run lock: an flock on a file in the state folder, holding the holder's pid, so that two
runs of the same job never overlap (a second one stops with a message that names the holder)."""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterator
from pathlib import Path

from plansync.errors import EXIT_FAILED, EXIT_TEMPFAIL, Busy, PlansyncError
from plansync.util.private import private_dir

SYNC_LOCK = "sync.lock"
DIGEST_LOCK = "digests.lock"


@contextlib.contextmanager
def run_lock(state_dir: Path, name: str, busy: str, exit_code: int) -> Iterator[None]:
    """Hold `state_dir/name` for the block. `busy` is the message when another process holds it
    (`{pid}` and `{state_dir}` are filled in); it is raised as Busy with `exit_code`."""
    private_dir(state_dir)
    try:
        fd = os.open(state_dir / name, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o600)
    except OSError as exc:
        raise PlansyncError(f"cannot use the lock file {state_dir / name}: {exc.strerror}") from None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode("ascii", "replace").strip() or "unknown"
            raise Busy(busy.format(pid=holder, state_dir=state_dir), exit_code) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        try:
            yield
        finally:
            os.ftruncate(fd, 0)
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def sync_lock(state_dir: Path) -> contextlib.AbstractContextManager[None]:
    return run_lock(
        state_dir,
        SYNC_LOCK,
        "another plansync run (pid {pid}) is syncing with the state in {state_dir}; "
        "wait for it to finish and run again",
        EXIT_FAILED,
    )


def digest_lock(state_dir: Path) -> contextlib.AbstractContextManager[None]:
    return run_lock(
        state_dir,
        DIGEST_LOCK,
        "another `plansync digest` (pid {pid}) is running with the state folder {state_dir}; "
        "wait for it to finish and run again",
        EXIT_TEMPFAIL,
    )
