"""Find the plan in a read document: the title, the table by its header row, each column's role by
its header words (or as given by hand), section headings (rows that span the table), event rows and
rows that continue them, and the contacts block wherever it stands."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from plansync.errors import InvalidInput, Problem, UsageError
from plansync.planread.sources.model import Cell, Document, Row, Run, Table, TextBlock, flat

ROLES = ("number", "title", "form", "date", "time", "organizers", "place", "notes")
REQUIRED = ("title", "date", "organizers")
# Checked in order, on the header cell in lower case: «Наименование мероприятия (форма и название)» is
# the title, «Дата и время» the date, «Организаторы мероприятия» the organizers.
_ROLE_WORDS: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (role, re.compile(pattern))
    for role, pattern in (
        ("number", r"^\s*(?:№|n\b|номер|п/п|#)"),
        ("title", r"наименовани|названи"),
        ("date", r"дата|даты|срок|период"),
        ("time", r"время"),
        ("form", r"форма"),
        ("organizers", r"организатор|ответственн|исполнител|проводит"),
        ("place", r"место"),
        ("notes", r"примечани|комментари|отметк"),
        ("title", r"мероприяти|тема|содержание"),
    )
)
# roles a table may give several columns («Сроки проведения» and «Дата и время»; «Ответственные» and
# «Исполнители»): a row's filled cells of the role are read together
_SEVERAL = frozenset({"date", "organizers", "place", "notes"})
MAX_HEADER_CHARS = 120
MAX_PROBLEMS = 50  # a document read with the wrong columns would report every row
_NUMBER_RE = re.compile(r"(\d{1,5})\.?")
_HEADING_RE = re.compile(
    r"^(?:[ivx]+\.?\s*)?(?:январь|февраль|март|апрель|май|июнь|июль|август|сентябрь|октябрь|ноябрь|декабрь"
    r"|[ivx1-4]+\s*(?:-?й\s*)?(?:квартал|полугодие)|в течение (?:всего )?года|весь год|ежемесячно"
    r"|постоянно|в течение года)\b",
    re.IGNORECASE,
)
_PHONE_LINE_RE = re.compile(
    r"^\s*(?:тел(?:ефон)?|т)\.?\s*:?\s*(?P<phones>[^@]*?)(?:[,;]?\s*e-?mail\s*:?\s*(?P<emails>.*))?$",
    re.IGNORECASE,
)
_EMAIL_LINE_RE = re.compile(r"^\s*e-?mail\s*:?\s*(?P<emails>.*)$", re.IGNORECASE)
_EMAIL_RE = re.compile(r"[^\s,;<>:]+@[^\s,;<>]+")
_CONTACTS_HEADING_RE = re.compile(r"^\s*контакт\w*\s+информаци\w*\s*:?\s*$", re.IGNORECASE)
_PLAN_WORD_RE = re.compile(r"план", re.IGNORECASE)


@dataclass
class SourceRow:
    line: int
    number: int
    title: list[Run]
    date: str
    organizers: str
    form: str | None = None  # from a form column; else the title's italic runs say it
    notes: str | None = None  # place and notes columns


@dataclass
class SourceSection:
    line: int
    heading: str | None
    rows: list[SourceRow] = field(default_factory=list)


@dataclass
class SourceContact:
    line: int
    name: str
    phones: list[str]
    emails: list[str]


@dataclass
class SourceDoc:
    title: str
    sections: list[SourceSection]
    contacts: list[SourceContact]


Columns = dict[str, list[int]]  # role → the grid columns (0-based) it is read from


def parse_columns(spec: str) -> Columns:
    """`--columns number=1,title=2,date=3,organizers=4` (columns counted from 1)."""
    columns: Columns = {}
    for part in filter(None, (p.strip() for p in spec.split(","))):
        role, sep, index = part.partition("=")
        role = role.strip().lower()
        if not sep or role not in ROLES or not index.strip().isdigit() or int(index) < 1:
            raise UsageError(
                f"--columns: cannot read '{part}'; write ROLE=COLUMN pairs with columns counted from 1, "
                f"e.g. number=1,title=2,date=3,organizers=4 (roles: {', '.join(ROLES)})"
            )
        columns.setdefault(role, []).append(int(index) - 1)
    missing = [r for r in REQUIRED if r not in columns]
    if missing:
        raise UsageError(f"--columns: say which column holds the {', '.join(missing)}")
    return columns


def role_of(header: str) -> str | None:
    text = " ".join(header.lower().split())
    for role, regex in _ROLE_WORDS:
        if regex.search(text):
            return role
    return None


def _grid(row: Row) -> list[Cell | None]:
    """The row's cells by grid column: a merged cell stands in its first column, None in the others."""
    grid: list[Cell | None] = []
    for cell in row.cells:
        grid.append(cell)
        grid.extend([None] * (max(cell.span, 1) - 1))
    return grid


def header_columns(row: Row) -> Columns | None:
    """The column roles when the row is a header row (it names at least a title and a date)."""
    columns: Columns = {}
    unknown = 0
    for index, cell in enumerate(_grid(row)):
        text = cell.text() if cell is not None else ""
        if len(text) > MAX_HEADER_CHARS or _NUMBER_RE.fullmatch(text):
            return None  # an event row that happens to say «период» or «название»
        role = role_of(text) if text else None
        unknown += bool(text) and role is None
        if role is not None and not (role in columns and role not in _SEVERAL):
            columns.setdefault(role, []).append(index)
    if unknown > 1 or "title" not in columns or "date" not in columns:
        return None
    return columns


class _Layout:
    def __init__(self, doc: Document, columns: Columns | None) -> None:
        self.doc = doc
        self.file = doc.file
        self.given = columns if columns is not None else doc.columns
        self.columns = self.given
        self.problems: list[Problem] = []
        self.sections: list[SourceSection] = []
        self.last_row: SourceRow | None = None
        self.last_number = 0
        self.plan_table_seen = False

    def problem(self, where: int, field_name: str, message: str, fix: str) -> None:
        self.problems.append(Problem(self.file, where, 1, field_name, message, fix))
        if len(self.problems) >= MAX_PROBLEMS:
            stop = "stopped after this many problems"
            hint = "check the columns (--columns) and fix these first"
            raise InvalidInput([*self.problems, Problem(self.file, where, 1, "(file)", stop, hint)])

    def read(self) -> SourceDoc:
        title: str | None = None
        lines: list[tuple[int, str]] = []  # text outside the plan table, for the contacts
        for block in self.doc.blocks:
            if isinstance(block, TextBlock):
                if title is None and not self.plan_table_seen and _PLAN_WORD_RE.search(block.text):
                    title = " ".join(block.text.split())
                    continue
                lines.extend((block.where, line) for line in block.text.splitlines())
            elif not self.table(block):
                lines.extend(
                    (row.where, cell.text()) for row in block.rows for cell in row.cells if cell.text()
                )
        if title is None:  # no line says «план»: the first line before the table
            first = next((b for b in self.doc.blocks if isinstance(b, TextBlock) and b.text.strip()), None)
            if first is not None and first.where <= min(
                (r.where for b in self.doc.blocks if isinstance(b, Table) for r in b.rows[:1]),
                default=first.where,
            ):
                title = " ".join(first.text.split())
                lines = [(w, t) for w, t in lines if not (w == first.where and t in first.text)]
        if title is None:
            self.problem(
                1, "title", "no title line before the table", "put the plan's title on the first line"
            )
        if not self.plan_table_seen and self.given is None and not self.problems:
            self.problem(
                1,
                "table",
                "no table with a header row naming the title and the date columns",
                "give the columns by hand with --columns, e.g. number=1,title=2,date=3,organizers=4",
            )
        contacts = self.contacts(lines)
        if self.problems:
            raise InvalidInput(self.problems)
        assert title is not None
        return SourceDoc(title, [s for s in self.sections if s.rows], contacts)

    # -- the table

    def table(self, table: Table) -> bool:
        """Read a table of the plan; False when it is some other table."""
        used = False
        for row in table.rows:
            header = header_columns(row)
            if header is not None:
                if self.given is None:
                    self.columns = header
                used = self.plan_table_seen = True
                continue
            if self.columns is None:
                continue
            if not used and not self.plan_table_seen and self.given is None:
                continue
            used = self.plan_table_seen = True
            self.row(row, self.columns)
        return used

    def row(self, row: Row, columns: Columns) -> None:
        grid = _grid(row)
        texts = [cell.text() if cell is not None else "" for cell in grid]
        filled = [t for t in texts if t]
        if not filled:
            return
        if all(t == str(i + 1) for i, t in enumerate(texts) if t) and len(filled) > 1:
            return  # «1 2 3 4»: the columns numbered under the header
        number_cells = [grid[i] for i in columns.get("number", []) if i < len(grid)]
        number_cell = number_cells[0] if number_cells else None
        number_text = number_cell.text() if number_cell is not None else ""
        spanning = len(filled) == 1 and (len(row.cells) == 1 or any(c.span > 1 for c in row.cells))
        lone_heading = len(filled) == 1 and not number_text and bool(_HEADING_RE.match(filled[0]))
        if spanning or lone_heading:
            self.sections.append(SourceSection(row.where, filled[0]))
            self.last_row = None
            return
        listed = number_cell is not None and number_cell.list_item
        if not number_text and not listed and "number" in columns:
            if self.last_row is None:
                self.problem(
                    row.where,
                    "row",
                    "a continuation row with no row above it",
                    "put a number in the first cell or join it to the row above",
                )
                return
            self._continue(self.last_row, grid, columns)
            return
        if number_text:
            match = _NUMBER_RE.fullmatch(number_text)
            if match is None:
                self.problem(
                    row.where,
                    "row",
                    f"the first cell «{number_text}» is not a row number",
                    "start each row with its number, like `1` or `1.`",
                )
                return
            number = int(match[1])
        else:  # an automatic list number, or a table without a number column
            number = self.last_number + 1
        values = {role: self._text(grid, columns, role) for role in ROLES}
        title = self._runs(grid, columns, "title")
        missing = [r for r in REQUIRED if not (flat(title) if r == "title" else values[r])]
        if missing:
            self.problem(
                row.where,
                "row",
                f"a row needs its {', '.join(missing)} filled",
                "fill these cells; a row broken across pages continues with an empty number cell",
            )
            return
        date = values["date"]
        if values["time"]:
            date = f"{date}, {values['time']}"
        notes = [f"Место проведения: {values['place']}" if values["place"] else "", values["notes"]]
        if not self.sections:
            self.sections.append(SourceSection(row.where, None))
        self.last_row = SourceRow(
            row.where,
            number,
            title,
            date,
            values["organizers"],
            form=values["form"] or None,
            notes="; ".join(n for n in notes if n) or None,
        )
        self.last_number = number
        self.sections[-1].rows.append(self.last_row)

    @staticmethod
    def _cells(grid: list[Cell | None], columns: Columns, role: str) -> list[Cell]:
        return [c for i in columns.get(role, []) if i < len(grid) and (c := grid[i]) is not None]

    def _text(self, grid: list[Cell | None], columns: Columns, role: str) -> str:
        cells = self._cells(grid, columns, role)
        if role == "organizers":  # one organization a paragraph, as a person lays them out
            return "\n".join(t for c in cells for p in c.paragraphs if (t := flat(p)))
        joiner = ", " if role == "date" else " "
        return joiner.join(t for c in cells if (t := c.text()))

    def _runs(self, grid: list[Cell | None], columns: Columns, role: str) -> list[Run]:
        runs: list[Run] = []
        for cell in self._cells(grid, columns, role):
            if runs:
                runs.append(Run(" "))
            runs.extend(cell.runs())
        return runs

    def _continue(self, row: SourceRow, grid: list[Cell | None], columns: Columns) -> None:
        """A cell broken across lines or pages continues in the next row: glue each piece to its column."""
        title = self._runs(grid, columns, "title")
        if flat(title):
            row.title = [*_unclose(row.title, flat(title)), Run(" "), *title]
        date = self._text(grid, columns, "date")
        if date:
            row.date = f"{row.date} {date}"
        organizers = self._text(grid, columns, "organizers")
        if organizers:
            row.organizers = (
                f"{row.organizers} {organizers}"
                if "\n" not in organizers
                else f"{row.organizers}\n{organizers}"
            )

    # -- contacts

    def contacts(self, lines: list[tuple[int, str]]) -> list[SourceContact]:
        """An organization's name on the line before its «Тел.: …, e-mail: …» line."""
        contacts: list[SourceContact] = []
        previous: tuple[int, str] | None = None
        for where, raw in lines:
            line = " ".join(raw.split())
            if not line or _CONTACTS_HEADING_RE.match(line):
                previous = None  # «Контактная информация:» names no organization
                continue
            email_only = _EMAIL_LINE_RE.match(line)
            phone = None if email_only else _PHONE_LINE_RE.match(line)
            if phone is not None or email_only is not None:
                match = phone or email_only
                assert match is not None
                emails = _EMAIL_RE.findall(match["emails"] or "")
                phones = [p.strip() for p in re.split(r"[,;]", phone["phones"]) if p.strip()] if phone else []
                if previous is not None:
                    contacts.append(SourceContact(previous[0], previous[1], phones, emails))
                elif contacts and email_only and not contacts[-1].emails:
                    contacts[-1].emails = emails
                else:
                    self.problem(
                        where,
                        "contacts",
                        "a phone/e-mail line without an organization above it",
                        "put the organization's name on the line before",
                    )
                previous = None
                continue
            previous = (where, line)
        return contacts


def _unclose(before: list[Run], continuation: str) -> list[Run]:
    """The conversion that broke a cell also closed its quotation early: «…пользователями»
    + «библиотеки»». When the continuation closes a quote it never opened, the quote above was
    closed too soon, so drop that early closing mark."""
    text = "".join(r.text for r in before).rstrip()
    if continuation.count("»") > continuation.count("«") and text.endswith("»"):
        runs = list(before)
        while runs and not runs[-1].text.strip():
            runs.pop()
        last = runs[-1]
        runs[-1] = Run(last.text.rstrip()[:-1], last.italic)
        return runs
    return before


def lay_out(doc: Document, columns: Columns | None = None) -> SourceDoc:
    return _Layout(doc, columns).read()
