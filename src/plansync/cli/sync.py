"""`plansync sync`: reconcile the plan with one CalDAV calendar per organizer.

Registered on the main group with `cli.add_command(sync_command)`. Heavy modules are imported inside
the command so `plansync --help` stays fast; the group in cli.py turns errors into messages.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import click

from plansync.cli.options import config_option

if TYPE_CHECKING:
    from plansync.sync.engine import ProgressBar

LONG_RUN = 20  # actions; below this a progress bar is only noise


@click.command("sync")
@config_option
@click.option(
    "--dry-run",
    is_flag=True,
    help="Print what would be created, updated (which fields) and deleted, "
    "and the conflicts; change nothing.",
)
@click.option(
    "--org", "org_ids", multiple=True, metavar="ID", help="Only this organizer's calendar (repeatable)."
)
@click.option(
    "--force-delete",
    is_flag=True,
    help="Go on even if the safety brake would stop the run (many deletions, or a calendar found emptied).",
)
def sync_command(
    config_file: Path | None, dry_run: bool, org_ids: tuple[str, ...], force_delete: bool
) -> None:
    """Sync the plan into one CalDAV calendar per organizer.

    Exit status: 0 all good, 1 something failed (the summary names it), 2 stopped by the safety brake.
    """
    code = _run(config_file, dry_run, org_ids, force_delete)
    if code:
        raise click.exceptions.Exit(code)


def _run(config_file: Path | None, dry_run: bool, org_ids: tuple[str, ...], force_delete: bool) -> int:
    import datetime as dt

    from plansync.config.load import load_config
    from plansync.jobs.runlog import record_sync
    from plansync.sync.engine import brake_message, format_report, run_sync

    config = load_config(config_file)
    result = run_sync(
        config, dry_run=dry_run, org_ids=org_ids, force_delete=force_delete, progress=progress_bar
    )
    record_sync(config.state_dir, result, dt.datetime.now(dt.UTC))
    click.echo(format_report(result))
    if result.brakes:
        click.echo(f"plansync: {brake_message(result)}", err=True)
    elif result.failed:
        click.echo("plansync: some events could not be synced; see ✗ above", err=True)
    return result.exit_code


@contextlib.contextmanager
def progress_bar(total: int, label: str) -> Iterator[ProgressBar]:
    """A bar on a terminal for long runs; nothing in logs and pipes."""
    if total < LONG_RUN or not sys.stderr.isatty():
        yield _NoBar()
        return
    with click.progressbar(length=total, label=label, file=sys.stderr) as bar:
        yield bar


class _NoBar:
    def update(self, n_steps: int) -> None:
        pass
