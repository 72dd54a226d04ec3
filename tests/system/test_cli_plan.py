"""The plan commands as a person runs them: output, JSON shape, exit codes, no tracebacks."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.paths import PLAN_2024, REPO

pytestmark = pytest.mark.slow  # runs plansync as a process

WHEN_FIELDS = [
    "text",
    "start",
    "end",
    "start_precision",
    "end_precision",
    "time",
    "end_time",
    "rrule",
    "deadline",
    "note",
]


def plansync(*args: str, cwd: Path = REPO) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "plansync", *args], capture_output=True, text=True, cwd=cwd)


def test_when_json_one_object_per_text_in_order() -> None:
    result = plansync("when", "--year", "2024", "--json", "1 - 5 июля", "январь–декабрь, ежеквартально")
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [list(obj) for obj in lines] == [WHEN_FIELDS, WHEN_FIELDS]
    assert lines[0] | {} == {
        "text": "1 - 5 июля",
        "start": "2024-07-01",
        "end": "2024-07-05",
        "start_precision": "day",
        "end_precision": "day",
        "time": None,
        "end_time": None,
        "rrule": None,
        "deadline": False,
        "note": None,
    }
    assert lines[1]["rrule"] == "FREQ=MONTHLY;INTERVAL=3" and lines[1]["end"] == "2024-12-31"


def test_when_unreadable_text_gives_error_object_and_status_1() -> None:
    result = plansync("when", "--year", "2024", "--json", "май", "31 февраля", "до 20 ноября")
    assert result.returncode == 1
    objs = [json.loads(line) for line in result.stdout.splitlines()]
    assert objs[1]["text"] == "31 февраля" and list(objs[1]) == ["text", "error"]
    assert "31 февраля" in objs[1]["error"]
    assert objs[2]["deadline"] is True and objs[2]["end"] == "2024-11-20" and objs[2]["start"] is None
    assert "Traceback" not in result.stderr


def test_validate_ok_and_failing(tmp_path: Path) -> None:
    ok = plansync("validate", str(PLAN_2024))
    assert ok.returncode == 0 and "valid: 35 events, 7 organizations" in ok.stdout
    broken = tmp_path / "plan.yaml"
    broken.write_text(
        PLAN_2024.read_text(encoding="utf-8")
        .replace("date: 15 января", "date: 31 февраля")
        .replace("timezone: Europe/Kaliningrad", "timezone: Europe/Kalinin"),
        encoding="utf-8",
    )
    bad = plansync("validate", str(broken))
    assert bad.returncode == 1
    lines = bad.stderr.splitlines()
    assert lines[0].startswith(f"{broken}:12:13: plan.timezone: unknown time zone 'Europe/Kalinin'")
    assert any(": events[11].date: cannot read the date «31 февраля»" in line for line in lines)
    assert lines[-1] == f"plansync: 2 problems in {broken}"
    assert "Traceback" not in bad.stderr


def test_validate_default_plan_and_missing_file(tmp_path: Path) -> None:
    assert plansync("validate").returncode == 0
    missing = plansync("validate", cwd=tmp_path)  # no PLAN and no config: where it looked, and init
    assert missing.returncode == 2 and "no PLAN given, and no configuration found" in missing.stderr
    assert "plansync init" in missing.stderr and "Traceback" not in missing.stderr


def test_show_json_shape_and_filters() -> None:
    result = plansync("show", "--json", "--org", "kosb")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert [e["key"] for e in data["events"]] == ["dated-08", "dated-13", "dated-15"]
    event = data["events"][0]
    assert {"key", "title", "form", "date", "organizers", "reading"} <= set(event)
    assert list(event["reading"]) == WHEN_FIELDS and event["reading"]["start"] == "2024-03-22"
    kosb = next(o for o in data["organizations"] if o["id"] == "kosb")
    assert kosb["contacts"] == {"phones": ["8(4012) 45-08-19"], "emails": ["kobs@inbox.ru"]}
    may = json.loads(plansync("show", "--json", "--month", "2024-05").stdout)
    keys = [e["key"] for e in may["events"]]
    assert {"dated-10", "dated-11", "dated-12", "dated-13", "dated-07"} <= set(keys)
    assert "dated-14" not in keys  # July


def test_show_text_and_bad_arguments() -> None:
    text = plansync("show", "--month", "2024-07")
    assert "«1 - 5 июля» → 2024-07-01 … 2024-07-05" in text.stdout
    bad = plansync("show", "--month", "July")
    assert bad.returncode == 2 and "--month 'July' is not a month" in bad.stderr
    unknown = plansync("show", "--org", "nobody")
    assert unknown.returncode == 2 and "unknown organization 'nobody'" in unknown.stderr
