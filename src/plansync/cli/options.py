"""Options several commands share, defined once so they read and behave the same everywhere; and how
they print the plan's events left out of a run."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path

import click

from plansync.errors import Problem, UsageError

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


def echo_left_out(problems: Sequence[Problem]) -> None:
    """The problems that left plan events out of a run, on stderr as `validate` prints them; the run went
    on with every other event."""
    for problem in problems:
        click.echo(str(problem), err=True)
    if problems:
        count = len({(p.file, p.field.partition(".")[0]) for p in problems})
        click.echo(
            f"plansync: {count} event{'s' if count != 1 else ''} of the plan left out (above), every other "
            "one done; fix the plan (`plansync validate`)",
            err=True,
        )
