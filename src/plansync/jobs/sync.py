"""Sync once: the plans (or the render cache), the lock, the state, the calendar server, the run, and
its record for `plansync status`. The CLI (`sync`, `run`) and the service call this and nothing else."""

from __future__ import annotations

import contextlib
import datetime as dt
import time
from collections.abc import Iterator, Mapping, Sequence

from plansync.caldav.backend import Backend
from plansync.config.model import Config
from plansync.errors import PlansyncError
from plansync.jobs.calendars import CalendarServer
from plansync.jobs.plans import load_plans
from plansync.jobs.runlog import record_sync
from plansync.model.plan import Plan
from plansync.sync.engine import sync
from plansync.sync.render_cache import load_cache
from plansync.sync.report import SyncResult
from plansync.sync.state import open_state
from plansync.sync.writers import Checkpoint, Progress
from plansync.util.lock import sync_lock


def run_sync(
    config: Config,
    *,
    dry_run: bool = False,
    org_ids: Sequence[str] = (),
    force_delete: bool = False,
    server: CalendarServer | None = None,
    backend: Backend | None = None,
    progress: Progress | None = None,
    environ: Mapping[str, str] | None = None,
    plans: Sequence[Plan] | None = None,
    checkpoint: Checkpoint | None = None,
    prune: Sequence[str] = (),
) -> SyncResult:
    """Load the plans of `config` (unless given: `serve` keeps the last good ones), take the lock, open
    the state, and sync through `backend`, else a backend of `server` (the service's, already running),
    else of a server started for this run; then record the outcome."""
    cache = load_cache(config, given=plans, read_plans=lambda: load_plans(config.plans))
    checkpoint = _bounded(checkpoint, config.sync.max_run_time)
    with sync_lock(config.state_dir):
        state = open_state(config.state_dir)
        try:
            with _backend(config, server, backend, environ) as live:
                result = sync(
                    cache.plans,
                    backend=live,
                    state=state,
                    targets=config.calendars,
                    settings=config.sync,
                    dry_run=dry_run,
                    org_ids=org_ids,
                    force_delete=force_delete,
                    progress=progress,
                    rendered=cache.rendered if cache.hit else None,
                    memo=cache.memo,
                    checkpoint=checkpoint,
                    full_plans=cache.full,
                    prune=prune,
                )
        finally:
            state.close()
        if result.rendered or result.memo or not cache.hit:
            cache.save(result, whole=not org_ids)
        record_sync(config.state_dir, result, dt.datetime.now(dt.UTC))
    return result


class RunTooLong(PlansyncError):
    """A sync reached sync.max_run_time; it stopped between two writes (the next run goes on)."""


def _bounded(checkpoint: Checkpoint | None, limit: dt.timedelta) -> Checkpoint:
    """The checkpoint the engine calls between two steps, with the run's deadline added."""
    deadline = time.monotonic() + limit.total_seconds()

    def check() -> None:
        if checkpoint is not None:
            checkpoint()
        if time.monotonic() > deadline:
            raise RunTooLong(
                f"the sync took longer than sync.max_run_time ({limit}) and stopped between two writes; "
                "the next run goes on from there (a slow server? see `plansync status`)"
            )

    return check


@contextlib.contextmanager
def _backend(
    config: Config,
    server: CalendarServer | None,
    given: Backend | None,
    environ: Mapping[str, str] | None,
) -> Iterator[Backend]:
    if given is not None:
        yield given
        return
    with contextlib.ExitStack() as stack:
        if server is None:
            server = stack.enter_context(CalendarServer(config.caldav, environ))
        live = server.backend()
        stack.callback(live.close)
        yield live
