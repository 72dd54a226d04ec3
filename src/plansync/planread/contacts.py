"""Read the contacts a plan gives outside its table: an organization's name on a line of its own and
«Тел.: …, e-mail: …» on the next, or all in one paragraph («Контактная информация: ГБУК «…», тел.: …,
e-mail: …»), with the short name in brackets when the plan gives one («… (МЦБ): тел. …»). A line with a
phone or an e-mail that names no organization is reported, never dropped silently."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from plansync.planread.planfile import EMAIL_RE, PHONE_RE
from plansync.planread.responsible import NAMED_ORGANIZATION_RE, cuts, is_contact, is_organization
from plansync.planread.review import ReviewItem

# a phone number: «8 (8172) 72-33-40», «+7 (3467) 33-22-11», «8-800-100-00-00», «72-33-41»
_PHONE_NUMBER_RE = re.compile(
    r"(?:\+7|(?<!\d)8)[\s-]*\(?\d{3,5}\)?[\s-]*\d{1,3}(?:[\s–-]*\d{2}){2}(?!\d)"
    r"|\(\d{3,5}\)\s*\d{1,3}(?:[\s–-]*\d{2}){2}(?!\d)"
    r"|(?<![\d.(])\d{1,3}(?:[–-]\d{2}){2}(?![\d-])"
)
# after «тел.» any number is a phone, however short: «Тел.: 1-23»
_MARKED_PHONE_RE = re.compile(
    r"(?<!\w)(?:тел(?:ефон\w*)?|т)\.?\s*:?\s*(?P<number>[+\d(][\d()\s+–-]*\d)", re.IGNORECASE
)
_EMAIL_FIND_RE = re.compile(r"[\w.%+-]+@[\w-]+(?:\.[\w-]+)*\.[^\W\d_]{2,}")
_FAX_RE = re.compile(
    r"(?<!тел\.)(?<!тел)(?<!тел\./)(?<!тел/)(?<!тел\. /)\bфакс\W*$", re.IGNORECASE
)  # not «тел./факс»
# what may stand between the phones and e-mails of one organization
_BETWEEN_RE = re.compile(
    r"^(?:[\s,;:./|•·]|факс\w*\.?\s*:?\s*[\d\s()+–-]*|тел\w*|т\b|моб\w*|e-?mail|эл\w*|почт\w*|электронн\w*|адрес\w*|доб\.?\s*\d+)*$",
    re.IGNORECASE,
)
_HEADING_RE = re.compile(
    r"^\s*(?:контакт\w*(?:\s+(?:информаци\w*|данные|телефоны))?|для\s+справок|справки|адрес\w*)\s*[:.-]?\s*",
    re.IGNORECASE,
)
_MARKER_END_RE = re.compile(
    r"(?:[\s,;:–—-]|тел\w*\.?|т\.|e-?mail|эл\.?\s*почт\w*|электронн\w*\s*почт\w*)+$", re.IGNORECASE
)
_SHORT_RE = re.compile(r"\s*\(([А-ЯЁA-Z][А-ЯЁA-Z0-9-]{1,11})\)\s*$")


@dataclass
class SourceContact:
    line: int
    name: str
    phones: list[str]
    emails: list[str]
    short: str | None = None  # the short name the plan gives in brackets: «… (МЦБ)»
    text: str = ""  # the line as written, for a contact that names no organization (name "")


@dataclass
class Contacts:
    found: list[SourceContact] = field(default_factory=list)
    review: list[ReviewItem] = field(default_factory=list)


def _values(line: str) -> list[tuple[int, int, list[str], list[str]]]:
    """The phones and e-mails of a line, grouped by organization: (start, end, phones, e-mails) of each
    run of values with only separators and marker words between them."""
    phones = [m.span() for m in _PHONE_NUMBER_RE.finditer(line) if not _FAX_RE.search(line[: m.start()])]
    marked = [m.span("number") for m in _MARKED_PHONE_RE.finditer(line)]
    phones += [span for span in marked if not any(s <= span[0] < e for s, e in phones)]
    spans = sorted(
        [(start, end, "phone") for start, end in phones]
        + [(m.start(), m.end(), "email") for m in _EMAIL_FIND_RE.finditer(line)]
    )
    groups: list[tuple[int, int, list[str], list[str]]] = []
    for start, end, kind in spans:
        if groups and start < groups[-1][1]:
            continue  # a phone inside an e-mail address
        value = line[start:end].strip()
        if groups and _BETWEEN_RE.match(line[groups[-1][1] : start]):
            first, _, numbers, emails = groups[-1]
            groups[-1] = (first, end, numbers, emails)
        else:
            groups.append((start, end, [], []))
        (groups[-1][2] if kind == "phone" else groups[-1][3]).append(value)
    return groups


def _name(text: str) -> tuple[str, str | None]:
    """The organization named in the text before its phones: without the contacts heading and marker
    words, the organization among people and positions («Контактное лицо: Смирнова Е.А., …, ГБУК
    «…»»), and its short name in brackets."""
    text = _MARKER_END_RE.sub("", _HEADING_RE.sub("", text)).strip().strip(",;:–—-").strip()
    if not text:
        return "", None
    pieces = [p for p in cuts(text) if is_organization(p) and not is_contact(p)]
    named = NAMED_ORGANIZATION_RE.search(text)
    name = pieces[0] if pieces else named.group() if named else ""
    name = _ADDRESS_TAIL_RE.split(name)[0].strip().strip(",;:–—-").strip()
    short = _SHORT_RE.search(name)
    if short is not None:
        return name[: short.start()].strip(), short[1]
    return name, None


_ADDRESS_TAIL_RE = re.compile(r",\s*(?=(?:г\.|ул\.|пр\.|просп|пл\.|д\.|\d{6}))")
_ADDRESS_RE = re.compile(
    r"(?<!\w)(?:ул\.|улица|пр\.|просп|пл\.|д\.|г\.|адрес)|(?<!\d)\d{6}(?!\d)", re.IGNORECASE
)


def _own(said: str) -> bool:
    """What stands before phones that name no organization says they are the plan's own library's:
    nothing, a department, a person or position, or an address."""
    return not said or is_contact(said) or bool(_ADDRESS_RE.search(said))


def read_contacts(lines: list[tuple[int, str]]) -> Contacts:
    """The contacts in the lines outside the plan's table (each with its position for messages)."""
    out = Contacts()
    previous: tuple[int, str] | None = None
    for where, raw in lines:
        line = " ".join(raw.split())
        if not line:
            continue
        groups = _values(line)
        if not groups:
            previous = (where, line) if _HEADING_RE.sub("", line).strip() else None
            continue
        before = 0
        for start, end, phones, emails in groups:
            said = _MARKER_END_RE.sub("", _HEADING_RE.sub("", line[before:start])).strip().strip(",;:–—-")
            name, short = _name(line[before:start])
            before = end
            if not name and not said and previous is not None and is_organization(previous[1]):
                name, short = _name(previous[1]) if _name(previous[1])[0] else (previous[1], None)
            elif not name and not said and out.found and not phones and not out.found[-1].emails:
                out.found[-1].emails = emails  # «e-mail: …» on a line after the phones
                continue
            if not name and _own(said):  # the plan's own library's: its department, address or person
                out.found.append(SourceContact(where, "", phones, emails, text=line))
                continue
            if not name:
                out.review.append(
                    ReviewItem(
                        "contacts",
                        f"line {where}",
                        f"«{line}» names no organization for {', '.join(phones + emails)}; left out "
                        "(put the organization's name before it)",
                    )
                )
                continue
            good_phones = [p for p in phones if PHONE_RE.fullmatch(p)]
            good_emails = [e for e in emails if EMAIL_RE.fullmatch(e) and len(e) <= 254]
            for bad in [p for p in phones if p not in good_phones] + [
                e for e in emails if e not in good_emails
            ]:
                out.review.append(
                    ReviewItem("contacts", f"line {where}", f"«{bad}» cannot be read; left out")
                )
            if good_phones or good_emails:
                out.found.append(SourceContact(where, name, good_phones, good_emails, short))
        previous = None
    return out
