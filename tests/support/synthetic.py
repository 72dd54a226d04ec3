"""The one generator of synthetic plans for the benchmarks.

    synthetic_plan(events, organizers=7, *, seed=1, edited=frozenset()) -> plan YAML text

The mix follows the real plan (data/plan-2024.yaml), read when the module is used: each event's date
text is drawn from the real plan's date cells (so month periods, year-round items with a recurrence, day
ranges and exact days come in the real proportions), and its number of organizers from the real plan's
organizer counts (mostly one, some two or three). Events in `edited` get a changed title: the same plan
after an edit, for the "1% edited" case.
"""

from __future__ import annotations

import functools
import random
from pathlib import Path

import yaml

from plansync.planread.importer import Flow, render_yaml

REAL_PLAN = Path(__file__).resolve().parents[2] / "data" / "plan-2024.yaml"
# Kinds and contacts as in the real plan: four libraries with contacts, a ministry, two project offices.
KINDS = ("library", "library", "library", "library", "ministry", "project-office", "project-office")


@functools.cache
def real_mix() -> tuple[tuple[str, ...], tuple[int, ...]]:
    """(date texts, organizer counts) of the events of the real plan, one entry per event."""
    document = yaml.safe_load(REAL_PLAN.read_text(encoding="utf-8"))
    events = document["events"]
    dates = tuple(str(e["date"]) for e in events)
    counts = tuple(len(e["organizers"]) for e in events)
    return dates, counts


def organization_ids(organizers: int) -> list[str]:
    return [f"org-{i:03d}" for i in range(1, organizers + 1)]


def edited_keys(events: int, share: float = 0.01) -> frozenset[int]:
    """Which event numbers the "1% edit" changes: evenly spread, at least one."""
    count = max(1, round(events * share))
    step = events / count
    return frozenset(int(i * step) + 1 for i in range(count))


def synthetic_plan(
    events: int, organizers: int = 7, *, seed: int = 1, edited: frozenset[int] = frozenset()
) -> str:
    rng = random.Random(seed)
    dates, counts = real_mix()
    ids = organization_ids(organizers)
    organizations = []
    for n, org in enumerate(ids):
        kind = KINDS[n % len(KINDS)]
        entry: dict[str, object] = {"id": org, "name": f"Организация {org}", "short_name": org, "kind": kind}
        if kind == "library":
            entry["contacts"] = {"phones": Flow(["8(4012) 93-70-21"]), "emails": Flow([f"{org}@example.ru"])}
        organizations.append(entry)
    rows = []
    for i in range(1, events + 1):
        title = f"Областной семинар №{i} «Социокультурная деятельность библиотек»"
        if i in edited:
            title += " (перенесён)"
        rows.append(
            {
                "key": f"dated-{i:05d}",
                "section": "dated",
                "number": i,
                "form": "Семинар",
                "title": title,
                "date": rng.choice(dates),
                "organizers": Flow(rng.sample(ids, min(organizers, rng.choice(counts)))),
            }
        )
    document = {
        "plan": {
            "id": "bench",
            "title": "Синтетический план",
            "year": 2024,
            "timezone": "Europe/Kaliningrad",
        },
        "sections": [{"id": "dated"}],
        "organizations": organizations,
        "events": rows,
    }
    return render_yaml(document, "bench")
