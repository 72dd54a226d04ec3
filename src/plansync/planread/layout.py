"""Find the plan in a read document: the title, the table by its header row, each column's role by its
header words (or as given by hand), merged cells given to every row they cover, header rows repeated on
each page and rows numbering the columns skipped, section headings (rows that span the table, a lone
month, «I. Методическая работа» in the number and title cells), event rows numbered «1», «1.1», «II.1»
and rows that continue them, cells of several events, and the contacts wherever they stand.

Nothing a person can fix in the plan file stops the layout: what needs a look is a ReviewItem."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from plansync.errors import InvalidInput, Problem, UsageError
from plansync.planread.cells import Items, items_of, join_date, joined_items, reads, split_when_where
from plansync.planread.contacts import SourceContact, read_contacts
from plansync.planread.review import ReviewItem, row_place
from plansync.planread.sources.model import Cell, Document, Row, Run, Table, TextBlock, flat

__all__ = [
    "REQUIRED",
    "ROLES",
    "Columns",
    "SourceContact",
    "SourceDoc",
    "SourceRow",
    "SourceSection",
    "header_columns",
    "lay_out",
    "parse_columns",
    "parse_number",
    "role_of",
]

ROLES = (
    "number", "title", "form", "date", "time", "when_where", "organizers", "contact", "place", "audience",
    "notes",
)  # fmt: skip
REQUIRED = ("title", "date")
# Checked in order, on the header cell in lower case: «Наименование мероприятия (форма и название)» is
# the title, «Дата и время» the date, «Дата и место проведения» the date with the place.
_ROLE_WORDS: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (role, re.compile(pattern))
    for role, pattern in (
        ("number", r"^\s*(?:№|n\b|no\b|номер|п/п|#)"),
        ("when_where", r"(?:дата|даты|срок|время).*мест|мест.*(?:дата|даты|срок|время)"),
        ("title", r"наименовани|названи"),
        ("date", r"дата|даты|срок|период|месяц|когда"),
        ("time", r"время"),
        ("form", r"форма|^вид\b"),
        ("organizers", r"организатор|ответственн|исполнител|проводит"),
        ("contact", r"контакт|телефон"),
        ("place", r"место|площадк"),
        ("audience", r"аудитори|участник|категори|читател|групп|для кого|слушател|возраст"),
        ("notes", r"примечани|комментари|отметк"),
        ("title", r"мероприяти|тема|содержание"),
    )
)
# roles a table may give several columns («Сроки проведения» and «Дата и время»; «Ответственные» and
# «Исполнители»): a row's filled cells of the role are read together
_SEVERAL = frozenset({"date", "when_where", "organizers", "contact", "place", "audience", "notes"})
MAX_HEADER_CHARS = 120
MAX_UNKNOWN_HEADERS = 3  # «Сумма, тыс. руб.», «Источник финансирования»: columns the plan does not need
_ROW_NUMBER_RE = re.compile(r"(?:[IVXLC]{1,7}|\d{1,5})(?:\.\d{1,4}){0,5}")
_LOOKALIKES = str.maketrans({"І": "I", "Х": "X", "С": "C", "Л": "L", "і": "I"})  # Cyrillic typed for Roman
_ROMAN_RE = re.compile(r"[IVXLC]{1,7}")
_HEADING_RE = re.compile(
    r"^(?:[ivx]+\.?\s*)?(?:январь|февраль|март|апрель|май|июнь|июль|август|сентябрь|октябрь|ноябрь|декабрь"
    r"|[ivx1-4]+\s*(?:-?й\s*)?(?:квартал|полугодие)|в течение (?:всего )?года|весь год|ежемесячно"
    r"|постоянно|в течение года)\b",
    re.IGNORECASE,
)
_PLAN_WORD_RE = re.compile(r"(?<![а-яё])план(?![а-яё])", re.IGNORECASE)
_YEAR_RE = re.compile(r"(?<!\d)(?:19|20)\d{2}(?!\d)")
_LIST_WORD_RE = re.compile(r"мероприяти|календар|перечень|график", re.IGNORECASE)
_APPROVAL_RE = re.compile(r"^\s*(?:утвержд|согласован|принят|приложение)", re.IGNORECASE)
MAX_TITLE_PARAGRAPHS = 4
MAX_TITLE_CHARS = 400


@dataclass
class SourceRow:
    line: int  # where the row is in the file, for file:line messages
    place: str  # the row as a person counts it: «row 14 (№ 2.3)»
    number: str | None  # as written, without the closing dot or bracket: «1.1», «II.1», «3»
    title: list[Run]
    date: str
    organizers: str  # the responsible cells, a line each of their paragraphs
    form: str | None = None  # from a form column; else the title's italic runs say it
    notes: str | None = None  # place, audience and notes columns, the heading of a split cell
    contact: str | None = None  # a contact column
    review: list[ReviewItem] = field(default_factory=list)


@dataclass
class SourceSection:
    line: int
    heading: str | None
    rows: list[SourceRow] = field(default_factory=list)


@dataclass
class SourceDoc:
    title: str
    sections: list[SourceSection]
    contacts: list[SourceContact]
    review: list[ReviewItem] = field(default_factory=list)  # the title and the contacts
    preamble: list[str] = field(default_factory=list)  # the text before the table, but the title


Columns = dict[str, list[int]]  # role → the grid columns (0-based) it is read from
_Line = tuple[str, bool]


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
    missing = [r for r in REQUIRED if r not in columns and not (r == "date" and "when_where" in columns)]
    if missing:
        raise UsageError(f"--columns: say which column holds the {', '.join(missing)}")
    return columns


def role_of(header: str) -> str | None:
    text = " ".join(header.lower().split())
    for candidate in (text, text.replace(" ", "")):  # «Ответстве нный»: a word broken in a narrow column
        for role, regex in _ROLE_WORDS:
            if regex.search(candidate):
                return role
    return None


def parse_number(text: str) -> str | None:
    """The row number as written without its closing dot or bracket («1.1.» → «1.1», «II.» → «II»,
    «3)» → «3»); None when the text is no row number."""
    bare = re.sub(r"\s+", "", text.translate(_LOOKALIKES)).removeprefix("№").rstrip(".)")
    return bare if _ROW_NUMBER_RE.fullmatch(bare) else None


def header_columns(grid: list[Cell | None]) -> Columns | None:
    """The column roles when the row is a header row (it names at least a title and a date)."""
    columns: Columns = {}
    unknown = 0
    for index, cell in enumerate(grid):
        text = cell.text() if cell is not None else ""
        if len(text) > MAX_HEADER_CHARS or parse_number(text) is not None:
            return None  # an event row that happens to say «период» or «название»
        role = role_of(text) if text else None
        unknown += bool(text) and role is None
        if role is not None and not (role in columns and role not in _SEVERAL):
            columns.setdefault(role, []).append(index)
    if "date" not in columns and "when_where" not in columns and "time" in columns:
        columns["date"] = columns.pop("time")  # «Время проведения» is the only date there is
    if unknown > MAX_UNKNOWN_HEADERS or "title" not in columns:
        return None
    if "date" not in columns and "when_where" not in columns:
        return None
    return columns


@dataclass
class _Record:
    """A table row with every merged cell given to it: what each role's cells say."""

    line: int
    table: int
    row: int
    number: str  # the number cell's text
    number_own: bool  # the number cell is the row's own (not merged down from above)
    listed: bool  # the number cell holds an automatic list number
    columns: dict[int, list[_Line]]  # each column's lines
    own: set[str]  # the roles whose text is the row's own
    title_runs: list[Run]
    filled: list[str]  # the texts of the row's own cells
    spanning: bool  # one cell spans the table


# a paragraph between the tables of a plan that heads the next one: «II. Повышение квалификации»,
# «Раздел 3. Конкурсы», «Февраль», «III квартал»
_SECTION_PARAGRAPH_RE = re.compile(
    r"^(?:(?:раздел\s+)?(?:[IVXLC]{1,7}|\d{1,2})[.)]?\s+\S.{0,110}"
    r"|(?:январь|февраль|март|апрель|май|июнь|июль|август|сентябрь|октябрь|ноябрь|декабрь"
    r"|[IVX1-4]+\s*(?:-?й\s*)?(?:квартал|полугодие))\b.{0,40})$",
    re.IGNORECASE,
)


def _heading_record(where: int, text: str) -> _Record:
    return _Record(where, 0, where, "", False, False, {}, set(), [], [text], True)


class _Grid:
    """Places each row's cells on the table's columns: a merged cell covers its columns, and goes on
    down over the rows it spans (HTML/ODT row spans, Word's vertical merge)."""

    def __init__(self) -> None:
        self.carry: dict[int, tuple[Cell, int]] = {}  # column → the cell spanning down, rows left
        self.previous: list[Cell | None] = []

    def place(self, row: Row) -> tuple[list[Cell | None], list[bool]]:
        grid: list[Cell | None] = []
        inherited: list[bool] = []

        def put(cell: Cell | None, span: int, from_above: bool) -> None:
            grid.append(cell)
            grid.extend([None] * (span - 1))
            inherited.extend([from_above] * span)

        def carried() -> None:
            while len(grid) in self.carry:
                column = len(grid)
                cell, left = self.carry.pop(column)
                if left > 1:
                    self.carry[column] = (cell, left - 1)
                put(cell, max(cell.span, 1), True)

        for cell in row.cells:
            carried()
            span = max(cell.span, 1)
            if cell.merged_up:
                column = len(grid)
                above = self.previous[column] if column < len(self.previous) else None
                put(above, span, above is not None)
                continue
            if cell.rowspan > 1:
                self.carry[len(grid)] = (cell, cell.rowspan - 1)
            put(cell, span, False)
        for column in sorted(c for c in self.carry if c >= len(grid)):
            while len(grid) < column:
                put(None, 1, False)
            carried()
        self.previous = grid
        return grid, inherited


class _Layout:
    def __init__(self, doc: Document, columns: Columns | None, year: int) -> None:
        self.doc = doc
        self.file = doc.file
        self.year = year
        self.given = columns if columns is not None else doc.columns
        self.columns = self.given
        self.records: list[_Record] = []
        self.plan_tables = 0
        self.review: list[ReviewItem] = []
        self.preface: list[tuple[int, str]] = []  # text in the plan's table above its header

    # -- the document

    def read(self) -> SourceDoc:
        before: list[tuple[int, str]] = []  # text before the plan table: the title, maybe contacts
        outside: list[tuple[int, str]] = []  # all text outside the plan table, for the contacts
        blocks = self.doc.blocks
        for index, block in enumerate(blocks):
            if isinstance(block, TextBlock):
                text = " ".join(block.text.split())
                next_is_table = index + 1 < len(blocks) and isinstance(blocks[index + 1], Table)
                titled = self.plan_tables or any(_PLAN_WORD_RE.search(t) for _, t in before)
                if titled and next_is_table and _SECTION_PARAGRAPH_RE.match(text):
                    self.records.append(_heading_record(block.where, text))  # a heading between tables
                    continue
                lines = [(block.where, line) for line in block.text.splitlines() if line.strip()]
                if not self.plan_tables:
                    before.append((block.where, text))
                outside.extend(lines)
            elif not self.table(block):
                texts = [(row.where, cell.text()) for row in block.rows for cell in row.cells if cell.text()]
                outside.extend(texts)
                if not self.plan_tables:
                    before.extend(texts)
                self.preface.clear()
            else:
                before.extend(self.preface)  # a title in the table's first rows
                outside.extend(self.preface)
                self.preface.clear()
        if not self.plan_tables and self.given is None:
            raise InvalidInput(
                [
                    Problem(
                        self.file,
                        1,
                        1,
                        "table",
                        "no table with a header row naming the title and the date columns",
                        "give the columns by hand with --columns, e.g. number=1,title=2,date=3,organizers=4",
                    )
                ]
            )
        title, used = self.title(before)
        contacts = read_contacts([(w, t) for w, t in outside if (w, " ".join(t.split())) not in used])
        self.review.extend(contacts.review)
        sections = _Rows(self).sections()
        preamble = [text for where, text in before if (where, text) not in used]
        return SourceDoc(title, [s for s in sections if s.rows], contacts.found, self.review, preamble)

    def title(self, before: list[tuple[int, str]]) -> tuple[str, set[tuple[int, str]]]:
        """The plan's title: the paragraph that says «план», with the paragraphs after it that go on
        with it (until one names the year: «План основных мероприятий» / «ГБУК «…» на 2025 год»)."""
        start = next((i for i, (_, text) in enumerate(before) if _PLAN_WORD_RE.search(text)), None)
        if start is None:  # «Календарь мероприятий … на 2025 год», «Перечень мероприятий …»
            start = next(
                (
                    i
                    for i, (_, text) in enumerate(before)
                    if _LIST_WORD_RE.search(text) and _YEAR_RE.search(text)
                ),
                None,
            )
        if start is None:
            start = next((i for i, (_, text) in enumerate(before) if "план" in text.casefold()), None)
        if start is None and before:
            start = 0  # no line says «план»: the first line before the table
        if start is None:
            self.review.append(ReviewItem("title", "the document", "no title before the table; «План» used"))
            return "План", set()
        parts = [before[start]]
        for where, text in before[start + 1 : start + MAX_TITLE_PARAGRAPHS]:
            whole = " ".join(t for _, t in parts)
            if _YEAR_RE.search(whole) or len(whole) + len(text) > MAX_TITLE_CHARS or _APPROVAL_RE.match(text):
                break
            parts.append((where, text))
        return " ".join(text for _, text in parts), set(parts)

    # -- the table

    def table(self, table: Table) -> bool:
        """Collect the rows of a table of the plan; False when it is some other table."""
        used = False
        grid_of = _Grid()
        for index, row in enumerate(table.rows, start=1):
            grid, inherited = grid_of.place(row)
            header = header_columns(grid)
            if header is not None and self.given is None:
                self.columns = header
            if header is not None or row.header or self.columns is None:
                # a header row (repeated on a page, or without role words: the columns' numbers), or
                # a table before the plan's (its text may be the title: kept with the text before)
                used = used or header is not None
                if header is None and not used and not self.plan_tables:
                    self.preface.extend((row.where, c.text()) for c in row.cells if c.text())
                continue
            if not used and not self.plan_tables and self.given is None:
                continue
            if not used:
                used = True
            record = self.record(row, index, grid, inherited, self.columns)
            if record is not None:
                self.records.append(record)
        if used:
            self.plan_tables += 1
            for record in self.records:
                if record.table == 0:
                    record.table = self.plan_tables
        return used

    def record(
        self, row: Row, index: int, grid: list[Cell | None], inherited: list[bool], columns: Columns
    ) -> _Record | None:
        texts = [cell.text() if cell is not None else "" for cell in grid]
        own = [t for t, from_above in zip(texts, inherited, strict=True) if t and not from_above]
        if not own:
            return None
        if len(own) > 1 and all(t.rstrip(".") == str(i + 1) for i, t in enumerate(texts) if t):
            return None  # «1 2 3 4»: the columns numbered under the header
        by_column: dict[int, list[_Line]] = {}
        own_columns: set[int] = set()
        for indexes in columns.values():
            for i in indexes:
                cell = grid[i] if i < len(grid) else None
                if cell is not None and (cell_lines := cell.lines()):
                    by_column[i] = cell_lines
                    if not inherited[i]:
                        own_columns.add(i)
        number_cells = [(grid[i], inherited[i]) for i in columns.get("number", []) if i < len(grid)]
        number_cell, number_inherited = number_cells[0] if number_cells else (None, False)
        title_runs: list[Run] = []
        for i in columns.get("title", []):
            cell = grid[i] if i < len(grid) else None
            if cell is not None:
                if title_runs:
                    title_runs.append(Run(" "))
                title_runs.extend(cell.runs())
        spanning = len(own) == 1 and (len(row.cells) == 1 or any(c.span > 1 for c in row.cells))
        return _Record(
            line=row.where,
            table=0,  # set once the table is known to be the plan's
            row=row.where if self.doc.row_word == "line" else index,
            number=number_cell.text() if number_cell is not None else "",
            number_own=number_cell is not None and not number_inherited,
            listed=number_cell is not None and number_cell.list_item,
            columns=by_column,
            own={role for role, indexes in columns.items() if own_columns & set(indexes)},
            title_runs=title_runs,
            filled=own,
            spanning=spanning,
        )


class _Rows:
    """The records as sections of events: headings, continuations, parents of unnumbered rows."""

    def __init__(self, layout: _Layout) -> None:
        self.layout = layout
        self.records = layout.records
        self.columns = layout.columns or {}
        self.year = layout.year
        self.out: list[SourceSection] = []
        self.last: SourceRow | None = None
        self.last_number = 0

    def place(self, record: _Record, number: str | None) -> str:
        return row_place(
            record.table,
            record.row,
            number,
            several_tables=self.layout.plan_tables > 1,
            word=self.layout.doc.row_word,
        )

    def section(self, record: _Record, heading: str | None) -> None:
        self.out.append(SourceSection(record.line, heading))
        self.last = None

    def sections(self) -> list[SourceSection]:
        index = 0
        while index < len(self.records):
            record = self.records[index]
            index += 1
            heading = self.heading(record, index)
            if heading is not None:
                self.section(record, heading)
                continue
            if self.continues(record):
                assert self.last is not None
                self.glue(self.last, record)
                continue
            children = self.children(record, index)
            if children:
                for child in children:
                    self.add(child, parent=record)
                index += len(children)
                continue
            self.add(record)
        return self.out

    # -- what a row is

    def lines(self, record: _Record, role: str) -> list[_Line]:
        return [line for column in self.columns.get(role, []) for line in record.columns.get(column, [])]

    def text(self, record: _Record, role: str, own: bool = False) -> str:
        if own and role not in record.own:
            return ""
        return " ".join(t for t, _ in self.lines(record, role))

    def heading(self, record: _Record, after: int) -> str | None:
        """A section heading: a row spanning the table, a lone month or quarter, or a numbered row with
        a title and no date that numbers the rows after it («I. Методическая работа», «1.3.» over
        «1.3.1.»)."""
        number = parse_number(record.number) if record.number_own else None
        if record.spanning and not number:
            return record.filled[0]
        if len(record.filled) == 1 and not record.number and _HEADING_RE.match(record.filled[0]):
            return record.filled[0]
        title = self.text(record, "title", own=True)
        if number is None or not title:
            return None
        if any(self.text(record, role, own=True) for role in ("date", "when_where", "organizers", "time")):
            return None
        following = next(
            (p for r in self.records[after:] if r.number_own and (p := parse_number(r.number))), None
        )
        if _ROMAN_RE.fullmatch(number) or (following is not None and following.startswith(number + ".")):
            return f"{number}. {title}"
        return None

    def continues(self, record: _Record) -> bool:
        """An unnumbered row goes on with the row above (a row broken across a page), unless it is an
        event of its own: its own title and date, where the row above has a date."""
        if "number" not in self.columns or record.listed or self.last is None:
            return False
        if record.number_own and record.number.strip():
            return False
        if not record.number_own and record.number:
            return "title" not in record.own  # a number merged down: the same event, if the title is too
        own_date = self.date(record)[0] if record.own & {"date", "when_where"} else ""
        return not (
            "title" in record.own
            and own_date
            and reads(own_date, self.year)
            and reads(self.last.date, self.year)
        )

    def children(self, record: _Record, after: int) -> list[_Record]:
        """A numbered row without a date whose unnumbered rows below each give an event of their own
        («Участие библиотек в мероприятиях Дня города:» / «– открытие филиала» «сентябрь» / …)."""
        if not record.number_own or parse_number(record.number) is None or self.date(record)[0]:
            return []
        found: list[_Record] = []
        for child in self.records[after:]:
            if (child.number_own and child.number.strip()) or child.listed or child.spanning:
                break
            date = self.date(child)[0] if child.own & {"date", "when_where"} else ""
            if "title" not in child.own or not reads(date, self.year):
                break
            found.append(child)
        return found

    # -- an event row

    def date(self, record: _Record) -> tuple[str, str]:
        """The row's date (its date columns, the date part of a date-and-place column, the time column)
        and the place a date-and-place column gives."""
        dates: list[str] = []
        place = ""
        for role in ("date", "when_where"):
            for column in self.columns.get(role, []):
                cell_lines = [t for t, _ in record.columns.get(column, [])]
                if not cell_lines:
                    continue
                if role == "when_where":
                    date, place = split_when_where(cell_lines, self.year)
                    dates.append(date)
                else:
                    dates.append(join_date(cell_lines, self.year))
        date = ", ".join(dates)
        time = self.text(record, "time")
        if time and any(ch.isdigit() for ch in time):  # «—» or «по договорённости» adds no time
            date = f"{date}, {time}" if date else time
        return date, place

    def notes(self, record: _Record, place: str) -> list[str]:
        where = " ".join(filter(None, [self.text(record, "place"), place]))
        audience = self.text(record, "audience")
        return [
            f"Место проведения: {where}" if where else "",
            f"Участники: {audience}" if audience else "",
            self.text(record, "notes"),
        ]

    def number_of(self, record: _Record) -> tuple[str | None, list[ReviewItem]]:
        if not record.number:
            if record.listed or "number" not in self.columns:
                self.last_number += 1  # an automatic list number, or a table without a number column
                return str(self.last_number), []
            return None, []
        number = parse_number(record.number)
        if number is None:
            place = self.place(record, None)
            return None, [
                ReviewItem(
                    "number",
                    place,
                    f"the number cell says «{record.number}», which is no row number; left out",
                )
            ]
        if number.isdigit():
            self.last_number = int(number)
        return number, []

    def add(self, record: _Record, parent: _Record | None = None) -> None:
        number, review = self.number_of(parent or record)
        written = (parent or record).number.strip()  # a counted number is none the plan wrote
        place = self.place(record, number if written else None)
        date, where = self.date(record)
        organizers = "\n".join(t for t, _ in self.lines(record, "organizers"))
        if parent is not None and not organizers:
            organizers = "\n".join(t for t, _ in self.lines(parent, "organizers"))
        contact = ", ".join(t for t, _ in self.lines(record, "contact")) or None
        form = self.text(record, "form") or None
        notes = self.notes(record, where)
        if parent is not None:
            notes.insert(0, self.text(parent, "title"))
        if not self.out:
            self.out.append(SourceSection(record.line, None))
        title_lines = self.lines(record, "title")
        found = items_of(title_lines)
        date_lines = [t for t, _ in self.lines(record, "date")] if "when_where" not in self.columns else []
        rows: list[SourceRow] = []
        if (
            found is not None
            and len(date_lines) == len(found.items)
            and all(reads(d, self.year) for d in date_lines)
        ):
            for item, item_date in zip(found.items, date_lines, strict=True):
                item_notes = [found.heading.rstrip(":").strip(), *notes]
                rows.append(
                    self.event(record, place, number, [Run(item)], item_date, organizers, form, item_notes)
                )
            review.append(
                ReviewItem(
                    "split", place, f"{len(found.items)} events in one cell, each with its own date line"
                )
            )
            self.last = None
        else:
            title = self.title_runs(record, found)
            rows.append(self.event(record, place, number, title, date, organizers, form, notes, contact))
            if found is not None or self.several_dates(title_lines, date_lines):
                review.append(self.kept_whole(place, found, title_lines, date_lines))
            self.last = rows[-1]
        if contact:
            for row in rows:
                row.contact = contact
        rows[0].review.extend(review)
        self.out[-1].rows.extend(rows)

    def event(
        self,
        record: _Record,
        place: str,
        number: str | None,
        title: list[Run],
        date: str,
        organizers: str,
        form: str | None,
        notes: list[str],
        contact: str | None = None,
    ) -> SourceRow:
        return SourceRow(
            record.line,
            place,
            number,
            title,
            date,
            organizers,
            form=form,
            notes="; ".join(n for n in notes if n) or None,
            contact=contact,
        )

    def title_runs(self, record: _Record, found: Items | None) -> list[Run]:
        if found is not None:  # a list kept as one event: its items joined as a person reads them
            return [Run(joined_items(found))]
        return record.title_runs

    def several_dates(self, title_lines: list[_Line], date_lines: list[str]) -> bool:
        """Several lines of title and as many dates: perhaps several events, written without marks."""
        return 1 < len(date_lines) == len(title_lines) and all(reads(d, self.year) for d in date_lines)

    @staticmethod
    def kept_whole(
        place: str, found: Items | None, title_lines: list[_Line], date_lines: list[str]
    ) -> ReviewItem:
        items = len(found.items) if found is not None else len(title_lines)
        dates = f"{len(date_lines)} date line{'s' if len(date_lines) != 1 else ''}"
        return ReviewItem(
            "whole",
            place,
            f"{items} items and {dates} in one row: kept as one event (split it by hand if they are several)",
        )

    def glue(self, row: SourceRow, record: _Record) -> None:
        """A cell broken across lines or pages continues in the next row: glue each piece to its column."""
        title = record.title_runs if "title" in record.own else []
        if flat(title):
            row.title = [*_unclose(row.title, flat(title)), Run(" "), *title]
        if record.own & {"date", "when_where", "time"}:
            date, _ = self.date(record)
            if date:
                row.date = join_date([row.date, date], self.year) if row.date else date
        if "organizers" in record.own:
            organizers = "\n".join(t for t, _ in self.lines(record, "organizers"))
            row.organizers = f"{row.organizers}\n{organizers}" if row.organizers else organizers


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


def lay_out(doc: Document, columns: Columns | None = None, year: int = 2024) -> SourceDoc:
    """The plan the document holds. `year` is the plan's year, for telling dates from other text."""
    return _Layout(doc, columns, year).read()
