"""Proposed organizations: ids from names, near-matches proposed as aliases (never applied), kinds."""

from __future__ import annotations

import pytest

from plansync.planread.importer import KnownOrganization
from plansync.planread.proposals import Proposer, kind_of, make_id, near_match

KONB = KnownOrganization("konb", "ГБУК «Калининградская областная научная библиотека»", "КОНБ", "library", ())
GAIDAR = KnownOrganization(
    "gaidar", "ГБУК «Калининградская областная детская библиотека им. А.П. Гайдара»", "Гайдара", "library", ()
)
KNOWN = [KONB, GAIDAR]


@pytest.mark.parametrize(
    ("name", "close"),
    [
        ("Калининградская областная научная библиотека", "konb"),  # the name without its legal form
        ("КОНБ", "konb"),  # its short name
        ("ГБУК Калининградская областная детская библиотека им. Гайдара", "gaidar"),
        ("Калининградская областная научная библ.", "konb"),
        ("МБУК «Централизованная библиотечная система г. Гусева»", None),
    ],
)
def test_near_matches(name: str, close: str | None) -> None:
    found = near_match(name, KNOWN)
    assert (found.id if found else None) == close


def test_an_acronym_is_close_to_the_name_it_abbreviates() -> None:
    full = KnownOrganization("ponb", "Приозёрская областная научная библиотека", "Научная", "library", ())
    assert near_match("ПОНБ", [full]) is full


def test_ids_are_plain_ascii_short_and_unique() -> None:
    taken = {"konb"}
    first = make_id("МБУК «Централизованная библиотечная система г. Гусева»", taken)
    assert first == "tsentralizovannaya-bibliotechnaya"
    assert make_id("МБУК «Централизованная библиотечная система г. Гусева»", taken) == f"{first}-2"
    assert make_id("«»", taken) == "organization"


def test_one_proposal_per_name_with_every_place_it_was_seen() -> None:
    proposer = Proposer(list(KNOWN))
    a = proposer.propose("ЦБС г. Гусева", "p.docx:3 row 1")
    b = proposer.propose("ЦБС  г. Гусева", "p.docx:9 row 7")
    assert a is b and a.seen == ["p.docx:3 row 1", "p.docx:9 row 7"]
    assert (a.kind, a.alias_of) == ("library", None)


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("Министерство культуры", "ministry"),
        ("Проектный офис РГБ", "project-office"),
        ("Дом культуры", "other"),
    ],
)
def test_proposed_kind(name: str, kind: str) -> None:
    assert kind_of(name) == kind
