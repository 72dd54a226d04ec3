"""How long reading and validating a big plan takes (target: 10,000 events under 2 s).

    python -m bench.plan_load [--events N] [--repeat K]

Prints plansync's load (parse with positions, check every field, read every date) next to two
baselines measured in the same run on the same file: PyYAML's C loader alone (the floor for any
YAML-based plan) and PyYAML's pure-Python safe_load (what a naive loader would use).
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import yaml

from plansync.importer import Flow, render_yaml
from plansync.planfile import load_plan

# The mix of date kinds of the real plan, plus the other common forms.
DATES = [
    "январь–декабрь", "январь–декабрь, по запросам", "январь–декабрь, ежеквартально", "февраль –ноябрь",
    "январь (прием работ)", "15 января", "январь - 31 октября", "февраль-апрель", "май", "1 - 5 июля",
    "22 марта", "III квартал", "до 20 ноября", "с 3 ноября", "12 марта, 14:00", "30 апреля – 2 мая",
]  # fmt: skip
ORGS = ["konb", "gaidar", "mayakovsky", "kosb", "minculture", "project-office-rgb", "project-office-konb"]


def synthetic_plan(events: int, seed: int = 1) -> str:
    rng = random.Random(seed)
    organizations = [
        {"id": org, "name": f"Организация {org}", "short_name": org, "kind": "library",
         "contacts": {"phones": Flow(["8(4012) 93-70-21"]), "emails": Flow([f"{org}@example.ru"])}}
        for org in ORGS
    ]  # fmt: skip
    document = {
        "plan": {
            "id": "bench",
            "title": "Синтетический план",
            "year": 2024,
            "timezone": "Europe/Kaliningrad",
        },
        "sections": [{"id": "dated"}],
        "organizations": organizations,
        "events": [
            {
                "key": f"dated-{i:05d}",
                "section": "dated",
                "number": i,
                "form": "Семинар",
                "title": f"Областной семинар №{i} «Социокультурная деятельность библиотек»",
                "date": rng.choice(DATES),
                "organizers": Flow(rng.sample(ORGS, rng.choice([1, 1, 1, 2, 3]))),
            }
            for i in range(1, events + 1)
        ],
    }
    return render_yaml(document, "bench")


def best_of(repeat: int, action: Callable[[], object]) -> tuple[float, float]:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        action()
        times.append(time.perf_counter() - started)
    return statistics.median(times), min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "plan.yaml"
        path.write_text(synthetic_plan(args.events), encoding="utf-8")
        size = path.stat().st_size
        plan = load_plan(path)
        assert len(plan.events) == args.events

        def c_loader() -> object:
            return yaml.load(path.read_bytes(), Loader=yaml.CSafeLoader)

        cases = [
            ("plansync load_plan (parse + validate + read dates)", lambda: load_plan(path)),
            ("baseline: yaml.load, C loader, no checks", c_loader),
            ("baseline: yaml.safe_load, pure Python", lambda: yaml.safe_load(path.read_bytes())),
        ]
        print(f"plan: {args.events} events, {size / 1e6:.1f} MB; median and best of {args.repeat} runs")
        print(f"{'case':<55} {'median s':>9} {'best s':>8}")
        for name, action in cases:
            median, best = best_of(args.repeat, action)
            print(f"{name:<55} {median:>9.3f} {best:>8.3f}")
        print("target: plansync under 2 s at 10,000 events")


if __name__ == "__main__":
    main()
