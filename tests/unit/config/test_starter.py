"""The config `plansync init` writes: generated from the schema, it works at once (embedded CalDAV server,
the outbox, the plan and the state beside it) and explains every key; the checkout's config is the same."""

from __future__ import annotations

import re
from pathlib import Path

from plansync.config.load import load_config
from plansync.config.schema import KEYS
from plansync.config.starter import CHECKOUT, PLACEHOLDER_FROM, PLACEHOLDER_REPLY_TO, render, starter_config
from tests.support.paths import REPO


def test_the_starter_config_works_at_once_with_its_state_beside_it(tmp_path: Path) -> None:
    path = tmp_path / "plansync.yaml"
    path.write_text(starter_config("plan-2024.yaml"), encoding="utf-8")
    config = load_config(path, {"XDG_STATE_HOME": str(tmp_path / "state-home")})
    assert config.plans == (tmp_path / "plan-2024.yaml",)
    assert config.caldav.is_embedded and config.caldav.embedded.host == "127.0.0.1"
    assert config.state_dir == tmp_path / "state"
    assert config.mail.transport == "outbox" and config.mail.outbox == tmp_path / "state" / "outbox"
    assert (config.mail.sender, config.mail.reply_to) == (PLACEHOLDER_FROM, PLACEHOLDER_REPLY_TO)


def test_a_system_config_keeps_everything_it_writes_under_var_lib(tmp_path: Path) -> None:
    path = tmp_path / "plansync.yaml"
    path.write_text(starter_config("plan.yaml", system=True), encoding="utf-8")
    config = load_config(path, {})
    assert config.state_dir == Path("/var/lib/plansync")
    assert config.mail.outbox == Path("/var/lib/plansync/outbox")
    assert config.caldav.embedded.folder == Path("/var/lib/plansync/radicale")


def test_every_key_is_explained_and_every_default_loads_when_uncommented(tmp_path: Path) -> None:
    text = starter_config("plan.yaml")
    for key in KEYS:
        if not key.help.startswith("the older name"):
            assert f"{key.short}:" in text, key.name
    # Uncommenting the whole `smtp:` block (and choosing SMTP) gives a config that loads.
    lines = text.splitlines()
    start = next(n for n, line in enumerate(lines) if re.fullmatch(r"\s*# smtp:", line))
    for n in range(start, len(lines)):
        line = lines[n]
        if n > start and line.strip() and not line.startswith("    "):
            break
        if re.fullmatch(r"\s*# (smtp:|[a-z_]+: .*)", line) and "password" not in line:
            lines[n] = line.replace("# ", "", 1)
    uncommented = "\n".join(lines).replace("transport: outbox", "transport: smtp")
    for placeholder, real in ((PLACEHOLDER_FROM, "plan@lib.ru"), (PLACEHOLDER_REPLY_TO, "nmo@lib.ru")):
        uncommented = uncommented.replace(placeholder, real)
    path = tmp_path / "plansync.yaml"
    path.write_text(uncommented, encoding="utf-8")
    config = load_config(path, {})
    assert config.mail.transport == "smtp" and config.mail.smtp.port == 587


def test_the_checkouts_config_is_the_generated_one() -> None:
    shipped = (REPO / "config" / "plansync.yaml").read_text(encoding="utf-8")
    assert shipped == render(CHECKOUT), "run: python -m plansync.config.starter config/plansync.yaml"
