"""`plansync run`: the main job once (check the plans, sync, send the week's digests), optionally
followed by the service."""

from __future__ import annotations

from pathlib import Path

import click

from plansync.cli.digest import echo_digest_report
from plansync.cli.options import as_of_option, config_option, echo_left_out, parse_day
from plansync.cli.serve import run_service
from plansync.cli.sync import echo_sync_report, progress_bar
from plansync.errors import worst_status

# Each command imports its use case when it runs (the `noqa: PLC0415` below): `plansync --help` imports
# every command's module, and the use cases would add up to half a second to it.


@click.command("run")
@config_option
@as_of_option
@click.option("--serve", is_flag=True, help="Then go on as the service, in the foreground (plansync serve).")
def run_command(config_file: Path | None, as_of: str | None, serve: bool) -> None:
    """The main job, once: check the plans, sync them into the calendars, send the week's digests.

    With the shipped config this syncs into plansync's own CalDAV server and writes the digests into
    the outbox folder. Events of the plan that cannot be read are named and left out; everything else
    goes on. Exit status 0 when all went well, else the worst of sync's and digest's (3, 1, 4, 75).
    With --serve it then keeps running as `plansync serve` does.
    """
    from plansync.config.load import load_config  # noqa: PLC0415
    from plansync.jobs.digest import send_digests  # noqa: PLC0415
    from plansync.jobs.plans import load_plans  # noqa: PLC0415
    from plansync.jobs.sync import run_sync  # noqa: PLC0415

    day = parse_day(as_of) if as_of else None
    config = load_config(config_file)
    for path in config.plans:
        (plan,) = load_plans([path], partial=True)  # one by one: each is said before a broken one stops
        counts = f"{len(plan.events)} events, {len(plan.organizations)} organizations"
        if plan.left_out:
            click.echo(f"plan {path}: {counts}; {len(plan.left_out)} left out: they cannot be read")
            echo_left_out(plan.problems)
        else:
            click.echo(f"plan {path}: valid: {counts}")
    where = "the embedded CalDAV server" if config.caldav.is_embedded else config.caldav.url
    click.echo(f"\n== sync into {where}")
    result = run_sync(config, progress=progress_bar)
    sync_status = echo_sync_report(result, problems=False)
    click.echo("\n== digests")
    report = send_digests(config, as_of=day)
    echo_digest_report(report, problems=False)
    if config.mail.transport == "outbox":
        outbox = config.mail.outbox.absolute() / "new"
        click.echo(
            f"\nmail: the digests are in {outbox}: each .eml file there is one message, which a double "
            "click opens in a mail client (or add the folder to one as a Maildir account)"
        )
    if config.caldav.is_embedded:
        server = config.caldav.embedded
        keeper = "the service below keeps" if serve else "`plansync serve` (or `scripts/run --serve`) keeps"
        click.echo(
            f"calendars: {keeper} them at http://{server.host}:{server.port}/ "
            f"for CalDAV clients (user {config.caldav.username or 'plansync'}; "
            "`plansync status` shows the password)"
        )
    if serve:
        click.echo("\n== serving in the foreground (Ctrl-C to stop)")
        run_service(config_file, "text", None, None)
    status = worst_status(sync_status, report.exit_status)
    why = report.closing_line()
    if why:
        click.echo(f"plansync: {why}", err=True)
    if status:
        raise click.exceptions.Exit(status)
