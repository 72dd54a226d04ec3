"""`plansync digest` through click, on a config file in a tmp folder."""

from __future__ import annotations

import mailbox
import socket
import stat
from pathlib import Path

import pytest
from click.testing import CliRunner

from plansync.cli.main import cli
from plansync.errors import UsageError
from tests.support.paths import PLAN_2024


@pytest.fixture
def config_file(tmp_path: Path) -> Path:
    path = tmp_path / "plansync.yaml"
    path.write_text(
        f"plans: [{PLAN_2024}]\nstate_dir: state\n"
        'digest:\n  from: "Сводный план библиотек <plansync@localhost>"\n'
        "mail:\n  transport: outbox\n  outbox: outbox\n",
        encoding="utf-8",
    )
    return path


def invoke(*args: str, env: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
    clean = {"PLANSYNC_SMTP_HOST": "", "PLANSYNC_OUTBOX": "", "PLANSYNC_STATE_DIR": "", **(env or {})}
    return CliRunner().invoke(cli, ["digest", *args], env=clean, catch_exceptions=True)


def test_dry_run_lists_and_changes_nothing(config_file: Path) -> None:
    result = invoke("--config", str(config_file), "--as-of", "2024-05-17", "--dry-run")
    assert result.exit_code == 0, result.output
    assert "digest for 2024-05-20 … 2024-05-26" in result.output
    assert "would-send    mayak_biblio@mail.ru (mayakovsky): 1 entry" in result.output
    assert "empty         nmo@lib39.ru (konb)" in result.output
    assert "no e-mail     minculture" in result.output
    assert not (config_file.parent / "state").exists() and not (config_file.parent / "outbox").exists()


def test_send_to_outbox_then_rerun_sends_nothing(config_file: Path) -> None:
    first = invoke("--config", str(config_file), "--as-of", "2024-05-20")
    assert first.exit_code == 0, first.output
    assert "total: 2 sent, 2 empty" in first.output
    second = invoke("--config", str(config_file), "--as-of", "2024-05-20")
    assert "total: 2 already-sent, 2 empty" in second.output
    assert len(mailbox.Maildir(config_file.parent / "outbox", create=False)) == 2


def test_outbox_override_from_environment(config_file: Path, tmp_path: Path) -> None:
    result = invoke(
        "--config", str(config_file), "--as-of", "2024-07-01", env={"PLANSYNC_OUTBOX": str(tmp_path / "o2")}
    )
    assert result.exit_code == 0, result.output
    assert len(mailbox.Maildir(tmp_path / "o2", create=False)) == 3


def test_preview_writes_text_html_and_eml(config_file: Path, tmp_path: Path) -> None:
    result = invoke("--config", str(config_file), "--as-of", "2024-05-20", "--preview", str(tmp_path / "pv"),
                    "--to", "kobs@inbox.ru")  # fmt: skip
    assert result.exit_code == 0, result.output
    names = sorted(p.name for p in (tmp_path / "pv").iterdir())
    assert names == [f"2024-05-20-kosb-kobs@inbox.ru.{ext}" for ext in ("eml", "html", "txt")]
    assert "24 мая, пт" in (tmp_path / "pv" / names[2]).read_text(encoding="utf-8")
    assert not (config_file.parent / "state").exists()
    assert {stat.S_IMODE((tmp_path / "pv" / n).stat().st_mode) for n in names} == {0o600}  # addresses inside


def test_preview_into_a_symlink_is_refused(config_file: Path, tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (tmp_path / "pv").symlink_to(elsewhere)
    result = invoke("--config", str(config_file), "--as-of", "2024-05-20", "--preview", str(tmp_path / "pv"))
    assert result.exit_code == 2 and "symlink" in result.stderr
    assert list(elsewhere.iterdir()) == []


def test_to_an_unknown_address_is_a_usage_error(config_file: Path) -> None:
    result = invoke("--config", str(config_file), "--to", "nobody@example.org", "--as-of", "2024-05-20")
    assert result.exit_code == 2 and "known:" in result.stderr


def test_bad_as_of_is_a_usage_error(config_file: Path) -> None:
    result = invoke("--config", str(config_file), "--as-of", "20.05.2024")
    assert result.exit_code == 2 and "YYYY-MM-DD" in result.stderr


def test_unreachable_smtp_server_fails_transiently_and_retries(config_file: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {
        "PLANSYNC_SMTP_HOST": "127.0.0.1",
        "PLANSYNC_SMTP_PORT": str(port),
        "PLANSYNC_SMTP_SECURITY": "none",
    }
    result = invoke("--config", str(config_file), "--as-of", "2024-05-20", env=env)
    assert result.exit_code == 75 and "could not be sent" in result.stderr
    assert "refused the connection" in result.output and "transient, will retry" in result.output
    again = invoke("--config", str(config_file), "--as-of", "2024-05-20", env=env)
    assert "waiting" in again.output
