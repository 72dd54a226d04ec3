"""How long reading and validating a big plan takes (target: 10,000 events under 2 s).

    python -m bench.plan_load [--events N] [--repeat K]

Prints plansync's load (parse with positions, check every field, read every date) next to two
baselines measured in the same run on the same file: PyYAML's C loader alone (the floor for any
YAML-based plan) and PyYAML's pure-Python safe_load (what a naive loader would use).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import yaml

from plansync.planread.planfile import load_plan
from tests.support.synthetic import synthetic_plan


def best_of(repeat: int, action: Callable[[], object]) -> tuple[float, float]:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        action()
        times.append(time.perf_counter() - started)
    return statistics.median(times), min(times)


def measure(events: int = 10_000, repeat: int = 5) -> tuple[float, list[tuple[str, float, float]]]:
    """(file size in MB, [(case, median s, best s)]) for a synthetic plan of `events` events."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "plan.yaml"
        path.write_text(synthetic_plan(events), encoding="utf-8")
        size = path.stat().st_size
        plan = load_plan(path)
        assert len(plan.events) == events

        def c_loader() -> object:
            return yaml.load(path.read_bytes(), Loader=yaml.CSafeLoader)

        cases = [
            ("plansync load_plan (parse + validate + read dates)", lambda: load_plan(path)),
            ("baseline: yaml.load, C loader, no checks", c_loader),
            ("baseline: yaml.safe_load, pure Python", lambda: yaml.safe_load(path.read_bytes())),
        ]
        return size / 1e6, [(name, *best_of(repeat, action)) for name, action in cases]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    size, rows = measure(args.events, args.repeat)
    report(f"plan: {args.events} events, {size:.1f} MB", args.repeat, rows)
    print("target: plansync under 2 s at 10,000 events")


def report(what: str, repeat: int, rows: list[tuple[str, float, float]]) -> None:
    """The table every timing benchmark here prints: case, median and best of `repeat` runs."""
    print(f"{what}; median and best of {repeat} runs")
    print(f"{'case':<55} {'median s':>9} {'best s':>8}")
    for name, median, best in rows:
        print(f"{name:<55} {median:>9.3f} {best:>8.3f}")


if __name__ == "__main__":
    main()
