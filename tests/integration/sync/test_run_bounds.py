"""A whole sync is bounded by sync.max_run_time: a server that answers slowly (each request in time)
cannot hold a run, or the service, for hours; the run stops between two writes and the next goes on."""

from __future__ import annotations

import dataclasses
import datetime as dt
import time
from pathlib import Path

import pytest

from plansync.config.load import load_config
from plansync.jobs.sync import RunTooLong, run_sync
from tests.support.memory_backend import MemoryBackend
from tests.support.paths import PLAN_2024

pytestmark = pytest.mark.slow  # waits for max_run_time


def test_a_run_stops_at_max_run_time_and_the_next_goes_on(tmp_path: Path) -> None:
    config_file = tmp_path / "plansync.yaml"
    config_file.write_text(
        f"plans: [{PLAN_2024}]\nstate_dir: state\nsync: {{max_run_time: 1s}}\n", encoding="utf-8"
    )
    config = load_config(config_file, {})
    memory = MemoryBackend()
    memory.before = lambda method, href: time.sleep(0.05) if method == "PUT" else None
    started = time.monotonic()
    with pytest.raises(RunTooLong, match="max_run_time"):
        run_sync(config, backend=memory)
    assert time.monotonic() - started < 5
    written = sum(len(c.items) for c in memory.calendars.values())
    assert 0 < written < 40  # it stopped between writes, part way
    memory.before = None
    patient = dataclasses.replace(
        config, sync=dataclasses.replace(config.sync, max_run_time=dt.timedelta(hours=1))
    )
    assert run_sync(patient, backend=memory).exit_code == 0  # the next run goes on and converges
    assert run_sync(patient, backend=memory).writes == 0
