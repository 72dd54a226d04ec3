"""When the weekly digests are due: pure arithmetic on aware datetimes in the plan's time zone."""

from __future__ import annotations

import datetime as dt
import zoneinfo


def last_digest_time(now: dt.datetime, weekday: int, at: dt.time, timezone: str) -> dt.datetime:
    """The most recent scheduled digest moment at or before `now` (aware, in the plan's zone)."""
    local = now.astimezone(zoneinfo.ZoneInfo(timezone))
    days_back = (local.weekday() - weekday) % 7
    day = local.date() - dt.timedelta(days=days_back)
    moment = dt.datetime.combine(day, at, tzinfo=local.tzinfo)
    if moment > local:
        moment -= dt.timedelta(days=7)
    return moment


def next_digest_time(now: dt.datetime, weekday: int, at: dt.time, timezone: str) -> dt.datetime:
    return last_digest_time(now, weekday, at, timezone) + dt.timedelta(days=7)
