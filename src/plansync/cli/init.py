"""`plansync init [DIR]`: a commented starter config (and, with --example, the 2024 plan) to start from."""

from __future__ import annotations

from pathlib import Path

import click

from plansync.config.starter import starter_config
from plansync.errors import UsageError
from plansync.util.shipped import EXAMPLE_PLAN, shipped_file

CONFIG_NAME = "plansync.yaml"
OWN_PLAN = "plan.yaml"


@click.command("init")
@click.argument("folder", type=click.Path(path_type=Path, file_okay=False), default=Path(), required=False)
@click.option("--example", is_flag=True, help="Also write the 2024 example plan the config points to.")
def init_command(folder: Path, example: bool) -> None:
    """Write a starter plansync.yaml into FOLDER (default: the working folder).

    It uses the embedded CalDAV server and the outbox, so `plansync sync` and `plansync digest` work
    at once. Existing files are never overwritten.
    """
    plan_name = EXAMPLE_PLAN if example else OWN_PLAN
    config = folder / CONFIG_NAME
    targets = [config, folder / EXAMPLE_PLAN] if example else [config]
    for target in targets:
        if target.exists():
            raise UsageError(f"{target} already exists; remove it, or run `plansync init` in another folder")
    text = starter_config(plan_name)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(
            f"cannot create {folder}: {exc.strerror}; choose a folder you may write to"
        ) from None
    if example:
        _write_new(folder / EXAMPLE_PLAN, shipped_file("example", EXAMPLE_PLAN).read_bytes())
    _write_new(config, text.encode("utf-8"))
    for target in reversed(targets):
        click.echo(f"wrote {target}")
    use = "" if folder.resolve() == Path.cwd().resolve() else f" --config {config}"
    click.echo("next:")
    if not example:
        click.echo(
            f"  write your plan into {folder / OWN_PLAN} (or run `plansync init --example` to try one)"
        )
    click.echo(f"  plansync validate{use}")
    click.echo(f"  plansync sync{use}")
    click.echo(f"  plansync digest --dry-run{use}" + (" --as-of 2024-10-28" if example else ""))
    click.echo(f"  plansync serve{use}")


def _write_new(path: Path, data: bytes) -> None:
    try:
        with path.open("xb") as handle:  # never replaces a file, even one made a moment ago
            handle.write(data)
    except FileExistsError:
        raise UsageError(
            f"{path} already exists; remove it, or run `plansync init` in another folder"
        ) from None
    except OSError as exc:
        raise UsageError(f"cannot write {path}: {exc.strerror}; choose a folder you may write to") from None
