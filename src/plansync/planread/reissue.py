"""A re-issued plan (the same year, a corrected version) merged into the plan file in use, edited in
place so that comments, key order and every hand edit stay: events are matched by title (tolerant of
small edits), and by number and date when the title was reworded; a matched event keeps its key.

What the import wrote last time (the base, when there is one) tells a person's edits from the source's:
a published field a person changed (a title, a removed organizer) is kept unless the re-issue changed
that very field; then the re-issue's value wins and the diff says so. A hand override that the new
date contradicts (`start: 2025-11-20` while the date became «декабрь») is reported, and kept."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from rapidfuzz import fuzz, process
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import CommentMark
from ruamel.yaml.tokens import CommentToken

from plansync.planread.planfile import override_conflict
from plansync.planread.yamledit import PlanEdit, flow, set_field

# what the published table says: from the re-issue, unless a person changed it and the source did not
PUBLISHED = ("number", "form", "title", "date", "date_known", "organizers", "contact", "notes")
# what people add by hand: always kept
HAND = ("start", "end", "time", "end_time", "rrule")
SAME_TITLE = 0.85  # a title this close is the same event, wherever it moved
SAME_ROW = 0.6  # with the same number in the same section, a title this close still is
SAME_ROW_AND_DATE = 0.3  # …and with the same date too: a reworded title
_MISSING = object()


@dataclass
class Reissue:
    edit: PlanEdit  # the plan in use, edited
    added: list[dict[str, Any]] = field(default_factory=list)
    removed: list[dict[str, Any]] = field(default_factory=list)
    changed: list[tuple[str, str, Any, Any]] = field(default_factory=list)  # key, field, old, new
    replaced: list[tuple[str, str, Any, Any]] = field(default_factory=list)  # a hand edit the source changed
    kept: list[tuple[str, list[str]]] = field(default_factory=list)  # key, the hand-edited fields kept
    renumbered: list[str] = field(default_factory=list)
    conflicts: list[tuple[str, int, str]] = field(default_factory=list)  # key, line, what contradicts

    @property
    def document(self) -> dict[str, Any]:
        """The merged plan as plain data (what the file now says, without its comments)."""
        return _plain(self.edit.data)  # type: ignore[no-any-return]

    def lines(self) -> list[str]:
        out = [f"+ {e['key']}: {e['title']} ({e['date']})" for e in self.added]
        out += [f"- {e['key']}: {e['title']} ({e['date']})" for e in self.removed]
        out += [f"~ {key}: {name}: {_show(old)} → {_show(new)}" for key, name, old, new in self.changed]
        out += [
            f"! {key}: {name}: your edit {_show(old)} replaced by the re-issue's {_show(new)}"
            for key, name, old, new in self.replaced
        ]
        out += [f"= {key}: kept {', '.join(names)}" for key, names in self.kept]
        out += [f"! {key} (line {line}): {what}" for key, line, what in self.conflicts]
        if self.renumbered:
            out.append(f"# renumbered (keys kept): {', '.join(self.renumbered)}")
        changed_events = len({key for key, *_ in self.changed} | {key for key, *_ in self.replaced})
        summary = (
            f"{len(self.added)} added, {len(self.removed)} removed, {changed_events} changed, "
            f"{len(self.kept)} with hand edits kept"
        )
        if self.replaced:
            summary += f", {len(self.replaced)} hand edits replaced"
        if self.conflicts:
            summary += f", {len(self.conflicts)} overrides to check"
        if self.renumbered:
            summary += f", {len(self.renumbered)} renumbered"
        return [*out, summary]


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _show(value: Any) -> str:
    if value is None:
        return "(none)"
    if isinstance(value, list):
        return "[" + ", ".join(str(v) for v in value) + "]"
    return f"«{value}»"


def _norm(title: Any) -> str:
    return " ".join(str(title or "").casefold().replace("ё", "е").split())


def _value(value: Any) -> Any:
    """A field's value as compared: lists of texts, texts, None."""
    if value is None or value is _MISSING:
        return value
    if isinstance(value, list):
        return [str(v) for v in value]
    if isinstance(value, bool):
        return value
    return str(value)


def _section_titles(document: Mapping[str, Any]) -> dict[str, str | None]:
    return {str(s["id"]): s.get("title") for s in document.get("sections") or []}


def _ratio(a: str, b: str) -> float:
    """How alike two titles are, 0…1 (rapidfuzz: difflib's measure, some hundred times faster)."""
    return float(fuzz.ratio(a, b)) / 100


def match(
    old: Sequence[Mapping[str, Any]],
    new: Sequence[Mapping[str, Any]],
    old_doc: Mapping[str, Any],
    new_doc: Mapping[str, Any],
    base_titles: Mapping[str, str] | None = None,
) -> dict[int, int]:
    """new index → old index, best pairs first. A pair is the same event when its titles are close
    (SAME_TITLE), or closer than SAME_ROW with the same number in the same section, or closer than
    SAME_ROW_AND_DATE with the same number, section and date (a reworded title). An old event's title
    is also the one the last import gave it (`base_titles` by key), before a person edited it."""
    old_heads, new_heads = _section_titles(old_doc), _section_titles(new_doc)
    by_title: dict[str, list[int]] = {}
    by_number: dict[tuple[Any, str], list[int]] = {}
    titles: list[list[str]] = []
    for i, event in enumerate(old):
        own = [_norm(event.get("title"))]
        imported = (base_titles or {}).get(str(event.get("key")))
        titles.append([*own, _norm(imported)] if imported else own)
        for title in titles[-1]:
            by_title.setdefault(title, []).append(i)
        heading = old_heads.get(str(event.get("section", "")))
        by_number.setdefault((heading, str(event.get("number"))), []).append(i)
    flat = [title for known in titles for title in known]  # every old title, with its event
    owner = [i for i, known in enumerate(titles) for _ in known]
    pairs: list[tuple[float, int, int]] = []
    for j, event in enumerate(new):
        title = _norm(event.get("title"))
        heading = new_heads.get(str(event.get("section", "")))
        same_row = set(by_number.get((heading, str(event.get("number"))), [])) if "number" in event else set()
        candidates = {*by_title.get(title, []), *same_row}
        if not candidates:  # moved: only a close title will do
            found = process.extract(title, flat, scorer=fuzz.ratio, score_cutoff=SAME_TITLE * 100, limit=None)
            candidates = {owner[index] for _, _, index in found}
        for i in candidates:
            ratio = max(1.0 if known == title else _ratio(known, title) for known in titles[i])
            here = i in same_row
            same_date = _value(old[i].get("date")) == _value(event.get("date"))
            if (
                ratio >= SAME_TITLE
                or (here and ratio >= SAME_ROW)
                or (here and same_date and ratio >= SAME_ROW_AND_DATE)
            ):
                # equal titles («Совет директоров» in February and in November) part by row and date
                pairs.append((ratio + (0.5 if here else 0.0) + (0.2 if same_date else 0.0), j, i))
    matched: dict[int, int] = {}
    used: set[int] = set()
    for _, j, i in sorted(pairs, key=lambda p: (-p[0], p[1], p[2])):
        if j not in matched and i not in used:
            matched[j] = i
            used.add(i)
    return matched


def _yaml_value(name: str, value: Any) -> Any:
    return flow(list(value)) if isinstance(value, list) else value


def _new_event(event: dict[str, Any], key: str) -> CommentedMap:
    out = CommentedMap()
    for name, value in event.items():
        out[name] = key if name == "key" else _yaml_value(name, value)
    return out


class _Merge:
    def __init__(self, edit: PlanEdit, new_doc: dict[str, Any], base_doc: dict[str, Any] | None) -> None:
        self.edit = edit
        self.new_doc = new_doc
        self.base = {str(e["key"]): e for e in (base_doc or {}).get("events") or []}
        self.has_base = base_doc is not None
        self.result = Reissue(edit)

    def field(self, key: str, old: CommentedMap, new: dict[str, Any], name: str) -> None:
        hand, fresh = _value(old.get(name)), _value(new.get(name))
        base = _value(self.base[key].get(name)) if key in self.base else _MISSING
        if hand == fresh:
            return
        if base is _MISSING or hand == base:  # not edited by hand (or no record of the last import)
            take = True
        elif fresh == base:  # edited by hand, and the source did not change it
            self.kept_edit(key, name)
            return
        else:  # the source changed the very field a person had edited: the source wins, and says so
            self.result.replaced.append((key, name, hand, fresh))
            take = False
        if name == "number":
            self.result.renumbered.append(key)
        elif take:
            self.result.changed.append((key, name, hand, fresh))
        if name not in new:
            old.pop(name, None)
        else:
            set_field(old, name, _yaml_value(name, new[name]))

    def kept_edit(self, key: str, name: str) -> None:
        for index, (kept_key, names) in enumerate(self.result.kept):
            if kept_key == key:
                self.result.kept[index] = (kept_key, [*names, name])
                return
        self.result.kept.append((key, [name]))

    def merge(self) -> Reissue:
        data = self.edit.data
        old_events = self.edit.events()
        new_events: list[dict[str, Any]] = list(self.new_doc["events"])
        base_titles = {key: str(event.get("title", "")) for key, event in self.base.items()}
        matched = match(old_events, new_events, data, self.new_doc, base_titles)
        keys = {str(e.get("key")) for e in old_events}
        events = CommentedSeq()
        for j, new in enumerate(new_events):
            if j not in matched:
                key, suffix = str(new["key"]), 2
                while key in keys:  # a new event never takes a key the plan in use has had
                    key, suffix = f"{new['key']}-{suffix}", suffix + 1
                keys.add(key)
                events.append(_new_event(new, key))
                self.result.added.append({**new, "key": key})
                continue
            old = old_events[matched[j]]
            key = str(old["key"])
            if "section" in new:
                set_field(old, "section", new["section"])
            else:
                old.pop("section", None)
            for name in PUBLISHED:
                if name == "notes" and not self.has_base and "notes" in old:
                    if _value(old["notes"]) != _value(new.get("notes")):
                        self.kept_edit(key, "notes")  # without a record of the last import: a person's
                    continue
                self.field(key, old, new, name)
            for name in HAND:  # overrides are a person's: always kept
                if name in old:
                    self.kept_edit(key, name)
            events.append(old)
        taken = set(matched.values())
        self.result.removed = [dict(e) for i, e in enumerate(old_events) if i not in taken]
        _reorder(data, "events", list(events))
        self.plan()
        self.sections()
        self.organizations(events)
        self.conflicts(events)
        return self.result

    def plan(self) -> None:
        plan = self.edit.data.get("plan")
        if isinstance(plan, CommentedMap):
            for name in ("title", "year"):  # the id and the time zone are the plan in use's
                if plan.get(name) != self.new_doc["plan"][name]:
                    plan[name] = self.new_doc["plan"][name]

    def sections(self) -> None:
        old = {
            str(s.get("id")): s for s in self.edit.data.get("sections") or [] if isinstance(s, CommentedMap)
        }
        sections = CommentedSeq()
        for new in self.new_doc["sections"]:
            section = old.get(str(new["id"])) or CommentedMap(id=new["id"])
            if "title" in new:
                section["title"] = new["title"]
            else:
                section.pop("title", None)
            sections.append(section)
        _reorder(self.edit.data, "sections", list(sections))

    def organizations(self, events: CommentedSeq) -> None:
        used = {str(o) for e in events for o in e.get("organizers") or []}
        old = [o for o in self.edit.data.get("organizations") or [] if isinstance(o, CommentedMap)]
        have = {str(o.get("id")) for o in old}
        organizations = CommentedSeq(o for o in old if str(o.get("id")) in used)
        for new in self.new_doc["organizations"]:
            if new["id"] in used and new["id"] not in have:
                entry = CommentedMap()
                for name, value in new.items():
                    if name == "contacts":
                        entry[name] = CommentedMap((k, flow(list(v))) for k, v in value.items())
                    else:
                        entry[name] = value
                organizations.append(entry)
        _reorder(self.edit.data, "organizations", list(organizations))

    def conflicts(self, events: CommentedSeq) -> None:
        year = int(self.new_doc["plan"]["year"])
        for event in events:
            if "start" not in event and "end" not in event:
                continue
            what = override_conflict(str(event.get("date", "")), year, event.get("start"), event.get("end"))
            if what is not None:
                line = int(event.lc.key("start" if "start" in event else "end")[0]) + 1
                self.result.conflicts.append((str(event["key"]), line, what))


def _reorder(data: CommentedMap, name: str, items: list[Any]) -> None:
    """Make `data[name]` hold `items`, in place: the comments and blank lines before each item that was
    there before go with it; a new item gets a blank line before it, as plansync writes them."""
    seq = data.get(name)
    if not isinstance(seq, CommentedSeq):
        data[name] = CommentedSeq(items)
        return
    before = {id(item): seq.ca.items.get(index) for index, item in enumerate(seq)}
    seq.clear()
    seq.ca.items.clear()
    for index, item in enumerate(items):
        seq.append(item)
        if id(item) in before:
            if before[id(item)] is not None:
                seq.ca.items[index] = before[id(item)]
        elif index:
            seq.ca.items[index] = [None, [CommentToken("\n", CommentMark(0), None)], None, None]


def reissue(edit: PlanEdit, new_doc: dict[str, Any], base_doc: dict[str, Any] | None = None) -> Reissue:
    """Merge the re-issued plan into the plan in use (`edit`, changed in place). `base_doc` is what the
    import wrote last time, when it is known: it tells a person's edits from the source's."""
    return _Merge(edit, new_doc, base_doc).merge()
