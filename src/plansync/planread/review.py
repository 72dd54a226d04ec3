"""What an import leaves for a person to look at: each item names the source row as a person counts it
(«row 14 (№ 2.3)»), what is there and what the import did about it. Nothing here stops an import; the
summary lists the items and the exit status says whether there are any."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Kind = Literal[
    "date",  # a date that cannot be read: kept as text, the event is `date_known: false`
    "undated",  # a date cell that names no date («по согласованию»): `date_known: false`
    "split",  # a cell of several events, made one event each
    "whole",  # a cell that looks like several events, kept as one
    "organizer",  # an organizer the registry does not know, or none named
    "contacts",  # a contacts line that cannot be read
    "number",  # a number cell that is no row number
    "title",  # no title line found
]
# the order the summary lists them in, with a heading each
HEADINGS: tuple[tuple[Kind, str], ...] = (
    ("date", "dates that cannot be read (kept as text, `date_known: false`)"),
    ("undated", "events without a date (`date_known: false`)"),
    ("whole", "cells that look like several events, kept as one"),
    ("split", "cells split into several events"),
    ("organizer", "organizers to review"),
    ("contacts", "contacts that cannot be read"),
    ("number", "row numbers that are not numbers"),
    ("title", "the plan's title"),
)


@dataclass(frozen=True)
class ReviewItem:
    kind: Kind
    where: str  # «row 14 (№ 2.3)», «line 3» (the text outside the table), «contacts»
    message: str  # what is there and what the import did

    def line(self) -> str:
        return f"{self.where}: {self.message}"


def row_place(table: int, row: int, number: str | None, *, several_tables: bool, word: str = "row") -> str:
    """«row 14 (№ 2.3)»: the row as a person counts it in the table, with its number when it has one."""
    place = f"table {table}, {word} {row}" if several_tables else f"{word} {row}"
    return f"{place} (№ {number})" if number else place


def summary(items: list[ReviewItem], limit: int = 20) -> list[str]:
    """The lines of the summary: each kind under its heading with its count, at most `limit` items a
    kind (then how many more)."""
    lines: list[str] = []
    for kind, heading in HEADINGS:
        mine = [item for item in items if item.kind == kind]
        if not mine:
            continue
        lines.append(f"{len(mine)} {heading}:")
        lines.extend(f"  {item.line()}" for item in mine[:limit])
        if len(mine) > limit:
            lines.append(f"  … and {len(mine) - limit} more")
    return lines
