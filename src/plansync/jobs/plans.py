"""Loading the plans a config names: the one way the use cases read them (each checked whole, or with
`partial` the events that can be read, and the others named)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from plansync.model.plan import Plan


def load_plans(paths: Sequence[Path], *, partial: bool = False) -> list[Plan]:
    """The plans at `paths` (a config's `plans`), in that order; the first with problems raises
    InvalidInput with every problem of its file. `partial` (a sync, a digest, `run`): a plan whose
    problems all lie inside some events comes without those events, naming them (Plan.left_out,
    Plan.problems), so that one unreadable date does not stop the region's week."""
    # Imported here: the date reader is not needed by a sync on cached plans (sync.render_cache).
    from plansync.planread.planfile import load_plan, load_plan_partial  # noqa: PLC0415

    read = load_plan_partial if partial else load_plan
    return [read(path) for path in paths]
