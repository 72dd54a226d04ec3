"""`plansync publish`: parse the options, build and write the site (plansync.jobs.publish), print."""

from __future__ import annotations

import re
from pathlib import Path

import click

from plansync.cli.options import config_option
from plansync.errors import UsageError

# Each command imports its use case when it runs (the `noqa: PLC0415` below): `plansync --help` imports
# every command's module, and the use cases would add up to half a second to it.

_URL = re.compile(r"https?://[^\s/?#@]+(/[^\s]*)?", re.IGNORECASE)


@click.command("publish")
@config_option
@click.option(
    "--out",
    type=click.Path(path_type=Path, file_okay=False),
    default=None,
    metavar="DIR",
    help="Write the site here (default: publish.out of the config, else ./site).",
)
@click.option(
    "--base-url",
    default=None,
    metavar="URL",
    help="Where people open the site, for absolute feed links (default: publish.base_url).",
)
def publish_command(config_file: Path | None, out: Path | None, base_url: str | None) -> None:
    """Write the plans as a static site: .ics feeds (the whole plan and one per organizer) and an
    agenda page with filters by organizer and form.

    Only changed files are rewritten, each atomically; files of others in DIR are left alone.
    """
    from plansync.config.load import load_config  # noqa: PLC0415
    from plansync.jobs.plans import load_plans  # noqa: PLC0415
    from plansync.jobs.publish import publish_site, site_folder  # noqa: PLC0415

    if base_url is not None and not _URL.fullmatch(base_url):
        raise UsageError(
            f"--base-url {base_url!r} is not an http(s) URL; e.g. --base-url https://lib39.ru/plan/"
        )
    config = load_config(config_file)
    plans = load_plans(config.plans)
    report = publish_site(config, plans, out=site_folder(config, out), base_url=base_url)
    click.echo(report.line())
