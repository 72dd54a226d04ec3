"""What `plansync status` reads: the last sync of each calendar and the service's facts."""

from __future__ import annotations

import datetime as dt
import stat
from pathlib import Path

from plansync.jobs.runlog import (
    others_sharing,
    read_runs,
    read_service,
    record_config,
    record_service,
    record_sync,
)
from plansync.sync.reconcile import Brake
from plansync.sync.report import CalendarReport, Failure, SyncResult
from plansync.sync.state import FILE_NAME

NOW = dt.datetime(2024, 5, 20, 6, 0, tzinfo=dt.UTC)


def result(*, dry_run: bool = False) -> SyncResult:
    ok = CalendarReport("konb", "КОНБ — план 2024 (konb)", "http://127.0.0.1/konb/")
    failed = CalendarReport("gaidar", "Гайдара — план 2024 (gaidar)", "http://127.0.0.1/gaidar/")
    failed.failures.append(Failure("dated-03", "PUT failed: HTTP 500"))
    braked = CalendarReport("kosb", "Для слепых — план 2024 (kosb)", "http://127.0.0.1/kosb/")
    return SyncResult([ok, failed, braked], [Brake(braked.title, "would delete 3 of 3")], dry_run)


def test_each_calendar_keeps_its_last_outcome(tmp_path: Path) -> None:
    record_sync(tmp_path, result(), NOW)
    runs = {r.calendar: r for r in read_runs(tmp_path)}
    assert {k: r.result for k, r in runs.items()} == {"konb": "ok", "gaidar": "failed", "kosb": "braked"}
    assert runs["gaidar"].error == "dated-03: PUT failed: HTTP 500"
    assert runs["konb"].finished_at == NOW and runs["konb"].url == "http://127.0.0.1/konb/"
    assert stat.S_IMODE((tmp_path / FILE_NAME).stat().st_mode) == 0o600
    later = NOW + dt.timedelta(minutes=15)
    record_sync(tmp_path, SyncResult([CalendarReport("gaidar", "Гайдара", None)], [], False), later)
    runs = {r.calendar: r for r in read_runs(tmp_path)}
    assert (
        runs["gaidar"].result == "ok" and runs["gaidar"].finished_at == later and runs["gaidar"].error is None
    )


def test_dry_runs_are_not_recorded(tmp_path: Path) -> None:
    record_sync(tmp_path, result(dry_run=True), NOW)
    assert read_runs(tmp_path) == []


def test_service_facts_are_set_and_removed(tmp_path: Path) -> None:
    assert read_service(tmp_path) == {}
    record_service(tmp_path, {"pid": "42", "next_sync": "2024-05-20T06:15:00+00:00"})
    assert read_service(tmp_path) == {"pid": "42", "next_sync": "2024-05-20T06:15:00+00:00"}
    record_service(tmp_path, {"pid": None})
    assert read_service(tmp_path) == {"next_sync": "2024-05-20T06:15:00+00:00"}


def test_configs_sharing_a_state_folder_are_found_while_they_still_do(tmp_path: Path) -> None:
    state = tmp_path / "shared"
    configs = []
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "plan.yaml").write_text("", encoding="utf-8")
        config = tmp_path / name / "plansync.yaml"
        config.write_text(f"plans: [plan.yaml]\nstate_dir: {state}\n", encoding="utf-8")
        configs.append(config)
    record_sync(state, result(), NOW, configs[0])
    record_config(state, configs[1], NOW)
    assert others_sharing(state, configs[1], {}, NOW) == [str(configs[0])]
    assert others_sharing(state, configs[0], {}, NOW) == [str(configs[1])]
    # A config that now keeps its state elsewhere, or is gone, or has not run for months, does not count.
    configs[0].write_text(f"plans: [plan.yaml]\nstate_dir: {tmp_path / 'own'}\n", encoding="utf-8")
    assert others_sharing(state, configs[1], {}, NOW) == []
    configs[0].unlink()
    assert others_sharing(state, configs[1], {}, NOW) == []
    later = NOW + dt.timedelta(days=400)
    assert others_sharing(state, configs[0], {}, later) == []
