"""`plansync init [DIR]` (a commented starter config, its state beside it, and with --example the 2024
plan; with --system the files and units of a systemd install) and `plansync install-units`."""

from __future__ import annotations

from pathlib import Path

import click

from plansync.errors import PlansyncError, UsageError

# Each command imports its use case when it runs (the `noqa: PLC0415` below): `plansync --help` imports
# every command's module, and the use cases would add up to half a second to it.


@click.command("init")
@click.argument("folder", type=click.Path(path_type=Path, file_okay=False), default=None, required=False)
@click.option("--example", is_flag=True, help="Also write the 2024 example plan (placeholder addresses).")
@click.option(
    "--system",
    is_flag=True,
    help="A systemd install: FOLDER defaults to /etc/plansync, the state goes to /var/lib/plansync, "
    "empty 0600 password files and the units (as install-units writes them) come too.",
)
@click.option(
    "--units-dir",
    type=click.Path(path_type=Path, file_okay=False),
    default=None,
    help="With --system: where the units go (default: /etc/systemd/system).",
)
def init_command(folder: Path | None, example: bool, system: bool, units_dir: Path | None) -> None:
    """Write a starter plansync.yaml into FOLDER (default: the working folder).

    It uses the embedded CalDAV server and the outbox, so `plansync sync` and `plansync digest` work
    at once; it explains every key; its state goes to `state/` beside it. The mail addresses it writes
    are placeholders SMTP refuses. Existing files are never overwritten.
    """
    from plansync.jobs.init import OWN_PLAN, SYSTEM_FOLDER, start  # noqa: PLC0415

    if units_dir is not None and not system:
        raise UsageError("--units-dir goes with --system (or use `plansync install-units --dir DIR`)")
    folder = folder if folder is not None else (SYSTEM_FOLDER if system else Path())
    started = start(folder, example=example, system=system, units_dir=units_dir)
    for path in started.written:
        click.echo(f"wrote {path}")
    if started.units is not None:
        _echo_units(started.units, steps=False)
    here = folder.resolve() == Path.cwd().resolve()
    shown = started.config.absolute() if system else started.config
    use = "" if here and not system else f" --config {shown}"
    click.echo("next:")
    if not example:
        click.echo(f"  write your plan into {folder / OWN_PLAN} (`plansync init --example` shows one)")
    click.echo(f"  edit {shown}: mail.from and mail.reply_to (placeholders now); caldav: your server")
    click.echo(f"  plansync validate{use}")
    if system:
        click.echo("  systemctl daemon-reload")
        click.echo("  a trial: set `redirect_to: you@your-library.ru` under mail: in the config, then")
        click.echo("    systemctl start plansync-sync.service plansync-digest.service")
        click.echo(f"    plansync status{use}")
        click.echo("  then remove redirect_to and enable the service or the two timers (docs/install.md):")
        _echo_steps()
        return
    click.echo(f"  plansync sync{use}")
    as_of = " --as-of 2024-10-28" if example else ""
    click.echo(f"  plansync digest --dry-run{use}{as_of}")
    click.echo(f"  plansync digest --redirect-to you@your-library.ru{use}{as_of}   # a trial: all to you")
    click.echo(f"  plansync serve{use}")


@click.command("install-units")
@click.option(
    "--dir",
    "folder",
    type=click.Path(path_type=Path, file_okay=False),
    default=Path("/etc/systemd/system"),
    show_default=True,
    help="Where the units go.",
)
@click.option(
    "--config",
    "config",
    type=click.Path(path_type=Path, dir_okay=False),
    default=Path("/etc/plansync/plansync.yaml"),
    show_default=True,
    help="The config the units run with (its folder also holds caldav-password and smtp-password).",
)
@click.option("--force", is_flag=True, help="Replace units that differ from what plansync would write.")
def install_units_command(folder: Path, config: Path, force: bool) -> None:
    """Write the systemd units for this install of plansync (the service, or the sync and digest
    timers: enable one or the other) and check them with `systemd-analyze verify`.

    ExecStart names this very plansync, so the units fit however it was installed (a venv, pipx
    --global); a plansync under /home or /root is refused, since the units hide those folders.
    """
    from plansync.jobs.units import install_units  # noqa: PLC0415

    _echo_units(install_units(folder, config.absolute(), force=force))


def _echo_units(result: object, *, steps: bool = True) -> None:
    from plansync.jobs.units import Written  # noqa: PLC0415

    assert isinstance(result, Written)
    for path in result.written:
        click.echo(f"wrote {path}")
    for path in result.unchanged:
        click.echo(f"unchanged {path}")
    for warning in result.warnings:
        click.echo(f"plansync: warning: {warning}", err=True)
    if result.verified is None:
        click.echo("systemd-analyze is not installed: the units were not checked")
    elif result.verified:
        raise PlansyncError(f"systemd-analyze verify found problems in {result.folder}:\n{result.verified}")
    else:
        click.echo("checked with systemd-analyze verify: no problems")
    if steps:
        click.echo("then, as root:")
        click.echo("  systemctl daemon-reload")
        _echo_steps()


def _echo_steps() -> None:
    click.echo("  systemctl enable --now plansync.service                            # the service, or")
    click.echo("  systemctl enable --now plansync-sync.timer plansync-digest.timer   # the two timers")
