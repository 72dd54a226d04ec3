"""The config `plansync init` writes works at once: embedded CalDAV server, outbox, the plan beside it."""

from __future__ import annotations

from pathlib import Path

from plansync.config.load import load_config
from plansync.config.starter import starter_config


def test_the_starter_config_validates_and_needs_nothing_else(tmp_path: Path) -> None:
    path = tmp_path / "plansync.yaml"
    path.write_text(starter_config("plan-2024.yaml"), encoding="utf-8")
    config = load_config(path, {"XDG_STATE_HOME": str(tmp_path / "state-home")})
    assert config.plans == (tmp_path / "plan-2024.yaml",)
    assert config.caldav.is_embedded and config.caldav.embedded.host == "127.0.0.1"
    assert config.state_dir == tmp_path / "state-home" / "plansync"
    assert config.mail.transport == "outbox" and config.mail.outbox == config.state_dir / "outbox"


def test_the_starter_keeps_the_shipped_comments() -> None:
    text = starter_config("plan.yaml")
    assert "  - plan.yaml" in text and "../" not in text.replace("# ", "")
    assert text.count("\n#") >= 5 and "never here" in text
