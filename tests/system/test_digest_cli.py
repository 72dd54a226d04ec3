"""`plansync digest` through click, on a config file in a tmp folder."""

from __future__ import annotations

import email
import email.policy
import mailbox
import shutil
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
        "mail:\n  transport: outbox\n  outbox: outbox\n"
        '  from: "Сводный план библиотек <plan@lib39.ru>"\n'
        '  reply_to: "Методический отдел КОНБ <nmo@lib39.ru>"\n',
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
    # No event of its own, but the region's week: two events of other libraries.
    assert (
        "would-send    nmo@lib39.ru (konb): 0 entries, «План на 20–26 мая 2024 г.: в области 2»"
        in result.output
    )
    assert "no e-mail     minculture" in result.output
    assert not (config_file.parent / "state").exists() and not (config_file.parent / "outbox").exists()


def test_send_to_outbox_then_rerun_sends_nothing(config_file: Path) -> None:
    first = invoke("--config", str(config_file), "--as-of", "2024-05-20")
    assert first.exit_code == 0, first.output
    assert "total: 4 sent" in first.output
    second = invoke("--config", str(config_file), "--as-of", "2024-05-20")
    assert "total: 4 already-sent" in second.output
    assert len(mailbox.Maildir(config_file.parent / "outbox", create=False)) == 4


def test_outbox_override_from_environment(config_file: Path, tmp_path: Path) -> None:
    result = invoke(
        "--config", str(config_file), "--as-of", "2024-07-01", env={"PLANSYNC_OUTBOX": str(tmp_path / "o2")}
    )
    assert result.exit_code == 0, result.output
    assert len(mailbox.Maildir(tmp_path / "o2", create=False)) == 4


def test_preview_writes_text_html_and_eml(config_file: Path, tmp_path: Path) -> None:
    result = invoke("--config", str(config_file), "--as-of", "2024-05-20", "--preview", str(tmp_path / "pv"),
                    "--to", "kobs@inbox.ru")  # fmt: skip
    assert result.exit_code == 0, result.output
    names = sorted(p.name for p in (tmp_path / "pv").iterdir())
    assert names == [f"2024-05-20-kosb-kobs@inbox.ru.{ext}" for ext in ("eml", "html", "txt")]
    assert "24\xa0мая, пт" in (tmp_path / "pv" / names[2]).read_text(encoding="utf-8")
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


@pytest.mark.slow  # connects to a closed port
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


def test_unsubscribe_is_honoured_without_editing_the_plan(config_file: Path) -> None:
    stop = invoke("--config", str(config_file), "--unsubscribe", "Библиотека <KOBS@inbox.ru>")
    assert stop.exit_code == 0 and "kobs@inbox.ru: stopped" in stop.output
    again = invoke("--config", str(config_file), "--unsubscribe", "kobs@inbox.ru")
    assert "already stopped" in again.output
    dry = invoke("--config", str(config_file), "--as-of", "2024-05-20", "--dry-run")
    assert "stopped       kobs@inbox.ru (kosb)" in dry.output
    sent = invoke("--config", str(config_file), "--as-of", "2024-05-20")
    assert sent.exit_code == 0, sent.output
    assert "stopped       kobs@inbox.ru (kosb)" in sent.output and "total: 3 sent, 1 stopped" in sent.output
    box = mailbox.Maildir(config_file.parent / "outbox", create=False)
    assert all("kobs@inbox.ru" not in str(m["To"]) for m in box)
    resume = invoke("--config", str(config_file), "--resume", "kobs@inbox.ru")
    assert "digests resumed" in resume.output
    later = invoke("--config", str(config_file), "--as-of", "2024-05-20")
    assert "sent          kobs@inbox.ru (kosb)" in later.output


def test_unsubscribe_needs_an_address_and_runs_alone(config_file: Path) -> None:
    assert invoke("--config", str(config_file), "--unsubscribe", "not an address").exit_code == 2
    mixed = invoke("--config", str(config_file), "--unsubscribe", "a@b.ru", "--dry-run")
    assert mixed.exit_code == 2 and "on their own" in mixed.stderr


def test_to_and_resend_sends_one_week_again_to_one_address(config_file: Path) -> None:
    invoke("--config", str(config_file), "--as-of", "2024-05-20")
    again = invoke("--config", str(config_file), "--as-of", "2024-05-20", "--to", "kobs@inbox.ru", "--resend")
    assert again.exit_code == 0 and "sent          kobs@inbox.ru (kosb)" in again.output
    box = mailbox.Maildir(config_file.parent / "outbox", create=False)
    ids = [str(m["Message-ID"]) for m in box if "kobs@inbox.ru" in str(m["To"])]
    assert len(ids) == 2 and ids[0] == ids[1]  # the same message again: clients see one


def test_a_change_to_a_week_already_sent_goes_out_once(config_file: Path, tmp_path: Path) -> None:
    plan = tmp_path / "plan.yaml"
    plan.write_text(PLAN_2024.read_text(encoding="utf-8"), encoding="utf-8")
    config_file.write_text(
        config_file.read_text(encoding="utf-8").replace(str(PLAN_2024), str(plan)), encoding="utf-8"
    )
    first = invoke("--config", str(config_file), "--as-of", "2024-05-16")
    assert first.exit_code == 0, first.output
    # The round table of 24 May moves to 23 May: everyone told of that week hears of it once.
    text = plan.read_text(encoding="utf-8")
    assert "date: 24 мая" in text
    plan.write_text(text.replace("date: 24 мая", "date: 23 мая"), encoding="utf-8")
    second = invoke("--config", str(config_file), "--as-of", "2024-05-17")
    assert second.exit_code == 0, second.output
    assert "total: 4 already-sent, 4 changes-sent" in second.output, second.output
    third = invoke("--config", str(config_file), "--as-of", "2024-05-17")
    assert "changes-sent" not in third.output
    box = mailbox.Maildir(config_file.parent / "outbox", create=False)
    messages = [
        email.message_from_bytes(box.get_bytes(k), policy=email.policy.default) for k in box.iterkeys()
    ]
    notices = [m for m in messages if str(m["Subject"]).startswith("Изменения в плане")]
    assert len(notices) == 4
    body = notices[0].get_content()
    assert "Было: 24\xa0мая, пт." in body and "Теперь: 23\xa0мая, чт." in body
    assert notices[0]["In-Reply-To"] is not None


def test_a_held_permanent_failure_keeps_later_runs_failing(config_file: Path, tmp_path: Path) -> None:
    outbox = tmp_path / "outbox"
    outbox.mkdir()
    (outbox / "new").write_text("a file where the Maildir needs a folder", encoding="utf-8")
    failed = invoke("--config", str(config_file), "--as-of", "2024-05-20")
    assert failed.exit_code == 1, failed.output
    shutil.rmtree(outbox)  # fixed: the outbox can be created again
    later = invoke("--config", str(config_file), "--as-of", "2024-05-27")
    assert later.exit_code == 1, later.output
    assert "held" in later.output and "week 2024-05-20 … 2024-05-26" in later.output
    resent = invoke("--config", str(config_file), "--as-of", "2024-05-20", "--resend")
    assert resent.exit_code == 0, resent.output
    assert invoke("--config", str(config_file), "--as-of", "2024-05-27").exit_code == 0
