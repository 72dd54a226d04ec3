"""`plansync status`: what the service and the last runs did, and what is due next."""

from __future__ import annotations

import json
from pathlib import Path

import click

from plansync.cli.options import config_option

# Each command imports its use case when it runs (the `noqa: PLC0415` below): `plansync --help` imports
# every command's module, and the use cases would add up to half a second to it.


@click.command("status")
@config_option
@click.option("--json", "as_json", is_flag=True, help="Print the status as one JSON object.")
def status_command(config_file: Path | None, as_json: bool) -> None:
    """Show the last sync of each calendar, digests pending or failed, and the next scheduled runs.

    Reads the state database only, so it works while `plansync serve` runs.
    """
    from plansync.config.load import load_config  # noqa: PLC0415
    from plansync.jobs.status import collect_status, format_status  # noqa: PLC0415

    status = collect_status(load_config(config_file))
    if as_json:
        click.echo(json.dumps(status, ensure_ascii=False, indent=2))
        return
    click.echo(format_status(status))
