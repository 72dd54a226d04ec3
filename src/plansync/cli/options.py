"""Options several commands share, defined once so they read and behave the same everywhere."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import click

from plansync.errors import UsageError

config_option = click.option(
    "--config",
    "config_file",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="Config file (default: $PLANSYNC_CONFIG, else the first of ./plansync.yaml, ./config/plansync.yaml, "
    "$XDG_CONFIG_HOME/plansync/plansync.yaml, /etc/plansync/plansync.yaml).",
)

as_of_option = click.option(
    "--as-of",
    "as_of",
    metavar="DATE",
    default=None,
    help="The digests due on DATE (YYYY-MM-DD; default: today), for the week from the Monday on or after it.",
)


def parse_day(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError:
        raise UsageError(
            f"--as-of {text!r} is not a date; write YYYY-MM-DD, e.g. --as-of 2024-05-20"
        ) from None
