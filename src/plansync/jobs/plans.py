"""Loading the plans a config names: the one way the use cases read them (each checked whole)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from plansync.model.plan import Plan


def load_plans(paths: Sequence[Path]) -> list[Plan]:
    """The plans at `paths` (a config's `plans`), in that order; the first with problems raises
    InvalidInput with every problem of its file."""
    # Imported here: the date reader is not needed by a sync on cached plans (sync.render_cache).
    from plansync.planread.planfile import load_plan  # noqa: PLC0415

    return [load_plan(path) for path in paths]
