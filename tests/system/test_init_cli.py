"""`plansync init` and the commands a new user runs next, as processes from an empty folder: the config
is found where users expect it, `status` says which one and where the state is."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.paths import SEED

pytestmark = pytest.mark.slow  # runs plansync as a process


def plansync(*args: str, cwd: Path, home: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PLANSYNC_", "XDG_", "STATE_DIRECTORY"))}
    env |= {"HOME": str(home), "XDG_STATE_HOME": str(home / "state")}
    return subprocess.run(
        [sys.executable, "-m", "plansync", *args], capture_output=True, text=True, cwd=cwd, env=env
    )


def test_init_example_then_validate_show_and_status_find_the_config(tmp_path: Path) -> None:
    work, home = tmp_path / "work", tmp_path / "home"
    work.mkdir()
    home.mkdir()
    result = plansync("init", "--example", cwd=work, home=home)
    assert result.returncode == 0, result.stderr
    assert "wrote plansync.yaml" in result.stdout and "wrote plan-2024.yaml" in result.stdout
    assert (
        "plansync sync" in result.stdout and "plansync digest --dry-run --as-of 2024-10-28" in result.stdout
    )
    assert sorted(p.name for p in work.iterdir()) == ["plan-2024.yaml", "plansync.yaml"]

    validate = plansync("validate", cwd=work, home=home)
    assert validate.returncode == 0, validate.stderr
    assert validate.stdout.startswith("plan-2024.yaml: valid: 35 events")
    show = plansync("show", "--org", "kosb", "--json", cwd=work, home=home)
    assert show.returncode == 0 and json.loads(show.stdout)["events"]

    status = json.loads(plansync("status", "--json", cwd=work, home=home).stdout)
    assert status["config"] == str(work / "plansync.yaml")
    assert status["state_dir"] == str(home / "state" / "plansync")
    text = plansync("status", cwd=work, home=home).stdout
    assert f"config: {work / 'plansync.yaml'}" in text and f"state: {home / 'state' / 'plansync'}" in text

    # From another folder, the user's own config folder is found.
    (home / ".config" / "plansync").mkdir(parents=True)
    (work / "plansync.yaml").rename(home / ".config" / "plansync" / "plansync.yaml")
    (work / "plan-2024.yaml").rename(home / ".config" / "plansync" / "plan-2024.yaml")
    elsewhere = plansync("status", "--json", cwd=tmp_path, home=home)
    assert json.loads(elsewhere.stdout)["config"] == str(home / ".config" / "plansync" / "plansync.yaml")


def test_init_never_overwrites_and_writes_into_a_new_folder(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    (tmp_path / "plansync.yaml").write_text("mine\n", encoding="utf-8")
    refused = plansync("init", "--example", cwd=tmp_path, home=home)
    assert refused.returncode == 2 and "plansync.yaml already exists" in refused.stderr
    assert (tmp_path / "plansync.yaml").read_text(encoding="utf-8") == "mine\n"
    assert not (tmp_path / "plan-2024.yaml").exists() and "Traceback" not in refused.stderr

    made = plansync("init", "site", cwd=tmp_path, home=home)
    assert made.returncode == 0, made.stderr
    assert "  - plan.yaml" in (tmp_path / "site" / "plansync.yaml").read_text(encoding="utf-8")
    assert "--config site/plansync.yaml" in made.stdout and "write your plan into" in made.stdout
    missing_plan = plansync("validate", "--config", "site/plansync.yaml", cwd=tmp_path, home=home)
    assert missing_plan.returncode == 2 and "plan.yaml not found" in missing_plan.stderr


def test_import_uses_the_shipped_registry_outside_the_checkout(tmp_path: Path) -> None:
    result = plansync("import", str(SEED), "--year", "2024", cwd=tmp_path, home=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "organizations:" in result.stdout and "konb" in result.stdout
