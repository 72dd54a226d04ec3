"""`plansync digest`: parse the options, run the digest use case (plansync.jobs.digest), print."""

from __future__ import annotations

from pathlib import Path

import click

from plansync.cli.options import as_of_option, config_option, parse_day
from plansync.errors import UsageError

# Each command imports its use case when it runs (the `noqa: PLC0415` below): `plansync --help` imports
# every command's module, and the use cases would add up to half a second to it.


@click.command("digest")
@config_option
@as_of_option
@click.option("--dry-run", is_flag=True, help="List who would get what; change and send nothing.")
@click.option(
    "--preview",
    type=click.Path(path_type=Path, file_okay=False),
    default=None,
    metavar="DIR",
    help="Write each digest's .txt, .html and .eml into DIR instead of sending.",
)
@click.option("--to", "to", metavar="ADDRESS", default=None, help="Only the digest for this address.")
@click.option(
    "--resend",
    is_flag=True,
    help="Also retry digests that failed permanently or are waiting to retry; with --to, send that "
    "address's digest of the week again even if it went out.",
)
@click.option(
    "--unsubscribe",
    "unsubscribe",
    metavar="ADDRESS",
    default=None,
    help="Stop sending digests to ADDRESS (kept in the digest ledger; the plan stays as it is).",
)
@click.option("--resume", "resume", metavar="ADDRESS", default=None, help="Undo --unsubscribe for ADDRESS.")
def digest_command(
    config_file: Path | None,
    as_of: str | None,
    dry_run: bool,
    preview: Path | None,
    to: str | None,
    resend: bool,
    unsubscribe: str | None,
    resume: str | None,
) -> None:
    """Send this week's digest of plan events to each organization's e-mail addresses.

    Each (address, week) is sent once: a rerun sends nothing twice, a failed send is retried by later
    runs; a change to a week already sent goes out once as «Изменения в плане». Exit status 1 when a
    digest failed permanently (in this run or held from an earlier one), 75 when one will be retried.
    """
    from plansync.config.load import load_config  # noqa: PLC0415
    from plansync.jobs.digest import DigestFailed, send_digests, set_stopped  # noqa: PLC0415

    if unsubscribe is not None or resume is not None:
        if unsubscribe is not None and resume is not None:
            raise UsageError("--unsubscribe and --resume do not go together; give one")
        others = dry_run or preview is not None or to is not None or resend or as_of is not None
        if others:
            raise UsageError("--unsubscribe and --resume only record the request; run them on their own")
        address = unsubscribe if unsubscribe is not None else resume
        assert address is not None
        click.echo(set_stopped(load_config(config_file), address, stop=unsubscribe is not None))
        return
    if dry_run and preview is not None:
        raise UsageError("--dry-run and --preview do not go together; --preview never sends anyway")
    config = load_config(config_file)
    report = send_digests(
        config,
        as_of=parse_day(as_of) if as_of is not None else None,
        dry_run=dry_run,
        preview=preview,
        to=to,
        resend=resend,
    )
    for line in report.lines():
        click.echo(line)
    if report.permanent_failures or report.transient_failures:
        failed = len(report.permanent_failures) + len(report.transient_failures)
        raise DigestFailed(
            f"{failed} digest{'s' if failed != 1 else ''} could not be sent (see above); "
            + (
                "fix the cause and run `plansync digest --resend`"
                if report.permanent_failures
                else "the next run retries them"
            ),
            transient=not report.permanent_failures,
        )
