"""Import a yearly plan from a published document into plan YAML: the laid-out table (plansync.planread
.layout) becomes events with keys, numbers as written, forms, dates (unreadable ones kept as text with
`date_known: false`), organizers (known ones from the registry, others proposed, the plan's issuing
library where a row names only people) and contacts; what needs a person's look is a ReviewItem.

Everything here is pure text-to-text so that importing the same source always gives the same bytes.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from plansync.errors import InvalidInput, Problem
from plansync.planread.contacts import SourceContact
from plansync.planread.dates import DateReadError, read_date, read_in_section
from plansync.planread.layout import Columns, SourceDoc, SourceRow, lay_out
from plansync.planread.organizations import (
    NO_ORGANIZER,
    KnownOrganization,
    Organization,
    OrganizerMatcher,
    Roster,
    load_registry,
)
from plansync.planread.proposals import Proposal
from plansync.planread.responsible import read_responsible
from plansync.planread.review import ReviewItem
from plansync.planread.sources import read_document
from plansync.planread.sources.model import Run
from plansync.planread.sources.tab_text import read_tab_text
from plansync.planread.yamlwrite import Flow, dump_yaml

__all__ = [
    "Flow",
    "Imported",
    "KnownOrganization",
    "OrganizerMatcher",
    "event_form",
    "import_plan",
    "import_source",
    "load_registry",
    "parse_source",
    "render_base",
    "render_yaml",
]

FORMAT_NOTE = "docs/plan-format.md"
# run-together unknown names part after a closing quote and before a capital: «… г. Гусева» Калининградская …
_NAME_END_RE = re.compile(r"(?<=»)\s+(?=[А-ЯЁA-Z])")
_SPACE_RE = re.compile(r"\s+")
_CONTROL_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
MAX_TEXT = 10_000  # the longest text a plan file takes (plansync.planread.yamlcheck)
NO_DATE = "не указана"  # the date text of an event whose date cell is empty

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


# -- reading the source ---------------------------------------------------------------------------


def parse_source(text: str, file: str) -> SourceDoc:
    """The tab-separated text form of a plan, laid out as title, sections of rows, and contacts."""
    return lay_out(read_tab_text(text, file))


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


def _date_problem(text: str, year: int, heading: str | None) -> DateReadError | None:
    try:
        read_in_section(text, year, heading)
    except DateReadError as exc:
        return exc
    return None


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


def _text(value: str) -> str:
    """A text the plan file takes: one line, no control characters, not too long."""
    value = _SPACE_RE.sub(" ", _CONTROL_RE.sub(" ", value)).strip()
    return value if len(value) <= MAX_TEXT else value[: MAX_TEXT - 1] + "…"


def key_part(number: str) -> str:
    """The number's part of an event key: «7» → «07», «1.1» → «1-1», «II.1» → «ii-1»."""
    if number.isdigit():
        return f"{int(number):02d}"
    return re.sub(r"[^a-z0-9]+", "-", number.lower()).strip("-") or "x"


def number_value(number: str) -> int | str:
    """How the number is written to the plan file: a whole number as one, else the text («1.1»)."""
    return int(number) if number.isdigit() and len(number) <= 6 else number


@dataclass
class Imported:
    """A plan read from its document: the nested dicts that `render_yaml` writes, the organizers to
    review, and what else a person must look at."""

    document: dict[str, Any]
    proposals: list[Proposal] = field(default_factory=list)
    review: list[ReviewItem] = field(default_factory=list)


class _Builder:
    def __init__(self, doc: SourceDoc, known: list[KnownOrganization], year: int, file_name: str) -> None:
        self.doc = doc
        self.year = year
        self.file_name = file_name
        self.roster = Roster(known)
        self.review: list[ReviewItem] = list(doc.review)
        self.used: list[Organization] = []
        self.keys: set[str] = set()
        self.placeholder: Organization | None = None  # «Организатор не указан», for rows naming none

    def seen(self, row: SourceRow) -> str:
        return f"{self.file_name}, {row.place}"

    def organizations_of(self, row: SourceRow) -> tuple[list[str], str | None, bool]:
        """The organization names of a row (as written), its contact, and whether it names the plan's
        issuer as a whole («Все библиотеки ЦБС»)."""
        names: list[str] = []
        contact: list[str] = []
        everyone = False
        for part in row.organizers.split("\n"):  # a cell's paragraphs never share an organization
            found, unmatched = self.roster.matcher.split(part)
            names.extend(org.name for org in found)
            for piece in unmatched:
                responsible = read_responsible(piece)
                everyone = everyone or responsible.everyone
                names.extend(
                    _text(name)
                    for org in responsible.organizations
                    for name in _NAME_END_RE.split(org)
                    if any(ch.isalnum() for ch in name)  # ««», «—»: no name
                )
                if responsible.contact:
                    contact.append(responsible.contact)
        if row.contact:
            contact.insert(0, row.contact)
        return names, ", ".join(contact) or None, everyone

    def issuer(self) -> Organization:
        """The organization of rows that name none: the plan's issuer, else the one the contacts give,
        else one to fill in."""
        if self.roster.issuer is not None:
            return self.roster.issuer
        named = [c for c in self.doc.contacts if c.name]
        if len(named) == 1:
            self.roster.issuer = self.roster.name(named[0].name, f"{self.file_name}, contacts")
            return self.roster.issuer
        self.placeholder = self.roster.proposer.propose(NO_ORGANIZER, f"{self.file_name}, title")
        return self.placeholder

    def own_contacts(self, contact: SourceContact, contacts_by_id: dict[str, SourceContact]) -> None:
        """Phones and e-mails that name no organization go to the plan's issuer, when it has one."""
        where = f"line {contact.line}"
        if self.roster.issuer is None:
            self.review.append(
                ReviewItem("contacts", where, f"«{contact.text}» names no organization; left out")
            )
            return
        issuer = self.roster.issuer
        if issuer not in self.used:
            self.used.append(issuer)
        known = contacts_by_id.setdefault(issuer.id, SourceContact(contact.line, issuer.name, [], []))
        known.phones.extend(p for p in contact.phones if p not in known.phones)
        known.emails.extend(e for e in contact.emails if e not in known.emails)
        self.review.append(
            ReviewItem("contacts", where, f"«{contact.text}» names no organization: given to «{issuer.name}»")
        )

    def key(self, section_id: str, number: str | None, row: SourceRow) -> str:
        base = f"{section_id}-{key_part(number)}" if number else f"{section_id}-row-{key_part(row.place)}"
        key, suffix = base, 2
        while key in self.keys:
            key, suffix = f"{base}-{suffix}", suffix + 1
        self.keys.add(key)
        return key

    def build(self, plan_id: str, timezone: str) -> Imported:
        doc = self.doc
        for text in (doc.title, *doc.preamble):  # the title, else the page's heading names the issuer
            if self.roster.find_issuer(text, f"{self.file_name}, title") is not None:
                break
        names: list[tuple[str, str]] = [(c.name, f"{self.file_name}, contacts") for c in doc.contacts]
        for contact in doc.contacts:
            self.roster.name(contact.name, f"{self.file_name}, contacts", contact.short)
        parts = {id(row): self.organizations_of(row) for s in doc.sections for row in s.rows}
        for section in doc.sections:
            names.extend((name, self.seen(row)) for row in section.rows for name in parts[id(row)][0])
        self.roster.names(names)
        sections: list[dict[str, Any]] = []
        events: list[dict[str, Any]] = []
        section_ids: set[str] = set()
        for section in doc.sections:
            base = "year-round" if _is_year_round(section.rows, self.year) else "dated"
            section_id, suffix = base, 2
            while section_id in section_ids:
                section_id, suffix = f"{base}-{suffix}", suffix + 1
            section_ids.add(section_id)
            heading = _text(section.heading) if section.heading else ""
            sections.append({"id": section_id, **({"title": heading} if heading else {})})
            for row in section.rows:
                event = self.event(row, section_id, parts[id(row)], section.heading)
                if event is not None:
                    events.append(event)
        if not events:
            raise InvalidInput(
                [
                    Problem(
                        self.file_name,
                        1,
                        1,
                        "table",
                        "the plan's table has no event rows (every row lacks a title)",
                        "check that this is the plan, or give the columns by hand with --columns",
                    )
                ]
            )
        contacts_by_id: dict[str, SourceContact] = {}
        for contact in doc.contacts:
            if not contact.name:  # «Контактная информация: тел. …»: the plan's own library's
                self.own_contacts(contact, contacts_by_id)
                continue
            org = self.roster.name(contact.name, f"{self.file_name}, contacts")
            contacts_by_id[org.id] = contact
            if org not in self.used:
                self.used.append(org)
        organizations = []
        for org in self.used:
            short = org.short_name if isinstance(org, KnownOrganization) else (org.short or org.name)
            entry: dict[str, Any] = {"id": org.id, "name": _text(org.name), "short_name": _text(short)}
            entry["kind"] = org.kind
            known_contact = contacts_by_id.get(org.id)
            if known_contact is not None:
                entry["contacts"] = {
                    "phones": Flow(known_contact.phones),
                    "emails": Flow(known_contact.emails),
                }
            organizations.append(entry)
        proposals = [p for p in self.roster.proposals if p in self.used]
        for proposal in proposals:
            close = f"; close to «{proposal.close_to}», proposed as its alias" if proposal.alias_of else ""
            places = [seen.removeprefix(f"{self.file_name}, ") for seen in proposal.seen]
            where = ", ".join(places[:3]) + (f" and {len(places) - 3} more" if len(places) > 3 else "")
            self.review.append(
                ReviewItem("organizer", where, f"«{proposal.name}» is not in the registry{close}")
            )
        document = {
            "plan": {"id": plan_id, "title": _text(doc.title), "year": self.year, "timezone": timezone},
            "sections": sections,
            "organizations": organizations,
            "events": events,
        }
        return Imported(document, proposals, self.review)

    def event(
        self, row: SourceRow, section_id: str, parts: tuple[list[str], str | None, bool], heading: str | None
    ) -> dict[str, Any] | None:
        self.review.extend(row.review)
        title = _text(plain(row.title)) or _text(row.form or "")
        if not title:
            self.review.append(ReviewItem("number", row.place, "a row without a title; left out"))
            return None
        names, contact, everyone = parts
        orgs = [self.roster.name(name, self.seen(row)) for name in names]
        if everyone or not orgs:
            orgs.insert(0, self.issuer())
        orgs = list({o.id: o for o in orgs}.values())
        self.used.extend(o for o in orgs if o not in self.used)
        event: dict[str, Any] = {"key": self.key(section_id, row.number, row), "section": section_id}
        if row.number:
            event["number"] = number_value(row.number)
        form = row.form or event_form(row.title)
        if form:
            event["form"] = _text(form)
        event["title"] = title
        date = _text(row.date) or NO_DATE
        event["date"] = date
        problem = _date_problem(date, self.year, heading)
        if problem is not None:
            event["date_known"] = False  # kept as text, out of calendars until a person gives the date
            if not row.date.strip():
                self.review.append(ReviewItem("undated", row.place, "the date cell is empty"))
            elif problem.undated:
                self.review.append(ReviewItem("undated", row.place, f"«{date}» names no date"))
            else:
                self.review.append(ReviewItem("date", row.place, f"«{date}»: {problem.reason}"))
        event["organizers"] = Flow(o.id for o in orgs)
        if contact:
            event["contact"] = _text(contact)
        if row.notes:
            event["notes"] = _text(row.notes)
        return event


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


def render_base(document: dict[str, Any], source_name: str) -> str:
    """What the import wrote, kept beside the plan (`PLAN.imported.yaml`): the next re-issue compares
    the plan with it to tell a person's edits from the source's."""
    header = (
        f"# What `plansync import` read from {source_name}, as it wrote it. `plansync import --into`\n"
        "# compares the plan with this file to tell your edits from a re-issue's. plansync rewrites it:\n"
        "# do not edit.\n"
    )
    return header + render_yaml(document, source_name).split("\n\n", 1)[1]


def _indent(text: str) -> str:
    return "".join(f"  {line}" if line.strip() else line for line in text.splitlines(keepends=True))


def import_plan(
    source: Path,
    registry: Path | Sequence[Path],
    year: int,
    plan_id: str,
    timezone: str,
    columns: Columns | None = None,
) -> Imported:
    """Read the source document into the plan, the proposals and what to review. Raises InvalidInput
    when the document holds no plan (no table, an unreadable file)."""
    doc = lay_out(read_document(source), columns, year)
    known = load_registry(registry)
    return _Builder(doc, known, year, source.name).build(plan_id, timezone)


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
    imported = import_plan(source, registry, year, plan_id, timezone, columns)
    if proposals is not None:
        proposals.extend(imported.proposals)
    return render_yaml(imported.document, source.name)
