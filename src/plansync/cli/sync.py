"""`plansync sync`: reconcile the plan with one CalDAV calendar per organizer.

Registered on the main group by plansync.cli.main, which turns errors into messages and exit statuses.
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
    from plansync.sync.report import SyncResult
    from plansync.sync.writers import ProgressBar

# Each command imports its use case when it runs (the `noqa: PLC0415` below): `plansync --help` imports
# every command's module, and the use cases would add up to half a second to it.

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
    "--prune-plan",
    "prune",
    multiple=True,
    metavar="ID",
    help="Also delete the events of plan ID, no longer in the config, from the calendars (repeatable); "
    "without it they stay where they are.",
)
@click.option(
    "--force-delete",
    is_flag=True,
    help="Go on even if the safety brake would stop the run (many deletions, or a calendar found emptied).",
)
def sync_command(
    config_file: Path | None,
    dry_run: bool,
    org_ids: tuple[str, ...],
    prune: tuple[str, ...],
    force_delete: bool,
) -> None:
    """Sync the plan into one CalDAV calendar per organizer.

    Exit status: 0 all good, 1 something failed (the summary names it), 3 stopped by the safety brake
    (nothing was changed), 2 a wrong command line.
    """
    from plansync.config.load import load_config  # noqa: PLC0415
    from plansync.jobs.sync import run_sync  # noqa: PLC0415

    config = load_config(config_file)
    result = run_sync(
        config,
        dry_run=dry_run,
        org_ids=org_ids,
        force_delete=force_delete,
        progress=progress_bar,
        prune=prune,
    )
    code = echo_sync_report(result)
    if code:
        raise click.exceptions.Exit(code)


def echo_sync_report(result: SyncResult) -> int:
    """Print what a sync did (and, on stderr, why it did not end well); its exit status."""
    from plansync.sync.report import closing_line, format_report  # noqa: PLC0415

    click.echo(format_report(result))
    line = closing_line(result)
    if line is not None:
        click.echo(f"plansync: {line}", err=True)
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
