"""The `plansync` command line.

Imports of the heavier modules happen inside the commands so that `plansync --help` stays fast;
`main` is the one place that turns errors into messages and exit codes.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path

import click

from plansync import __version__
from plansync.errors import InvalidInput, PlansyncError, UsageError

DEFAULT_PLAN = Path("data/plan-2024.yaml")
DEFAULT_REGISTRY = Path("data/organizations.yaml")


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
        sys.exit(130)
    except BrokenPipeError:
        # `plansync show | head`: the reader went away; that is not an error of ours.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.exit(0)
    sys.exit(status if isinstance(status, int) else 0)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="plansync")
def cli() -> None:
    """Keep CalDAV calendars and e-mail digests in step with a yearly plan of library events."""


def _plan_path(plan: Path | None) -> Path:
    path = plan if plan is not None else DEFAULT_PLAN
    if not path.exists():
        raise UsageError(
            f"plan file {path} not found; give the plan's path, e.g. `plansync validate {DEFAULT_PLAN}`"
        )
    return path


@cli.command("when")
@click.option(
    "--year",
    type=click.IntRange(1900, 2200),
    default=None,
    help="Year for dates that name none (default: this year).",
)
@click.option("--json", "as_json", is_flag=True, help="One JSON object per text, one per line.")
@click.argument("texts", nargs=-1, required=True)
def when_command(year: int | None, as_json: bool, texts: tuple[str, ...]) -> None:
    """Show how plansync reads Russian date TEXTS, e.g. «1 - 5 июля» or «март–май, ежемесячно».

    Exit status 1 when any text cannot be read.
    """
    import datetime as dt

    from plansync.planread.dates import DateReadError, read_date
    from plansync.wording.plan_text import describe_reading

    year = year if year is not None else dt.date.today().year
    failed = False
    for text in texts:
        try:
            reading = read_date(text, year)
        except DateReadError as exc:
            failed = True
            if as_json:
                click.echo(json.dumps(exc.to_json(), ensure_ascii=False))
            else:
                click.echo(f"{text}\terror: {exc.reason}")
            continue
        if as_json:
            click.echo(json.dumps(reading.to_json(), ensure_ascii=False))
        else:
            click.echo(f"{text}\t{describe_reading(reading)}")
    if failed:
        raise click.exceptions.Exit(1)


@cli.command("validate")
@click.argument("plan", type=click.Path(path_type=Path, dir_okay=False), required=False)
def validate_command(plan: Path | None) -> None:
    """Check a PLAN file and report every problem as file:line:col: field: problem — fix.

    Exit status 0 when the plan is valid, 1 when it is not.
    """
    from plansync.planread.planfile import load_plan

    path = _plan_path(plan)
    loaded = load_plan(path)
    click.echo(f"{path}: valid: {len(loaded.events)} events, {len(loaded.organizations)} organizations")


@cli.command("show")
@click.argument("plan", type=click.Path(path_type=Path, dir_okay=False), required=False)
@click.option(
    "--org", "org_ids", multiple=True, metavar="ID", help="Only events of this organizer (repeatable)."
)
@click.option("--month", metavar="YYYY-MM", help="Only events that take place in this month.")
@click.option("--json", "as_json", is_flag=True, help='Print {"organizations": [...], "events": [...]}.')
def show_command(plan: Path | None, org_ids: tuple[str, ...], month: str | None, as_json: bool) -> None:
    """Show the events of a PLAN and how each date was read."""
    from plansync.planread.planfile import load_plan
    from plansync.wording.plan_text import filter_events, parse_month, plan_json, plan_table

    loaded = load_plan(_plan_path(plan))
    known = {org.id for org in loaded.organizations}
    for org_id in org_ids:
        if org_id not in known:
            raise UsageError(f"unknown organization '{org_id}'; known: {', '.join(sorted(known))}")
    events = filter_events(loaded, org_ids, parse_month(month) if month else None)
    if as_json:
        click.echo(json.dumps(plan_json(loaded, events), ensure_ascii=False, indent=2))
    else:
        click.echo(plan_table(loaded, events))


@cli.command("import")
@click.argument("source", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--year", type=click.IntRange(2000, 2100), required=True, help="The plan's year.")
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write the plan YAML here (default: standard output).",
)
@click.option(
    "--registry",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=DEFAULT_REGISTRY,
    show_default=True,
    help="Known organizations and their aliases, for splitting organizer cells.",
)
@click.option("--plan-id", default=None, help="Plan id (default: plan-YEAR).")
@click.option(
    "--timezone", default="Europe/Kaliningrad", show_default=True, help="The plan's IANA time zone."
)
def import_command(
    source: Path, year: int, output: Path | None, registry: Path, plan_id: str | None, timezone: str
) -> None:
    """Import a plan from its tab-separated text SOURCE into plan YAML.

    Organizer names that match no known organization are reported with their line, and nothing is
    written.
    """
    from plansync.planread.importer import import_source
    from plansync.util.fileio import write_atomic

    if not registry.exists():
        raise UsageError(f"organizations registry {registry} not found; pass --registry FILE")
    text = import_source(source, registry, year, plan_id or f"plan-{year}", timezone)
    if output is None:
        click.echo(text, nl=False)
    else:
        write_atomic(output, text.encode("utf-8"))
        click.echo(f"wrote {output}", err=True)


def _register_subcommands() -> None:
    """Commands that live in their own modules; each imports its heavy parts only when it runs."""
    from plansync.cli.digest import digest_command
    from plansync.cli.publish import publish_command
    from plansync.cli.run import run_command
    from plansync.cli.serve import serve_command, status_command
    from plansync.cli.sync import sync_command

    cli.add_command(sync_command)
    cli.add_command(serve_command)
    cli.add_command(status_command)
    cli.add_command(digest_command)
    cli.add_command(run_command)
    cli.add_command(publish_command)


_register_subcommands()
