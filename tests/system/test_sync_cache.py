"""The render cache (<state_dir>/cache): a run on unchanged plan files reconciles with cached hashes and
renders only what it writes; after an edit, only the edited events are rendered (so also in `serve`,
which passes its own plans); a corrupt cache or a person's edit on the server still give the right
result."""

from __future__ import annotations

import json
import stat
from pathlib import Path
from typing import Any

import pytest

from plansync.calendar import ical
from tests.support.cli import run_sync_cli as run
from tests.support.configs import write_sync_config as write_config
from tests.support.servers import RunningServer, radicale

pytestmark = [pytest.mark.timeout(60), pytest.mark.slow]  # slow: real Radicale, plansync as a process


@pytest.fixture
def renders(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    calls: list[Any] = []
    real = ical.desired_events

    def counting(*args: Any, **kwargs: Any) -> Any:
        calls.append(kwargs.get("keys"))
        return real(*args, **kwargs)

    monkeypatch.setattr(ical, "desired_events", counting)
    return calls


def test_noop_renders_nothing_and_edits_render_only_what_is_written(
    tmp_path: Path, radicale: RunningServer, renders: list[Any]
) -> None:
    config = write_config(tmp_path, radicale.url, user="cache1")
    assert run(config)[0] == 0
    caches = list((tmp_path / "state" / "cache").iterdir())
    assert [c.name for c in caches] == ["render.json"]  # JSON: loading it cannot run code, as a pickle could
    assert stat.S_IMODE(caches[0].stat().st_mode) == 0o600
    assert json.loads(caches[0].read_text(encoding="utf-8"))["format"] >= 3
    renders.clear()

    mark = radicale.log.mark()
    code, out, err = run(config)
    assert code == 0, out + err
    assert renders == []  # nothing rendered: the hashes came from the cache
    assert radicale.log.writes_since(mark) == []
    assert len(radicale.log.since(mark)) <= 2 * 2

    # A person deletes a managed event: plan-wins re-creates it, rendering just that one event.
    konb = next(p for m, p in radicale.log.since(0) if m == "PUT" and ".e1.konb." in p)
    import niquests

    niquests.delete(radicale.url.rstrip("/") + konb, auth=("cache1", "x"), timeout=10)
    code, out, err = run(config)
    assert code == 0, out + err
    assert "1 created" in out
    assert renders == [{"e1"}]

    # The plan changes: it is read again, and only the edited event is rendered (in both organizer
    # calendars and in the combined one).
    write_config(tmp_path, radicale.url, user="cache1", title="Вебинар два по-новому")
    renders.clear()
    code, out, err = run(config)
    assert code == 0, out + err
    assert out.count("1 updated") == 3  # e2 in both calendars and in the combined one
    assert renders == [{"e2"}, {"e2"}, {"e2"}]
    assert len(list((tmp_path / "state" / "cache").glob("*.json"))) == 1

    renders.clear()
    code, out, _ = run(config)
    assert code == 0 and renders == []


def test_a_corrupt_cache_is_rebuilt(tmp_path: Path, radicale: RunningServer) -> None:
    config = write_config(tmp_path, radicale.url, user="cache2")
    assert run(config)[0] == 0
    (cache,) = (tmp_path / "state" / "cache").glob("*.json")
    cache.write_bytes(b"not a pickle")
    mark = radicale.log.mark()
    code, out, err = run(config)
    assert code == 0, out + err
    assert radicale.log.writes_since(mark) == []
    assert cache.read_bytes() != b"not a pickle"


def test_plans_passed_by_serve_render_only_what_changed(
    tmp_path: Path, radicale: RunningServer, renders: list[Any]
) -> None:
    from plansync.config.load import load_config
    from plansync.jobs.sync import run_sync
    from plansync.planread.planfile import load_plan

    path = write_config(tmp_path, radicale.url, user="cache3")
    config = load_config(path, environ={"TEST_CALDAV_PASSWORD": "x"})
    env = {"TEST_CALDAV_PASSWORD": "x"}
    plans = [load_plan(tmp_path / "plan.yaml")]
    assert run_sync(config, plans=plans, environ=env).exit_code == 0
    assert renders and all(keys is not None for keys in renders)  # every event, by its key
    renders.clear()
    result = run_sync(config, plans=plans, environ=env)
    assert result.exit_code == 0 and result.writes == 0 and renders == []
    write_config(tmp_path, radicale.url, user="cache3", title="Вебинар два обновлённый")
    edited = [load_plan(tmp_path / "plan.yaml")]
    result = run_sync(config, plans=edited, environ=env)
    assert result.exit_code == 0 and result.writes == 3
    assert renders == [{"e2"}, {"e2"}, {"e2"}]


def test_a_cached_run_loads_neither_icalendar_nor_the_date_reader(
    tmp_path: Path, radicale: RunningServer
) -> None:
    """What a no-op run imports, seen by `python -X importtime` running the real command: the syncer
    and the cached plans, not the modules it would render or read dates with (~0.3 s of a run that
    otherwise costs one request)."""
    import os
    import subprocess
    import sys

    config = write_config(tmp_path, radicale.url, user="cache-imports")
    assert run(config)[0] == 0
    noop = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "plansync", "sync", "--config", str(config)],
        capture_output=True,
        text=True,
        env={**os.environ, "TEST_CALDAV_PASSWORD": "x"},
        timeout=60,
    )
    assert noop.returncode == 0, noop.stdout + noop.stderr
    imported = {line.rsplit("|", 1)[-1].strip() for line in noop.stderr.splitlines() if "|" in line}
    assert "plansync.sync.engine" in imported  # the audit sees the run's own imports
    heavy = {
        "icalendar.cal",
        "plansync.planread.dates",
        "plansync.planread.planfile",
        "babel.dates",
        "holidays",
    }
    assert imported & heavy == set()
