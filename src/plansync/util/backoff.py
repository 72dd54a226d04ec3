"""The one backoff: how long to wait after repeated failures (CalDAV requests, the service's syncs,
the digests' resends)."""

from __future__ import annotations

import datetime as dt
from typing import TypeVar

Delay = TypeVar("Delay", float, dt.timedelta)


def doubling(failures: int, first: Delay, cap: Delay) -> Delay:
    """`first` after one failure, twice that after two, and so on, never more than `cap`."""
    delay: Delay = first * 2 ** min(max(failures - 1, 0), 30)  # bounded: no overflow after many failures
    return min(delay, cap)
