"""The CLI in-process, as a test drives it."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from plansync.cli.main import cli


def run_sync_cli(config: Path, *args: str) -> tuple[int, str, str]:
    runner = CliRunner()
    result = runner.invoke(
        cli,
        ["sync", "--config", str(config), *args],
        env={"TEST_CALDAV_PASSWORD": "secret-pw"},
        catch_exceptions=False,
    )
    return result.exit_code, result.stdout, result.stderr
