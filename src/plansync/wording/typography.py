"""Russian typography for text people read: quotes nested as «…„…“…», no line break inside
«2024 г.», «В. Маяковского», «им. Гайдара». Pure."""

from __future__ import annotations

import re

__all__ = ["NBSP", "quotes", "text"]

NBSP = "\u00a0"

# An initial or a short abbreviation followed by the word it belongs to: «В. Маяковского», «А.П. Гайдара»,
# «им. Гайдара», «г. Советска»; and a number before «г.»: «2024 г.».
_BOUND = re.compile(r"(?<![\w.])((?:[А-ЯЁA-Z]\.){1,2}|им\.|г\.|ул\.|пос\.|п\.|д\.|№)[ \t]+(?=\w)")
_YEAR = re.compile(r"(\d)[ \t]+(г\.|гг\.)")


def quotes(value: str) -> str:
    """Quotes inside «…» become „…“, as Russian typography nests them."""
    out: list[str] = []
    depth = 0
    for char in value:
        if char == "«":
            out.append("«" if depth == 0 else "„")
            depth += 1
        elif char == "»" and depth > 0:
            depth -= 1
            out.append("»" if depth == 0 else "“")
        else:
            out.append(char)
    return "".join(out)


def text(value: str) -> str:
    """Quotes nested and the spaces that must not break made non-breaking."""
    value = quotes(re.sub(r"«\s+", "«", re.sub(r"\s+»", "»", value)))
    value = _BOUND.sub(lambda m: m.group(1) + NBSP, value)
    return _YEAR.sub(lambda m: m.group(1) + NBSP + m.group(2), value)
