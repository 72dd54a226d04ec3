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
from plansync.cli.options import config_option
from plansync.errors import InvalidInput, PlansyncError, UsageError

DEFAULT_REGISTRY = Path("data/organizations.yaml")  # the checkout's; else the one plansync ships


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


def _plan_paths(plan: Path | None, config_file: Path | None) -> tuple[Path, ...]:
    """PLAN when given, else the plans of the config found (as `sync` would find it)."""
    from plansync.config.load import load_config

    if plan is not None:
        paths: tuple[Path, ...] = (plan,)
    else:
        try:
            paths = load_config(config_file).plans
        except InvalidInput:
            raise
        except PlansyncError as exc:
            raise UsageError(f"no PLAN given, and {exc}") from None
    for path in paths:
        if not path.exists():
            raise UsageError(
                f"plan file {path} not found; give the plan's path, e.g. `plansync validate plan.yaml`"
            )
    return paths


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
@config_option
def validate_command(plan: Path | None, config_file: Path | None) -> None:
    """Check a PLAN file (default: the config's plans) and report every problem as
    file:line:col: field: problem — fix.

    Exit status 0 when the plan is valid, 1 when it is not.
    """
    from plansync.planread.planfile import load_plan, undated_events

    for path in _plan_paths(plan, config_file):
        loaded = load_plan(path)
        for event in undated_events(loaded):
            click.echo(
                f"{path}: warning: event {event.key}: the date is not known yet («{event.date_text}»); "
                "calendars leave it out and digests list it as «дата уточняется» until `start:` is given",
                err=True,
            )
        click.echo(f"{path}: valid: {len(loaded.events)} events, {len(loaded.organizations)} organizations")


@cli.command("show")
@click.argument("plan", type=click.Path(path_type=Path, dir_okay=False), required=False)
@click.option(
    "--org", "org_ids", multiple=True, metavar="ID", help="Only events of this organizer (repeatable)."
)
@click.option("--month", metavar="YYYY-MM", help="Only events that take place in this month.")
@click.option("--json", "as_json", is_flag=True, help='Print {"organizations": [...], "events": [...]}.')
@config_option
def show_command(
    plan: Path | None, org_ids: tuple[str, ...], month: str | None, as_json: bool, config_file: Path | None
) -> None:
    """Show the events of a PLAN (default: the config's plan) and how each date was read."""
    from plansync.planread.planfile import load_plan
    from plansync.wording.plan_text import filter_events, parse_month, plan_json, plan_table

    paths = _plan_paths(plan, config_file)
    if len(paths) > 1:
        raise UsageError(f"the config lists {len(paths)} plans; name the one to show: plansync show PLAN")
    loaded = load_plan(paths[0])
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
    "registries",
    type=click.Path(dir_okay=False, path_type=Path),
    multiple=True,
    help="Known organizations and their aliases, for splitting organizer cells (repeatable: a later "
    f"file, such as reviewed proposals, adds to the earlier ones; default: ./{DEFAULT_REGISTRY} when "
    "there is one, else the registry plansync ships).",
)
@click.option(
    "--proposed",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Where to write organizers the registry does not know, for review "
    "(default: OUTPUT's name + .proposed-organizations.yaml, or SOURCE's without -o).",
)
@click.option("--plan-id", default=None, help="Plan id (default: plan-YEAR).")
@click.option(
    "--timezone", default="Europe/Kaliningrad", show_default=True, help="The plan's IANA time zone."
)
@click.option(
    "--columns",
    metavar="ROLE=N,...",
    default=None,
    help="The table's columns by hand, counted from 1, e.g. number=1,title=2,date=3,organizers=4 "
    "(roles: number, title, form, date, time, organizers, place, notes).",
)
@click.option(
    "--into",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="A re-issued plan: merge it into this plan file (keys and hand edits kept), printing the diff.",
)
@click.option("--dry-run", is_flag=True, help="With --into: only print the diff, write nothing.")
def import_command(
    source: Path,
    year: int,
    output: Path | None,
    registries: tuple[Path, ...],
    plan_id: str | None,
    timezone: str,
    columns: str | None,
    proposed: Path | None,
    into: Path | None,
    dry_run: bool,
) -> None:
    """Import a plan from SOURCE (.docx, .odt, .html or tab-separated .txt) into plan YAML.

    The table is found by its header row and each column's role by its header words (or --columns).
    Organizers the registry does not know do not stop the import: they go into the plan under proposed
    ids and into a proposals file to review, then to pass as another --registry.
    """
    from plansync.planread.importer import import_document, render_yaml
    from plansync.planread.layout import parse_columns
    from plansync.planread.proposals import Proposal, render_proposals
    from plansync.util.fileio import write_atomic
    from plansync.util.shipped import REGISTRY, shipped_file

    if into is not None and output is not None:
        raise UsageError("give either --into PLAN (merge a re-issued plan) or -o FILE, not both")
    if dry_run and into is None:
        raise UsageError("--dry-run goes with --into PLAN")
    if not registries:
        shipped = DEFAULT_REGISTRY if DEFAULT_REGISTRY.is_file() else shipped_file("example", REGISTRY)
        registries = (shipped,)
    for registry in registries:
        if not registry.is_file():
            raise UsageError(f"organizations registry {registry} not found; pass --registry FILE")
    roles = parse_columns(columns) if columns is not None else None
    proposals: list[Proposal] = []
    document = import_document(
        source, registries, year, plan_id or f"plan-{year}", timezone, roles, proposals
    )
    if into is not None:
        document = _merge_reissue(into, document)
    for p in proposals:
        close = f"; close to «{p.close_to}», proposed as its alias" if p.alias_of else ""
        click.echo(f"warning: «{p.name}» ({', '.join(p.seen)}) is not in the registry{close}", err=True)
    if dry_run:
        return
    text = render_yaml(document, source.name)
    if proposals:
        base = output or into or source
        proposed = proposed or base.with_name(f"{base.stem}.proposed-organizations.yaml")
        again = " ".join(f"--registry {r}" for r in registries)
        write_atomic(proposed, render_proposals(proposals, source.name, again, str(proposed)).encode("utf-8"))
        click.echo(
            f"wrote {len(proposals)} proposed organization(s) to {proposed}: check them, then import "
            f"again with {again} --registry {proposed}",
            err=True,
        )
    target = into or output
    if target is None:
        click.echo(text, nl=False)
    else:
        write_atomic(target, text.encode("utf-8"))
        click.echo(f"wrote {target}", err=True)


def _merge_reissue(into: Path, document: dict[str, object]) -> dict[str, object]:
    """The re-issued plan merged into the plan in use (checked first); prints the diff."""
    import yaml

    from plansync.planread.planfile import load_plan
    from plansync.planread.reissue import reissue

    load_plan(into)  # a broken plan is reported as usual, before anything is merged
    old = yaml.safe_load(into.read_text(encoding="utf-8"))
    merged = reissue(old, document)
    for line in merged.lines():
        click.echo(line)
    return merged.document


def _register_subcommands() -> None:
    """Commands that live in their own modules; each imports its heavy parts only when it runs."""
    from plansync.cli.digest import digest_command
    from plansync.cli.init import init_command
    from plansync.cli.publish import publish_command
    from plansync.cli.run import run_command
    from plansync.cli.serve import serve_command, status_command
    from plansync.cli.sync import sync_command

    cli.add_command(sync_command)
    cli.add_command(serve_command)
    cli.add_command(status_command)
    cli.add_command(digest_command)
    cli.add_command(run_command)
    cli.add_command(init_command)
    cli.add_command(publish_command)


_register_subcommands()
