"""The config file: defaults, environment overrides, secrets kept out of sight, file:line errors."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from plansync.config.load import load_config
from plansync.config.model import Secret
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
    assert config.digest.schedule_weekday == 3 and config.digest.schedule_time == dt.time(10, 0)


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
        PlansyncError, match="PLANSYNC_SMTP_SECURITY: 'ssl' is not allowed; use one of: none, starttls, tls"
    ):
        load_config(SHIPPED, environ={"PLANSYNC_SMTP_SECURITY": "ssl"})
    with pytest.raises(
        PlansyncError, match="PLANSYNC_SMTP_PORT: 'abc' is not a whole number; write a number from 1 to 65535"
    ):
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


def test_a_password_over_plain_http_is_warned_about(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    import logging

    from plansync.jobs.calendars import CalendarServer

    caplog.set_level(logging.WARNING)
    for url, warned in (("http://dav.example.ru/", True), ("https://dav.example.ru/", False),
                        ("http://127.0.0.1:5232/", False)):  # fmt: skip
        caplog.clear()
        config = load_config(
            write(tmp_path, f"plans: [plan.yaml]\ncaldav:\n  url: {url}\n  password_env: PW\n"), environ={}
        )
        with CalendarServer(config.caldav, {"PW": "secret-pw"}) as server:
            server.backend().close()
        said = " ".join(r.getMessage() for r in caplog.records)
        assert ("in clear" in said) is warned, url
        assert "secret-pw" not in said


def test_an_smtp_password_without_tls_is_warned_about(caplog: pytest.LogCaptureFixture) -> None:
    import logging

    from plansync.config.model import MailConfig, PasswordSource, SMTPConfig
    from plansync.digest.transports import open_transport

    caplog.set_level(logging.WARNING)
    for security, warned in (("none", True), ("starttls", False)):
        caplog.clear()
        smtp = SMTPConfig(host="mail.example.ru", security=security, password=PasswordSource(env="PW"))  # type: ignore[arg-type]
        open_transport(MailConfig(transport="smtp", smtp=smtp), {"PW": "secret-pw"}).close()
        assert ("in clear" in caplog.text) is warned, security


@pytest.mark.parametrize("key", ["caldav:\n  url", "calendars:\n  konb:\n    url"])
@pytest.mark.parametrize(
    "url", ["https://methodist:hunter2@dav.example.ru/", "https//methodist:hunter2@dav.example.ru/"]
)
def test_a_password_in_any_url_is_refused_and_never_echoed(tmp_path: Path, key: str, url: str) -> None:
    """Also when the URL is mistyped (the message about the typo must not repeat it)."""
    with pytest.raises(InvalidInput) as info:
        load_config(write(tmp_path, f"plans: [plan.yaml]\n{key}: '{url}'\n"), environ={})
    assert "hunter2" not in str(info.value)


def test_caldav_auth_and_ca_file_reach_the_backend(tmp_path: Path) -> None:
    from plansync.jobs.calendars import CalendarServer

    default = load_config(write(tmp_path, "plans: [plan.yaml]\n"), environ={}).caldav
    assert (default.auth, default.ca_file) == ("auto", None)
    config = load_config(
        write(
            tmp_path,
            "plans: [plan.yaml]\ncaldav:\n  url: https://127.0.0.1:9/\n"
            "  auth: digest\n  ca_file: certs/ca.pem\n",
        ),
        environ={"PLANSYNC_CALDAV_PASSWORD": "p"},
    )
    assert config.caldav.auth == "digest" and config.caldav.ca_file == tmp_path / "certs" / "ca.pem"
    with CalendarServer(config.caldav, {"PLANSYNC_CALDAV_PASSWORD": "p"}) as server:
        session = server.backend()._http
        assert session.ca_file == str(tmp_path / "certs" / "ca.pem") and session.scheme == "digest"
    with pytest.raises(InvalidInput) as info:
        load_config(write(tmp_path, "plans: [plan.yaml]\ncaldav:\n  auth: kerberos\n"), environ={})
    got = [(p.line, p.field) for p in info.value.problems]
    assert got == [(3, "caldav.auth")] and "basic, digest, bearer" in str(info.value)


def test_mail_from_and_reply_to_with_the_old_digest_names_as_aliases(tmp_path: Path) -> None:
    new = load_config(
        write(tmp_path, "plans: [p.yaml]\nmail:\n  from: План <plan@lib39.ru>\n  reply_to: nmo@lib39.ru\n"),
        environ={},
    )
    assert (new.mail.sender, new.mail.reply_to) == ("План <plan@lib39.ru>", "nmo@lib39.ru")
    assert (new.digest.sender, new.digest.reply_to) == ("План <plan@lib39.ru>", "nmo@lib39.ru")
    old = load_config(
        write(tmp_path, "plans: [p.yaml]\ndigest:\n  from: План <plan@lib39.ru>\n  reply_to: nmo@lib39.ru\n"),
        environ={},
    )
    assert (old.mail.sender, old.mail.reply_to) == ("План <plan@lib39.ru>", "nmo@lib39.ru")
    both = load_config(
        write(tmp_path, "plans: [p.yaml]\ndigest: {from: old@lib39.ru}\nmail: {from: new@lib39.ru}\n"),
        environ={},
    )
    assert both.digest.sender == "new@lib39.ru"


@pytest.mark.parametrize(
    ("mail", "key"),
    [
        ("  transport: smtp\n", "mail.from"),
        ("  transport: smtp\n  from: plansync@localhost\n  reply_to: nmo@lib39.ru\n", "mail.from"),
        ("  transport: smtp\n  from: plan@lib39.ru\n", "mail.reply_to"),
    ],
)
def test_smtp_refuses_to_start_without_a_real_sender_and_reply_address(
    tmp_path: Path, mail: str, key: str
) -> None:
    path = write(tmp_path, "plans: [p.yaml]\nmail:\n" + mail)
    with pytest.raises(PlansyncError, match=key.replace(".", r"\.") + " is not set"):
        load_config(path, environ={})


def test_the_smtp_host_from_the_environment_also_needs_a_sender(tmp_path: Path) -> None:
    path = write(tmp_path, "plans: [p.yaml]\n")
    assert load_config(path, environ={}).mail.transport == "outbox"  # the outbox needs none
    with pytest.raises(PlansyncError, match=r"mail\.from is not set"):
        load_config(path, environ={"PLANSYNC_SMTP_HOST": "127.0.0.1"})


def test_unsubscribe_url_must_be_https(tmp_path: Path) -> None:
    path = write(tmp_path, "plans: [p.yaml]\nmail:\n  unsubscribe_url: http://x.ru/u\n")
    with pytest.raises(InvalidInput) as info:
        load_config(path, environ={})
    assert [(p.line, p.field) for p in info.value.problems] == [(3, "mail.unsubscribe_url")]


def test_publish_keys(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "plans: [plan.yaml]\npublish:\n  out: site\n  base_url: https://lib39.example/plan/\n  port: 8080\n",
    )
    publish = load_config(path, environ={}).publish
    assert publish.out == tmp_path / "site"
    assert publish.base_url == "https://lib39.example/plan/"
    assert (publish.host, publish.port, publish.in_service) == ("127.0.0.1", 8080, True)
    assert not load_config(write(tmp_path, "plans: [plan.yaml]\n"), environ={}).publish.in_service


def test_bad_publish_keys_are_reported_with_positions(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "plans: [plan.yaml]\npublish:\n  base_url: ftp://x\n  port: 70000\n  hots: 0.0.0.0\n",
    )
    with pytest.raises(InvalidInput) as info:
        load_config(path, environ={})
    got = [(p.line, p.field) for p in info.value.problems]
    assert sorted(got) == [(3, "publish.base_url"), (4, "publish.port"), (5, "publish.hots")]
