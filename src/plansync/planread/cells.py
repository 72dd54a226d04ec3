"""Read the lines of one table cell the way plans write them: the items of a list (a heading line, then
lines marked as list items or with «·», «–», «1)»), a date over several lines, and a date and a place
in one cell. Pure: lines in, text out."""

from __future__ import annotations

import re
from dataclasses import dataclass

from plansync.planread.dates import DateReadError, read_date

Line = tuple[str, bool]  # a line's text and whether the document marks it as a list item
# what starts a list item typed by hand: a bullet or dash, or «1)», «2.», «а)» before a word
_MARKER_RE = re.compile(
    r"^\s*(?:(?P<bullet>[·•●◦▪■□➢➤►✓✔*]+)\s*|(?P<dash>[-–—]+)\s*|\(?(?P<bracket>\d{1,2}|[а-яa-z])\)\s+"
    r"|(?P<dot>\d{1,2})\.\s+(?=\D))"
)


@dataclass(frozen=True)
class Items:
    """A cell read as a list: the heading before the items (empty when there is none) and the items."""

    heading: str
    items: list[str]


def strip_marker(text: str) -> str:
    return _MARKER_RE.sub("", text, count=1).strip()


def item_kind(line: Line) -> str | None:
    """How a line is marked as a list item: by the document, or by a typed bullet, dash, «1)» or
    «1.»; None for a line that is no item."""
    text, listed = line
    if listed:
        return "listed"
    match = _MARKER_RE.match(text)
    return match.lastgroup if match is not None else None


def items_of(lines: list[Line]) -> Items | None:
    """The cell as a heading and two or more items, or None when it is no list. The items are the
    lines marked the way most marked lines are; an unmarked line after an item goes on with it (its
    form on a line of its own: «Была весна…»: / «цикл громких чтений»); what stands before the first
    item is the heading («1. Программа «Лето»:» over «·» items)."""
    kinds = [item_kind(line) for line in lines]
    marked = [kind for kind in kinds if kind is not None]
    if len(marked) < 2:
        return None
    kind = max(dict.fromkeys(reversed(marked)), key=marked.count)  # the commonest; a tie: the last
    first = kinds.index(kind)
    items: list[str] = []
    for (text, _), line_kind in zip(lines[first:], kinds[first:], strict=True):
        if line_kind == kind:
            items.append(strip_marker(text))
        else:
            items[-1] = f"{items[-1]} {strip_marker(text)}".strip()
    if len(items) < 2 or not all(items):
        return None
    return Items(" ".join(text for text, _ in lines[:first]), items)


def joined_items(found: Items) -> str:
    """A list kept as one text: «Круглый стол «…»: для школьных библиотекарей; для родителей»."""
    body = "; ".join(item.rstrip(";,.") for item in found.items[:-1]) + "; " + found.items[-1]
    return f"{found.heading} {body}".strip()


def reads(text: str, year: int) -> bool:
    """The text is a date the reader understands (a cell that names no date does not count)."""
    try:
        read_date(text, year)
    except DateReadError:
        return False
    return True


def join_date(lines: list[str], year: int) -> str:
    """A date written over several lines as one line: «15 марта» + «11:00», «1 –» + «5 июля», «июнь» +
    «(по заявкам)» with a space; lines that are dates each («март» + «октябрь») with a comma. When
    neither reads, the lines with spaces (the caller reports the date)."""
    if len(lines) <= 1:
        return lines[0] if lines else ""
    spaced = " ".join(lines)
    listed = ", ".join(line.rstrip(",;") for line in lines)
    if all(reads(line, year) for line in lines) and reads(listed, year):
        return listed
    return spaced


def _meaning(text: str, year: int) -> tuple[object, ...] | None:
    """What a date says, without its note: lines that only add a note add nothing to it."""
    try:
        r = read_date(text, year)
    except DateReadError:
        return None
    return (r.start, r.end, r.time, r.end_time, r.rrule, r.deadline)


def _has_note(text: str, year: int) -> bool:
    try:
        return read_date(text, year).note is not None
    except DateReadError:
        return False


def _date_lines(lines: list[str], year: int) -> int:
    """How many of the first lines make the date: each one must add to what the ones before say."""
    best, meaning = 0, None
    for count in range(1, len(lines) + 1):
        found = _meaning(join_date(lines[:count], year), year)
        if found is None and best:
            break
        if found is not None and found != meaning:
            best, meaning = count, found
        elif found is not None:
            break
    return best


def split_when_where(lines: list[str], year: int) -> tuple[str, str]:
    """A cell of «Дата и место проведения»: the date (the first lines, as far as they add to it) and
    the place (the rest). One line is cut at its commas the same way: «15.03.2025, г. Лесной, ЦБ»; a
    cell with the place first («Место и время проведения») is read from its end."""
    if len(lines) == 1:
        words = lines[0].split(" ")
        date, meaning = "", None
        for count in range(1, len(words) + 1):  # the first words, as far as they are the date
            prefix = " ".join(words[:count]).rstrip(",;")
            found = _meaning(prefix, year)
            town = words[count - 1].rstrip(",") in ("г.", "г") and count < len(words)  # «г. Приморск»
            if found is not None and not town and (found != meaning or not _has_note(prefix, year)):
                date, meaning = prefix, found
            elif meaning is not None and found is None and words[count - 1].endswith(","):
                break
        if date:
            return date, lines[0][len(date) :].strip(" ,;")
        return lines[0], ""
    count = _date_lines(lines, year)
    if count:
        return join_date(lines[:count], year), " ".join(lines[count:])
    for cut in range(1, len(lines)):  # the place first
        if _meaning(join_date(lines[cut:], year), year) is not None:
            return join_date(lines[cut:], year), " ".join(lines[:cut])
    return lines[0], " ".join(lines[1:])
