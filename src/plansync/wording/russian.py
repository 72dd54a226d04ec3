"""Russian date phrases for people: «13–19 мая 2024 г.», «с 1 по 5 июля», «в мае, дата уточняется».

Month and weekday names come from Babel's CLDR data, not from hand-written lists: the *format* form
is the genitive used after a day number («15 января»), the *stand-alone* form the nominative used
alone («январь»). CLDR has no prepositional case («в январе»); it is derived from the nominative
by the one regular rule all twelve month names follow (-ь/-й → -е, otherwise + -е).
Pure functions only, no clock.
"""

from __future__ import annotations

import datetime as dt
from functools import cache
from typing import Literal

from babel.dates import get_day_names, get_month_names

__all__ = [
    "boundary_accusative",
    "boundary_genitive",
    "day",
    "day_range",
    "deadline",
    "from_to",
    "month_genitive",
    "month_nominative",
    "month_prepositional",
    "period_title",
    "rule_words",
    "span",
    "times",
    "weekday_short",
    "within",
]

ROMAN = ("I", "II", "III", "IV")


@cache
def _months(context: Literal["format", "stand-alone"]) -> tuple[str, ...]:
    names = get_month_names("wide", context, locale="ru")
    return tuple(str(names[m]) for m in range(1, 13))


def month_genitive(month: int) -> str:
    """«мая»: after a day number, and after «с»/«до»."""
    return _months("format")[month - 1]


def month_nominative(month: int) -> str:
    """«май»: a month on its own, and after «по» (accusative of an inanimate noun)."""
    return _months("stand-alone")[month - 1]


def month_prepositional(month: int) -> str:
    """«мае»: after «в»."""
    name = month_nominative(month)
    return name[:-1] + "е" if name[-1] in "ьй" else name + "е"


def weekday_short(day_: dt.date) -> str:
    """«пн», «вт» … from CLDR."""
    return str(get_day_names("abbreviated", "format", locale="ru")[day_.weekday()])


NBSP = "\u00a0"  # «2024 г.», «31 октября» never break across lines


def _year(year: int) -> str:
    return f"{year}{NBSP}г."


def day(d: dt.date, *, year: bool = False) -> str:
    """«15 января», or «15 января 2024 г.»."""
    text = f"{d.day}{NBSP}{month_genitive(d.month)}"
    return f"{text} {_year(d.year)}" if year else text


def day_range(first: dt.date, last: dt.date, *, year: bool = False) -> str:
    """A compact inclusive range: «13–19 мая», «29 апреля – 5 мая», «30 декабря 2024 г. – 5 января 2025 г.».

    The en dash is set solid between numbers and spaced between phrases, as Russian typography asks.
    """
    if first == last:
        return day(first, year=year)
    if first.year != last.year:
        return f"{day(first, year=True)} – {day(last, year=True)}"
    tail = f" {_year(last.year)}" if year else ""
    if first.month == last.month:
        return f"{first.day}–{last.day}{NBSP}{month_genitive(last.month)}{tail}"
    return f"{day(first)} – {day(last)}{tail}"


def from_to(first: dt.date, last: dt.date, *, year: bool = False) -> str:
    """The same range in words: «с 1 по 5 июля», «с 30 апреля по 2 мая»."""
    if first == last:
        return day(first, year=year)
    if first.year != last.year:
        return f"с {day(first, year=True)} по {day(last, year=True)}"
    tail = f" {_year(last.year)}" if year else ""
    if first.month == last.month:
        return f"с {first.day} по {last.day}{NBSP}{month_genitive(last.month)}{tail}"
    return f"с {day(first)} по {day(last)}{tail}"


def period_title(first: dt.date, last: dt.date) -> str:
    """The digest's period, always with its year: «13–19 мая 2024 г.»."""
    return day_range(first, last, year=True)


def deadline(d: dt.date) -> str:
    """«до 20 ноября»."""
    return f"до {day(d)}"


def times(start: dt.time | None, end: dt.time | None) -> str:
    """«14:00», «10:00–12:00», or "" when there is no time."""
    if start is None:
        return ""
    text = f"{start.hour}:{start.minute:02d}"
    if end is not None:
        text += f"–{end.hour}:{end.minute:02d}"
    return text


def within(first: dt.date, precision: str | None) -> str:
    """A fuzzy unit after «в»: «в мае», «во II квартале», «во II полугодии», «в 2024 году»."""
    if precision == "month":
        return f"в {month_prepositional(first.month)}"
    if precision in ("quarter", "half"):
        # The preposition follows the numeral as read: «во II квартале» is «во втором», «в III» — «в третьем».
        number = (first.month - 1) // (3 if precision == "quarter" else 6)
        unit = "квартале" if precision == "quarter" else "полугодии"
        return f"{'во' if number == 1 else 'в'} {ROMAN[number]} {unit}"
    if precision == "year":
        return f"в {first.year} году"
    return f"в день {day(first)}"


def boundary_genitive(d: dt.date, precision: str | None) -> str:
    """The start of a span after «с»: «с 3 ноября», «с февраля», «со II квартала»."""
    if precision == "day":
        return day(d)
    if precision == "month":
        return month_genitive(d.month)
    if precision == "quarter":
        return f"{ROMAN[(d.month - 1) // 3]} квартала"
    if precision == "half":
        return f"{ROMAN[(d.month - 1) // 6]} полугодия"
    return f"{d.year} года"


def boundary_accusative(d: dt.date, precision: str | None) -> str:
    """The end of a span after «по»: «по 31 октября», «по апрель», «по III квартал»."""
    if precision == "day":
        return day(d)
    if precision == "month":
        return month_nominative(d.month)
    if precision == "quarter":
        return f"{ROMAN[(d.month - 1) // 3]} квартал"
    if precision == "half":
        return f"{ROMAN[(d.month - 1) // 6]} полугодие"
    return f"{d.year} год"


def span(first: dt.date, first_precision: str | None, last: dt.date, last_precision: str | None) -> str:
    """A period of any precision in words: «с февраля по апрель», «с января по 31 октября»."""
    if first_precision == last_precision == "day":
        return from_to(first, last)
    start = boundary_genitive(first, first_precision)
    # «с II квартала» and «со II полугодия» both read «со второго»: the preposition follows the numeral.
    with_ = "со" if start.startswith(("II ", "второго")) else "с"
    return f"{with_} {start} по {boundary_accusative(last, last_precision)}"


_FREQUENCY = {
    ("DAILY", 1): "ежедневно",
    ("WEEKLY", 1): "еженедельно",
    ("WEEKLY", 2): "раз в две недели",
    ("MONTHLY", 1): "ежемесячно",
    ("MONTHLY", 2): "раз в два месяца",
    ("MONTHLY", 3): "ежеквартально",
    ("MONTHLY", 6): "раз в полгода",
    ("YEARLY", 1): "ежегодно",
}


def _rule_parts(rrule: str) -> dict[str, str]:
    return dict(p.split("=", 1) for p in rrule.upper().split(";") if "=" in p)


def frequency(rrule: str) -> str | None:
    """«ежеквартально» for FREQ=MONTHLY;INTERVAL=3; None for a rule that has no such word."""
    parts = _rule_parts(rrule)
    try:
        interval = int(parts.get("INTERVAL") or 1)
    except ValueError:
        return None
    return _FREQUENCY.get((parts.get("FREQ", ""), interval))


_BYDAY = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")


_NTH = {
    1: ("первый", "первую"), 2: ("второй", "вторую"), 3: ("третий", "третью"), 4: ("четвёртый", "четвёртую"),
    -1: ("последний", "последнюю"),
}  # fmt: skip
_WEEKDAY_ACCUSATIVE = ("понедельник", "вторник", "среду", "четверг", "пятницу", "субботу", "воскресенье")


def _and(items: list[str]) -> str:
    """«марте и октябре», «17, 24 и 30»."""
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " и " + items[-1]


def rule_words(rrule: str) -> str:
    """«ежеквартально», «еженедельно: вт, чт»; CLDR has no «по вторникам», so weekdays are abbreviated.
    The rules a plan's date cell gives in words are said so: «в марте и октябре» (BYMONTH), «17 и 24
    числа» (BYMONTHDAY), «ежемесячно, в последний четверг» (a weekday's place in the month)."""
    parts = _rule_parts(rrule)
    if "BYMONTH" in parts and "BYDAY" not in parts:
        months = [int(m) for m in parts["BYMONTH"].split(",") if m.isdigit() and 1 <= int(m) <= 12]
        return "в " + _and([month_prepositional(m) for m in months])
    if "BYMONTHDAY" in parts and "BYDAY" not in parts:
        return _and(parts["BYMONTHDAY"].split(",")) + " числа"
    placed = [(d[:-2], d[-2:]) for d in parts.get("BYDAY", "").split(",") if d[-2:] in _BYDAY and d[:-2]]
    if placed and all(n.lstrip("+-").isdigit() and int(n) in _NTH for n, _ in placed):
        names = []
        for n, day in placed:
            index = _BYDAY.index(day)
            feminine = _WEEKDAY_ACCUSATIVE[index].endswith("у")
            names.append(f"{_NTH[int(n)][feminine]} {_WEEKDAY_ACCUSATIVE[index]}")
        return f"{frequency(rrule) or 'регулярно'}, в {_and(names)}"
    words = frequency(rrule) or "регулярно"
    days = [d[-2:] for d in parts.get("BYDAY", "").split(",") if d[-2:] in _BYDAY]
    if days:
        monday = dt.date(2024, 1, 1)
        names = [weekday_short(monday + dt.timedelta(days=_BYDAY.index(d))) for d in days]
        words += ": " + ", ".join(names)
    return words
