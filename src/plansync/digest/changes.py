"""Changes to a week already sent: what a digest announced against what the plan says now. Pure.

Each entry of a digest is remembered as one readable line (its *fingerprint*); a notice lists the
entries added, changed (before and now) and gone (cancelled or moved to another week)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from plansync.digest.select import Digest, ItemView, view_item

__all__ = ["Changes", "diff", "fingerprints", "notice_key"]


def _line(v: ItemView) -> str:
    when = v.when + (f" — {v.status}" if v.status else "")
    text = f"{when}. {v.title.rstrip('.')}. {v.organizers_label}: {v.organizer_names}."
    return text + (f" Примечание: {v.note}" if v.note else "")


def fingerprints(digest: Digest) -> dict[str, str]:
    """Every entry of the digest (own and the region's) as key → readable line."""
    return {f"{i.plan.id}/{i.event.key}": _line(view_item(i)) for i in (*digest.items, *digest.others)}


@dataclass(frozen=True)
class Changes:
    period_key: str
    added: tuple[str, ...]
    changed: tuple[tuple[str, str], ...]  # (before, now)
    removed: tuple[str, ...]
    current: dict[str, str]

    @property
    def count(self) -> int:
        return len(self.added) + len(self.changed) + len(self.removed)


def diff(period_key: str, announced: dict[str, str], current: dict[str, str]) -> Changes | None:
    added = tuple(current[k] for k in current if k not in announced)
    changed = tuple(
        (announced[k], current[k]) for k in current if k in announced and announced[k] != current[k]
    )
    removed = tuple(announced[k] for k in announced if k not in current)
    if not (added or changed or removed):
        return None
    return Changes(period_key, added, changed, removed, current)


def notice_key(changes: Changes) -> str:
    """The ledger's key of this notice: the same changes get the same key, hence go out once."""
    text = "\n".join(
        ["+" + a for a in changes.added]
        + ["~" + b + "\n" + n for b, n in changes.changed]
        + ["-" + r for r in changes.removed]
    )
    return f"{changes.period_key}~changes~{hashlib.sha256(text.encode()).hexdigest()[:16]}"
