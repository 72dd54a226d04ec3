"""A re-issued plan (the same year, a corrected version) merged into the plan file in use: events are
matched by title (tolerant of small edits) and number, a matched event keeps its key and every hand edit
(`start:`, `end:`, `time:`, `end_time:`, `rrule:`, `notes:`), and the published fields take the new
values. Keys never change for a matched event, so calendars and mail do not churn."""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from typing import Any

from plansync.planread.yamlwrite import Flow

# what the published table says: replaced by the new import
PUBLISHED = ("section", "number", "form", "title", "date", "date_known", "organizers")
# what people add by hand: kept from the plan in use
HAND = ("notes", "start", "end", "time", "end_time", "rrule")
SAME_TITLE = 0.85  # a title this close is the same event, wherever it moved
SAME_ROW = 0.6  # with the same number in the same section, a title this close still is


@dataclass
class Reissue:
    document: dict[str, Any]
    added: list[dict[str, Any]] = field(default_factory=list)
    removed: list[dict[str, Any]] = field(default_factory=list)
    changed: list[tuple[str, str, Any, Any]] = field(default_factory=list)  # key, field, old, new
    renumbered: list[str] = field(default_factory=list)  # keys whose row number changed
    kept: list[tuple[str, list[str]]] = field(default_factory=list)  # key, hand-edited fields

    def lines(self) -> list[str]:
        out = [f"+ {e['key']}: {e['title']} ({e['date']})" for e in self.added]
        out += [f"- {e['key']}: {e['title']} ({e['date']})" for e in self.removed]
        out += [f"~ {key}: {name}: {_show(old)} → {_show(new)}" for key, name, old, new in self.changed]
        out += [f"= {key}: kept {', '.join(names)}" for key, names in self.kept]
        if self.renumbered:
            out.append(f"# renumbered (keys kept): {', '.join(self.renumbered)}")
        summary = (
            f"{len(self.added)} added, {len(self.removed)} removed, "
            f"{len({key for key, *_ in self.changed})} changed, {len(self.kept)} with hand edits kept"
        )
        return [*out, summary]


def _show(value: Any) -> str:
    if value is None:
        return "(none)"
    if isinstance(value, list):
        return "[" + ", ".join(str(v) for v in value) + "]"
    return f"«{value}»"


def _norm(title: str) -> str:
    return " ".join(title.casefold().replace("ё", "е").split())


def _section_titles(document: dict[str, Any]) -> dict[str, str | None]:
    return {s["id"]: s.get("title") for s in document.get("sections") or []}


def _match(
    old: list[dict[str, Any]], new: list[dict[str, Any]], old_doc: dict[str, Any], new_doc: dict[str, Any]
) -> dict[int, int]:
    """new index → old index, best pairs first."""
    old_heads, new_heads = _section_titles(old_doc), _section_titles(new_doc)
    exact: dict[str, list[int]] = {}
    for i, event in enumerate(old):
        exact.setdefault(_norm(str(event.get("title", ""))), []).append(i)
    pairs: list[tuple[float, int, int]] = []
    for j, event in enumerate(new):
        title = _norm(str(event.get("title", "")))
        same_row = [
            i
            for i, o in enumerate(old)
            if o.get("number") == event.get("number")
            and old_heads.get(o.get("section", "")) == new_heads.get(event.get("section", ""))
        ]
        for i in {*exact.get(title, []), *same_row} or range(len(old)):
            ratio = difflib.SequenceMatcher(None, _norm(str(old[i].get("title", ""))), title).ratio()
            here = i in same_row
            if ratio >= SAME_TITLE or (here and ratio >= SAME_ROW):
                # equal titles («Совет директоров» in February and in November) part by row and date
                same_date = old[i].get("date") == event.get("date")
                pairs.append((ratio + (0.5 if here else 0.0) + (0.2 if same_date else 0.0), j, i))
    matched: dict[int, int] = {}
    used: set[int] = set()
    for _, j, i in sorted(pairs, key=lambda p: (-p[0], p[1], p[2])):
        if j not in matched and i not in used:
            matched[j] = i
            used.add(i)
    return matched


def _flow_contacts(org: dict[str, Any]) -> dict[str, Any]:
    contacts = org.get("contacts")
    if not isinstance(contacts, dict):
        return org
    flowed = {k: Flow(v) if isinstance(v, list) else v for k, v in contacts.items()}
    return {**org, "contacts": flowed}


def reissue(old_doc: dict[str, Any], new_doc: dict[str, Any]) -> Reissue:
    """The plan in use with the re-issued plan's published fields; the old document is not changed."""
    old_events: list[dict[str, Any]] = list(old_doc.get("events") or [])
    new_events: list[dict[str, Any]] = list(new_doc["events"])
    matched = _match(old_events, new_events, old_doc, new_doc)
    keys = {str(e["key"]) for e in old_events}
    result = Reissue({})
    events: list[dict[str, Any]] = []
    for j, new in enumerate(new_events):
        if j not in matched:
            event = dict(new)
            key, suffix = str(event["key"]), 2
            while key in keys:  # a new event never takes a key the plan in use has had
                key, suffix = f"{event['key']}-{suffix}", suffix + 1
            keys.add(key)
            event["key"] = key
            events.append(event)
            result.added.append(event)
            continue
        old = old_events[matched[j]]
        event = {"key": old["key"]}
        for name in PUBLISHED:
            if name in new:
                event[name] = new[name]
            if old.get(name) == new.get(name) or name == "section":
                continue
            if name == "number":
                result.renumbered.append(str(old["key"]))
            else:
                result.changed.append((str(old["key"]), name, old.get(name), new.get(name)))
        hand = [name for name in HAND if name in old]
        for name in HAND:
            if name in old:
                event[name] = old[name]
            elif name in new:
                event[name] = new[name]
        if hand:
            result.kept.append((str(old["key"]), hand))
        events.append(event)
    taken = set(matched.values())
    result.removed = [e for i, e in enumerate(old_events) if i not in taken]
    used_ids = {org_id for e in events for org_id in e.get("organizers") or []}
    old_orgs = {o["id"]: o for o in old_doc.get("organizations") or []}
    organizations = [
        _flow_contacts(old_orgs.get(o["id"], o)) for o in new_doc["organizations"] if o["id"] in used_ids
    ]
    plan = dict(new_doc["plan"])
    for name in ("id", "timezone"):  # the plan's id is part of every calendar UID
        if name in (old_doc.get("plan") or {}):
            plan[name] = old_doc["plan"][name]
    result.document = {
        "plan": plan,
        "sections": new_doc["sections"],
        "organizations": organizations,
        "events": events,
    }
    return result
