"""Made-up date cells written the way regional plans write them, with the one reading a person gives each:
(cell, start, end, time, rrule, deadline, note), "undated" for a cell that names no date, or "error" for
one that has no single reading. Used by the tests and to report the share read right (plan year 2025)."""

from __future__ import annotations

from typing import TypeAlias

Expected: TypeAlias = tuple[str | None, str | None, str | None, str | None, bool, str | None] | str

Y = ("2025-01-01", "2025-12-31")

CELLS: list[tuple[str, Expected]] = [
    # forms that were refused
    ("в период с 3 по 14 марта", ("2025-03-03", "2025-03-14", None, None, False, None)),
    ("в период с 10 по 20 апреля", ("2025-04-10", "2025-04-20", None, None, False, None)),
    ("в течение всего 2025 года", (*Y, None, None, False, None)),
    ("постоянно", (*Y, None, None, False, None)),
    ("постоянно, по запросам", (*Y, None, None, False, "по запросам")),
    ("от 12.03.2025", ("2025-03-12", "2025-03-12", None, None, False, None)),
    ("от 05.06.2025", ("2025-06-05", "2025-06-05", None, None, False, None)),
    ("На 1 апреля", ("2025-04-01", "2025-04-01", None, None, False, None)),
    ("на 1 сентября", ("2025-09-01", "2025-09-01", None, None, False, None)),
    ("по 15 мая", (None, "2025-05-15", None, None, True, None)),
    ("по 30.06.2025", (None, "2025-06-30", None, None, True, None)),
    ("по 15.05.2025 включительно", (None, "2025-05-15", None, None, True, None)),
    ("по 10 октября включительно", (None, "2025-10-10", None, None, True, None)),
    ("3-я декада октября", ("2025-10-21", "2025-10-31", None, None, False, None)),
    ("1-я декада мая", ("2025-05-01", "2025-05-10", None, None, False, None)),
    ("2-я декада ноября", ("2025-11-11", "2025-11-20", None, None, False, None)),
    ("3-я декада декабря", ("2025-12-21", "2025-12-31", None, None, False, None)),
    ("вторая декада февраля", ("2025-02-11", "2025-02-20", None, None, False, None)),
    ("12 марта в 11 часов", ("2025-03-12", "2025-03-12", "11:00", None, False, None)),
    ("20 мая в 14 часов", ("2025-05-20", "2025-05-20", "14:00", None, False, None)),
    ("каждый последний вторник месяца", (*Y, None, "FREQ=MONTHLY;BYDAY=-1TU", False, None)),
    ("каждую первую среду месяца", (*Y, None, "FREQ=MONTHLY;BYDAY=1WE", False, None)),
    ("12-03-2025", ("2025-03-12", "2025-03-12", None, None, False, None)),
    ("01-04-2025", ("2025-04-01", "2025-04-01", None, None, False, None)),
    ("10.03. – 21.03.", ("2025-03-10", "2025-03-21", None, None, False, None)),
    ("1.02. – 28.02.", ("2025-02-01", "2025-02-28", None, None, False, None)),
    ("Среда, 12 марта, 2025", ("2025-03-12", "2025-03-12", None, None, False, None)),
    ("Пятница, 14 марта, 2025", ("2025-03-14", "2025-03-14", None, None, False, None)),
    ("Начало – 4 декабря", ("2025-12-04", None, None, None, False, None)),
    ("Начало – 15 сентября", ("2025-09-15", None, None, None, False, None)),
    ("уже в январе", ("2025-01-01", "2025-01-31", None, None, False, None)),
    ("уже в марте", ("2025-03-01", "2025-03-31", None, None, False, None)),
    ("ориентировочно май", ("2025-05-01", "2025-05-31", None, None, False, "ориентировочно")),
    # what plans write every day (read before as well)
    ("март", ("2025-03-01", "2025-03-31", None, None, False, None)),
    ("15 января", ("2025-01-15", "2025-01-15", None, None, False, None)),
    ("1 - 5 июля", ("2025-07-01", "2025-07-05", None, None, False, None)),
    ("III квартал", ("2025-07-01", "2025-09-30", None, None, False, None)),
    ("январь–декабрь, по запросам", (*Y, None, None, False, "по запросам")),
    ("до 20 ноября", (None, "2025-11-20", None, None, True, None)),
    ("с 3 ноября", ("2025-11-03", None, None, None, False, None)),
    ("12.03.2025, 11:00", ("2025-03-12", "2025-03-12", "11:00", None, False, None)),
    ("ежемесячно", (*Y, None, "FREQ=MONTHLY", False, None)),
    ("по средам", (*Y, None, "FREQ=WEEKLY;BYDAY=WE", False, None)),
    ("в течение года", (*Y, None, None, False, None)),
    ("II полугодие", ("2025-07-01", "2025-12-31", None, None, False, None)),
    ("апрель – май", ("2025-04-01", "2025-05-31", None, None, False, None)),
    ("15.05.2025 10:00–13:00", ("2025-05-15", "2025-05-15", "10:00", None, False, None)),
    ("февраль –ноябрь", ("2025-02-01", "2025-11-30", None, None, False, None)),
    ("в течение года, по мере необходимости", (*Y, None, None, False, "по мере необходимости")),
    ("весь год", (*Y, None, None, False, None)),
    ("I квартал, ежемесячно", ("2025-01-01", "2025-03-31", None, "FREQ=MONTHLY", False, None)),
    ("24 мая", ("2025-05-24", "2025-05-24", None, None, False, None)),
    ("ноябрь (по согласованию)", ("2025-11-01", "2025-11-30", None, None, False, "по согласованию")),
    ("с 1 по 30 июня", ("2025-06-01", "2025-06-30", None, None, False, None)),
    # no date at all: kept as an undated event
    ("по отдельному плану", "undated"),
    ("по мере поступления заявок", "undated"),
    ("по согласованию", "undated"),
    ("по отдельному графику", "undated"),
    # two days of one month: those two days (issue 25)
    ("12 и 19 марта", ("2025-03-12", "2025-03-19", None, "FREQ=MONTHLY;BYMONTHDAY=12,19", False, None)),
    # no single reading: refused with a message
    ("после 20 ноября", "error"),
    ("до мая", "error"),
]
