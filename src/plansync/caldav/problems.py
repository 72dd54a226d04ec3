"""What a CalDAV server's refusal says: the DAV:error body of a 4xx/5xx answer (RFC 4918 16, RFC 4791
1.3, RFC 3253 1.6) read into the precondition it names, and each precondition turned into a message
with what to do about it.

The body is untrusted: it is read only when it is short, an XML parse failure means "no reason given",
and what is quoted from it is cut short.
"""

from __future__ import annotations

from dataclasses import dataclass
from xml.etree import ElementTree as ET

MAX_ERROR_BODY = 64 * 1024  # a refusal's explanation; anything longer is not read
_DAV = "{DAV:}"


@dataclass(frozen=True)
class Refusal:
    """The preconditions of a DAV:error body, by local name, and the hrefs named inside them."""

    conditions: tuple[str, ...] = ()
    hrefs: tuple[str, ...] = ()
    text: str = ""  # a server's own words (SabreDAV's s:message), cut short

    def has(self, name: str) -> bool:
        return name in self.conditions


def read_refusal(body: bytes) -> Refusal:
    if not body or len(body) > MAX_ERROR_BODY:
        return Refusal()
    try:
        root = ET.fromstring(body)
    except ET.ParseError:
        return Refusal()
    if root.tag != f"{_DAV}error":
        return Refusal()
    conditions: list[str] = []
    hrefs: list[str] = []
    text = ""
    for child in root:
        local = child.tag.rsplit("}", 1)[-1]
        if local in {"message", "exception"}:
            if local == "message" and child.text:
                text = " ".join(child.text.split())[:200]
            continue
        conditions.append(local)
        hrefs.extend((h.text or "").strip()[:500] for h in child.iter(f"{_DAV}href") if h.text)
    return Refusal(tuple(conditions), tuple(hrefs), text)


# What each precondition means for plansync's requests, and the fix; `{href}` is the resource asked.
_MEANINGS = {
    "supported-report": "the server does not support this REPORT",
    "valid-sync-token": "the server no longer knows the sync token",
    "no-uid-conflict": (
        "an event with the same UID already exists{holder}; move or delete that copy (plansync never "
        "takes over an event it did not write for this calendar)"
    ),
    "unique-scheduling-object-resource": (
        "an event with the same UID already exists{holder}; move or delete that copy (plansync never "
        "takes over an event it did not write for this calendar)"
    ),
    "valid-calendar-data": (
        "the server rejected the event as invalid iCalendar; report this as a plansync bug"
    ),
    "valid-calendar-object-resource": (
        "the server rejected the event's structure; report this as a plansync bug"
    ),
    "supported-calendar-component": (
        "the calendar does not accept events (VEVENT); point calendars.*.url at an event calendar"
    ),
    "supported-calendar-data": "the server does not accept text/calendar data here",
    "max-resource-size": "the event is larger than the server accepts; shorten its description",
    "min-date-time": "the event's date is earlier than the server accepts",
    "max-date-time": "the event's date is later than the server accepts",
    "max-instances": "the event repeats more often than the server accepts",
    "number-of-matching-items": (
        "the server caps how many events one listing may hold; ask its administrator to raise the limit"
    ),
    "quota-not-exceeded": "the account's storage quota is full; free space or ask for a larger quota",
    "need-privileges": "the account lacks the rights for this; ask the server's administrator",
    "calendar-collection-location-ok": (
        "calendars cannot be created here; create the calendar by hand and put its URL in the config"
    ),
    "resource-must-be-null": "something already exists at this URL",
}

UID_CLASH = frozenset({"no-uid-conflict", "unique-scheduling-object-resource"})


def explain(refusal: Refusal) -> str | None:
    """One sentence for the first precondition plansync knows, or None."""
    for name in refusal.conditions:
        meaning = _MEANINGS.get(name)
        if meaning is not None:
            holder = f" at {refusal.hrefs[0]}" if refusal.hrefs else ""
            return meaning.format(holder=holder)
    return None
