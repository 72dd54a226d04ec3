"""Render a plan for people (`show`, `run`) and for scripts (`show --json`)."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence

from plansync.errors import UsageError
from plansync.model.plan import Event, Plan
from plansync.model.reading import Reading

_MONTH_RE = re.compile(r"(\d{4})-(\d{2})")


def parse_month(text: str) -> tuple[dt.date, dt.date]:
    """`YYYY-MM` → the first and last day of that month."""
    match = _MONTH_RE.fullmatch(text.strip())
    if match is None or not 1 <= int(match[2]) <= 12:
        raise UsageError(f"--month {text!r} is not a month; write YYYY-MM, e.g. --month 2024-05")
    first = dt.date(int(match[1]), int(match[2]), 1)
    last = (first.replace(day=28) + dt.timedelta(days=4)).replace(day=1) - dt.timedelta(days=1)
    return first, last


def overlaps(reading: Reading, first: dt.date, last: dt.date) -> bool:
    """Does the event's period touch [first, last]? Open ends reach as far as they can."""
    start = reading.start or dt.date.min
    end = reading.end or dt.date.max
    return start <= last and end >= first


def filter_events(
    plan: Plan, org_ids: Sequence[str], month: tuple[dt.date, dt.date] | None
) -> tuple[Event, ...]:
    return tuple(
        event
        for event in plan.events
        if (not org_ids or any(o in event.organizers for o in org_ids))
        and (month is None or overlaps(event.reading, *month))
    )


def _point(day: dt.date, precision: str | None) -> str:
    if precision == "month":
        return f"{day:%Y-%m}"
    if precision == "quarter":
        return f"Q{(day.month - 1) // 3 + 1} {day.year}"
    if precision == "half":
        return f"H{(day.month - 1) // 6 + 1} {day.year}"
    if precision == "year":
        return str(day.year)
    return day.isoformat()


def describe_reading(reading: Reading) -> str:
    """A one-line account of a reading: `2024-01 … 2024-12, FREQ=MONTHLY;INTERVAL=3, note: по запросам`."""
    if reading.start is None and reading.end is not None:
        period = f"until {reading.end.isoformat()} (deadline)"
    elif reading.end is None and reading.start is not None:
        period = f"from {reading.start.isoformat()} (open end)"
    elif reading.start is not None and reading.end is not None:
        first = _point(reading.start, reading.start_precision)
        last = _point(reading.end, reading.end_precision)
        period = first if first == last else f"{first} … {last}"
        if reading.start_precision != "day" or reading.end_precision != "day":
            period += f"  [{reading.start.isoformat()} … {reading.end.isoformat()}]"
    else:
        period = "date not known (date_known: false)"
    parts = [period]
    if reading.time is not None:
        span = f"{reading.time:%H:%M}"
        if reading.end_time is not None:
            span += f"–{reading.end_time:%H:%M}"
        parts.append(span)
    if reading.rrule:
        parts.append(f"repeats {reading.rrule}")
    if reading.note:
        parts.append(f"note: {reading.note}")
    return ", ".join(parts)


def plan_table(plan: Plan, events: Sequence[Event]) -> str:
    lines = [plan.title, f"{plan.id}, {plan.year}, {plan.timezone}", ""]
    width = max((len(e.key) for e in events), default=4)
    for event in events:
        orgs = ", ".join(event.organizers)
        lines.append(f"{event.key:<{width}}  «{event.date_text}» → {describe_reading(event.reading)}")
        overridden = event.override.to_json()
        if overridden:
            fixed = ", ".join(f"{k}={v}" for k, v in overridden.items())
            lines.append(f"{'':<{width}}  corrected by hand: {fixed}")
        form = f"[{event.form}] " if event.form else ""
        lines.append(f"{'':<{width}}  {form}{event.title}")
        lines.append(f"{'':<{width}}  organizers: {orgs}")
    lines.append("")
    lines.append("organizations:")
    for org in plan.organizations:
        contacts = ", ".join([*org.contacts.phones, *org.contacts.emails]) or "no contacts (gets no digests)"
        lines.append(f"  {org.id:<20} {org.short_name} — {contacts}")
    lines.append(f"\n{len(events)} of {len(plan.events)} events shown")
    return "\n".join(lines)


def plan_json(plan: Plan, events: Sequence[Event]) -> dict[str, object]:
    return {
        "plan": {"id": plan.id, "title": plan.title, "year": plan.year, "timezone": plan.timezone},
        "organizations": [
            {
                "id": org.id,
                "name": org.name,
                "short_name": org.short_name,
                "kind": org.kind,
                "contacts": {"phones": list(org.contacts.phones), "emails": list(org.contacts.emails)},
            }
            for org in plan.organizations
        ],
        "events": [
            {
                "key": event.key,
                "section": event.section,
                # a whole number stays a JSON number, as before numbers like «1.1» were allowed
                "number": int(event.number) if event.number and event.number.isdigit() else event.number,
                "title": event.title,
                "form": event.form,
                "date": event.date_text,
                "organizers": list(event.organizers),
                "reading": event.reading.to_json(),
                "overrides": event.override.to_json(),
                "notes": event.notes,
                "contact": event.contact,
            }
            for event in events
        ],
    }
