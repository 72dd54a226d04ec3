"""Read the Russian fuzzy date cells of a plan: «12 марта», «март–май», «III квартал», «до 20 ноября».

The reader is pure (no I/O, no clock): the same text and plan year always give the same answer. A cell
is read into an inclusive period, an optional time, an optional recurrence rule and the words it did not
consume (kept as a note, never dropped). Whatever it cannot read for sure is a DateReadError that quotes
the fragment and says how to write it; it never guesses.

How it works: the cell is normalised without changing its length (lower case, «ё» as «е», one kind of
dash and space), so every token keeps its span in the original text and notes are cut from the text as
written. A tokenizer turns it into numbers, day.month dates, times, words, dashes and separators; a small
parser then reads *items* left to right (a date expression, a time, a recurrence, a weekday check).
Tokens that start no item are note words, unless they look like part of a date (a digit, a month-like
word, a quarter word), in which case the cell is an error.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from functools import lru_cache
from typing import NamedTuple, TypeAlias

from babel.dates import get_day_names, get_month_names

from plansync.model.reading import Precision, Reading

__all__ = ["DateReadError", "Precision", "Reading", "read_date", "read_in_section"]

MAX_LENGTH = 500  # a date cell is short; the limit bounds the work on hostile input
MIN_YEAR, MAX_YEAR = 1900, 2100  # outside of this a year is a typo, not a plan


class DateReadError(ValueError):
    """Text that is not a readable date. `reason` says, in English, what could not be read (quoting the
    fragment) and how to write it instead; `str(error) == reason`."""

    def __init__(self, text: str, reason: str, *, undated: bool = False) -> None:
        super().__init__(reason)
        self.text = text
        self.reason = reason
        self.undated = undated  # the cell names no date at all («по отдельному плану»)

    def __str__(self) -> str:
        return self.reason

    def to_json(self) -> dict[str, object]:
        return {"text": self.text, "error": self.reason}


class _Fail(Exception):
    """Raised deep in the parser with the reason only; read_date adds the text."""

    def __init__(self, reason: str, *, undated: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.undated = undated


class _Undated(str):
    """The reason a cell was refused, when the cell names no date at all (kept in the cache as a str)."""


# --- Normalisation -----------------------------------------------------------------------------------

_TAG_RE = re.compile(r"</?(?:i|em|b|strong|u)\s*>", re.IGNORECASE)  # stray markup from the source table


def _build_fold_table() -> dict[int, str]:
    table: dict[int, str] = {ord("і"): "i"}  # «ё» is replaced on its own, it is common
    for ch in "‐‑‒–—―−﹘﹣－":  # every dash, hyphen and minus reads as "-"
        table[ord(ch)] = "-"
    spaces = "\u00a0\u1680\u2028\u2029\u202f\u205f\u3000\u200b\u200c\u200d\u2060\ufeff\u00ad"
    for ch in spaces + "".join(chr(c) for c in range(0x2000, 0x200B)):
        table[ord(ch)] = " "
    for code in [*range(0x00, 0x20), *range(0x7F, 0xA0)]:  # control characters are blanks
        table[code] = " "
    return table


_FOLD = _build_fold_table()
# translate() looks up every character: only call it when one of its characters is there
_FOLD_NEEDED_RE = re.compile("[" + "".join(re.escape(chr(c)) for c in sorted(_FOLD)) + "]")


def _fold(text: str) -> str:
    """Lower case, «ё» as «е», one dash and one space, keeping the length (spans stay valid)."""
    low = text.lower()
    if len(low) != len(text):  # a few letters (İ) grow when lowered: keep them as they are
        low = "".join(c if len(c.lower()) != 1 else c.lower() for c in text)
    if "ё" in low:
        low = low.replace("ё", "е")
    if _FOLD_NEEDED_RE.search(low) is not None:
        low = low.translate(_FOLD)
    return low


# --- Vocabulary (month and weekday names come from CLDR via Babel) -----------------------------------

_FORMS_EN = get_month_names("wide", context="format", locale="en")
_MONTH_EN: tuple[str, ...] = ("", *(str(_FORMS_EN[m]) for m in range(1, 13)))
_WEEKDAY_EN: tuple[str, ...] = tuple(
    str(get_day_names("wide", context="format", locale="en")[d]) for d in range(7)
)
_BYDAY = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")


def _build_months() -> tuple[dict[str, int], tuple[str, ...]]:
    """Every form of every month name → month number, and the stems that make a word look like a month.

    CLDR gives the nominative («январь»), the genitive («января») and abbreviations («февр.», «сент.»);
    the prepositional («в июне») and the three-letter forms («мар.», «сен.») follow from the stem.
    """
    forms: dict[str, int] = {}

    def add(form: str, month: int) -> None:
        if forms.setdefault(form, month) != month:  # a form may not name two months
            raise RuntimeError(f"month form {form!r} is ambiguous")

    nominatives = get_month_names("wide", context="stand-alone", locale="ru")
    genitives = get_month_names("wide", context="format", locale="ru")
    abbreviations = [
        get_month_names("abbreviated", context=c, locale="ru") for c in ("format", "stand-alone")
    ]
    stems: list[str] = []
    for month in range(1, 13):
        nominative = _fold(str(nominatives[month]))
        stem = nominative[:-1] if nominative[-1] in "ьй" else nominative  # «июн», «март», «ма»
        for form in (nominative, _fold(str(genitives[month])), stem + "е", nominative[:3]):
            add(form, month)
        for abbreviated in abbreviations:
            add(_fold(str(abbreviated[month])).rstrip("."), month)
        # a word that starts like a month («мартобря») is a misspelt date, not a note; «ма» is too short
        if len(stem) >= 3:
            stems.append(stem)
    return forms, tuple(stems)


_MONTHS, _MONTH_STEMS = _build_months()


def _build_weekdays() -> tuple[dict[str, int], dict[str, int], dict[str, int]]:
    """Weekday names and abbreviations, their accusative («каждую среду») and dative plural («по средам»)."""
    names: dict[str, int] = {}
    accusative: dict[str, int] = {}
    dative_plural: dict[str, int] = {}
    wide = get_day_names("wide", context="format", locale="ru")
    short = [get_day_names(width, context="format", locale="ru") for width in ("abbreviated", "short")]
    for day in range(7):  # Babel: 0 is Monday
        name = _fold(str(wide[day]))
        names[name] = day
        for table in short:
            names[_fold(str(table[day])).rstrip(".")] = day
        accusative[name[:-1] + "у" if name.endswith("а") else name] = day
        if name.endswith("а"):
            plural = name[:-1] + "ам"
        elif name.endswith("е"):
            plural = name[:-1] + "ям"
        else:
            plural = name + "ам"
        dative_plural[plural] = day
    return names, accusative, dative_plural


_WEEKDAYS, _WEEKDAYS_ACC, _WEEKDAYS_DAT_PL = _build_weekdays()
_WEEKDAY_FORMS = frozenset(_WEEKDAYS) | frozenset(_WEEKDAYS_ACC) | frozenset(_WEEKDAYS_DAT_PL)

_QUARTER_WORDS = frozenset({"квартал", "квартала", "квартале", "кварталы", "кварталов", "кварталах", "кв"})
_HALF_WORDS = frozenset({"полугодие", "полугодия", "полугодии", "полугодий", "полугодиях"})
_YEAR_WORDS = frozenset({"год", "года", "году", "г", "гг", "годы", "годов", "годах"})
_ROMAN = {"i": 1, "ii": 2, "iii": 3, "iv": 4}
_ORDINAL_WORDS = {
    **dict.fromkeys(("первый", "первое", "первого", "первом", "первая", "первой", "первую"), 1),
    **dict.fromkeys(("второй", "второе", "второго", "втором", "вторая", "вторую"), 2),
    **dict.fromkeys(("третий", "третье", "третьего", "третьем", "третья", "третьей", "третью"), 3),
    **dict.fromkeys(("четвертый", "четвертое", "четвертого", "четвертом", "четвертая"), 4),
}
_COUNT_WORDS = {"один": 1, "одна": 1, "два": 2, "две": 2, "три": 3, "четыре": 4, "пять": 5, "шесть": 6}

_Freq = tuple[str, int]  # FREQ and INTERVAL
_REPEAT_WORDS: dict[str, _Freq] = {
    "ежедневно": ("DAILY", 1),
    "еженедельно": ("WEEKLY", 1),
    "ежемесячно": ("MONTHLY", 1),
    "ежеквартально": ("MONTHLY", 3),
    "ежегодно": ("YEARLY", 1),
}
# «раз в месяц», «каждый месяц»
_UNIT_ONE: dict[str, _Freq] = {
    "день": ("DAILY", 1),
    "неделю": ("WEEKLY", 1),
    "месяц": ("MONTHLY", 1),
    "квартал": ("MONTHLY", 3),
    "полгода": ("MONTHLY", 6),
    "полугодие": ("MONTHLY", 6),
    "год": ("YEARLY", 1),
}
# «раз в 2 недели», «каждые три месяца»
_UNIT_MANY: dict[str, _Freq] = {
    **dict.fromkeys(("дня", "дней"), ("DAILY", 1)),
    **dict.fromkeys(("недели", "недель"), ("WEEKLY", 1)),
    **dict.fromkeys(("месяца", "месяцев"), ("MONTHLY", 1)),
    **dict.fromkeys(("квартала", "кварталов"), ("MONTHLY", 3)),
    **dict.fromkeys(("года", "лет"), ("YEARLY", 1)),
}
_EVERY = frozenset({"каждый", "каждую", "каждое", "каждые"})
_TIMES_COUNT = {"дважды": 2, "трижды": 3}
_HOUR_WORDS = frozenset({"ч", "час", "часа", "часов"})
_DECADE_WORDS = frozenset({"декада", "декады", "декаде", "декаду"})
# «каждый последний вторник месяца»: the weekday's place in the month (BYDAY=-1TU)
_NTH_WORDS = {
    **dict.fromkeys(("первый", "первую", "первое", "первая"), 1),
    **dict.fromkeys(("второй", "вторую", "второе", "вторая"), 2),
    **dict.fromkeys(("третий", "третью", "третье", "третья"), 3),
    **dict.fromkeys(("четвертый", "четвертую", "четвертое", "четвертая"), 4),
    **dict.fromkeys(("последний", "последнюю", "последнее", "последняя"), -1),
}
_ALWAYS_WORDS = frozenset({"постоянно", "круглогодично"})
# Words before a date that say how to read it, and nothing else: «Начало – 4 декабря» opens a period,
# «уже в январе» is the date itself, «ориентировочно май» keeps the word as the note.
_LEAD_START = frozenset({("начало",), ("старт",), ("открытие",), ("первый", "день")})
# «Первый день – 4 декабря, второй день – 5 декабря»: labels of the days of one event
_DAY_LABELS = frozenset(
    (ordinal, "день") for ordinal in ("первый", "второй", "третий", "четвертый", "пятый", "последний")
)
_LEAD_SILENT = frozenset({"уже"})
_LEAD_NOTE = frozenset({"ориентировочно", "предположительно", "примерно", "планируется"})
# what a number in a note may count without being a date: grades, minutes, people, copies, ages
_COUNT_UNITS = frozenset(
    {"кл", "класс", "класса", "классов", "мин", "минут", "минуты", "чел", "человек", "экз", "шт", "лет"}
)
_RULE_STARTS = frozenset(
    {*_REPEAT_WORDS, *_TIMES_COUNT, *_COUNT_WORDS, *_EVERY, *_NTH_WORDS, "раз", "по", "в", "во"}
)
# words before a date that change what it means («после 20 ноября», «не в мае»): never a mere label
_MEANING_WORDS = frozenset(
    {
        "не",
        "после",
        "кроме",
        "около",
        "ранее",
        "позднее",
        "позже",
        "раньше",
        "перед",
        "вне",
        "помимо",
        "между",
    }
)
# prepositions a date expression starts with: words before one are a label («Мероприятия с 31 января …»)
_DATE_PREPOSITIONS = frozenset({"с", "со", "до", "по", "от", "в", "во", "на", "начиная"})
# a word closing a date that says nothing more: «15 мая г.», «май месяц»
_CLOSING_WORDS = frozenset({"г", "гг", "года", "год", "месяц", "месяца", "мес"})


# --- Tokens --------------------------------------------------------------------------------------------

_TOKEN_RE = re.compile(
    r"""
    (?P<time>[0-9]{1,2}:[0-9]{2})(?![0-9])
    |(?P<dashdate>[0-9]{1,2}-[0-9]{1,2}-[0-9]{4})(?![0-9])
    |(?P<dotdate>[0-9]{1,2}\.[0-9]{1,2}(?:\.(?:[0-9]{4}|[0-9]{2}))?)(?![0-9])
    |(?P<ord>[0-9]{1,2}-?(?:ый|ий|ой|ое|ее|ая|ого|го|ом|й|е|я|м))(?![а-я])
    |(?P<num>[0-9]+)
    |(?P<roman>(?:iv|i{1,3})(?:-?(?:ый|ий|ой|ое|ее|й|е))?)(?![a-zа-я])
    |(?P<word>[а-яa-z]+)\.?
    |(?P<dash>-)
    |(?P<sep>[,;:()."«»“”„'/])
    |(?P<other>\S)
    """,
    re.VERBOSE,
)


class _Tok(NamedTuple):
    kind: str  # a group name of _TOKEN_RE
    w: str  # the folded text (a word without its abbreviation dot)
    s: int  # span in the text
    e: int


def _tokenize(folded: str) -> list[_Tok]:
    toks: list[_Tok] = []
    append = toks.append
    depth = 0  # only the outermost parentheses separate; inner ones belong to the note text
    for m in _TOKEN_RE.finditer(folded):
        kind = m.lastgroup or "other"
        w = m.group(kind)
        if kind == "sep" and w in "()":
            if w == "(":
                depth += 1
                if depth > 1:
                    kind = "other"
            else:
                if depth > 1:
                    kind = "other"
                depth = max(depth - 1, 0)
        s, e = m.span()
        append(_Tok(kind, w, s, e))
    return toks


def _ord_value(w: str) -> int:
    """The number of «3-й», «2-е», «iii-е»."""
    digits = ""
    for ch in w:
        if not ch.isascii() or ch == "-":
            break
        digits += ch
    return _ROMAN[digits] if digits in _ROMAN else int(digits)


# --- Parsed pieces -------------------------------------------------------------------------------------


class _Point(NamedTuple):
    """One end of a period as written; a "bare" number is completed by the range's end («3 – 7 мая»)."""

    kind: str  # day, month, quarter, half, year, bare
    n: int  # day, quarter or half number; the number of a bare point
    month: int
    year: int | None  # as written; None means "borrow it"
    s: int
    e: int
    nxt: int  # index of the token after the point
    bare: str  # for a bare point: the token kind it came from


class _DateItem(NamedTuple):
    start: dt.date | None
    end: dt.date | None
    sp: Precision | None
    ep: Precision | None
    deadline: bool
    s: int
    e: int


class _TimeItem(NamedTuple):
    time: dt.time
    end_time: dt.time | None
    date_problem: str | None  # set when it was read from «12.13»-like text that is no valid date
    s: int
    e: int


class _RuleItem(NamedTuple):
    freq: _Freq | None  # None: a frequency an RRULE cannot say exactly («дважды в месяц»), kept as a note
    byday: tuple[int, ...]
    s: int
    e: int
    nth: int = 0  # the weekday's place in the month: 1 the first, -1 the last
    months: tuple[int, ...] = ()  # «март, октябрь»: the months it happens in
    monthdays: tuple[int, ...] = ()  # «17, 24 сентября»: the days of the month it happens on


class _WeekdayItem(NamedTuple):
    day: int
    s: int
    e: int


_Item: TypeAlias = _DateItem | _TimeItem | _RuleItem | _WeekdayItem
_PRECISION: dict[str, Precision] = {
    "day": "day",
    "decade": "day",  # ten exact days
    "month": "month",
    "quarter": "quarter",
    "half": "half",
    "year": "year",
}


def _quote(fragment: str, limit: int = 80) -> str:
    fragment = " ".join(fragment.split())
    if len(fragment) > limit:
        fragment = fragment[: limit - 1] + "…"
    return f"'{fragment}'"


def _days_in(year: int, month: int) -> int:
    if month == 2:
        return 29 if calendar.isleap(year) else 28
    return 30 if month in (4, 6, 9, 11) else 31


def _month_end(year: int, month: int) -> dt.date:
    return dt.date(year, month, _days_in(year, month))


def _day_problem(day: int, month: int, year: int) -> str | None:
    """Why day.month.year is no date, in English; None when it is one."""
    if not 1 <= month <= 12:
        return f"there is no month {month}"
    if day < 1:
        return f"there is no day {day}"
    last = _days_in(year, month)
    if day > last:
        if month == 2 and day == 29:
            return f"{year} is not a leap year, so February has 28 days"
        return f"{_MONTH_EN[month]} {year} has {last} days"
    return None


class _Cell:
    """The parser of one cell: tokens, the plan year and the text to quote."""

    __slots__ = ("count", "n", "opens", "src", "toks", "year")

    def __init__(self, src: str, toks: list[_Tok], year: int) -> None:
        self.src = src  # the cell without markup, as written: notes and quotes come from here
        self.toks = toks
        self.n = len(toks)
        self.year = year
        self.count: str | None = None  # the first «16+», «7–11 кл.» read as a note
        self.opens = False  # «Начало – 4 декабря»: the date opens a period

    # -- small helpers

    def word(self, i: int) -> str:
        if i < self.n:
            t = self.toks[i]
            if t.kind == "word":
                return t.w
        return ""

    def kind(self, i: int) -> str:
        return self.toks[i].kind if i < self.n else ""

    def frag(self, s: int, e: int) -> str:
        return self.src[s:e]

    def quoted(self, item: _Item) -> str:
        return _quote(self.frag(item.s, item.e))

    def year_after(self, i: int) -> tuple[int | None, int]:
        """An optional year after a date: «2025», «2025 г.», «2025 года»."""
        if (  # «Среда, 12 марта, 2025»: the year after a comma
            self.kind(i) == "sep"
            and self.toks[i].w == ","
            and self.kind(i + 1) == "num"
            and len(self.toks[i + 1].w) == 4
            and (i + 2 >= self.n or self.kind(i + 2) == "sep" or self.word(i + 2) in _YEAR_WORDS)
        ):
            i += 1
        if self.kind(i) == "num" and len(self.toks[i].w) == 4:
            year = int(self.toks[i].w)
            i += 1
            if self.word(i) in _YEAR_WORDS:
                i += 1
            return year, i
        if self.word(i) in _CLOSING_WORDS and self.kind(i + 1) in ("", "sep", "dash"):
            return None, i + 1  # «15 мая г.», «май месяц»: a word that adds nothing
        return None, i

    # -- points and date expressions

    def point(self, i: int, *, year_word: bool = False) -> _Point | None:
        """One end of a period at token i, or None. `year_word`: a bare «года» means the plan year."""
        if i >= self.n:
            return None
        t = self.toks[i]
        kind = t.kind
        if kind in ("dotdate", "dashdate"):
            parts = t.w.replace("-", ".").split(".")
            year: int | None = None
            j = i + 1
            if self.kind(j) == "sep" and self.toks[j].w == "." and self.toks[j].s == t.e and len(parts) == 2:
                j += 1  # «10.03.»: the dot closes the date
            if len(parts) == 3:
                year = int(parts[2]) + (2000 if len(parts[2]) == 2 else 0)
                if self.word(j) in _YEAR_WORDS:
                    j += 1
            return _Point("day", int(parts[0]), int(parts[1]), year, t.s, self.toks[j - 1].e, j, "")
        if kind == "word":
            month = _MONTHS.get(t.w)
            if month is not None:
                year, j = self.year_after(i + 1)
                return _Point("month", 0, month, year, t.s, self.toks[j - 1].e, j, "")
            number = _ORDINAL_WORDS.get(t.w)
            if number is not None:
                return self.unit_point(i, number, "word")
            if year_word and t.w in _YEAR_WORDS and t.w not in ("г", "гг"):
                return _Point("year", 0, 0, None, t.s, t.e, i + 1, "")
            return None
        if kind == "num":
            if len(t.w) > 9:  # no day, quarter or year has that many digits
                return _Point("bare", 10**9, 0, None, t.s, t.e, i + 1, kind)
            return self.unit_point(i, int(t.w), kind)
        if kind in ("ord", "roman"):
            return self.unit_point(i, _ord_value(t.w), kind)
        return None

    def unit_point(self, i: int, number: int, kind: str) -> _Point:
        """A number and what it counts: «12 марта», «III квартал», «2-е полугодие», «2025 год»."""
        t = self.toks[i]
        unit = self.word(i + 1)
        if unit:
            month = _MONTHS.get(unit)
            if month is not None and kind in ("num", "ord"):
                year, j = self.year_after(i + 2)
                return _Point("day", number, month, year, t.s, self.toks[j - 1].e, j, "")
            if unit in _QUARTER_WORDS or unit in _HALF_WORDS:
                year, j = self.year_after(i + 2)
                period = "quarter" if unit in _QUARTER_WORDS else "half"
                return _Point(period, number, 0, year, t.s, self.toks[j - 1].e, j, "")
            if unit in _DECADE_WORDS and kind in ("ord", "word") and self.word(i + 2) in _MONTHS:
                year, j = self.year_after(i + 3)  # «3-я декада октября»: days 21 to the month's end
                return _Point(
                    "decade", number, _MONTHS[self.word(i + 2)], year, t.s, self.toks[j - 1].e, j, ""
                )
            if kind == "num" and len(t.w) == 4 and unit in _YEAR_WORDS:
                return _Point("year", 0, 0, number, t.s, self.toks[i + 1].e, i + 2, "")
        return _Point("bare", number, 0, None, t.s, t.e, i + 1, kind)

    def bounds(self, p: _Point, year: int, fragment: str) -> tuple[dt.date, dt.date]:
        """The first and last day of a point, or _Fail with what is impossible about it."""
        if not MIN_YEAR <= year <= MAX_YEAR:
            raise _Fail(
                f"{_quote(fragment)} has the year {year}, which is out of range {MIN_YEAR}–{MAX_YEAR}; "
                "write the year with four digits"
            )
        if p.kind == "day":
            problem = _day_problem(p.n, p.month, year)
            if problem is not None:
                raise _Fail(f"{_quote(fragment)} is not a valid date: {problem}")
            day = dt.date(year, p.month, p.n)
            return day, day
        if p.kind == "month":
            return dt.date(year, p.month, 1), _month_end(year, p.month)
        if p.kind == "decade":
            if not 1 <= p.n <= 3:
                raise _Fail(f"{_quote(fragment)} is not a valid date: a month has three decades (1–3)")
            last = _month_end(year, p.month) if p.n == 3 else dt.date(year, p.month, 10 * p.n)
            return dt.date(year, p.month, 10 * p.n - 9), last
        if p.kind == "quarter":
            if not 1 <= p.n <= 4:
                raise _Fail(f"{_quote(fragment)} is not a valid date: there is no quarter {p.n} (only I–IV)")
            return dt.date(year, 3 * p.n - 2, 1), _month_end(year, 3 * p.n)
        if p.kind == "half":
            if not 1 <= p.n <= 2:
                raise _Fail(
                    f"{_quote(fragment)} is not a valid date: there is no half-year {p.n} (only I–II)"
                )
            return dt.date(year, 6 * p.n - 5, 1), _month_end(year, 6 * p.n)
        return dt.date(year, 1, 1), dt.date(year, 12, 31)

    def single(self, p: _Point, s: int) -> _DateItem:
        fragment = self.frag(s, p.e)
        first, last = self.bounds(p, p.year if p.year is not None else self.year, fragment)
        precision = _PRECISION[p.kind]
        return _DateItem(first, last, precision, precision, False, s, p.e)

    def period(self, p1: _Point, p2: _Point, s: int) -> _DateItem | None:
        """A range «3 – 7 мая», «март – 15 мая», «I–II квартал»; None when its ends do not fit together."""
        if p1.kind == "bare":  # the start takes its unit (and month) from the end: «3 – 7 мая»
            if p2.kind == "day" and p1.bare in ("num", "ord"):
                p1 = p1._replace(kind="day", month=p2.month)
            elif p2.kind in ("quarter", "half"):
                p1 = p1._replace(kind=p2.kind)
            elif p2.kind == "year" and p1.bare == "num" and MIN_YEAR <= p1.n <= 9999:
                p1 = p1._replace(kind="year", year=p1.n)
            else:
                return None
        # a year written on one end holds for the other; else the plan year
        y1 = p1.year if p1.year is not None else p2.year if p2.year is not None else self.year
        y2 = p2.year if p2.year is not None else p1.year if p1.year is not None else self.year
        fragment = self.frag(s, p2.e)
        first = self.bounds(p1, y1, fragment)[0]
        last = self.bounds(p2, y2, fragment)[1]
        if last < first:
            raise _Fail(
                f"{_quote(fragment)} ends before it starts ({first.isoformat()} … {last.isoformat()}); "
                "put the earlier date first, or, if the period runs into the next year, write the year "
                "of both ends (e.g. '01.12.2024 - 31.01.2025')"
            )
        return _DateItem(first, last, _PRECISION[p1.kind], _PRECISION[p2.kind], False, s, p2.e)

    def range_or_point(self, i: int, s: int, *, year_word: bool = False) -> tuple[_DateItem, int] | None:
        p1 = self.point(i, year_word=year_word)
        if p1 is None:
            return None
        if self.kind(p1.nxt) == "dash":
            p2 = self.point(p1.nxt + 1, year_word=year_word)
            if p2 is not None and p2.kind != "bare":
                item = self.period(p1, p2, s)
                if item is not None:
                    return item, p2.nxt
        if p1.kind == "bare":
            return None
        return self.single(p1, s), p1.nxt

    def date_expr(self, i: int) -> tuple[_DateItem, int] | None:
        """A date expression at token i: a point, a range, a deadline or an open start."""
        w = self.word(i)
        s = self.toks[i].s
        if w in ("с", "со", "от") or (w == "начиная" and self.word(i + 1) in ("с", "со")):
            j = i + 2 if w == "начиная" else i + 1
            p1 = self.point(j)
            if p1 is None:
                return None
            k = p1.nxt
            if self.word(k) in ("по", "до"):
                if self.word(k) == "до" and self.word(k + 1) == "конца":  # «с марта до конца мая»
                    p2 = self.point(k + 2, year_word=True)
                    if p2 is not None and p2.kind in ("day", "bare"):
                        p2 = None
                else:
                    p2 = self.point(k + 1)
                if p2 is not None and p2.kind != "bare":
                    item = self.period(p1, p2, s)
                    if item is not None:
                        return item, p2.nxt
            if w == "от" and p1.kind == "day":  # «от 12.03.2025»: the day itself
                return self.single(p1, s), p1.nxt
            if p1.kind == "bare" or w == "от":  # otherwise «от» needs its «до»
                return None
            open_start = self.single(p1, s)
            return open_start._replace(end=None, ep=None), p1.nxt
        if w == "до" or (w == "не" and self.word(i + 1) in ("позднее", "позже")):
            j = i + 1 if w == "до" else i + 2
            end_of = self.word(j) == "конца"
            p = self.point(j + 1 if end_of else j, year_word=end_of)
            if p is None or p.kind == "bare":
                return None
            fragment = self.frag(s, p.e)
            if end_of and p.kind == "day":
                raise _Fail(
                    f"{_quote(fragment)} asks for the end of a single day; give the day as the deadline"
                )
            if not end_of and p.kind != "day":
                first, last = self.bounds(p, p.year if p.year is not None else self.year, fragment)
                before = first - dt.timedelta(days=1)
                raise _Fail(
                    f"{_quote(fragment)} is ambiguous: before that period or through it? write the last day "
                    f"instead (e.g. '{before:%d.%m}' or '{last:%d.%m}')"
                )
            item = self.single(p, s)
            end = p.nxt + (self.word(p.nxt) == "включительно")
            return item._replace(start=None, sp=None, deadline=True, e=self.toks[end - 1].e), end
        if w == "по":  # «по 15 мая» alone, in a plan's date column: the deadline
            p = self.point(i + 1)
            if p is None or p.kind == "bare":
                return None
            if p.kind != "day":
                fragment = self.frag(s, p.e)
                first, last = self.bounds(p, p.year if p.year is not None else self.year, fragment)
                raise _Fail(
                    f"{_quote(fragment)} gives an end but no start; write the last day as the deadline "
                    f"(e.g. 'по {last:%d.%m}') or the whole period"
                )
            item = self.single(p, s)
            end = p.nxt + (self.word(p.nxt) == "включительно")
            return item._replace(start=None, sp=None, deadline=True, e=self.toks[end - 1].e), end
        if w in _ALWAYS_WORDS:  # «постоянно»: all the plan year
            first, last = dt.date(self.year, 1, 1), dt.date(self.year, 12, 31)
            return _DateItem(first, last, "year", "year", False, s, self.toks[i].e), i + 1
        if w == "на" and self.word(i + 1) != "протяжении":  # «на 1 апреля»: as of that day
            p = self.point(i + 1)
            if p is None or p.kind == "bare":
                return None
            return self.single(p, s), p.nxt
        if w in ("в", "во") and self.word(i + 1) == "период":  # «в период с 3 по 14 марта»
            inner = self.date_expr(i + 2) if i + 2 < self.n else None
            if inner is None:
                return None
            return inner[0]._replace(s=s), inner[1]
        if w in ("в", "во") or (w == "на" and self.word(i + 1) == "протяжении"):
            # «в июне», «в III квартале»; in «в течение года», «на протяжении года» «года» is the plan year
            j = i + 1
            year_word = w == "на" or self.word(j) in ("течение", "течении")  # a common misspelling
            if year_word:
                j += 1
                if self.word(j) in ("всего", "весь"):
                    j += 1
            return self.range_or_point(j, s, year_word=year_word)
        if w in ("весь", "круглый", "круглого", "всего"):  # «весь год», «круглый год»
            p = self.point(i + 1, year_word=True)
            if p is not None and p.kind == "year":
                return self.single(p, s), p.nxt
            return None
        return self.range_or_point(i, s)

    # -- times

    def clock(self, i: int) -> tuple[dt.time, str | None] | None:
        """A time at token i and, for «14.00»-like text, why it is no date (None if it could be one)."""
        if i >= self.n:
            return None
        t = self.toks[i]
        if t.kind == "time":
            hours, minutes = int(t.w[:-3]), int(t.w[-2:])
            if hours > 23 or minutes > 59:
                raise _Fail(
                    f"{_quote(self.frag(t.s, t.e))} is not a valid time: hours are 0–23, minutes 0–59"
                )
            return dt.time(hours, minutes), "it is a time"
        if t.kind == "dotdate" and t.w.count(".") == 1:
            a, b = (int(x) for x in t.w.split("."))
            if a > 23 or b > 59:
                return None
            date_problem = _day_problem(a, b, 2000)  # a leap year: only month and day range matter here
            return dt.time(a, b), date_problem
        return None

    def time_expr(self, i: int) -> tuple[_TimeItem, int] | None:
        """«14:00», «в 14.00», «10:00–12:00», «с 10:00 до 12:00». A «dd.dd» reads as a time only when
        it cannot be a date («14.00», «10.30») or after «в»; «10.05» alone is a date."""
        w = self.word(i)
        s = self.toks[i].s
        explicit = w in ("в", "во")
        j = i + 1 if w in ("в", "во", "с", "со") else i
        if (
            explicit
            and self.kind(j) == "num"
            and self.word(j + 1) in _HOUR_WORDS
            and int(self.toks[j].w) <= 23
        ):
            return _TimeItem(dt.time(int(self.toks[j].w)), None, None, s, self.toks[j + 1].e), j + 2
        first = self.clock(j)
        if first is None:
            return None
        k = j + 1
        separator = self.kind(k) == "dash" or self.word(k) in ("до", "по")
        if w in ("с", "со") and not separator:
            return None
        if separator:
            second = self.clock(k + 1)
            if second is not None and (first[1] is not None or second[1] is not None):
                if second[0] < first[0]:
                    raise _Fail(f"{_quote(self.frag(s, self.toks[k + 1].e))} ends before it starts")
                end = k + 2
                if self.word(end) in _HOUR_WORDS:
                    end += 1
                problem = self.time_date_problem(j, first[1]) or self.time_date_problem(k + 1, second[1])
                return _TimeItem(first[0], second[0], problem, s, self.toks[end - 1].e), end
            if w in ("с", "со"):
                return None
        if not explicit and first[1] is None:  # «10.05» could be 10 May: leave it to the date reader
            return None
        end = j + 1
        if self.word(end) in _HOUR_WORDS:
            end += 1
        problem = None if explicit else self.time_date_problem(j, first[1])
        return _TimeItem(first[0], None, problem, s, self.toks[end - 1].e), end

    def time_date_problem(self, i: int, problem: str | None) -> str | None:
        t = self.toks[i]
        if t.kind != "dotdate" or problem is None:
            return None
        return f"{_quote(self.frag(t.s, t.e))} is not a valid date: {problem}"

    # -- recurrence

    def weekday_list(self, i: int, table: dict[str, int]) -> tuple[tuple[int, ...], int] | None:
        """«вторникам и четвергам», «вторник, четверг»: weekdays joined by «и» or commas."""
        days: list[int] = []
        while True:
            day = table.get(self.word(i))
            if day is None:
                break
            days.append(day)
            i += 1
            joiner = self.word(i) == "и" or (self.kind(i) == "sep" and self.toks[i].w == ",")
            if joiner and self.word(i + 1) in table:
                i += 1
                continue
            break
        return (tuple(days), i) if days else None

    def unit(self, i: int) -> tuple[_Freq, int] | None:
        """«месяц», «полгода», «2 недели», «три месяца» after «раз в» or «каждые»."""
        w = self.word(i)
        if w in _UNIT_ONE:
            return _UNIT_ONE[w], i + 1
        count = _COUNT_WORDS.get(w)
        if count is None and self.kind(i) == "num" and len(self.toks[i].w) <= 2:
            count = int(self.toks[i].w)
        if count and self.word(i + 1) in _UNIT_MANY:
            freq, interval = _UNIT_MANY[self.word(i + 1)]
            return (freq, interval * count), i + 2
        return None

    def rule_expr(self, i: int) -> tuple[_RuleItem, int] | None:
        w = self.word(i)
        t = self.toks[i]
        if w in _REPEAT_WORDS:
            return _RuleItem(_REPEAT_WORDS[w], (), t.s, t.e), i + 1
        # «раз в месяц», «1 раз в квартал», «дважды в месяц», «2 раза в месяц»
        times = _TIMES_COUNT.get(w)
        j = i
        if times is None:
            count = _COUNT_WORDS.get(w)
            if count is None and t.kind == "num" and len(t.w) <= 2:
                count = int(t.w)
            if count is not None and self.word(i + 1) in ("раз", "раза"):
                times, j = count, i + 1
            elif w == "раз":
                times = 1
        if times is not None and self.word(j + 1) in ("в", "во"):
            unit = self.unit(j + 2)
            if unit is not None:
                freq, end = unit
                # an RRULE cannot say "twice a month" without the days: keep those words as a note
                return _RuleItem(freq if times == 1 else None, (), t.s, self.toks[end - 1].e), end
        # «каждый последний вторник месяца», «ежемесячно, последний четверг», «в первую среду месяца»
        first = i + 1 if w in _EVERY or w in ("в", "во") else i
        if self.word(first) in _NTH_WORDS and (first > i or w in _NTH_WORDS):
            nth = _NTH_WORDS[self.word(first)]
            day = _WEEKDAYS_ACC.get(self.word(first + 1), _WEEKDAYS.get(self.word(first + 1)))
            if day is not None:
                end = first + 2 + (self.word(first + 2) in ("месяца", "каждого"))
                end += self.word(end - 1) == "каждого" and self.word(end) == "месяца"
                return _RuleItem(("MONTHLY", 1), (day,), t.s, self.toks[end - 1].e, nth), end
        if w in _EVERY:
            days = self.weekday_list(i + 1, _WEEKDAYS_ACC)
            if days is not None:
                return _RuleItem(("WEEKLY", 1), days[0], t.s, self.toks[days[1] - 1].e), days[1]
            unit = self.unit(i + 1)
            if unit is not None:
                return _RuleItem(unit[0], (), t.s, self.toks[unit[1] - 1].e), unit[1]
        if w == "по":
            days = self.weekday_list(i + 1, _WEEKDAYS_DAT_PL)
            if days is not None:
                return _RuleItem(("WEEKLY", 1), days[0], t.s, self.toks[days[1] - 1].e), days[1]
        return None

    # -- the cell

    def item(self, i: int) -> tuple[_Item, int] | None:
        """The item that starts at token i, trying the readings in an order that avoids clashes:
        «по средам» before «по D», «в 14.00» before «в июне», «с 10:00 до 12:00» before «с D по D»."""
        t = self.toks[i]
        kind = t.kind
        if kind == "num" or (kind == "word" and t.w in _RULE_STARTS):
            rule = self.rule_expr(i)
            if rule is not None:
                return rule
        if kind in ("time", "dotdate") or (kind == "word" and t.w in ("в", "во", "с", "со")):
            found = self.time_expr(i)
            if found is not None:
                return found
        if kind == "num":
            listed = self.listed_day(i)
            if listed is not None:
                return listed
        if kind != "word":  # skip the prepositions: «12 марта», «12.03», «III квартал»
            return self.range_or_point(i, t.s)
        date = self.date_expr(i)
        if date is not None:
            return date
        if t.w in _WEEKDAYS:  # «Среда, 12 марта»: checked against the date
            return _WeekdayItem(_WEEKDAYS[t.w], t.s, t.e), i + 1
        return None

    def listed_day(self, i: int) -> tuple[_Item, int] | None:
        """A day of a list that names its month once, at its end: «17» of «17, 24 сентября», «12 и
        15 марта»."""
        j = i
        while self.kind(j) == "num" and (
            self.word(j + 1) == "и" or (self.kind(j + 1) == "sep" and self.toks[j + 1].w == ",")
        ):
            j += 2
        if j == i or self.kind(j) != "num":
            return None
        last = self.point(j)
        if last is None or last.kind != "day":
            return None
        t = self.toks[i]
        day = _Point("day", int(t.w), last.month, last.year, t.s, t.e, i + 1, "")
        return self.single(day, t.s), i + 2 if self.word(i + 1) == "и" else i + 1

    def count_phrase(self, i: int) -> int:
        """The end of «16+», «7–11 кл.», «30 мин.» at token i (numbers that count no days), or 0."""
        j = i + 1
        if self.kind(j) == "dash" and self.kind(j + 1) == "num":
            j += 2
        if self.toks[i].kind != "num" or j > self.n:
            return 0
        if self.word(j) in _COUNT_UNITS or (self.kind(j) == "other" and self.toks[j].w == "+"):
            return j + 1
        return 0

    def looks_like_date(self, t: _Tok) -> bool:
        """A token that must not end up in a note: part of a date that could not be read."""
        if t.kind in ("num", "ord", "dotdate", "dashdate", "time"):
            return True
        if t.kind == "other":
            return t.w.isdigit()
        if t.kind != "word":
            return False
        w = t.w
        return (
            w in _MONTHS
            or w in _WEEKDAY_FORMS
            or w in _QUARTER_WORDS
            or w in _HALF_WORDS
            or (w in _YEAR_WORDS and w != "г")  # «г. Гусев» is a town in a note
            or w.startswith(_MONTH_STEMS)
        )

    def unreadable(self, i: int) -> _Fail:
        """The error for token i, which looks like a date but starts nothing readable."""
        t = self.toks[i]
        end = i
        while end + 1 < self.n and self.toks[end + 1].kind != "sep":
            end += 1
        fragment = _quote(self.frag(t.s, self.toks[end].e))
        for u in self.toks[i : end + 1]:
            if u.kind == "word" and u.w not in _MONTHS and u.w.startswith(_MONTH_STEMS):
                return _Fail(
                    f"could not read {fragment}: {_quote(self.frag(u.s, u.e))} is not a month name; write "
                    "the month in full (in any case) or with a standard abbreviation, or as a number "
                    "(e.g. '12.03')"
                )
        w = t.w
        if t.kind == "word":
            if w in _WEEKDAY_FORMS:
                return _Fail(
                    f"could not read {fragment}: a weekday is either the weekday of the date given "
                    "(before or after it, in the nominative) or part of a weekly rule (every <weekday>)"
                )
            if w in _QUARTER_WORDS or w in _HALF_WORDS:
                return _Fail(
                    f"could not read {fragment}: say which quarter or half-year it is, with a Roman "
                    "numeral or a number before the word (e.g. 'III', '3', '3-')"
                )
            return _Fail(
                f"could not read {fragment}: a year is written with four digits (e.g. '2025'), "
                "after a day or a month, or alone for the whole year"
            )
        return _Fail(
            f"could not read {fragment}: a number must be part of a date: a day with its month "
            "(e.g. '12.03', '12.03.2025', '3-7.11' or a month name), a quarter or half-year with its word, "
            "or a year with its word"
        )

    def lead(self, run: list[_Tok], item: _DateItem, notes: list[tuple[int, str]]) -> _DateItem:
        """Read the words right before a date when they say only how to read it, or when they are a label
        set off from it by a dash («Сбор сведений – до 1 марта») or standing before a date that begins
        with its own preposition («Мероприятия с 31 января по 5 февраля»): the run is then used (a
        label is kept as a note). Words that change a date's meaning («после», «не») are left in it."""
        words = tuple(r.w for r in run if r.kind != "dash")
        if not words:
            return item
        single = item.start == item.end or (item.sp == item.ep and item.sp != "day")
        if words in _LEAD_START and item.start is not None and item.end is not None and single:
            run.clear()  # «Начало – 4 декабря», «Первый день – 4 декабря»: the period opens then
            self.opens = True  # (unless more days follow: then they are the days of the event)
            return item
        if words in _LEAD_START:
            return item  # «Начало – 3 – 7 мая»: which day opens what? left to the error
        if words in _DAY_LABELS and item.sp == item.ep == "day" and item.start == item.end:
            run.clear()
            return item
        if len(words) == 1 and words[0] in _LEAD_SILENT:
            run.clear()
        elif len(words) == 1 and words[0] in _LEAD_NOTE:
            self.note_of(run, notes)
        elif not _MEANING_WORDS.intersection(words) and all(r.kind in ("word", "dash", "other") for r in run):
            first_word = self.word(self.token_at(item.s))
            if run[-1].kind == "dash" or first_word in _DATE_PREPOSITIONS:
                self.note_of(run, notes)
        return item

    def token_at(self, start: int) -> int:
        """The index of the token that begins at `start`."""
        return next((i for i, t in enumerate(self.toks) if t.s == start), self.n)

    def note_of(self, run: list[_Tok], notes: list[tuple[int, str]]) -> None:
        """Keep a run of note words, whitespace collapsed; a dash between a date and its note is no note."""
        first, last = 0, len(run) - 1
        while first <= last and run[first].kind == "dash":
            first += 1
        while last >= first and run[last].kind == "dash":
            last -= 1
        if first <= last:
            notes.append((run[first].s, " ".join(self.frag(run[first].s, run[last].e).split())))
        run.clear()

    def read(self, text: str) -> Reading:
        dates: list[_DateItem] = []
        times: list[_TimeItem] = []
        rules: list[_RuleItem] = []
        weekdays: list[_WeekdayItem] = []
        notes: list[tuple[int, str]] = []  # (position, words) in text order
        run: list[_Tok] = []  # note words since the last item or separator
        i = 0
        while i < self.n:
            t = self.toks[i]
            if t.kind == "sep":
                if run:
                    self.note_of(run, notes)
                i += 1
                continue
            found = self.item(i)
            if found is None:
                count_end = self.count_phrase(i)
                if count_end:  # «16+», «7–11 кл.»: a note, and no date on its own
                    self.count = self.count or self.frag(t.s, self.toks[count_end - 1].e)
                    run.extend(self.toks[i:count_end])
                    i = count_end
                    continue
                if self.looks_like_date(t):
                    raise self.unreadable(i)
                run.append(t)
                i += 1
                continue
            item, i = found
            if isinstance(item, _DateItem):
                item = self.lead(run, item, notes)
                if any(r.kind != "dash" for r in run):
                    # «после 20 ноября», «не ранее марта»: words glued to a date may change its meaning
                    raise _Fail(
                        f"could not read {_quote(self.frag(run[0].s, item.e))}: the words "
                        f"{_quote(self.frag(run[0].s, run[-1].e))} come right before the date; write the "
                        "date first and give a note after a comma or in parentheses"
                    )
                dates.append(item)
            elif isinstance(item, _TimeItem):
                times.append(item)
            elif isinstance(item, _RuleItem):
                if item.freq is None:  # «дважды в месяц»: no exact RRULE, so the words are the note
                    notes.append((item.s, " ".join(self.frag(item.s, item.e).split())))
                rules.append(item)
            else:
                weekdays.append(item)
            if run:
                self.note_of(run, notes)
        if run:
            self.note_of(run, notes)
        return self.assemble(text, dates=dates, times=times, rules=rules, weekdays=weekdays, notes=notes)

    def assemble(
        self,
        text: str,
        *,
        dates: list[_DateItem],
        times: list[_TimeItem],
        rules: list[_RuleItem],
        weekdays: list[_WeekdayItem],
        notes: list[tuple[int, str]],
    ) -> Reading:
        if len(dates) > 1 and not rules and self.days(dates):
            days = sorted({d.start for d in dates if d.start is not None})
            span = _DateItem(days[0], days[-1], "day", "day", False, dates[0].s, dates[-1].e)
            if (days[-1] - days[0]).days + 1 != len(days):  # «17, 24 сентября»: those days only
                rules = [_RuleItem(("MONTHLY", 1), (), -1, -1, monthdays=tuple(d.day for d in days))]
            dates = [span]  # «Первый день – 4 декабря, второй день – 5 декабря»: 4–5 December
        elif len(dates) == 1 and self.opens:
            dates = [dates[0]._replace(end=None, ep=None)]
        if len(dates) > 1 and not rules and not times and self.months(dates):
            months = sorted({d.start.month for d in dates if d.start is not None})
            first, last = min(d.start for d in dates if d.start), max(d.end for d in dates if d.end)
            # «март, октябрь»: one event in each of those months
            dates = [_DateItem(first, last, "month", "month", False, dates[0].s, dates[-1].e)]
            rules = [_RuleItem(("YEARLY", 1), (), -1, -1, months=tuple(months))]
        if len(dates) > 1:
            raise _Fail(
                f"{self.quoted(dates[0])} and {self.quoted(dates[1])} "
                "are separate dates in one cell; write one event per date, or one range from the first "
                "day to the last (a time is written with a colon, e.g. '10:05')"
            )
        if len(times) > 1:
            raise _Fail(
                f"{self.quoted(times[0])} and {self.quoted(times[1])} "
                "are two times; give one start time, or a range such as '10:00-12:00'"
            )
        rrule = self.merge_rules(rules)
        if dates:
            date = dates[0]
        elif rules:  # a repetition alone runs all the plan year
            date = _DateItem(
                dt.date(self.year, 1, 1), dt.date(self.year, 12, 31), "year", "year", False, -1, -1
            )
        else:
            raise self.no_date(text, times, weekdays)
        time = times[0] if times else None
        if rules and date.start is None:
            raise _Fail(
                f"the repetition {_quote(self.frag(rules[0].s, rules[0].e))} needs a start, but "
                f"{_quote(self.frag(date.s, date.e))} gives only an end; write the whole period"
            )
        if time is not None and not rules and "day" not in (date.sp, date.ep if date.start is None else None):
            raise _Fail(
                f"the time {_quote(self.frag(time.s, time.e))} needs a day, but "
                f"{_quote(self.frag(date.s, date.e))} is a longer period; give the day (or a weekly rule)"
            )
        for weekday in weekdays:
            self.check_weekday(weekday, date)
        notes.sort()
        return Reading(
            text=text,
            start=date.start,
            end=date.end,
            start_precision=date.sp,
            end_precision=date.ep,
            time=time.time if time else None,
            end_time=time.end_time if time else None,
            rrule=rrule,
            deadline=date.deadline,
            note="; ".join(words for _, words in notes) or None,
        )

    def merge_rules(self, rules: list[_RuleItem]) -> str | None:
        """One RRULE from all repetition words: «еженедельно, по вторникам» is one weekly rule."""
        if not rules:
            return None
        bare = next((r.freq for r in rules if not r.byday and r.freq and r.freq[0] == "MONTHLY"), None)
        if bare is not None:  # «ежеквартально, последняя пятница»: the last Friday of every third month
            rules = [r._replace(freq=bare) if r.nth and r.freq == ("MONTHLY", 1) else r for r in rules]
        first = rules[0]
        days: set[int] = set()
        placed = next((rule for rule in rules if rule.byday), first)  # the rule whose weekdays count
        for rule in rules:
            if rule.freq != first.freq or (rule.byday and rule.nth != placed.nth):
                other = (
                    first if rule.freq != first.freq else placed
                )  # also «ежемесячно» with «дважды в месяц»
                raise _Fail(
                    f"{_quote(self.frag(other.s, other.e))} and {_quote(self.frag(rule.s, rule.e))} "
                    "are different repetitions; keep one of them"
                )
            days.update(rule.byday)
        if first.freq is None:  # said in words only, already kept as a note
            return None
        freq, interval = first.freq
        rrule = f"FREQ={freq}"
        if interval != 1:
            rrule += f";INTERVAL={interval}"
        if days:
            nth = str(placed.nth) if placed.nth else ""
            rrule += ";BYDAY=" + ",".join(nth + _BYDAY[d] for d in sorted(days))
        if first.months:
            rrule += ";BYMONTH=" + ",".join(str(m) for m in first.months)
        if first.monthdays:
            rrule += ";BYMONTHDAY=" + ",".join(str(d) for d in first.monthdays)
        return rrule

    @staticmethod
    def days(dates: list[_DateItem]) -> bool:
        """Every date is one day, all of one month or one after another."""
        days = sorted(d.start for d in dates if d.start is not None)
        if len(days) != len(dates) or not all(d.sp == d.ep == "day" and d.start == d.end for d in dates):
            return False
        same_month = len({(d.year, d.month) for d in days}) == 1
        return same_month or (days[-1] - days[0]).days + 1 == len(set(days))

    @staticmethod
    def months(dates: list[_DateItem]) -> bool:
        """Every date is one whole month of the same year, each a different one."""
        starts = [d.start for d in dates]
        return (
            all(d.sp == d.ep == "month" and not d.deadline for d in dates)
            and all(d.start is not None and d.end is not None and d.start.month == d.end.month for d in dates)
            and len({(s.year, s.month) for s in starts if s is not None}) == len(dates)
            and len({s.year for s in starts if s is not None}) == 1
        )

    def check_weekday(self, weekday: _WeekdayItem, date: _DateItem) -> None:
        named = _quote(self.frag(weekday.s, weekday.e))
        if date.start is None or date.start != date.end or date.sp != "day":
            raise _Fail(
                f"the weekday {named} needs a single day, but the date is "
                f"{_quote(self.frag(date.s, date.e)) if date.s >= 0 else 'the whole year'}; "
                "for a weekly event use a weekly rule (every <weekday>)"
            )
        actual = date.start.weekday()
        if actual != weekday.day:
            raise _Fail(
                f"the weekday {named} does not match {_quote(self.frag(date.s, date.e))}: "
                f"{date.start.isoformat()} is a {_WEEKDAY_EN[actual]}; correct the weekday or the date"
            )

    def no_date(self, text: str, times: list[_TimeItem], weekdays: list[_WeekdayItem]) -> _Fail:
        for time in times:
            if time.date_problem is not None:
                return _Fail(f"{time.date_problem}; if it is a time, the cell still needs a date")
        if times:
            return _Fail(
                f"{_quote(self.frag(times[0].s, times[0].e))} is a time, but the cell has no date; "
                "give the day as well (e.g. '12.03')"
            )
        if self.count is not None:
            return _Fail(
                f"{_quote(self.count)} counts something (grades, minutes, people, years of age), it is no "
                "date; write the date of the event (e.g. '12.03'), and this after a comma as a note"
            )
        if weekdays:
            return _Fail(
                f"{_quote(self.frag(weekdays[0].s, weekdays[0].e))} is a weekday without a date; give the "
                "date (e.g. '12.03') or make it a weekly rule (every <weekday>)"
            )
        return _Fail(
            f"no date found in {_quote(text)}; write a day (e.g. '12.03' or '12.03.2025'), a month, "
            "a quarter, a half-year, the whole year or a range of these, or mark the event "
            "`date_known: false`",
            undated=True,
        )


# The commonest cells («май», «15 января», «1 - 5 июля», «январь - 31 октября», «12.03.2025») in one regex:
# two to three times faster than the tokenizer and the parser, which stay the reference: whatever this
# path does not read for sure goes to them, and the tests check that both paths read alike.
_FAST_POINT = (
    r"(?:(?:(?P<d{0}>[0-9]{{1,2}}) +)?(?P<m{0}>[а-я]+)\.?(?: +(?P<y{0}>[0-9]{{4}})(?: *(?:г|год|года)\.?)?)?"
    r"|(?P<n{0}>[0-9]{{1,2}})\.(?P<o{0}>[0-9]{{1,2}})(?:\.(?P<z{0}>[0-9]{{4}}|[0-9]{{2}})(?: *г\.?)?)?)"
)
_FAST_RE = re.compile(
    r" *(?:(?P<b>[0-9]{1,2}) *- *)?" + _FAST_POINT.format(1) + "(?: *- *" + _FAST_POINT.format(2) + r")?[ .]*"
)


def _fast_point(m: re.Match[str], k: str) -> _Point | None:
    """Point number k of a _FAST_RE match; None when absent or not a month name."""
    s, e = m.span()  # the span is only quoted in errors, and this path leaves errors to the parser
    word = m.group("m" + k)
    if word is not None:
        month = _MONTHS.get(word)
        if month is None:
            return None
        day, year = m.group("d" + k), m.group("y" + k)
        kind = "month" if day is None else "day"
        return _Point(kind, int(day or 0), month, None if year is None else int(year), s, e, 0, "")
    day = m.group("n" + k)
    if day is None:
        return None
    year = m.group("z" + k)
    full_year = None if year is None else int(year) + (2000 if len(year) == 2 else 0)
    return _Point("day", int(day), int(m.group("o" + k)), full_year, s, e, 0, "")


def _read_fast(src: str, folded: str, text: str, year: int) -> Reading | None:
    """The reading of a common cell, or None to let the parser read it (and name any error)."""
    m = _FAST_RE.fullmatch(folded)
    if m is None:
        return None
    first = _fast_point(m, "1")
    if first is None:
        return None
    last = _fast_point(m, "2") if m.group("o2") or m.group("m2") else first
    if last is None:
        return None
    bare = m.group("b")
    cell = _Cell(src, [], year)
    try:
        if bare is not None:  # «3 - 7 ноября», «3–7.11.2025»
            if last is not first or first.kind != "day":
                return None
            item = cell.period(_Point("bare", int(bare), 0, None, 0, 0, 0, "num"), first, 0)
        elif last is first:
            item = cell.single(first, 0)
        else:
            item = cell.period(first, last, 0)
    except _Fail:
        return None
    if item is None:
        return None
    return Reading(text, item.start, item.end, item.sp, item.ep, None, None, None, False, None)


def read_date(text: str, year: int) -> Reading:
    """Read a Russian date cell. `year` fills in a missing year; a year in the text beats it."""
    if not isinstance(year, int) or not MIN_YEAR <= year <= MAX_YEAR:
        raise DateReadError(text, f"the plan year {year!r} is out of range {MIN_YEAR}–{MAX_YEAR}")
    if len(text) > MAX_LENGTH:  # checked before the cache, so that only short texts are kept in it
        raise DateReadError(
            text,
            f"the date cell is {len(text)} characters long, more than {MAX_LENGTH}; keep only the date "
            f"and a short note (it starts {_quote(text, 40)})",
        )
    result = _read_cached(text, year)
    if isinstance(result, str):
        raise DateReadError(text, result, undated=isinstance(result, _Undated))
    return result


@lru_cache(maxsize=4096)
def _read_cached(text: str, year: int) -> Reading | str:
    """Plans repeat their cells («январь–декабрь»), and a Reading is immutable: one serves them all."""
    return _read(text, year)


def _read(text: str, year: int, *, fast: bool = True) -> Reading | str:
    """The reading, or the reason it failed. `fast=False` skips the shortcut (the tests compare both)."""
    try:
        src = _TAG_RE.sub("", text) if "<" in text else text
        folded = _fold(src)
        if fast:
            reading = _read_fast(src, folded, text, year)
            if reading is not None:
                return reading
        toks = _tokenize(folded)
        if not toks:
            raise _Fail(
                "the date cell is empty; write a day (e.g. '12.03.2025'), a month, a quarter or a range"
            )
        return _Cell(src, toks, year).read(text)
    except _Fail as fail:
        return _Undated(fail.reason) if fail.undated else fail.reason


# «в течение квартала» under a heading «III квартал»: the date is the section's period
_IN_SECTION_RE = re.compile(r"^\s*в\s+течени[еи]\s+(месяца|квартала|полугодия)\b[\s,;.]*(.*)$", re.IGNORECASE)
_SECTION_UNITS: dict[str, Precision] = {"месяца": "month", "квартала": "quarter", "полугодия": "half"}


def read_in_section(text: str, year: int, heading: str | None) -> Reading:
    """Read a date cell that may refer to its section: «в течение квартала» (or «месяца», «полугодия»)
    under a heading that is one quarter («III квартал», or month, or half-year) is that period. Any
    other cell reads as `read_date` reads it."""
    try:
        return read_date(text, year)
    except DateReadError:
        match = _IN_SECTION_RE.match(text)
        if match is None or not heading:
            raise
        try:
            period = read_date(heading, year)
        except DateReadError:
            raise DateReadError(
                text,
                f"{_quote(text)} refers to its section, but the section's heading {_quote(heading)} is "
                "no month, quarter or half-year; write the period (e.g. 'III квартал')",
            ) from None
        unit = _SECTION_UNITS[match[1].lower()]
        if period.start_precision != unit or period.end_precision != unit or period.rrule:
            raise DateReadError(
                text,
                f"{_quote(text)} refers to its section, but the section's heading {_quote(heading)} is "
                f"not one {_PRECISION_WORDS[unit]}; write the period",
            ) from None
        note = match[2].strip() or None
        return Reading(text, period.start, period.end, unit, unit, None, None, None, False, note)


_PRECISION_WORDS = {"month": "month", "quarter": "quarter", "half": "half-year"}
