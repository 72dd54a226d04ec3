"""The schema is the one source: the dataclasses' defaults, the docs' tables, where the config is
found and where the state goes all follow it."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

import pytest

from plansync.config import docs, model
from plansync.config.load import config_path, default_state_dir, environment_values, load_config
from plansync.config.schema import KEY, KEYS, SECTIONS
from plansync.errors import InvalidInput, PlansyncError
from tests.support.paths import REPO

SECTION_CLASSES = {
    "caldav": model.CalDAVConfig,
    "caldav.embedded": model.EmbeddedServer,
    "sync": model.SyncConfig,
    "digest": model.DigestConfig,
    "mail": model.MailConfig,
    "mail.smtp": model.SMTPConfig,
}


def _field_names(key_field: str | tuple[str, ...] | None, short: str) -> tuple[str, ...]:
    if key_field is None:
        return (short,)
    if isinstance(key_field, str):
        return (key_field.split(".")[0],)
    return key_field


def test_every_dataclass_field_has_a_key_and_the_same_default() -> None:
    for section, cls in SECTION_CLASSES.items():
        defaults = cls()
        covered: set[str] = set()
        for key in (k for k in KEYS if k.section == section):
            names = _field_names(key.field, key.short)
            covered.update(names)
            if key.field is None and key.default is not None:
                assert getattr(defaults, key.short) == key.default, key.name
        if section == "digest":
            assert (defaults.schedule_weekday, defaults.schedule_time) == KEY["digest.schedule"].default
        subsections = {s.rpartition(".")[2] for s in SECTIONS if s.rpartition(".")[0] == section and s}
        fields = {f.name for f in dataclasses.fields(cls)}
        assert fields - covered - subsections == set(), f"{section}: fields without a key"


def test_docs_tables_are_generated_from_the_schema() -> None:
    text = (REPO / "docs" / "configuration.md").read_text(encoding="utf-8")
    assert docs.rewrite(text) == text, "run: python -m plansync.config.docs docs/configuration.md"
    for key in KEYS:
        assert f"| `{key.name}` |" in text
        if key.env:
            assert f"| `{key.env}` |" in text


def test_the_docs_check_can_fail() -> None:
    text = (REPO / "docs" / "configuration.md").read_text(encoding="utf-8")
    stale = text.replace("| `caldav.timeout` |", "| `caldav.time_out` |")
    assert docs.rewrite(stale) != stale


VARIABLES = [k for k in KEYS if k.env and not k.env.endswith("_PASSWORD")]


@pytest.mark.parametrize("key", VARIABLES, ids=[k.name for k in VARIABLES])
def test_every_variable_is_read_with_its_key_s_kind(key: object) -> None:
    assert isinstance(key, type(KEYS[0]))
    assert key.env is not None
    samples = {"caldav.url": "https://dav.example.ru/", "mail.smtp.port": "2525", "mail.smtp.security": "tls"}
    text = samples.get(key.name, "value")
    values = environment_values({key.env: text})
    assert key.name in values
    if key.name in ("caldav.url", "mail.smtp.port", "mail.smtp.security"):
        with pytest.raises(PlansyncError, match=key.env):
            environment_values({key.env: "no good"})


def test_variables_with_side_effects_choose_the_transport() -> None:
    assert environment_values({"PLANSYNC_SMTP_HOST": "mx"})["mail.transport"] == "smtp"
    both = environment_values({"PLANSYNC_SMTP_HOST": "mx", "PLANSYNC_OUTBOX": "out"})
    assert both["mail.transport"] == "outbox" and both["mail.outbox"] == Path("out")


def test_the_config_is_found_where_users_expect_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    work = tmp_path / "work"
    xdg = tmp_path / "xdg"
    env = {"HOME": str(tmp_path / "home"), "XDG_CONFIG_HOME": str(xdg)}
    work.mkdir()
    monkeypatch.chdir(work)
    assert config_path(None, env) in (None, Path("/etc/plansync/plansync.yaml"))
    places = [
        xdg / "plansync" / "plansync.yaml",
        work / "config" / "plansync.yaml",
        work / "plansync.yaml",
    ]
    for place in places:  # each one found beats the ones before it
        place.parent.mkdir(parents=True, exist_ok=True)
        place.write_text("plans: [plan.yaml]\n", encoding="utf-8")
        assert Path(config_path(None, env) or "").resolve() == place
    assert config_path(None, {**env, "PLANSYNC_CONFIG": "x.yaml"}) == Path("x.yaml")
    assert config_path(Path("y.yaml"), {**env, "PLANSYNC_CONFIG": "x.yaml"}) == Path("y.yaml")
    home_default = {"HOME": str(tmp_path / "home")}
    (work / "plansync.yaml").unlink()
    (work / "config" / "plansync.yaml").unlink()
    default_place = tmp_path / "home" / ".config" / "plansync" / "plansync.yaml"
    default_place.parent.mkdir(parents=True)
    default_place.write_text("plans: [plan.yaml]\n", encoding="utf-8")
    assert config_path(None, home_default) == default_place


def test_no_config_says_where_it_looked_and_how_to_start(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if Path("/etc/plansync/plansync.yaml").exists():
        pytest.skip("/etc/plansync/plansync.yaml exists on this machine")
    monkeypatch.chdir(tmp_path)
    with pytest.raises(PlansyncError) as info:
        load_config(None, {"HOME": str(tmp_path)})
    message = str(info.value)
    for place in (
        "plansync.yaml",
        "config/plansync.yaml",
        ".config/plansync",
        "/etc/plansync",
        "plansync init",
    ):
        assert place in message


def test_state_goes_to_systemd_or_xdg_unless_configured(tmp_path: Path) -> None:
    assert default_state_dir({"STATE_DIRECTORY": "/var/lib/plansync:/x"}) == Path("/var/lib/plansync")
    assert default_state_dir({"XDG_STATE_HOME": "/s", "HOME": "/h"}) == Path("/s/plansync")
    assert default_state_dir({"HOME": "/h"}) == Path("/h/.local/state/plansync")
    path = tmp_path / "plansync.yaml"
    path.write_text("plans: [plan.yaml]\n", encoding="utf-8")
    config = load_config(path, {"XDG_STATE_HOME": str(tmp_path / "s")})
    state = tmp_path / "s" / "plansync"
    assert config.state_dir == state
    assert config.mail.outbox == state / "outbox" and config.caldav.embedded.folder == state / "radicale"
    path.write_text("plans: [plan.yaml]\nstate_dir: here\n", encoding="utf-8")
    assert load_config(path, {"XDG_STATE_HOME": "/s"}).state_dir == tmp_path / "here"


def test_every_kind_reports_with_position(tmp_path: Path) -> None:
    path = tmp_path / "plansync.yaml"
    path.write_text(
        "plans: []\n"
        "caldav:\n"
        "  timeout: fast\n"
        "  verify_tls: maybe\n"
        "  password_env: 'not a name'\n"
        "  embedded: {host: 0.0.0.0, port: 99999}\n"
        "sync: {recheck_every: 0, interval: 0}\n"
        "digest: {from: nobody, send_empty: 2}\n",
        encoding="utf-8",
    )
    with pytest.raises(InvalidInput) as info:
        load_config(path, {})
    got = [(p.line, p.field) for p in info.value.problems]
    assert got == [
        (1, "plans"),
        (3, "caldav.timeout"),
        (4, "caldav.verify_tls"),
        (5, "caldav.password_env"),
        (6, "caldav.embedded.host"),
        (6, "caldav.embedded.port"),
        (7, "sync.interval"),
        (8, "digest.from"),
        (8, "digest.send_empty"),
    ]


def test_the_schedule_and_durations_become_values(tmp_path: Path) -> None:
    path = tmp_path / "plansync.yaml"
    path.write_text(
        "plans: plan.yaml\nsync: {recheck_every: 0, interval: 2h}\ndigest: {schedule: fri 17:30}\n",
        encoding="utf-8",
    )
    config = load_config(path, {})
    assert config.plans == (tmp_path / "plan.yaml",)
    assert config.sync.recheck_every == dt.timedelta(0) and config.sync.interval == dt.timedelta(hours=2)
    assert (config.digest.schedule_weekday, config.digest.schedule_time) == (4, dt.time(17, 30))
