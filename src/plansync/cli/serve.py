"""`plansync serve`: the long-running service, in the foreground."""

from __future__ import annotations

from pathlib import Path

import click

from plansync.cli.options import config_option

# Each command imports its use case when it runs (the `noqa: PLC0415` below): `plansync --help` imports
# every command's module, and the use cases would add up to half a second to it.


@click.command("serve")
@config_option
@click.option(
    "--log-format",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="text: one line per event (no timestamps under journald); json: one object per line.",
)
@click.option(
    "--log-level",
    type=click.Choice(["debug", "info", "warning", "error"]),
    default=None,
    help="Default: config.",
)
@click.option("--clock-file", type=click.Path(path_type=Path, dir_okay=False), default=None, hidden=True)
def serve_command(
    config_file: Path | None, log_format: str, log_level: str | None, clock_file: Path | None
) -> None:
    """Run as a service: sync on an interval and when the plan changes, send the weekly digests on
    schedule, and keep the embedded CalDAV server up.

    SIGTERM or SIGINT: finish the request in flight and exit 0. SIGHUP: reload config and plans.
    """
    run_service(config_file, log_format, log_level, clock_file)


def run_service(
    config_file: Path | None, log_format: str, log_level: str | None, clock_file: Path | None
) -> None:
    from plansync.service.daemon import FileClock, Service  # noqa: PLC0415
    from plansync.util import logs  # noqa: PLC0415

    service = Service(config_file, clock=FileClock(clock_file) if clock_file else None)
    level = log_level or service.loaded.config.log_level
    logs.setup(level, "json" if log_format == "json" else "text")
    service.install_signal_handlers()
    raise click.exceptions.Exit(service.run())
