"""Load a plan YAML file into a `Plan`, reporting every problem with its file, line and field.

The format is documented field by field in docs/plan-format.md; the field sets below are the
single source of what is allowed.
"""

from __future__ import annotations

import datetime as dt
import difflib
import re
import zoneinfo
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path

from plansync.errors import InvalidInput, Problem
from plansync.model.plan import (
    ORGANIZATION_KINDS,
    Contacts,
    DateOverride,
    Event,
    Organization,
    Plan,
    Section,
    apply_override,
)
from plansync.model.recurrence import occurrences
from plansync.planread.dates import DateReadError, Reading, read_date, read_in_section
from plansync.planread.yamlcheck import (
    Checker,
    Entry,
    MappingNode,
    Node,
    ScalarNode,
    SequenceNode,
    read_file,
)

TOP_FIELDS = ("plan", "sections", "organizations", "events")
PLAN_FIELDS = ("id", "title", "year", "timezone")
SECTION_FIELDS = ("id", "title")
ORG_FIELDS = ("id", "name", "short_name", "kind", "contacts")
CONTACT_FIELDS = ("phones", "emails")
EVENT_FIELDS = (
    "key", "section", "number", "form", "title", "date", "organizers", "contact", "notes",
    "start", "end", "time", "end_time", "rrule", "date_known",
)  # fmt: skip
EVENT_REQUIRED = ("key", "title", "date", "organizers")

# Ids end up in UIDs, file names and URLs: keep them to plain ASCII.
ID_RE = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?")
EMAIL_RE = re.compile(r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@(?:[\w](?:[\w-]{0,61}[\w])?\.)+[^\W\d_]{2,63}")
PHONE_RE = re.compile(r"[0-9+()\- .]{5,40}(?:\s*(?:доб\.|ext\.?)\s*[0-9]{1,6})?")
TIME_RE = re.compile(r"([01]?[0-9]|2[0-3]):([0-5][0-9])")
RRULE_RE = re.compile(
    r"FREQ=(?:DAILY|WEEKLY|MONTHLY|YEARLY)"
    r"(?:;(?:INTERVAL=[1-9][0-9]{0,2}|COUNT=[1-9][0-9]{0,3}|BYDAY=(?:[+-]?[1-5]?(?:MO|TU|WE|TH|FR|SA|SU),?)+"
    r"|BYMONTHDAY=-?[0-9]{1,2}|BYMONTH=[0-9]{1,2}(?:,[0-9]{1,2})*|BYSETPOS=-?[0-9])){0,5}"
)
YEAR_RANGE = (2000, 2100)
# an event's number as published: «7», «1.1», «1.1.2», «II.1»
NUMBER_RE = re.compile(r"(?:[IVXLC]{1,7}|[0-9]{1,5})(?:\.[0-9]{1,4}){0,5}")
_EVENT_FIELD = re.compile(r"events\[(\d+)\](?:\.(\w+))?")  # a problem's field inside one event


def load_plan(path: Path) -> Plan:
    """Read and check a plan file. Raises InvalidInput listing every problem found."""
    checker = Checker(str(path))
    root = read_file(path, checker)
    plan = checker.guarded(lambda: _read_plan(root, checker)) if root is not None else None
    if checker.problems or plan is None:
        raise InvalidInput(checker.problems)
    return plan


def load_plan_partial(path: Path) -> Plan:
    """Like `load_plan`, but when every problem lies inside some events (not in their keys) and some
    other event is readable, the plan with its other events, the left-out events' keys and their
    problems (`Plan.left_out`, `.problems`): one unreadable date must not stop a whole region's week.
    Anything else raises InvalidInput."""
    checker = Checker(str(path))
    root = read_file(path, checker)
    plan = checker.guarded(lambda: _read_plan(root, checker)) if root is not None else None
    if plan is None or root is None:
        raise InvalidInput(checker.problems)
    if not checker.problems:
        return plan
    keys = _left_out_keys(root, checker.problems)
    # An event with a problem is left out whole, even one the reader could build (an unknown field).
    events = tuple(e for e in plan.events if keys is not None and e.key not in keys)
    if keys is None or not events:  # (not one event readable: nothing to go on with)
        raise InvalidInput(checker.problems)
    return replace(
        plan, events=events, left_out=tuple(sorted(keys)), problems=tuple(sorted(checker.problems))
    )


def _left_out_keys(root: Node, problems: list[Problem]) -> set[str] | None:
    """The keys of the events the problems are in, or None when a problem lies elsewhere or a key cannot
    be read (then what the calendars hold of that event could not be told apart)."""
    events = _value(root, "events")
    items = events.items if isinstance(events, SequenceNode) else []
    keys: set[str] = set()
    for problem in problems:
        found = _EVENT_FIELD.match(problem.field)
        if found is None or found[2] == "key" or int(found[1]) >= len(items):
            return None
        key = _raw_key(items[int(found[1])])
        if key is None:
            return None
        keys.add(key)
    return keys


def _raw_key(event: Node) -> str | None:
    key = _value(event, "key")
    return key.value if isinstance(key, ScalarNode) and ID_RE.fullmatch(key.value) else None


def _value(node: Node, name: str) -> Node | None:
    """The value of `name` in a mapping node (the first, as the checker reports a second one)."""
    if isinstance(node, MappingNode):
        for key, value in node.pairs():
            if isinstance(key, ScalarNode) and key.value == name:
                return value
    return None


def check_plan(path: Path) -> list[Problem]:
    try:
        load_plan(path)
    except InvalidInput as exc:
        return exc.problems
    return []


def _read_plan(root: Node, c: Checker) -> Plan | None:
    top = c.mapping(root, "", TOP_FIELDS, required=("plan", "organizations", "events"))
    if top is None:
        return None
    meta = _read_meta(top["plan"], c) if "plan" in top else None
    year = meta[2] if meta else dt.date.today().year
    sections = _read_sections(top.get("sections"), c)
    organizations = _read_organizations(top.get("organizations"), c)
    events = _read_events(top.get("events"), c, year, sections, organizations)
    if meta is None:
        return None
    plan_id, title, year, timezone = meta
    return Plan(
        id=plan_id,
        title=title,
        year=year,
        timezone=timezone,
        sections=tuple(sections.values()),
        organizations=tuple(organizations.values()),
        events=tuple(events),
        source=c.file,
    )


def _read_meta(entry: Entry, c: Checker) -> tuple[str, str, int, str] | None:
    fields = c.mapping(entry.value, "plan", PLAN_FIELDS, required=PLAN_FIELDS)
    if fields is None:
        return None
    plan_id = _read_id(fields["id"], "plan.id", c) if "id" in fields else None
    title = c.string(fields["title"].value, "plan.title") if "title" in fields else None
    year = c.integer(fields["year"].value, "plan.year", *YEAR_RANGE) if "year" in fields else None
    timezone = _read_timezone(fields["timezone"], c) if "timezone" in fields else None
    if plan_id is None or title is None or year is None or timezone is None:
        return None
    return plan_id, title, year, timezone


def _read_timezone(entry: Entry, c: Checker) -> str | None:
    name = c.string(entry.value, "plan.timezone")
    if name is None:
        return None
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        close = difflib.get_close_matches(name, sorted(zoneinfo.available_timezones()), n=1)
        hint = f"did you mean '{close[0]}'?" if close else "use an IANA name such as Europe/Kaliningrad"
        c.error(entry.value, "plan.timezone", f"unknown time zone '{name}'", hint)
        return None
    return name


def _read_id(entry: Entry, field: str, c: Checker) -> str | None:
    value = c.string(entry.value, field)
    if value is None:
        return None
    if not ID_RE.fullmatch(value):
        c.error(
            entry.value,
            field,
            f"'{value}' is not a valid id",
            "use lower-case latin letters, digits and '-', e.g. konb or year-round-01",
        )
        return None
    return value


def _read_sections(entry: Entry | None, c: Checker) -> dict[str, Section]:
    sections: dict[str, Section] = {}
    if entry is None:
        return sections
    for index, node in enumerate(c.sequence(entry.value, "sections") or ()):
        where = f"sections[{index}]"
        fields = c.mapping(node, where, SECTION_FIELDS, required=("id",))
        if fields is None or "id" not in fields:
            continue
        section_id = _read_id(fields["id"], f"{where}.id", c)
        title = c.string(fields["title"].value, f"{where}.title") if "title" in fields else None
        if section_id is None:
            continue
        if section_id in sections:
            c.error(
                fields["id"].value,
                f"{where}.id",
                f"section id '{section_id}' is used twice",
                "give every section its own id",
            )
            continue
        sections[section_id] = Section(section_id, title)
    return sections


def _read_organizations(entry: Entry | None, c: Checker) -> dict[str, Organization]:
    organizations: dict[str, Organization] = {}
    if entry is None:
        return organizations
    for index, node in enumerate(c.sequence(entry.value, "organizations") or ()):
        where = f"organizations[{index}]"
        fields = c.mapping(node, where, ORG_FIELDS, required=("id", "name", "short_name", "kind"))
        if fields is None:
            continue
        org_id = _read_id(fields["id"], f"{where}.id", c) if "id" in fields else None
        name = c.string(fields["name"].value, f"{where}.name") if "name" in fields else None
        short = (
            c.string(fields["short_name"].value, f"{where}.short_name") if "short_name" in fields else None
        )
        kind = c.string(fields["kind"].value, f"{where}.kind") if "kind" in fields else None
        if kind is not None and kind not in ORGANIZATION_KINDS:
            c.error(
                fields["kind"].value,
                f"{where}.kind",
                f"unknown kind '{kind}'",
                "use one of: " + ", ".join(ORGANIZATION_KINDS),
            )
            kind = None
        contacts = (
            _read_contacts(fields["contacts"], f"{where}.contacts", c) if "contacts" in fields else None
        )
        if org_id is not None and org_id in organizations:
            c.error(
                fields["id"].value,
                f"{where}.id",
                f"organization id '{org_id}' is used twice",
                "give every organization its own id",
            )
            continue
        if org_id is None or name is None or short is None or kind is None:
            continue
        organizations[org_id] = Organization(org_id, name, short, kind, contacts or Contacts())
    return organizations


def _read_contacts(entry: Entry, where: str, c: Checker) -> Contacts | None:
    fields = c.mapping(entry.value, where, CONTACT_FIELDS)
    if fields is None:
        return None
    phones: list[str] = []
    emails: list[str] = []
    if "phones" in fields:
        for phone, node in c.string_list(fields["phones"].value, f"{where}.phones") or ():
            if PHONE_RE.fullmatch(phone.strip()):
                phones.append(phone.strip())
            else:
                c.error(
                    node,
                    f"{where}.phones",
                    f"'{phone}' does not look like a phone number",
                    "write digits with spaces, dashes or brackets, e.g. 8(4012) 93-70-21",
                )
    if "emails" in fields:
        for email, node in c.string_list(fields["emails"].value, f"{where}.emails") or ():
            if EMAIL_RE.fullmatch(email.strip()) and len(email) <= 254:
                emails.append(email.strip())
            else:
                c.error(
                    node,
                    f"{where}.emails",
                    f"'{email}' is not a valid e-mail address",
                    "write one address per item, like name@example.ru",
                )
    return Contacts(tuple(phones), tuple(emails))


def _read_events(
    entry: Entry | None,
    c: Checker,
    year: int,
    sections: dict[str, Section],
    organizations: dict[str, Organization],
) -> list[Event]:
    events: list[Event] = []
    if entry is None:
        return events
    keys: dict[str, int] = {}
    for index, node in enumerate(c.sequence(entry.value, "events") or ()):
        where = f"events[{index}]"
        fields = c.mapping(node, where, EVENT_FIELDS, required=EVENT_REQUIRED)
        if fields is None:
            continue
        event = _read_event(fields, where, c, year, sections, organizations)
        if event is None:
            continue
        if event.key in keys:
            c.error(
                fields["key"].value,
                f"{where}.key",
                f"event key '{event.key}' is already used by events[{keys[event.key]}]",
                "give every event its own key; keys must never change once calendars exist",
            )
            continue
        keys[event.key] = index
        events.append(event)
    return events


def _read_event(
    fields: dict[str, Entry],
    where: str,
    c: Checker,
    year: int,
    sections: dict[str, Section],
    organizations: dict[str, Organization],
) -> Event | None:
    def text(name: str) -> str | None:
        return c.string(fields[name].value, f"{where}.{name}") if name in fields else None

    key = _read_id(fields["key"], f"{where}.key", c) if "key" in fields else None
    section = None
    if "section" in fields:
        section = _read_id(fields["section"], f"{where}.section", c)
        if section is not None and section not in sections:
            c.error(
                fields["section"].value,
                f"{where}.section",
                f"unknown section '{section}'",
                _known("section", section, sections),
            )
            section = None
    number = _read_number(fields["number"], f"{where}.number", c) if "number" in fields else None
    title, form, date_text, notes = text("title"), text("form"), text("date"), text("notes")
    contact = text("contact")
    organizers = _read_organizers(fields, where, c, organizations)
    override = _read_override(fields, where, c)
    date_known = (
        c.boolean(fields["date_known"].value, f"{where}.date_known") if "date_known" in fields else True
    )
    heading = sections[section].title if section is not None and section in sections else None
    if date_known is False:
        reading = _undated(fields, where, c, date_text, override)
    else:
        reading = _read_reading(fields, where, c, date_text, year, override, heading)
    if key is None or title is None or date_text is None or organizers is None or reading is None:
        return None
    return Event(
        key=key,
        section=section or "",
        number=number,
        form=form,
        title=title,
        date_text=date_text,
        organizers=organizers,
        reading=reading,
        override=override or DateOverride(),
        notes=notes,
        contact=contact,
    )


def _read_number(entry: Entry, field: str, c: Checker) -> str | None:
    value = c.string(entry.value, field, max_length=40)
    if value is None:
        return None
    if not NUMBER_RE.fullmatch(value.strip()):
        c.error(
            entry.value,
            field,
            f"'{value}' is not an event number",
            'write the number as published, e.g. 7, 1.1, 1.1.2 or II.1 (in quotes: "1.10")',
        )
        return None
    return value.strip()


def _read_organizers(
    fields: dict[str, Entry], where: str, c: Checker, organizations: dict[str, Organization]
) -> tuple[str, ...] | None:
    if "organizers" not in fields:
        return None
    items = c.string_list(fields["organizers"].value, f"{where}.organizers")
    if items is None:
        return None
    if not items:
        c.error(
            fields["organizers"].value,
            f"{where}.organizers",
            "the event has no organizer",
            "name at least one organization id from `organizations`",
        )
        return None
    ids: list[str] = []
    ok = True
    for index, (org_id, node) in enumerate(items):
        if org_id not in organizations:
            c.error(
                node,
                f"{where}.organizers[{index}]",
                f"unknown organization id '{org_id}'",
                _known("organization", org_id, organizations),
            )
            ok = False
        elif org_id in ids:
            c.error(
                node,
                f"{where}.organizers[{index}]",
                f"organization '{org_id}' is listed twice",
                "list each organizer once",
            )
            ok = False
        else:
            ids.append(org_id)
    return tuple(ids) if ok else None


def _read_override(fields: dict[str, Entry], where: str, c: Checker) -> DateOverride | None:
    start = _read_iso_date(fields, "start", where, c)
    end = _read_iso_date(fields, "end", where, c)
    start_time = _read_time(fields, "time", where, c)
    end_time = _read_time(fields, "end_time", where, c)
    rrule: str | None = None
    if "rrule" in fields:
        node = fields["rrule"].value
        if isinstance(node, ScalarNode) and node.value.strip().lower() == "none":
            rrule = ""
        else:
            rrule = c.string(node, f"{where}.rrule")
            if rrule is not None and not RRULE_RE.fullmatch(rrule):
                c.error(
                    node,
                    f"{where}.rrule",
                    f"'{rrule}' is not a recurrence rule plansync understands",
                    "write e.g. FREQ=WEEKLY;BYDAY=TU or FREQ=MONTHLY;INTERVAL=3, or none",
                )
                return None
    if start is not None and end is not None and end < start:
        c.error(
            fields["end"].value,
            f"{where}.end",
            f"end {end} is before start {start}",
            "swap them or correct the dates",
        )
        return None
    if start_time is not None and end_time is not None and end_time <= start_time:
        c.error(
            fields["end_time"].value,
            f"{where}.end_time",
            f"end_time {end_time:%H:%M} is not after time {start_time:%H:%M}",
            "correct the times",
        )
        return None
    if any(name in fields for name in ("start", "end", "time", "end_time", "rrule")) and (
        start is None and end is None and start_time is None and end_time is None and rrule is None
    ):
        return None  # every override was broken and has been reported
    return DateOverride(start, end, start_time, end_time, rrule)


def _read_iso_date(fields: dict[str, Entry], name: str, where: str, c: Checker) -> dt.date | None:
    if name not in fields:
        return None
    value = c.string(fields[name].value, f"{where}.{name}")
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value.strip())
    except ValueError:
        c.error(
            fields[name].value,
            f"{where}.{name}",
            f"'{value}' is not a valid date",
            "write an exact date as YYYY-MM-DD, e.g. 2024-05-20",
        )
        return None


def _read_time(fields: dict[str, Entry], name: str, where: str, c: Checker) -> dt.time | None:
    if name not in fields:
        return None
    node = fields[name].value
    # Unquoted 14:00 is a sexagesimal integer in YAML 1.1; the node keeps the text as written.
    value = c.string(node, f"{where}.{name}")
    if value is None:
        return None
    match = TIME_RE.fullmatch(value.strip())
    if match is None:
        c.error(node, f"{where}.{name}", f"'{value}' is not a valid time", "write HH:MM, e.g. 14:00")
        return None
    return dt.time(int(match[1]), int(match[2]))


def _undated(
    fields: dict[str, Entry], where: str, c: Checker, date_text: str | None, override: DateOverride | None
) -> Reading | None:
    """`date_known: false`: the event stays in the plan without a date («по отдельному плану»)."""
    if date_text is None or override is None:
        return None
    given = [name for name in ("start", "end", "time", "end_time", "rrule") if name in fields]
    if given:
        c.error(
            fields[given[0]].value,
            f"{where}.{given[0]}",
            "the event says `date_known: false` and also gives its date",
            "remove `date_known: false` now that the date is known",
        )
        return None
    return Reading(date_text, None, None, None, None, None, None, None, False, None)


def undated_events(plan: Plan) -> list[Event]:
    """The events kept without a date: calendars leave them out, digests list them as «дата уточняется»."""
    return [event for event in plan.events if not event.reading.dated]


def _read_reading(
    fields: dict[str, Entry],
    where: str,
    c: Checker,
    date_text: str | None,
    year: int,
    override: DateOverride | None,
    heading: str | None = None,
) -> Reading | None:
    if date_text is None:
        return None
    try:
        reading = read_in_section(date_text, year, heading)
    except DateReadError as exc:
        if override is None or override.start is None:
            c.error(
                fields["date"].value,
                f"{where}.date",
                f"cannot read the date «{date_text}»: {exc.reason}",
                "rewrite it (see `plansync when --help`) or give the exact `start:` (YYYY-MM-DD)",
            )
            return None
        reading = Reading(date_text, None, None, None, None, None, None, None, False, None)
    if override is None:
        return None
    result = apply_override(reading, override)
    if result.start is not None and result.end is not None and result.end < result.start:
        c.error(
            fields["end"].value if "end" in fields else fields["start"].value,
            f"{where}.start",
            f"the corrected period {result.start} … {result.end} ends before it starts",
            "give both `start:` and `end:`",
        )
        return None
    if result.rrule and not _recurs(result, year):
        node = fields["rrule"].value if "rrule" in fields else fields["date"].value
        first, last = _rule_period(result, year)
        c.error(
            node,
            f"{where}.rrule" if "rrule" in fields else f"{where}.date",
            f"the recurrence {result.rrule} gives no day from {first} to {last}",
            "correct the rule (e.g. a day that exists in that month), or write `rrule: none`",
        )
        return None
    return result


def override_conflict(date_text: str, year: int, start: object, end: object) -> str | None:
    """Why an exact `start:`/`end:` a person gave contradicts the date text (it lies outside the period
    the text says), or None when it does not (or the text names no period)."""
    try:
        reading = read_date(date_text, year)
    except DateReadError:
        return None
    first, last = reading.start, reading.end
    for name, value in (("start", start), ("end", end)):
        if value is None:
            continue
        try:
            day = value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value).strip())
        except ValueError:
            return None
        if (first is not None and day < first) or (last is not None and day > last):
            period = f"{first or '…'} … {last or '…'}"
            return (
                f"{name}: {day} is outside the date «{date_text}» ({period}); the published date changed "
                f"since the override was written — correct `{name}:` or remove it"
            )
    return None


def override_warnings(path: Path) -> list[Problem]:
    """Hand overrides (`start:`, `end:`) that contradict their event's date text, each with its
    position: `plansync validate` prints them as warnings."""
    checker = Checker(str(path))
    root = read_file(path, checker)
    if root is None:
        return []
    top = dict(_pairs(root))
    plan = dict(_pairs(top.get("plan")))
    year_node = plan.get("year")
    year = int(year_node.value) if isinstance(year_node, ScalarNode) and year_node.value.isdigit() else None
    events = top.get("events")
    if year is None or not isinstance(events, SequenceNode):
        return []
    warnings: list[Problem] = []
    for index, node in enumerate(events.items):
        fields = dict(_pairs(node))
        date, start, end = fields.get("date"), fields.get("start"), fields.get("end")
        if not isinstance(date, ScalarNode) or (start is None and end is None):
            continue
        values = [n.value if isinstance(n, ScalarNode) else None for n in (start, end)]
        what = override_conflict(date.value, year, values[0], values[1])
        if what is not None:
            where = start if start is not None else end
            assert where is not None
            name, _, what = what.partition(": ")
            message, _, hint = what.partition(" — ")
            warnings.append(
                Problem(str(path), where.line, where.column, f"events[{index}].{name}", message, hint)
            )
    return warnings


def _pairs(node: Node | None) -> list[tuple[str, Node]]:
    if not isinstance(node, MappingNode):
        return []
    return [(k.value, v) for k, v in node.pairs() if isinstance(k, ScalarNode)]


def _rule_period(reading: Reading, year: int) -> tuple[dt.date, dt.date]:
    first = reading.start or dt.date(year, 1, 1)
    return first, reading.end or max(first, dt.date(year, 12, 31))


def _recurs(reading: Reading, year: int) -> bool:
    """The rule gives at least one day in the event's period (bounded: see plansync.model.recurrence)."""
    assert reading.rrule is not None
    first, last = _rule_period(reading, year)
    try:
        return bool(occurrences(reading.rrule, first, last, limit=1))
    except ValueError:
        return False


def _known(kind: str, value: str, known: Mapping[str, object]) -> str:
    close = difflib.get_close_matches(value, list(known), n=1)
    if close:
        return f"did you mean '{close[0]}'?"
    if not known:
        return f"define the {kind} first"
    return f"known {kind} ids: " + ", ".join(known)
