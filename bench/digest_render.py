"""How long rendering 1,000 digests takes (target: under 5 s), next to a str.format baseline.

Run: python -m bench.digest_render [N]
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from plansync.digest.mail import Renderer, build_message, calendar_bytes
from plansync.digest.select import digest_period, select, view
from plansync.planread.planfile import load_plan

PLAN = Path(__file__).resolve().parents[1] / "data" / "plan-2024.yaml"


def measure(n: int = 1000) -> dict[str, float]:
    """Seconds for `n` digests: the str.format baseline, Jinja2 rendering, and rendering + MIME + .ics."""
    import datetime as dt

    from plansync.config.model import DigestConfig

    plan = load_plan(PLAN)
    weeks = [digest_period(dt.date(2024, 1, 1) + dt.timedelta(weeks=w)) for w in range(53)]
    digests = [d for p in weeks for d in select([plan], p).digests if not d.empty]
    work = [digests[i % len(digests)] for i in range(n)]
    renderer = Renderer()
    now = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
    config = DigestConfig()

    start = time.perf_counter()
    for d in work:
        lines = [f"{v.when} {v.status}\n  {v.title}\n" for v in (*view(d).exact, *view(d).fuzzy)]
        "{}\n{}\n{}".format(d.organization.name, d.period.key, "".join(lines))
    baseline = time.perf_counter() - start

    start = time.perf_counter()
    for d in work:
        renderer.render(d)
    templates = time.perf_counter() - start

    start = time.perf_counter()
    for d in work:
        rendered = renderer.render(d)
        build_message(rendered, digest=d, recipient=d.recipients[0], config=config, now=now,
                      ics=calendar_bytes(d, now)).as_bytes()  # fmt: skip
    full = time.perf_counter() - start

    return {"digests": n, "distinct": len(digests), "baseline_s": baseline, "render_s": templates,
            "full_s": full}  # fmt: skip


def main(n: int = 1000) -> None:
    m = measure(n)
    print(f"{n} digests from {PLAN.name} ({m['distinct']} distinct non-empty ones of 2024)")
    print(f"  baseline (view + str.format): {m['baseline_s']:6.3f} s")
    verdict = "ok" if m["render_s"] < 5 else "SLOW"
    print(f"  render (Jinja2 + css_inline): {m['render_s']:6.3f} s   target < 5 s: {verdict}")
    print(f"  render + MIME + .ics bytes:   {m['full_s']:6.3f} s")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1000)
