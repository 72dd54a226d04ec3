"""How long publishing a 10,000-event plan takes (target: under 5 s), next to the sync's own rendering
of the same plan (every organizer calendar's events built and serialized, as a first sync does).

Run: python -m bench.publish [EVENTS]
The plan comes from tests/support/synthetic.py (the real plan's mix of dates and organizers).
"""

from __future__ import annotations

import argparse
import datetime as dt
import tempfile
import time
from pathlib import Path

from plansync.calendar import ical
from plansync.planread.planfile import load_plan
from plansync.publish.feeds import build_feeds
from plansync.publish.site import SiteBuilder
from plansync.publish.writer import write_site
from tests.support.synthetic import synthetic_plan

STAMP = dt.datetime(2024, 1, 9, tzinfo=dt.UTC)


def measure(events: int = 10_000) -> dict[str, float]:
    with tempfile.TemporaryDirectory(prefix="bench-publish-") as tmp:
        path = Path(tmp) / "plan.yaml"
        path.write_text(synthetic_plan(events), encoding="utf-8")
        start = time.perf_counter()
        plan = load_plan(path)
        load_s = time.perf_counter() - start

        start = time.perf_counter()
        calendars = {o for e in plan.events for o in e.organizers}
        rendered = 0
        for org in sorted(calendars):
            for desired in ical.desired_events(plan, org, stamp=STAMP).values():
                desired.content()
                rendered += 1
        sync_render_s = time.perf_counter() - start

        start = time.perf_counter()
        build_feeds([plan], stamp=STAMP)
        feeds_s = time.perf_counter() - start

        start = time.perf_counter()
        site = SiteBuilder().build([plan], stamp=STAMP, base_url="https://example.org/plan/")
        build_s = time.perf_counter() - start
        start = time.perf_counter()
        write_site(Path(tmp) / "site", site.files)
        write_s = time.perf_counter() - start
        size = sum(len(v) for v in site.files.values())
    return {
        "events": events,
        "vevents": rendered,
        "load_s": load_s,
        "sync_render_s": sync_render_s,
        "feeds_s": feeds_s,
        "publish_s": build_s + write_s,
        "build_s": build_s,
        "write_s": write_s,
        "files": len(site.files),
        "size_mb": size / 1e6,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("events", nargs="?", type=int, default=10_000)
    args = parser.parse_args()
    m = measure(args.events)
    print(f"publishing a {m['events']:,}-event synthetic plan ({m['vevents']:,} organizer events)")
    print(f"  plan loading (not counted):               {m['load_s']:6.2f} s")
    print(f"  sync's render of the same plan:           {m['sync_render_s']:6.2f} s")
    print(f"  of which the feeds:                       {m['feeds_s']:6.2f} s")
    verdict = "ok" if m["publish_s"] < 5 else "SLOW"
    print(
        f"  publish: build {m['build_s']:.2f} s + write {m['write_s']:.2f} s = "
        f"{m['publish_s']:.2f} s   target < 5 s: {verdict}"
    )
    print(f"  {m['files']} files, {m['size_mb']:.1f} MB")


if __name__ == "__main__":
    main()
