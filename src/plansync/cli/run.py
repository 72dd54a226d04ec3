"""`plansync run`: the main job once (check the plans, sync, send the week's digests), optionally
followed by the service."""

from __future__ import annotations

from pathlib import Path

import click

from plansync.cli.options import as_of_option, config_option, parse_day
from plansync.cli.serve import run_service
from plansync.cli.sync import echo_sync_report, progress_bar

# Each command imports its use case when it runs (the `noqa: PLC0415` below): `plansync --help` imports
# every command's module, and the use cases would add up to half a second to it.


@click.command("run")
@config_option
@as_of_option
@click.option("--serve", is_flag=True, help="Then go on as the service, in the foreground (plansync serve).")
def run_command(config_file: Path | None, as_of: str | None, serve: bool) -> None:
    """The main job, once: check the plans, sync them into the calendars, send the week's digests.

    With the shipped config this syncs into plansync's own CalDAV server and writes the digests into
    the outbox folder. Exit status 0 when all went well, else the worst status of sync and digest.
    With --serve it then keeps running as `plansync serve` does.
    """
    from plansync.config.load import load_config  # noqa: PLC0415
    from plansync.jobs.digest import send_digests  # noqa: PLC0415
    from plansync.jobs.plans import load_plans  # noqa: PLC0415
    from plansync.jobs.sync import run_sync  # noqa: PLC0415

    day = parse_day(as_of) if as_of else None
    config = load_config(config_file)
    for path in config.plans:
        (plan,) = load_plans([path])  # one by one: each valid plan is said before a broken one stops
        click.echo(f"plan {path}: valid: {len(plan.events)} events, {len(plan.organizations)} organizations")
    where = "the embedded CalDAV server" if config.caldav.is_embedded else config.caldav.url
    click.echo(f"\n== sync into {where}")
    result = run_sync(config, progress=progress_bar)
    sync_status = echo_sync_report(result)
    click.echo("\n== digests")
    report = send_digests(config, as_of=day)
    for line in report.lines():
        click.echo(line)
    if config.mail.transport == "outbox":
        click.echo(f"\nmail: the digests are in {config.mail.outbox}/new (open them with any mail client)")
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
    digest_failed = bool(report.permanent_failures or report.transient_failures)
    status = max(sync_status, 1 if digest_failed else 0)
    if status:
        raise click.exceptions.Exit(status)
