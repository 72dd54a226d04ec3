"""Options several commands share, defined once so they read and behave the same everywhere."""

from __future__ import annotations

from pathlib import Path

import click

config_option = click.option(
    "--config",
    "config_file",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="Config file (default: $PLANSYNC_CONFIG, else config/plansync.yaml).",
)

as_of_option = click.option(
    "--as-of",
    "as_of",
    metavar="DATE",
    default=None,
    help="The digests due on DATE (YYYY-MM-DD; default: today), for the week from the Monday on or after it.",
)
