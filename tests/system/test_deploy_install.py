"""Installing plansync from its wheel and running it under systemd (issue 28, items 6 and 7): the units
written by a command for the install at hand and accepted by `systemd-analyze verify`, a config whose
paths work under /etc, passwords as credentials for every unit, docs that come with the wheel, and a
starter config that explains every key."""

from __future__ import annotations

import json
import os
import re
import shutil
import stat
import subprocess
from pathlib import Path

import pytest

from plansync.config.schema import KEYS, Refused
from tests.support.installed import Installed, empty_folder, installed
from tests.support.servers import free_port, start_radicale

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]  # slow: the installed plansync as a process

ANALYZE = shutil.which("systemd-analyze")
needs_analyze = pytest.mark.skipif(
    ANALYZE is None and not os.environ.get("CI"), reason="systemd-analyze missing (scripts/system-deps)"
)
UNITS = {
    "plansync.service",
    "plansync-sync.service",
    "plansync-sync.timer",
    "plansync-digest.service",
    "plansync-digest.timer",
}
HOMES = ("/home", "/root", "/run/user")


def verify(units: Path) -> subprocess.CompletedProcess[str]:
    assert ANALYZE is not None, "systemd-analyze is required in CI"
    names = sorted(str(p) for p in units.iterdir())
    return subprocess.run([ANALYZE, "verify", *names], capture_output=True, text=True, check=False)


def exec_starts(units: Path) -> list[str]:
    return [
        line.partition("=")[2]
        for unit in sorted(units.glob("*.service"))
        for line in unit.read_text(encoding="utf-8").splitlines()
        if line.startswith("ExecStart=")
    ]


def under_a_home(path: Path) -> bool:
    return any(str(path.resolve()).startswith(home + "/") for home in HOMES)


# -- item 6: units that fit the install --------------------------------------------------------------


@needs_analyze
def test_install_units_writes_units_for_this_install_that_systemd_accepts(
    installed: Installed, tmp_path: Path
) -> None:
    work, units = empty_folder(tmp_path), tmp_path / "units"
    done = installed.run(
        "install-units", "--dir", str(units), "--config", "/etc/plansync/plansync.yaml", cwd=work
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert {p.name for p in units.iterdir()} == UNITS
    starts = exec_starts(units)
    assert len(starts) == 3
    for start in starts:
        assert start.startswith(f"{installed.plansync} "), start  # this install, wherever it is
        assert "--config /etc/plansync/plansync.yaml" in start, start
    checked = verify(units)
    assert checked.returncode == 0 and not checked.stderr.strip(), checked.stderr
    for unit in units.glob("*.service"):
        docs = re.search(r"(?m)^Documentation=file:(\S+)", unit.read_text(encoding="utf-8"))
        assert docs is not None and Path(docs[1]).is_file(), unit.name  # the docs came with the wheel
    if under_a_home(installed.venv / "bin" / "python"):  # e.g. a pyenv Python under /root
        assert "ProtectHome" in done.stderr, done.stderr
    assert "systemctl" in done.stdout  # what to do next


@needs_analyze
def test_init_system_writes_a_config_whose_paths_work_under_the_units(
    installed: Installed, tmp_path: Path
) -> None:
    work, etc, units = empty_folder(tmp_path), tmp_path / "etc-plansync", tmp_path / "units"
    done = installed.run("init", "--system", "--example", "--units-dir", str(units), str(etc), cwd=work)
    assert done.returncode == 0, done.stdout + done.stderr
    config = etc / "plansync.yaml"
    text = config.read_text(encoding="utf-8")
    assert re.search(r"(?m)^state_dir: /var/lib/plansync\s*$", text), text
    for name in ("caldav-password", "smtp-password"):
        assert stat.S_IMODE((etc / name).stat().st_mode) == 0o600, name
    assert all(f"--config {config}" in start for start in exec_starts(units))
    checked = verify(units)
    assert checked.returncode == 0 and not checked.stderr.strip(), checked.stderr
    # Nothing the service writes lands under /etc (read-only under ProtectSystem=strict).
    dry = installed.run("digest", "--dry-run", "--as-of", "2024-10-28", "--config", str(config), cwd=work)
    assert dry.returncode in (0, 4), dry.stdout + dry.stderr
    assert "via outbox /var/lib/plansync/outbox" in dry.stdout, dry.stdout
    status = json.loads(installed.run("status", "--json", "--config", str(config), cwd=work).stdout)
    assert status["state_dir"] == "/var/lib/plansync"


def test_one_config_finds_its_passwords_as_credentials_under_every_unit(
    installed: Installed, tmp_path: Path
) -> None:
    """systemd passes `caldav-password` in $CREDENTIALS_DIRECTORY, which differs per unit
    (/run/credentials/plansync-sync.service/…): the config names no path, plansync looks there."""
    server = start_radicale(tmp_path / "radicale", users={"alice": "credential-pw"})
    try:
        work = empty_folder(tmp_path)
        (work / "plan.yaml").write_text(
            "plan: {id: plan-2024, title: План, year: 2024, timezone: Europe/Kaliningrad}\n"
            "organizations:\n  - {id: konb, name: ГБУК «КОНБ», short_name: КОНБ, kind: library}\n"
            "events:\n  - {key: e1, title: Семинар, date: 12 марта, organizers: [konb]}\n",
            encoding="utf-8",
        )
        (work / "plansync.yaml").write_text(
            f"plans: [plan.yaml]\nstate_dir: state\ncaldav:\n  url: {server.url}\n  username: alice\n",
            encoding="utf-8",
        )
        credentials = tmp_path / "credentials"
        credentials.mkdir(mode=0o700)
        (credentials / "caldav-password").write_text("credential-pw", encoding="utf-8")
        (credentials / "caldav-password").chmod(0o400)  # as systemd passes it: the service's own, read-only
        done = installed.run("sync", cwd=work, env={"CREDENTIALS_DIRECTORY": str(credentials)})
        assert done.returncode == 0, done.stdout + done.stderr
        assert "1 created" in done.stdout
    finally:
        server.stop()


# -- item 7: docs for a user who has only the wheel ------------------------------------------------


def test_help_says_where_the_full_docs_are(installed: Installed, tmp_path: Path) -> None:
    done = installed.run("--help", cwd=empty_folder(tmp_path))
    assert done.returncode == 0, done.stderr
    found = re.search(r"(/\S+/docs)/?\b", done.stdout)
    assert found, done.stdout
    folder = Path(found[1])
    for name in ("install.md", "configuration.md", "servers.md"):
        assert (folder / name).is_file(), name


def _comment_text(config: str) -> str:
    words = [line.strip().lstrip("#").strip() for line in config.splitlines() if line.strip().startswith("#")]
    return re.sub(r"\s+", " ", " ".join(words))


def test_the_starter_config_explains_every_key(installed: Installed, tmp_path: Path) -> None:
    work = empty_folder(tmp_path)
    assert installed.run("init", cwd=work).returncode == 0
    config = (work / "plansync.yaml").read_text(encoding="utf-8")
    comments = _comment_text(config)
    for key in KEYS:
        if key.help.startswith("the older name"):
            continue  # digest.from and digest.reply_to: still read, not offered
        normal = re.sub(r"\s+", " ", key.help)
        assert normal in comments, f"{key.name}: its help is not in the starter config"
        if not isinstance(key.kind, Refused):
            assert re.search(rf"(?m)^[ #]*{re.escape(key.short)}:", config), f"{key.name} is not shown"
        if key.env:
            assert key.env in config, key.env
    assert re.search(r"(?m)^\s*#\s*smtp:\s*$", config), "a commented smtp: block"
    for sub in ("host", "port", "security", "username", "password_file"):
        assert re.search(rf"(?m)^\s*#\s+{sub}:", config), sub
    # What init wrote is a config plansync reads.
    (work / "plan.yaml").write_text(
        "plan: {id: p, title: План, year: 2024, timezone: Europe/Kaliningrad}\n"
        "organizations: [{id: konb, name: КОНБ, short_name: КОНБ, kind: library}]\n"
        "events: [{key: e1, title: Семинар, date: 12 марта, organizers: [konb]}]\n",
        encoding="utf-8",
    )
    assert installed.run("status", cwd=work).returncode == 0


def test_the_embedded_port_has_an_environment_variable(installed: Installed, tmp_path: Path) -> None:
    work = empty_folder(tmp_path)
    installed.run("init", "--example", cwd=work)
    port = free_port()
    done = installed.run("status", "--json", cwd=work, env={"PLANSYNC_EMBEDDED_PORT": str(port)})
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["embedded"]["url"] == f"http://127.0.0.1:{port}/"
