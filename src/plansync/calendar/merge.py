"""Updating a person's copy: plansync's fields replaced, everything else they or their apps added kept
(alarms, X- properties, SEQUENCE, exceptions of a series that still repeats)."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from plansync.calendar.identity import OWNED
from plansync.calendar.readback import master, owned_fields
from plansync.util.lazy import lazy_import

if TYPE_CHECKING:
    import icalendar
else:
    # Loaded when first used: a run in which nothing changed renders and parses nothing.
    icalendar = lazy_import("icalendar")


def merge(server: bytes, desired: bytes) -> bytes:
    """The server's copy with plansync's fields replaced by the desired ones; alarms, X- properties of
    other clients, SEQUENCE and the rest stay (todoman's `serialize(original)`). A copy that cannot be
    read or written back whole is replaced by the desired event."""
    try:
        return _merge(server, desired)
    except Exception:  # any failure of a library on untrusted text
        return desired


def _merge(server: bytes, desired: bytes) -> bytes:
    try:
        theirs = icalendar.Calendar.from_ical(server)
    except Exception:
        return desired
    ours = icalendar.Calendar.from_ical(desired)
    target = master(theirs)
    source = master(ours)
    if target is None or source is None or str(target.get("UID")) != str(source.get("UID")):
        return desired
    changed = owned_fields(target) != owned_fields(source)
    for name in OWNED:
        target.pop(name, None)
    for name in OWNED:
        if name in source:
            target[name] = source[name]
    target.pop("DTSTAMP", None)
    target["DTSTAMP"] = source["DTSTAMP"]
    if changed:
        # A new revision (RFC 5545 3.8.7.4, 3.8.7.3): clients tell an update from a stale copy by these.
        sequence = _integer(target.get("SEQUENCE"))
        target.pop("SEQUENCE", None)
        target.add("SEQUENCE", sequence + 1)
        target.pop("LAST-MODIFIED", None)
        target.add("LAST-MODIFIED", dt.datetime.now(dt.UTC).replace(microsecond=0))
    if "RRULE" not in target:
        # No longer a series: its exceptions and moved occurrences would describe days that are not there.
        for name in ("EXDATE", "RDATE"):
            target.pop(name, None)
        theirs.subcomponents = [
            c for c in theirs.subcomponents if not (c.name == "VEVENT" and "RECURRENCE-ID" in c)
        ]
    # Our VTIMEZONE replaces the server's copy of it (Radicale truncates the RDATE lists of some).
    our_zones = {str(z["TZID"]): z for z in ours.walk("VTIMEZONE")}
    kept = [
        c for c in theirs.subcomponents if not (c.name == "VTIMEZONE" and str(c.get("TZID")) in our_zones)
    ]
    theirs.subcomponents = [*our_zones.values(), *kept]
    result: bytes = theirs.to_ical()
    return result


def _integer(value: object) -> int:
    try:
        return max(0, int(str(value))) if value is not None else 0
    except ValueError:
        return 0
