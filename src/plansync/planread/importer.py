"""Import a yearly plan from its text-table form (as converted from the published document) into
plan YAML.

The source format: a title line; tables of tab-separated rows `number, title, date, organizers`
where the form of an event is in `<i>…</i>`; a row whose number cell is empty continues the row
above (the document's conversion broke long cells); a line without tabs is a section heading; and a
«Контактная информация» block of `organization name` / `Тел.: …, e-mail: …` line pairs.

Everything here is pure text-to-text so that importing the same source always gives the same bytes.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from plansync.errors import InvalidInput, Problem
from plansync.planread.dates import DateReadError, read_date
from plansync.planread.layout import Columns, SourceContact, SourceDoc, SourceRow, lay_out
from plansync.planread.proposals import Proposal, Proposer
from plansync.planread.sources import read_document
from plansync.planread.sources.model import Run
from plansync.planread.sources.tab_text import read_tab_text
from plansync.planread.yamlcheck import Checker, Node, read_file
from plansync.planread.yamlwrite import Flow, dump_yaml

FORMAT_NOTE = "docs/plan-format.md"
# run-together unknown names part after a closing quote and before a capital: «… г. Гусева» Калининградская …
_NAME_END_RE = re.compile(r"(?<=»)\s+(?=[А-ЯЁA-Z])")
_SPACE_RE = re.compile(r"\s+")
_QUOTES = str.maketrans({"“": "«", "”": "»", "„": "«", '"': "«", "‘": "'", "’": "'"})

# The kind of event, found in a title when the document did not mark it in italics. The earliest
# match in the title wins; longer phrases come first so that «цикл вебинаров» beats «вебинар».
FORM_WORDS: tuple[tuple[str, str], ...] = (
    (r"цикл\w* вебинар\w*", "Цикл вебинаров"),
    (r"семинар\w*-практикум\w*", "Семинар-практикум"),
    (r"круглы\w* стол\w*", "Круглый стол"),
    (r"совет\w* директоров", "Совет директоров"),
    (r"работа с заявками|при[её]м\w* заявок", "Приём заявок"),
    (r"вебинар\w*", "Вебинар"),
    (r"семинар\w*", "Семинар"),
    (r"конкурс|конкурса|конкурсы|смотр-конкурс\w*", "Конкурс"),
    (r"фестивал\w*", "Фестиваль"),
    (r"акци[яи]\w*", "Акция"),
    (r"проект", "Проект"),
    (r"опрос\w*", "Опрос"),
    (r"встреч[аи]", "Встреча"),
    (r"совещани\w*", "Совещание"),
    (r"мониторинг\w*", "Мониторинг"),
    (r"консультаци\w*", "Консультации"),
    (r"выезд\w*", "Выезды"),
)
YEAR_ROUND_DAYS = 180
_FORM_RES = tuple(
    (re.compile(rf"(?<!\w)(?:{pattern})(?!\w)", re.IGNORECASE), label) for pattern, label in FORM_WORDS
)


@dataclass(frozen=True)
class KnownOrganization:
    id: str
    name: str
    short_name: str
    kind: str
    aliases: tuple[str, ...]


# -- reading the source ---------------------------------------------------------------------------


def parse_source(text: str, file: str) -> SourceDoc:
    """The tab-separated text form of a plan, laid out as title, sections of rows, and contacts."""
    return lay_out(read_tab_text(text, file))


# -- organizations -------------------------------------------------------------------------------


def load_registry(path: Path | Sequence[Path]) -> list[KnownOrganization]:
    """The known organizations of one or more registry files, read in order: a later file adds
    organizations, and its `alias_of` entries (accepted proposals) add aliases to known ones."""
    known: list[KnownOrganization] = []
    problems: list[Problem] = []
    for one in [path] if isinstance(path, Path) else path:
        checker = Checker(str(one))
        root = read_file(one, checker)
        if root is not None:
            checker.guarded(functools.partial(_read_registry, root, checker, known))
        problems.extend(checker.problems)
    if problems:
        raise InvalidInput(problems)
    return known


def _read_registry(root: Node, checker: Checker, known: list[KnownOrganization]) -> None:
    top = checker.mapping(root, "", ("organizations",), required=("organizations",))
    items = (
        checker.sequence(top["organizations"].value, "organizations")
        if top and "organizations" in top
        else []
    )
    for index, node in enumerate(items or ()):
        where = f"organizations[{index}]"
        fields = checker.mapping(
            node,
            where,
            ("id", "name", "short_name", "kind", "aliases", "alias_of", "seen"),
            required=("id", "name", "short_name", "kind"),
        )
        if not fields or len(fields.keys() & {"id", "name", "short_name", "kind"}) < 4:
            continue
        if "alias_of" in fields:  # an accepted proposal: its name is another name of a known organization
            target = checker.string(fields["alias_of"].value, f"{where}.alias_of")
            name = checker.string(fields["name"].value, f"{where}.name")
            index_of = {org.id: i for i, org in enumerate(known)}
            if target is not None and target not in index_of:
                checker.error(
                    fields["alias_of"].value,
                    f"{where}.alias_of",
                    f"unknown organization '{target}'",
                    "name an id of an earlier --registry file, or delete `alias_of` to make it a new one",
                )
            elif target is not None and name is not None:
                org = known[index_of[target]]
                known[index_of[target]] = KnownOrganization(
                    org.id, org.name, org.short_name, org.kind, (*org.aliases, name)
                )
            continue
        values = [
            checker.string(fields[k].value, f"{where}.{k}") for k in ("id", "name", "short_name", "kind")
        ]
        aliases = (
            checker.string_list(fields["aliases"].value, f"{where}.aliases") if "aliases" in fields else []
        )
        if None in values or aliases is None:
            continue
        org_id, name, short, kind = (v or "" for v in values)
        known.append(KnownOrganization(org_id, name, short, kind, tuple(a for a, _ in aliases)))


def _normalize(text: str) -> str:
    return _SPACE_RE.sub(" ", text.translate(_QUOTES)).strip().casefold()


class OrganizerMatcher:
    """Splits run-together organizer cells into known organizations, longest name first."""

    def __init__(self, known: Iterable[KnownOrganization]) -> None:
        names = [(_normalize(n), org) for org in known for n in (org.name, *org.aliases)]
        self._names = sorted(names, key=lambda item: -len(item[0]))

    def split(self, cell: str) -> tuple[list[KnownOrganization], list[str]]:
        """Return the organizations found and the pieces of text that matched none."""
        text = _normalize(cell)
        found: list[KnownOrganization] = []
        unmatched: list[str] = []
        pos = 0
        while pos < len(text):
            if text[pos] in " ,;":
                pos += 1
                continue
            org = self._match_at(text, pos)
            if org is not None:
                if org[0] not in found:
                    found.append(org[0])
                pos += org[1]
                continue
            end = next(
                (i for i in range(pos + 1, len(text)) if text[i - 1] == " " and self._match_at(text, i)),
                len(text),
            )
            unmatched.append(cell_fragment(cell, text[pos:end].strip()))
            pos = end
        return found, unmatched

    def _match_at(self, text: str, pos: int) -> tuple[KnownOrganization, int] | None:
        for name, org in self._names:
            end = pos + len(name)
            if text.startswith(name, pos) and (end == len(text) or text[end] in " ,;"):
                return org, len(name)
        return None


def cell_fragment(cell: str, normalized_piece: str) -> str:
    """Show the user the piece as written in the source when we can find it again."""
    flat = _SPACE_RE.sub(" ", cell)
    index = flat.casefold().translate(_QUOTES).find(normalized_piece)
    return flat[index : index + len(normalized_piece)] if index >= 0 else normalized_piece


# -- building the plan -----------------------------------------------------------------------------


def plain(runs: list[Run]) -> str:
    return "".join(run.text for run in runs).strip()


def _italic_stretches(runs: list[Run]) -> list[str]:
    """The text of each stretch of consecutive italic runs."""
    stretches: list[str] = []
    previous_italic = False
    for run in runs:
        if run.italic:
            if previous_italic:
                stretches[-1] += run.text
            else:
                stretches.append(run.text)
        previous_italic = run.italic
    return stretches


def event_form(runs: list[Run]) -> str | None:
    """The form of an event: its italic part, unless the whole title is italic (then the italics are
    emphasis, not a form) or nothing is; in those cases the first known form word of the title."""
    title = _SPACE_RE.sub(" ", plain(runs))
    italics = [stretch.strip() for stretch in _italic_stretches(runs)]
    italic_text = _SPACE_RE.sub("", "".join(italics))
    if italics and italic_text != _SPACE_RE.sub("", title):
        return italics[0].strip().rstrip(".,;: ").strip() or None
    # Earliest in the title wins; at the same place the longer phrase, listed first, wins.
    hits = [
        (m.start(), rank, label)
        for rank, (regex, label) in enumerate(_FORM_RES)
        if (m := regex.search(title))
    ]
    return min(hits)[2] if hits else None


def _names_no_date(text: str, year: int) -> bool:
    try:
        read_date(text, year)
    except DateReadError as exc:
        return exc.undated
    return False


def _is_year_round(rows: list[SourceRow], year: int) -> bool:
    """A section of long-running activities: every event of it runs half a year or longer."""
    for row in rows:
        try:
            reading = read_date(row.date, year)
        except DateReadError:
            return False
        if (
            reading.start is None
            or reading.end is None
            or (reading.end - reading.start).days < YEAR_ROUND_DAYS
        ):
            return False
    return True


def build_document(
    doc: SourceDoc,
    known: list[KnownOrganization],
    year: int,
    plan_id: str,
    timezone: str,
    file_name: str,
    proposals: list[Proposal] | None = None,
) -> dict[str, Any]:
    """The plan as the nested dicts that `render_yaml` writes. Organizers the registry does not know are
    in it under proposed ids, and their proposals are added to `proposals`."""
    proposals = [] if proposals is None else proposals
    matcher = OrganizerMatcher(known)
    proposer = Proposer(list(known))
    used: list[KnownOrganization | Proposal] = []
    sections: list[dict[str, Any]] = []
    events: list[dict[str, Any]] = []
    section_ids: set[str] = set()
    for section in doc.sections:
        base = "year-round" if _is_year_round(section.rows, year) else "dated"
        section_id = base
        suffix = 2
        while section_id in section_ids:
            section_id, suffix = f"{base}-{suffix}", suffix + 1
        section_ids.add(section_id)
        sections.append({"id": section_id, **({"title": section.heading} if section.heading else {})})
        for row in section.rows:
            orgs: list[KnownOrganization | Proposal] = []
            for part in row.organizers.split("\n"):  # a cell's paragraphs never share an organization
                found, unmatched = matcher.split(part)
                orgs.extend(found)
                seen = f"{file_name}:{row.line} row {row.number}"
                pieces = [name for piece in unmatched for name in _NAME_END_RE.split(piece)]
                orgs.extend(proposer.propose(name, seen) for name in pieces)
            orgs = list({o.id: o for o in orgs}.values())
            used.extend(o for o in orgs if o not in used)
            event: dict[str, Any] = {
                "key": f"{section_id}-{row.number:02d}",
                "section": section_id,
                "number": row.number,
            }
            form = row.form or event_form(row.title)
            if form:
                event["form"] = form
            event["title"] = _SPACE_RE.sub(" ", plain(row.title))
            event["date"] = row.date
            if _names_no_date(row.date, year):
                event["date_known"] = False  # «по отдельному плану»: kept, out of calendars until known
            event["organizers"] = Flow(o.id for o in orgs)
            if row.notes:
                event["notes"] = row.notes
            events.append(event)
    contacts_by_id: dict[str, SourceContact] = {}
    for contact in doc.contacts:
        found, unmatched = matcher.split(contact.name)
        org: KnownOrganization | Proposal
        if len(found) == 1 and not unmatched:
            org = found[0]
        else:
            org = proposer.propose(contact.name, f"{file_name}:{contact.line} contacts")
        contacts_by_id[org.id] = contact
        if org not in used:
            used.append(org)
    organizations = []
    for org in used:
        short = org.short_name if isinstance(org, KnownOrganization) else org.name
        entry: dict[str, Any] = {"id": org.id, "name": org.name, "short_name": short, "kind": org.kind}
        known_contact = contacts_by_id.get(org.id)
        if known_contact is not None:
            entry["contacts"] = {"phones": Flow(known_contact.phones), "emails": Flow(known_contact.emails)}
        organizations.append(entry)
    proposals.extend(proposer.proposals)
    return {
        "plan": {"id": plan_id, "title": doc.title, "year": year, "timezone": timezone},
        "sections": sections,
        "organizations": organizations,
        "events": events,
    }


# -- writing YAML ----------------------------------------------------------------------------------


def render_yaml(document: dict[str, Any], source_name: str) -> str:
    header = (
        f"# {document['plan']['title']}\n"
        f"#\n"
        f"# Imported by `plansync import` from {source_name}. From here on this file is the source of\n"
        f"# truth: edit it by hand (e.g. add `start: YYYY-MM-DD` when an exact date becomes known) and\n"
        f"# check it with `plansync validate`. Every field is described in {FORMAT_NOTE}.\n"
        f"# Never change an event `key` or an organization `id`: calendars and mail are keyed on them.\n"
    )
    parts = [header, dump_yaml({"plan": document["plan"]})]
    parts.append(dump_yaml({"sections": document["sections"]}))
    parts.append(dump_yaml({"organizations": document["organizations"]}))
    events = "\n".join(_indent(dump_yaml([event])) for event in document["events"])
    parts.append("events:\n" + events)
    return "\n".join(parts)


def _indent(text: str) -> str:
    return "".join(f"  {line}" if line.strip() else line for line in text.splitlines(keepends=True))


def import_document(
    source: Path,
    registry: Path | Sequence[Path],
    year: int,
    plan_id: str,
    timezone: str,
    columns: Columns | None = None,
    proposals: list[Proposal] | None = None,
) -> dict[str, Any]:
    """Read the source document into the plan's nested dicts; organizers the registry does not know
    are added to `proposals`. Raises InvalidInput with every problem."""
    doc = lay_out(read_document(source), columns)
    known = load_registry(registry)
    return build_document(doc, known, year, plan_id, timezone, source.name, proposals)


def import_source(
    source: Path,
    registry: Path | Sequence[Path],
    year: int,
    plan_id: str,
    timezone: str,
    columns: Columns | None = None,
    proposals: list[Proposal] | None = None,
) -> str:
    """Read the source document and return the plan YAML text."""
    document = import_document(source, registry, year, plan_id, timezone, columns, proposals)
    return render_yaml(document, source.name)
