"""The starter config `plansync init` writes: the shipped, commented config/plansync.yaml with its
checkout-relative paths replaced, so that there is one commented config to keep up to date."""

from __future__ import annotations

from plansync.errors import PlansyncError
from plansync.util.shipped import STARTER_CONFIG, shipped_file

# (line in the shipped config, line in a starter config); {plan} is the plan file's name.
_CHANGES = (
    ("  - ../data/plan-2024.yaml", "  - {plan}"),
    (
        "state_dir: ../state",
        "# state_dir: state   # default: $STATE_DIRECTORY (systemd), else $XDG_STATE_HOME/plansync",
    ),
    ("  outbox: ../outbox", "  # outbox: outbox     # default: <state_dir>/outbox"),
)


def starter_config(plan: str) -> str:
    """The text of a starter plansync.yaml whose plan is the file `plan` next to it."""
    text = shipped_file("starter", STARTER_CONFIG).read_text(encoding="utf-8")
    lines = text.splitlines()
    for old, new in _CHANGES:
        if old not in lines:  # the shipped config changed: this must change with it
            raise PlansyncError(f"the shipped config has no line {old!r}; plansync init needs updating")
        lines[lines.index(old)] = new.format(plan=plan)
    return "\n".join(lines) + "\n"
