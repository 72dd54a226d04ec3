"""How long matching a re-issue's events to the plan in use takes when every title was reworded and
every number moved (the worst case: each new title is compared with every old one).

    python -m bench.reissue_match [--events N] [--repeat K]

Prints plansync's matcher (rapidfuzz) next to the same all-against-all comparison with difflib's
SequenceMatcher, measured in the same run on the same titles.
"""

from __future__ import annotations

import argparse
import difflib
import random

from bench.plan_load import best_of, report
from plansync.planread.reissue import SAME_TITLE, match

WORDS = [
    "семинар",
    "вебинар",
    "библиотека",
    "чтение",
    "книга",
    "конкурс",
    "акция",
    "областной",
    "детской",
    "юношеской",
    "программа",
    "пушкинская",
    "карта",
    "работа",
    "специалистов",
    "муниципальных",
    "методический",
    "день",
    "информации",
    "краеведение",
]


def titles(count: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    return [" ".join(rng.choice(WORDS) for _ in range(8)) for _ in range(count)]


def difflib_all_against_all(old: list[str], new: list[str]) -> int:
    return sum(difflib.SequenceMatcher(None, a, b).ratio() >= SAME_TITLE for b in new for a in old)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=300)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    old_titles, new_titles = titles(args.events, 1), titles(args.events, 2)
    old = [
        {"key": f"k{i}", "title": t, "number": i, "date": "май", "section": "s"}
        for i, t in enumerate(old_titles)
    ]
    new = [
        {"key": f"k{i}", "title": t, "number": i + 10_000, "date": "июнь", "section": "s"}
        for i, t in enumerate(new_titles)
    ]
    document = {"sections": [{"id": "s"}]}
    rows = [
        ("plansync match (rapidfuzz)", *best_of(args.repeat, lambda: match(old, new, document, document))),
        (
            "baseline: difflib, every pair",
            *best_of(args.repeat, lambda: difflib_all_against_all(old_titles, new_titles)),
        ),
    ]
    report(f"re-issue: {args.events} events, every title reworded", args.repeat, rows)


if __name__ == "__main__":
    main()
