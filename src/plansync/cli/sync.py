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

from plansync.cli.options import config_option, echo_left_out

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

    Events of the plan that cannot be read are named and left alone in the calendars; every other one
    is synced. Exit status: 0 all good, 1 something failed (the summary names it), 3 stopped by the
    safety brake (nothing was changed), 4 events left out (fix the plan), 2 a wrong command line.
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


def echo_sync_report(result: SyncResult, *, problems: bool = True) -> int:
    """Print what a sync did (and, on stderr, the plan's events left out and why it did not end well);
    its exit status."""
    from plansync.sync.report import closing_line, format_report  # noqa: PLC0415

    click.echo(format_report(result))
    if problems:
        echo_left_out(result.plan_problems)
    line = closing_line(result)
    if line is not None:
        click.echo(f"plansync: {line}", err=True)
    return result.exit_code


@contextlib.contextmanager
def progress_bar(total: int, label: str) -> Iterator[ProgressBar]:
    """A bar on a terminal for long runs; without one (a log, a pipe, a timer) a line at every tenth of
    the way, so that a slow first sync is never silence."""
    if total < LONG_RUN:
        yield _NoBar()
        return
    if not sys.stderr.isatty():
        counter = _Tenths(total, label)
        yield counter
        counter.close()
        return
    with click.progressbar(length=total, label=label, file=sys.stderr) as bar:
        yield bar


class _NoBar:
    def update(self, n_steps: int) -> None:
        pass


class _Tenths:
    """`sync: 47 of 466 events written` on stderr each time another tenth is done, and at the end."""

    def __init__(self, total: int, label: str) -> None:
        self.total, self.label = total, label
        self.done = self.said = 0

    def update(self, n_steps: int) -> None:
        tenth = self.done * 10 // self.total
        self.done += n_steps
        if self.done * 10 // self.total > tenth:
            self._say()

    def close(self) -> None:
        if self.said != self.done:
            self._say()

    def _say(self) -> None:
        self.said = self.done
        click.echo(f"{self.label}: {self.done} of {self.total} events written", err=True)
