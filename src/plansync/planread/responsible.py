"""Read a «Ответственный» / «Исполнители» / «Организаторы» cell: which parts name organizations and which
name people, positions, departments and phones (the event's contact). The cell is cut at commas,
semicolons, line breaks and at «и» before a new name, never inside quotes or brackets: «Центр чтения и
информации и ГБУК «…»» is two organizations, «ГБУК «… им. В. и Л. Сидоровых»» one."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from plansync.planread.proposals import LEGAL_FORMS

# A person written with initials: «Смирнова Е.А.», «Е.А. Смирнова», «Смирнова Е. А.»
_PERSON_RE = re.compile(
    r"[А-ЯЁ][а-яё]+(?:-[А-ЯЁ][а-яё]+)?\s+[А-ЯЁ]\.\s?(?:[А-ЯЁ]\.)?"
    r"|[А-ЯЁ]\.\s?(?:[А-ЯЁ]\.\s?)?[А-ЯЁ][а-яё]+(?:-[А-ЯЁ][а-яё]+)?"
)
_PHONE_RE = re.compile(r"(?:\+7|8)?[\s(-]*\d[\d\s()\-–]{4,}\d|\bтел\b|телефон|\bт\.\s*\d", re.IGNORECASE)
_EMAIL_RE = re.compile(r"[^\s,;<>:]+@[^\s,;<>]+")
# the first word of a position or a department of the plan's own library: contact, not organizer
_POSITION_RE = re.compile(
    r"^(?:зав\b|заведующ|зам\b|заместител|директор|руководител|начальник|методист|гл\b|главн|ведущ|"
    r"библиотекар|библиограф|специалист|консультант|куратор|координатор|педагог|сотрудник|коллектив|"
    r"отдел\b|отдела\b|отделы\b|сектор|служб|кабинет|нмо\b|омо\b|имо\b|омр\b|инмо\b)",
    re.IGNORECASE,
)
_ORGANIZATION_RE = re.compile(
    r"библиотек|цбс|мцб|црб|цдб|црдб|цгб|мбук|гбук|мкук|гкук|гаук|маук|огбук|кгбук|гук\b|муниципальн|"
    r"министерств|управлени|комитет|департамент|администраци|центр|музе|дом\b|дворец|клуб|школ|"
    r"колледж|университет|институт|училищ|академи|фонд|ассоциаци|союз|общество|редакци|издательств|"
    r"театр|филармони|архив|учреждени|организаци|гимнази|лице[йя]|проектный офис|партнер|партнёр",
    re.IGNORECASE,
)
# a department of the plan's own library is a contact; a department of a government is an organization
_DEPARTMENT_RE = re.compile(r"(?<!\w)(?:отдел\w*|сектор\w*|служб[аы])(?!\w)", re.IGNORECASE)
_AUTHORITY_RE = re.compile(r"администраци|управлени|министерств|комитет|департамент|культуры", re.IGNORECASE)
# a person an organization is named after, and whatever is quoted, are part of the name
_NAMED_AFTER_RE = re.compile(r"(?:\bим\.|\bимени)\s*(?:[А-ЯЁ]\.\s?){0,2}[А-ЯЁ]?[а-яё-]*", re.IGNORECASE)
_QUOTED_RE = re.compile(r"«[^»]*»|\"[^\"]*\"|“[^”]*”")
# an organization written as a legal form and its name in quotes: ГБУК «…», МБУК «… ЦБС»
NAMED_ORGANIZATION_RE = re.compile(
    r"(?<![А-ЯЁA-Z])(?:"
    + "|".join(sorted((f.upper() for f in LEGAL_FORMS), key=len, reverse=True))
    + r")(?:[\s–—-]+[А-ЯЁ][А-ЯЁа-яё]{1,15}){0,3}\s+(?:«(?:[^«»]|«[^«»]*»)+»|\"[^\"]+\"|“[^”]+”)"
)
_ABBREVIATION_END_RE = re.compile(r"(?:^|[\s.])(?:[А-ЯЁA-Z]|им|г|ул|д|с|п|пос|обл|р-на)\.$")
_ACRONYM_RE = re.compile(r"^[А-ЯЁA-Z]{2,8}(?:\s+[А-ЯЁ][а-яё]+)?$")
_AGREED_RE = re.compile(r"\s*\((?:по\s+согласованию|по\s+согл\.?|по\s+договор\w*)\)\s*$", re.IGNORECASE)
_BRACKETS_RE = re.compile(r"\s*\(([^()]*)\)")
# «Все библиотеки ЦБС», «все филиалы»: the system that issued the plan
_EVERYONE_RE = re.compile(
    r"^(?:все|всех|всем)\s+(?:библиотек|филиал|структурн|подразделени|отдел)", re.IGNORECASE
)
# «Министерство культуры, по делам национальностей и архивного дела»: a comma before these words is
# inside a name
_JOINING_WORDS = frozenset({"по", "в", "на", "для", "при", "и", "им", "имени", "с", "о", "об", "г"})
_OPENERS, _CLOSERS = '«“„("', '»”)"'


@dataclass
class Responsible:
    """The organizations a cell names (as written) and what is left for the contact; `everyone` when
    it names all the libraries of the plan's issuer («Все библиотеки ЦБС»)."""

    organizations: list[str] = field(default_factory=list)
    contact: str | None = None
    everyone: bool = False


def _top_level(text: str) -> list[bool]:
    """For each character, whether it stands outside quotes and brackets."""
    outside: list[bool] = []
    depth = 0
    quote_open = False  # a straight quote opens and closes
    for char in text:
        if char == '"':
            quote_open = not quote_open
        elif char in _OPENERS:
            depth += 1
        elif char in _CLOSERS:
            depth = max(0, depth - 1)
        outside.append(depth == 0 and not quote_open and char not in _OPENERS + _CLOSERS)
    return outside


def cuts(text: str) -> list[str]:
    """The cell cut at commas and semicolons outside quotes and brackets."""
    top = _top_level(text)
    parts: list[str] = []
    start = 0
    for index, char in enumerate(text):
        if char in ",;" and top[index]:
            parts.append(text[start:index])
            start = index + 1
    parts.append(text[start:])
    merged: list[str] = []
    for part in (p.strip() for p in parts):
        first = part.split(" ", 1)[0].lower().rstrip(".")
        if merged and first in _JOINING_WORDS:
            merged[-1] = f"{merged[-1]}, {part}"
        elif part:
            merged.append(part)
    return merged


def _and_cuts(text: str) -> list[str]:
    """A part cut at « и » where a new name begins (a capital letter, a legal form or a quote) outside
    quotes and brackets; «Центр чтения и информации» stays whole."""
    top = _top_level(text)
    pieces: list[str] = []
    start = 0
    for index in range(len(text) - 3):
        if (
            index >= start
            and top[index]
            and text.startswith(" и ", index)
            and (text[index + 3].isupper() or text[index + 3] in '«"“')
            and is_organization(text[start:index])
        ):
            pieces.append(text[start:index])
            start = index + 3
    pieces.append(text[start:])
    return [p.strip() for p in pieces if p.strip()]


def is_contact(part: str) -> bool:
    if _PHONE_RE.search(part) or _EMAIL_RE.search(part):
        return True
    bare = _NAMED_AFTER_RE.sub(" ", _QUOTED_RE.sub(" ", part)).strip()
    if _PERSON_RE.search(bare):
        return True
    if _AUTHORITY_RE.search(bare):  # «Отдел культуры администрации района» organizes
        return False
    return bool(_POSITION_RE.match(bare) or _DEPARTMENT_RE.search(bare))


def _trimmed(piece: str, organization: bool) -> str:
    """Without the punctuation around it; an organization also without a closing full stop, unless it
    ends an abbreviation («г.», an initial)."""
    piece = piece.strip().strip(",;:").strip()
    if organization and piece.endswith(".") and not _ABBREVIATION_END_RE.search(piece):
        piece = piece[:-1].rstrip()
    return piece


def is_organization(part: str) -> bool:
    return bool(_ORGANIZATION_RE.search(part) or _ACRONYM_RE.match(part.strip()))


def _bracketed_contacts(piece: str, contact: list[str]) -> str:
    """«Библиотека-филиал с. Ыб (Иванова А.А.)»: a person or phone in brackets goes to the contact."""
    if not is_organization(_BRACKETS_RE.sub("", piece)):
        return piece
    for inner in _BRACKETS_RE.findall(piece):
        if is_contact(inner):
            contact.append(inner.strip())
            piece = piece.replace(f"({inner})", "").strip()
    return " ".join(piece.split())


def read_responsible(text: str, known: list[str] | None = None) -> Responsible:
    """Split the cell into organizations and the contact. `known` are names (known organizations and
    their aliases, in the cell's spelling) that are organizations whatever they look like."""
    known_forms = {" ".join(k.casefold().split()) for k in known or ()}
    found = Responsible()
    contact: list[str] = []
    for line in text.split("\n"):
        for part in cuts(line):
            for written in _and_cuts(part) if not is_contact(part) else [part]:
                piece = _bracketed_contacts(_AGREED_RE.sub("", written).strip(), contact)
                if not _trimmed(piece, False):
                    continue
                if _EVERYONE_RE.match(piece):
                    found.everyone = True
                elif " ".join(_trimmed(piece, True).casefold().split()) in known_forms:
                    found.organizations.append(_trimmed(piece, True))
                elif is_contact(piece) or (not is_organization(piece) and piece[:1].islower()):
                    contact.append(_trimmed(piece, False))
                else:
                    found.organizations.append(_trimmed(piece, True))
    found.contact = ", ".join(contact) or None
    return found
