"""The minimal VTIMEZONE: one sub-component per offset change in the plan's years, no RDATE lists
(Radicale truncates those, and icalendar's from_tzid() gives Europe/Kaliningrad exactly that form)."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from typing import TYPE_CHECKING

from plansync.util.lazy import lazy_import

if TYPE_CHECKING:
    import icalendar
else:
    # Loaded when first used: a run in which nothing changed renders and parses nothing.
    icalendar = lazy_import("icalendar")


def vtimezone(tzid: str, first_year: int, last_year: int) -> icalendar.Timezone:
    """A VTIMEZONE that is right for the given years: one sub-component per transition, no RDATE lists
    (Radicale truncates those, and icalendar's from_tzid() gives Europe/Kaliningrad exactly that form)."""
    zone = zoneinfo.ZoneInfo(tzid)
    begin = dt.datetime(first_year - 1, 1, 1, tzinfo=dt.UTC)
    stop = dt.datetime(last_year + 2, 1, 1, tzinfo=dt.UTC)
    tz = icalendar.Timezone()
    tz.add("TZID", tzid)
    offset = _offset(zone, begin)
    tz.add_component(_zone_part(zone, begin, dt.datetime(1970, 1, 1), offset, offset))
    moment = begin
    while moment < stop:
        following = moment + dt.timedelta(days=1)
        new = _offset(zone, following)
        if new != offset:
            change = _bisect(zone, moment, following, offset)
            local = (change + offset).replace(tzinfo=None)  # DTSTART is in the offset before the change
            tz.add_component(_zone_part(zone, change, local, offset, new))
            offset = new
        moment = following
    return tz


def _offset(zone: zoneinfo.ZoneInfo, moment: dt.datetime) -> dt.timedelta:
    value = moment.astimezone(zone).utcoffset()
    assert value is not None
    return value


def _bisect(
    zone: zoneinfo.ZoneInfo, low: dt.datetime, high: dt.datetime, before: dt.timedelta
) -> dt.datetime:
    """The first second (UTC) at which the offset is no longer `before`."""
    while high - low > dt.timedelta(seconds=1):
        middle = low + (high - low) / 2
        middle = middle.replace(microsecond=0)
        if _offset(zone, middle) == before:
            low = middle
        else:
            high = middle
    return high


def _zone_part(
    zone: zoneinfo.ZoneInfo,
    moment: dt.datetime,
    local: dt.datetime,
    before: dt.timedelta,
    after: dt.timedelta,
) -> icalendar.TimezoneStandard | icalendar.TimezoneDaylight:
    at = moment.astimezone(zone)
    part: icalendar.TimezoneStandard | icalendar.TimezoneDaylight
    part = icalendar.TimezoneDaylight() if at.dst() else icalendar.TimezoneStandard()
    part.add("DTSTART", local)
    part.add("TZOFFSETFROM", before)
    part.add("TZOFFSETTO", after)
    part.add("TZNAME", at.tzname() or zone.key)
    return part
