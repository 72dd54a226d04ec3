"""When the weekly digests are due: pure arithmetic on aware datetimes in the plan's time zone."""

from __future__ import annotations

import datetime as dt
import zoneinfo

from plansync.util.workdays import send_day


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


def due_digest(now: dt.datetime, weekday: int, at: dt.time, timezone: str) -> tuple[dt.datetime, dt.date]:
    """The digest due at `now`: (the moment it goes out, the scheduled day that names its week).

    A scheduled day that is a holiday of the production calendar moves to the send day before it,
    so the next week's digest may be due before its scheduled day."""
    last = last_digest_time(now, weekday, at, timezone)
    following = last + dt.timedelta(days=7)
    early = dt.datetime.combine(send_day(following.date()), at, tzinfo=following.tzinfo)
    if early <= now:
        return early, following.date()
    # Moving a day earlier never moves it past now: `last` is at or before now.
    return dt.datetime.combine(send_day(last.date()), at, tzinfo=last.tzinfo), last.date()


def next_due_digest(now: dt.datetime, weekday: int, at: dt.time, timezone: str) -> dt.datetime:
    """When the next digest goes out, holidays taken into account."""
    last = last_digest_time(now, weekday, at, timezone)
    for scheduled in (last, last + dt.timedelta(days=7), last + dt.timedelta(days=14)):
        moment = dt.datetime.combine(send_day(scheduled.date()), at, tzinfo=scheduled.tzinfo)
        if moment > now:
            return moment
    return last + dt.timedelta(days=7)
