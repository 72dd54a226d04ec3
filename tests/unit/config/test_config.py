"""The config file: defaults, environment overrides, secrets kept out of sight, file:line errors."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from plansync.config.load import Secret, load_config
from plansync.errors import InvalidInput, PlansyncError
from tests.support.paths import REPO

SHIPPED = REPO / "config" / "plansync.yaml"


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "plansync.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_shipped_config_uses_the_embedded_server_and_the_2024_plan() -> None:
    config = load_config(SHIPPED, environ={})
    assert config.caldav.is_embedded and config.caldav.embedded.host == "127.0.0.1"
    assert [p.resolve() for p in config.plans] == [REPO / "data" / "plan-2024.yaml"]
    assert config.state_dir.resolve() == REPO / "state"
    assert config.sync.conflict_policy == "plan-wins" and config.sync.interval == dt.timedelta(minutes=15)
    assert config.mail.transport == "outbox"
    assert config.digest.schedule_weekday == 0 and config.digest.schedule_time == dt.time(8, 0)


def test_environment_overrides_the_file(tmp_path: Path) -> None:
    env = {
        "PLANSYNC_CONFIG": str(SHIPPED),
        "PLANSYNC_CALDAV_URL": "https://dav.example.ru/",
        "PLANSYNC_CALDAV_USERNAME": "methodist",
        "PLANSYNC_CALDAV_PASSWORD": "s3cret-dav",
        "PLANSYNC_STATE_DIR": str(tmp_path / "state"),
        "PLANSYNC_SMTP_HOST": "127.0.0.1",
        "PLANSYNC_SMTP_PORT": "2525",
        "PLANSYNC_SMTP_SECURITY": "tls",
        "PLANSYNC_SMTP_USERNAME": "mailer",
        "PLANSYNC_SMTP_PASSWORD": "s3cret-smtp",
    }
    config = load_config(None, environ=env)
    assert config.caldav.url == "https://dav.example.ru/" and config.caldav.username == "methodist"
    assert config.caldav.password.resolve(env) == Secret("s3cret-dav")
    assert config.state_dir == tmp_path / "state"
    smtp = config.mail.smtp
    assert config.mail.transport == "smtp"
    assert (smtp.host, smtp.effective_port, smtp.security, smtp.username) == (
        "127.0.0.1",
        2525,
        "tls",
        "mailer",
    )
    assert smtp.password.resolve(env) == Secret("s3cret-smtp")
    outbox = load_config(None, environ={**env, "PLANSYNC_OUTBOX": str(tmp_path / "out")})
    assert outbox.mail.transport == "outbox" and outbox.mail.outbox == tmp_path / "out"


def test_bad_environment_values_name_the_variable() -> None:
    with pytest.raises(
        PlansyncError, match="PLANSYNC_SMTP_SECURITY 'ssl' must be one of: none, starttls, tls"
    ):
        load_config(SHIPPED, environ={"PLANSYNC_SMTP_SECURITY": "ssl"})
    with pytest.raises(PlansyncError, match="PLANSYNC_SMTP_PORT 'abc' is not a port number"):
        load_config(SHIPPED, environ={"PLANSYNC_SMTP_PORT": "abc"})


def test_password_from_file_and_env_name(tmp_path: Path) -> None:
    secret_file = tmp_path / "pw"
    secret_file.write_text("from-file\n", encoding="utf-8")
    path = write(
        tmp_path,
        f"plans: [plan.yaml]\ncaldav:\n  url: https://dav.example.ru/\n  password_file: {secret_file}\n",
    )
    assert load_config(path, environ={}).caldav.password.resolve({}) == Secret("from-file")
    path = write(tmp_path, "plans: [plan.yaml]\ncaldav:\n  password_env: DAV_PW\n")
    assert load_config(path, environ={}).caldav.password.resolve({"DAV_PW": "x"}) == Secret("x")


@pytest.mark.parametrize(
    ("content", "says"),
    [
        (b"", "is empty"),
        (b"\n", "is empty"),
        (b"  \r\n", "is empty"),
        (b"\xff\xfe", "not UTF-8"),
        (None, "cannot read"),
    ],
)
def test_an_empty_or_unreadable_password_file_is_an_error_naming_it(
    tmp_path: Path, content: bytes | None, says: str
) -> None:
    secret_file = tmp_path / "pw"
    if content is not None:
        secret_file.write_bytes(content)
    path = write(tmp_path, f"plans: [plan.yaml]\ncaldav:\n  password_file: {secret_file}\n")
    source = load_config(path, environ={}).caldav.password
    with pytest.raises(PlansyncError) as info:
        source.resolve({})
    assert str(secret_file) in str(info.value) and says in str(info.value)


def test_layout_and_combined_calendar_keys(tmp_path: Path) -> None:
    defaults = load_config(write(tmp_path, "plans: [plan.yaml]\n"), environ={}).sync
    assert (defaults.layout, defaults.combined_calendar) == ("readable", True)
    path = write(tmp_path, "plans: [plan.yaml]\nsync: {layout: classic, combined_calendar: false}\n")
    chosen = load_config(path, environ={}).sync
    assert (chosen.layout, chosen.combined_calendar) == ("classic", False)
    with pytest.raises(InvalidInput) as info:
        load_config(write(tmp_path, "plans: [plan.yaml]\nsync: {layout: spans}\n"), environ={})
    assert info.value.problems[0].field == "sync.layout"


def test_secrets_do_not_print() -> None:
    secret = Secret("hunter2")
    assert "hunter2" not in repr(secret) and "hunter2" not in str(secret) and "hunter2" not in f"{secret}"
    assert secret.reveal() == "hunter2"


def test_a_password_written_in_the_file_is_refused_without_echoing_it(tmp_path: Path) -> None:
    path = write(tmp_path, "plans: [plan.yaml]\ncaldav:\n  password: hunter2\n")
    with pytest.raises(InvalidInput) as info:
        load_config(path, environ={})
    (problem,) = info.value.problems
    assert (problem.line, problem.field) == (3, "caldav.password")
    assert "must not be written in the config" in problem.message and "hunter2" not in str(info.value)


def test_all_config_problems_with_positions(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "plans: [plan.yaml]\n"
        "sync:\n"
        "  conflict_policy: plan-win\n"
        "  interval: often\n"
        "  max_delete_shar: 0.3\n"
        "caldav:\n"
        "  url: dav.example.ru\n"
        "digest:\n"
        "  schedule: monday\n"
        "calendars:\n"
        "  konb: {url: https://x.ru/c/, name: КОНБ}\n",
    )
    with pytest.raises(InvalidInput) as info:
        load_config(path, environ={})
    got = [(p.line, p.field, p.message) for p in info.value.problems]
    assert got == [
        (3, "sync.conflict_policy", "'plan-win' is not allowed"),
        (4, "sync.interval", "'often' is not a duration"),
        (5, "sync.max_delete_shar", "unknown field 'max_delete_shar'"),
        (7, "caldav.url", "'dav.example.ru' is not an http(s) URL"),
        (9, "digest.schedule", "'monday' is not a weekly time"),
        (11, "calendars.konb", "give exactly one of `url` or `name`"),
    ]
    assert info.value.problems[2].hint == "did you mean 'max_delete_share'?"


def test_missing_config_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(PlansyncError, match=r"config file .* not found"):
        load_config(tmp_path / "none.yaml", environ={})


def test_credentials_in_the_url_are_refused_without_echoing_them(tmp_path: Path) -> None:
    path = write(tmp_path, "plans: [plan.yaml]\ncaldav:\n  url: https://methodist:hunter2@dav.example.ru/\n")
    with pytest.raises(InvalidInput) as info:
        load_config(path, environ={})
    (problem,) = info.value.problems
    assert problem.field == "caldav.url" and "user name or password" in problem.message
    assert "hunter2" not in str(info.value)
    with pytest.raises(PlansyncError) as env_error:
        load_config(SHIPPED, environ={"PLANSYNC_CALDAV_URL": "https://u:hunter2@dav.example.ru/"})
    assert "hunter2" not in str(env_error.value)


def test_connections_set_how_many_calendars_are_written_at_once(tmp_path: Path) -> None:
    from plansync.jobs.calendars import CalendarServer

    assert load_config(write(tmp_path, "plans: [plan.yaml]\n"), environ={}).caldav.connections == 2
    config = load_config(
        write(tmp_path, "plans: [plan.yaml]\ncaldav:\n  url: http://127.0.0.1:9/\n  connections: 4\n"),
        environ={},
    )
    with CalendarServer(config.caldav, {}) as server:
        assert server.backend().writers == 4
    with pytest.raises(InvalidInput) as info:
        load_config(write(tmp_path, "plans: [plan.yaml]\ncaldav:\n  connections: 0\n"), environ={})
    got = [(p.line, p.field, p.message) for p in info.value.problems]
    assert got == [(3, "caldav.connections", "0 is out of range")]
