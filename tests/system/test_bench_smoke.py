"""The benchmark program (`python -m bench`) runs end to end at a tiny size and writes the JSON the
README describes. vdirsyncer is included when its virtualenv is already built (the first real run
builds it); otherwise it is skipped with --no-vdirsyncer, so this test never needs the network."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # runs the benchmark as a process

ROOT = Path(__file__).resolve().parents[2]
VDIRSYNCER = ROOT / "bench" / ".venv-vdirsyncer" / "bin" / "vdirsyncer"
KEYS = {"tool", "server", "case", "events", "calendars", "wall_s", "requests", "bytes", "peak_rss_mb"}


@pytest.mark.timeout(300)
def test_bench_runs_and_writes_its_json(tmp_path: Path) -> None:
    out = tmp_path / "bench.json"
    command = [sys.executable, "-m", "bench", "--events", "40", "--organizers", "4", "--repeat", "1"]
    command += ["--servers", "radicale", "--no-extras", "--json", str(out)]
    with_vdirsyncer = VDIRSYNCER.exists()
    if not with_vdirsyncer:
        command.append("--no-vdirsyncer")
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=280)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "targets" in done.stdout

    result = json.loads(out.read_text(encoding="utf-8"))
    cases = result["cases"]
    assert isinstance(cases, list)
    for case in cases:
        assert set(case) >= KEYS, case
        assert case["tool"] in ("plansync", "putloop", "vdirsyncer")
        assert case["case"] in ("first", "noop", "edit", "help")
        assert case["wall_s"] > 0
        assert case["peak_rss_mb"] > 0
    seen = {(c["tool"], c["case"]) for c in cases if c["server"] == "radicale"}
    assert {("plansync", "first"), ("plansync", "noop"), ("plansync", "edit")} <= seen
    assert {("putloop", "first"), ("putloop", "edit")} <= seen
    assert (("vdirsyncer", "noop") in seen) == with_vdirsyncer
    assert any(c["case"] == "help" for c in cases)

    by = {(c["tool"], c["case"]): c for c in cases if c["server"] == "radicale"}
    calendars = result["workload"]["calendars"]
    assert by[("putloop", "first")]["requests"] == result["workload"]["objects"] + calendars + 2
    # The no-op costs one sync-collection REPORT per calendar, counted by the proxy.
    assert by[("plansync", "noop")]["requests"] <= 2 * calendars
    assert by[("plansync", "edit")]["requests"] <= result["workload"]["changed_objects"] + 2 * calendars
    assert {t["target"] for t in result["targets"]}
