"""`plansync import`: parse the options, run the import use case (plansync.jobs.import_plan), print."""

from __future__ import annotations

from pathlib import Path

import click

from plansync.errors import EXIT_NEEDS_ATTENTION, EXIT_OK, UsageError
from plansync.util.shipped import WORKING_REGISTRY

# Each command imports its use case when it runs (the `noqa: PLC0415` below): `plansync --help` imports
# every command's module, and the use cases would add up to half a second to it.


@click.command("import")
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
    f"file, such as reviewed proposals, adds to the earlier ones; default: ./{WORKING_REGISTRY} when "
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
    "(roles: number, title, form, date, time, when_where, organizers, contact, place, audience, notes).",
)
@click.option(
    "--into",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="A re-issued plan: merge it into this plan file (comments, keys and hand edits kept), "
    "printing the diff.",
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
) -> int:
    """Import a plan from SOURCE (.docx, .odt, .html, .pdf, .doc, .rtf or tab-separated .txt) into plan
    YAML.

    The table is found by its header row and each column's role by its header words (or --columns).
    Organizers the registry does not know do not stop the import: they go into the plan under proposed
    ids and into a proposals file to review, then to pass as another --registry. What a person must
    look at (unreadable dates, split cells, proposed organizations, contacts) is listed with its source
    row. Exit status 0 when there is nothing to look at, 4 when the plan was written but lists items
    to review, 1 when nothing was written. How each layout is read: docs/import.md.
    """
    from plansync.jobs.import_plan import (  # noqa: PLC0415
        base_path,
        plan_yaml,
        read_import,
        registry_options,
        write_plan,
        write_proposals,
    )
    from plansync.planread.review import summary  # noqa: PLC0415

    if into is not None and output is not None:
        raise UsageError("give either --into PLAN (merge a re-issued plan) or -o FILE, not both")
    if dry_run and into is None:
        raise UsageError("--dry-run goes with --into PLAN")
    imported = read_import(
        source,
        year=year,
        registries=registries,
        plan_id=plan_id,
        timezone=timezone,
        columns=columns,
        into=into,
    )
    for line in imported.diff:
        click.echo(line)
    for line in summary(imported.review):
        click.echo(line, err=True)
    status = EXIT_NEEDS_ATTENTION if imported.needs_attention else EXIT_OK
    if dry_run:
        return status
    proposed = write_proposals(imported, output=output, into=into, proposed=proposed)
    if proposed is not None:
        again = registry_options(imported)
        click.echo(
            f"wrote {len(imported.proposals)} proposed organization(s) to {proposed}: check them, then "
            f"import again with {again} --registry {proposed}",
            err=True,
        )
    target = into or output
    if target is None:
        click.echo(plan_yaml(imported), nl=False)
    else:
        write_plan(imported, target)
        click.echo(f"wrote {target} (and {base_path(target)}, what this import read)", err=True)
    return status
