"""The `plansync` command group and the one place (`main`) that turns errors into messages and exit statuses.

Each command lives in the module of its group (plansync.cli.plan, .sync, .digest, …) and imports what it
runs only when it runs, so that `plansync --help` stays fast.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence

import click

from plansync import __version__
from plansync.cli.digest import digest_command
from plansync.cli.import_plan import import_command
from plansync.cli.init import init_command
from plansync.cli.plan import show_command, validate_command, when_command
from plansync.cli.publish import publish_command
from plansync.cli.run import run_command
from plansync.cli.serve import serve_command
from plansync.cli.status import status_command
from plansync.cli.sync import sync_command
from plansync.errors import EXIT_INTERRUPTED, InvalidInput, PlansyncError


def report_error(exc: PlansyncError) -> int:
    """Print a user error to stderr and return its exit status: the one place that does this."""
    if isinstance(exc, InvalidInput):
        for problem in exc.problems:
            click.echo(str(problem), err=True)
        click.echo(f"plansync: {exc.summary()}", err=True)
    else:
        click.echo(f"plansync: error: {exc}", err=True)
    return exc.exit_code


class _Group(click.Group):
    """Turns every PlansyncError of every command into its message and exit status, never a traceback."""

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except PlansyncError as exc:
            raise click.exceptions.Exit(report_error(exc)) from None


def main(argv: Sequence[str] | None = None) -> None:
    """Entry point: run the CLI and exit with its status."""
    try:
        # Without standalone mode click returns the status of `Exit` instead of exiting.
        status = cli.main(
            args=list(argv) if argv is not None else None, prog_name="plansync", standalone_mode=False
        )
    except PlansyncError as exc:  # raised outside a command, e.g. while parsing options
        sys.exit(report_error(exc))
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except (click.Abort, KeyboardInterrupt):
        click.echo("plansync: interrupted", err=True)
        sys.exit(EXIT_INTERRUPTED)
    except BrokenPipeError:
        # `plansync show | head`: the reader went away; that is not an error of ours.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.exit(0)
    sys.exit(status if isinstance(status, int) else 0)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="plansync")
def cli() -> None:
    """Keep CalDAV calendars and e-mail digests in step with a yearly plan of library events."""


for command in (
    when_command,
    validate_command,
    show_command,
    import_command,
    sync_command,
    serve_command,
    status_command,
    digest_command,
    run_command,
    init_command,
    publish_command,
):
    cli.add_command(command)
