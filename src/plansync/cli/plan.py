"""`plansync when`, `validate` and `show`: how dates are read, what is wrong in a plan, what a plan holds."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import click

from plansync.cli.options import config_option
from plansync.errors import InvalidInput, PlansyncError, UsageError

# Each command imports its use case when it runs (the `noqa: PLC0415` below): `plansync --help` imports
# every command's module, and the use cases would add up to half a second to it.


@click.command("when")
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
    from plansync.planread.dates import DateReadError, read_date  # noqa: PLC0415
    from plansync.wording.plan_text import describe_reading  # noqa: PLC0415

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


@click.command("validate")
@click.argument("plan", type=click.Path(path_type=Path, dir_okay=False), required=False)
@config_option
def validate_command(plan: Path | None, config_file: Path | None) -> None:
    """Check a PLAN file (default: the config's plans) and report every problem as
    file:line:col: field: problem — fix.

    Exit status 0 when the plan is valid (warnings, such as an override the date contradicts, too), 1
    when it is not.
    """
    from plansync.planread.planfile import (  # noqa: PLC0415
        load_plan,
        override_warnings,
        undated_events,
    )

    for path in _plan_paths(plan, config_file):
        loaded = load_plan(path)
        for event in undated_events(loaded):
            click.echo(
                f"{path}: warning: event {event.key}: the date is not known yet («{event.date_text}»); "
                "calendars leave it out and digests list it as «дата уточняется» until `start:` is given",
                err=True,
            )
        for w in override_warnings(path):  # an override the date text (maybe re-issued) contradicts
            click.echo(f"{w.file}:{w.line}:{w.col}: warning: {w.field}: {w.message} — {w.hint}", err=True)
        click.echo(f"{path}: valid: {len(loaded.events)} events, {len(loaded.organizations)} organizations")


@click.command("show")
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
    from plansync.planread.planfile import load_plan  # noqa: PLC0415
    from plansync.wording.plan_text import filter_events, parse_month, plan_json, plan_table  # noqa: PLC0415

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


def _plan_paths(plan: Path | None, config_file: Path | None) -> tuple[Path, ...]:
    """PLAN when given, else the plans of the config found (as `sync` would find it)."""
    from plansync.config.load import load_config  # noqa: PLC0415

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
