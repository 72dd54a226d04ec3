"""`plansync sync` from the command line: dry-run diff, summary, exit codes, the lock, config errors,
the state database's permissions, and the embedded server."""

from __future__ import annotations

import os
import socket
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from plansync.cli.main import cli
from plansync.sync.state import FILE_NAME
from plansync.util.lock import SYNC_LOCK as LOCK_NAME
from plansync.util.lock import sync_lock
from tests.support.cli import run_sync_cli as run
from tests.support.configs import write_sync_config
from tests.support.paths import PLAN_2024
from tests.support.servers import RunningServer, free_port, radicale

pytestmark = [pytest.mark.timeout(60), pytest.mark.slow]  # slow: real Radicale, plansync as a process


def test_dry_run_prints_field_diff_and_changes_nothing(tmp_path: Path, radicale: RunningServer) -> None:
    config = write_sync_config(tmp_path, radicale.url, user="cli1")
    mark = radicale.log.mark()
    code, out, err = run(config, "--dry-run")
    assert code == 0, err
    assert "dry run" in out and "calendar to be created" in out
    assert "+ e1 «Семинар один»" in out and "summary: «Семинар один»" in out and "start: «2024-03-12»" in out
    assert "summary (would be):" in out and "3 created" in out
    assert radicale.log.writes_since(mark) == []
    assert "secret-pw" not in out + err

    code, out, _ = run(config)
    assert code == 0
    assert "КОНБ cli1 (konb): 3 created, 0 updated, 0 deleted, 0 unchanged, 0 conflicts, 0 failed" in out

    config = write_sync_config(tmp_path, radicale.url, user="cli1", title="Вебинар переименован")
    mark = radicale.log.mark()
    code, out, _ = run(config, "--dry-run")
    assert code == 0
    assert "~ e2 «Вебинар переименован»" in out
    assert "summary: «Вебинар два» → «Вебинар переименован»" in out
    assert radicale.log.writes_since(mark) == []

    code, out, _ = run(config, "--org", "gaidar")
    assert code == 0 and "Гайдара cli1 (gaidar): 0 created, 1 updated" in out and "(konb)" not in out


def test_brake_exits_3_and_names_force_delete(tmp_path: Path, radicale: RunningServer) -> None:
    config = write_sync_config(tmp_path, radicale.url, user="cli2")
    assert run(config)[0] == 0
    text = (tmp_path / "plan.yaml").read_text(encoding="utf-8")
    kept = [line for line in text.splitlines() if "key: e1" not in line and "key: e3" not in line]
    (tmp_path / "plan.yaml").write_text("\n".join(kept) + "\n", encoding="utf-8")
    mark = radicale.log.mark()
    code, _, err = run(config)
    assert code == 3  # its own status: 2 is a usage error
    assert "safety brake" in err and "--force-delete" in err
    assert radicale.log.writes_since(mark) == []
    code, out, _ = run(config, "--force-delete")
    assert code == 0 and "2 deleted" in out


def test_failure_exits_1_and_the_summary_names_it(tmp_path: Path, radicale: RunningServer) -> None:
    missing = radicale.url + "cli3/no-such-calendar/"
    config = write_sync_config(tmp_path, radicale.url, user="cli3")
    config.write_text(
        config.read_text(encoding="utf-8").replace("konb: {name: КОНБ cli3}", f"konb: {{url: {missing}}}"),
        encoding="utf-8",
    )
    code, out, err = run(config)
    assert code == 1
    assert "not found" in out and "konb" in out and "1 failed" in out
    assert "Гайдара cli3 (gaidar): 1 created" in out  # the other calendar went ahead
    assert "could not be synced" in err


def test_unknown_org_is_a_usage_error(tmp_path: Path, radicale: RunningServer) -> None:
    config = write_sync_config(tmp_path, radicale.url, user="cli4")
    code, _, err = run(config, "--org", "nobody")
    assert code == 2 and "unknown organization 'nobody'" in err and "konb" in err


def test_lock_names_the_holder(tmp_path: Path, radicale: RunningServer) -> None:
    config = write_sync_config(tmp_path, radicale.url, user="cli5")
    with sync_lock(tmp_path / "state"):
        code, _, err = run(config)
    assert code == 1
    assert f"pid {os.getpid()}" in err and "another plansync run" in err
    assert run(config)[0] == 0  # released


def test_state_is_private(tmp_path: Path, radicale: RunningServer) -> None:
    config = write_sync_config(tmp_path, radicale.url, user="cli6")
    assert run(config)[0] == 0
    state = tmp_path / "state"
    assert stat.S_IMODE(state.stat().st_mode) == 0o700
    for path in state.iterdir():
        if path.name.startswith(FILE_NAME) or path.name == LOCK_NAME:
            assert stat.S_IMODE(path.stat().st_mode) == 0o600, path


def test_config_error_is_file_line_without_traceback(tmp_path: Path) -> None:
    config = tmp_path / "plansync.yaml"
    config.write_text("plans: [plan.yaml]\nsync:\n  conflict_policy: whoever\n", encoding="utf-8")
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "plansync",
            "sync",
            "--config",
            str(config),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 1
    assert f"{config}:3:" in proc.stderr and "conflict_policy" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_main_job_syncs_the_2024_plan_into_the_embedded_server(tmp_path: Path) -> None:
    """The shipped default (`url: embedded`) on a free port; an independent caldav client checks."""
    import caldav

    from plansync.calendar.ical import desired_events
    from plansync.calendar.identity import COMBINED
    from plansync.planread.planfile import load_plan

    port = free_port()
    config = tmp_path / "plansync.yaml"
    config.write_text(
        f"plans: [{PLAN_2024}]\nstate_dir: state\ncaldav:\n  url: embedded\n"
        f"  embedded: {{host: 127.0.0.1, port: {port}, storage: radicale}}\n",
        encoding="utf-8",
    )
    code, out, err = run(config)
    assert code == 0, out + err
    plan = load_plan(PLAN_2024)
    # An independent look, with the embedded server started again on the same storage.
    from plansync.caldav.embedded import EmbeddedRadicale

    with EmbeddedRadicale("127.0.0.1", port, tmp_path / "radicale") as server:
        password = (tmp_path / "embedded.htpasswd").read_text(encoding="utf-8").strip().split(":", 1)[1]
        client = caldav.DAVClient(url=server.url, username="plansync", password=password, auth_type="basic")
        calendars = {str(c.get_display_name()): c for c in client.principal().get_calendars()}
        assert len(calendars) == len(plan.organizations) + 1  # and the combined calendar
        names = {org.id: f"{org.short_name} — план" for org in plan.organizations}
        for key, name in {**names, COMBINED: "Сводный план"}.items():
            uids = {str(e.icalendar_component["UID"]) for e in calendars[name].get_events()}
            assert uids == set(desired_events(plan, key)), key
    code, out, _ = run(config)  # a second run is a no-op
    assert code == 0 and " 0 created, 0 updated, 0 deleted" in out


def test_embedded_port_taken_is_a_clear_error(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        config = write_sync_config(tmp_path, "embedded", user="x")
        text = config.read_text(encoding="utf-8").replace(
            "  url: embedded\n",
            f"  url: embedded\n  embedded: {{host: 127.0.0.1, port: {port}, storage: radicale}}\n",
        )
        config.write_text(text, encoding="utf-8")
        code, _, err = run(config)
    assert code == 1
    assert f"port {port}" in err and "already in use" in err and "caldav.embedded.port" in err


def test_an_unresolved_conflict_is_shown_by_later_runs_and_by_status(
    tmp_path: Path, radicale: RunningServer
) -> None:
    import json

    import caldav
    import icalendar

    config = write_sync_config(
        tmp_path, radicale.url, user="cli-conflict", extra="sync: {conflict_policy: server-wins}\n"
    )
    assert run(config)[0] == 0
    with caldav.DAVClient(url=radicale.url, username="cli-conflict", password="secret-pw") as client:
        calendar = next(
            c for c in client.principal().calendars() if str(c.get_display_name()).startswith("КОНБ")
        )
        item = next(e for e in calendar.events() if "Семинар один" in e.data)
        cal = icalendar.Calendar.from_ical(item.data)
        cal.walk("VEVENT")[0]["SUMMARY"] = icalendar.vText("Переименовано человеком")
        item.data = cal.to_ical().decode()
        item.save()

    def status() -> tuple[str, dict[str, object]]:
        runner = CliRunner()
        text = runner.invoke(cli, ["status", "--config", str(config)], catch_exceptions=False).stdout
        raw = runner.invoke(cli, ["status", "--json", "--config", str(config)], catch_exceptions=False).stdout
        konb = next(c for c in json.loads(raw)["calendars"] if c["calendar"] == "konb")
        return text, konb

    for _ in range(2):  # the run that keeps the server's version, and a later one that writes nothing
        code, out, _ = run(config)
        assert code == 0 and "! e1 «Семинар один»: " in out, out  # this run's conflict, or the one still open
        assert "1 unresolved conflict" in out
        text, konb = status()
        assert "unresolved conflict: e1 «Семинар один» — edited on the server by someone else" in text
        assert [c["event"] for c in konb["unresolved_conflicts"]] == ["e1 «Семинар один»"]  # type: ignore[attr-defined]
