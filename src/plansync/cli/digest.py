"""`plansync digest`: parse the options, run the digest use case (plansync.digest.send), print."""

from __future__ import annotations

from pathlib import Path

import click

from plansync.cli.options import as_of_option, config_option, parse_day
from plansync.errors import UsageError


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
    "--resend", is_flag=True, help="Also retry digests that failed permanently or are waiting to retry."
)
def digest_command(
    config_file: Path | None,
    as_of: str | None,
    dry_run: bool,
    preview: Path | None,
    to: str | None,
    resend: bool,
) -> None:
    """Send this week's digest of plan events to each organization's e-mail addresses.

    Each (address, week) is sent once: a rerun sends nothing twice, a failed send is retried by later
    runs. Exit status 1 when a digest failed permanently, 75 when one will be retried later.
    """
    from plansync.config.load import load_config
    from plansync.digest.send import DigestFailed, send_digests

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
