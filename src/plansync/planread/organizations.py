"""The organizations of an import: the registry of known ones (and the accepted proposals read back as
aliases), run-together organizer cells split into known names, and the roster that gives every name a
plan reads the organization it is (known, or proposed for review), with the library that issued the
plan standing in where a row names none."""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from plansync.errors import InvalidInput, Problem
from plansync.planread.proposals import Proposal, Proposer, is_acronym
from plansync.planread.responsible import NAMED_ORGANIZATION_RE
from plansync.planread.yamlcheck import Checker, Node, read_file

_SPACE_RE = re.compile(r"\s+")
_QUOTES = str.maketrans({"“": "«", "”": "»", "„": "«", '"': "«", "‘": "'", "’": "'"})
NO_ORGANIZER = "Организатор не указан"


@dataclass(frozen=True)
class KnownOrganization:
    id: str
    name: str
    short_name: str
    kind: str
    aliases: tuple[str, ...]


# -- organizations -------------------------------------------------------------------------------


def load_registry(path: Path | Sequence[Path]) -> list[KnownOrganization]:
    """The known organizations of one or more registry files, read in order: a later file adds
    organizations, and its `alias_of` entries (accepted proposals) add aliases to known ones."""
    known: list[KnownOrganization] = []
    problems: list[Problem] = []
    for one in [path] if isinstance(path, Path) else path:
        checker = Checker(str(one))
        root = read_file(one, checker)
        if root is not None:
            checker.guarded(functools.partial(_read_registry, root, checker, known))
        problems.extend(checker.problems)
    if problems:
        raise InvalidInput(problems)
    return known


def _read_registry(root: Node, checker: Checker, known: list[KnownOrganization]) -> None:
    top = checker.mapping(root, "", ("organizations",), required=("organizations",))
    items = (
        checker.sequence(top["organizations"].value, "organizations")
        if top and "organizations" in top
        else []
    )
    for index, node in enumerate(items or ()):
        where = f"organizations[{index}]"
        fields = checker.mapping(
            node,
            where,
            ("id", "name", "short_name", "kind", "aliases", "alias_of", "seen"),
            required=("id", "name", "short_name", "kind"),
        )
        if not fields or len(fields.keys() & {"id", "name", "short_name", "kind"}) < 4:
            continue
        if "alias_of" in fields:  # an accepted proposal: its name is another name of a known organization
            target = checker.string(fields["alias_of"].value, f"{where}.alias_of")
            name = checker.string(fields["name"].value, f"{where}.name")
            index_of = {org.id: i for i, org in enumerate(known)}
            if target is not None and target not in index_of:
                checker.error(
                    fields["alias_of"].value,
                    f"{where}.alias_of",
                    f"unknown organization '{target}'",
                    "name an id of an earlier --registry file, or delete `alias_of` to make it a new one",
                )
            elif target is not None and name is not None:
                org = known[index_of[target]]
                known[index_of[target]] = KnownOrganization(
                    org.id, org.name, org.short_name, org.kind, (*org.aliases, name)
                )
            continue
        values = [
            checker.string(fields[k].value, f"{where}.{k}") for k in ("id", "name", "short_name", "kind")
        ]
        aliases = (
            checker.string_list(fields["aliases"].value, f"{where}.aliases") if "aliases" in fields else []
        )
        if None in values or aliases is None:
            continue
        org_id, name, short, kind = (v or "" for v in values)
        known.append(KnownOrganization(org_id, name, short, kind, tuple(a for a, _ in aliases)))


def _normalize(text: str) -> str:
    return _SPACE_RE.sub(" ", text.translate(_QUOTES)).strip().casefold()


class OrganizerMatcher:
    """Splits run-together organizer cells into known organizations, longest name first."""

    def __init__(self, known: Iterable[KnownOrganization]) -> None:
        names = [(_normalize(n), org) for org in known for n in (org.name, *org.aliases)]
        self._names = sorted(names, key=lambda item: -len(item[0]))

    def split(self, cell: str) -> tuple[list[KnownOrganization], list[str]]:
        """Return the organizations found and the pieces of text that matched none."""
        text = _normalize(cell)
        found: list[KnownOrganization] = []
        unmatched: list[str] = []
        pos = 0
        while pos < len(text):
            if text[pos] in " ,;":
                pos += 1
                continue
            org = self._match_at(text, pos)
            if org is not None:
                if org[0] not in found:
                    found.append(org[0])
                pos += org[1]
                continue
            end = next(
                (i for i in range(pos + 1, len(text)) if text[i - 1] == " " and self._match_at(text, i)),
                len(text),
            )
            unmatched.append(cell_fragment(cell, text[pos:end].strip()))
            pos = end
        return found, unmatched

    def _match_at(self, text: str, pos: int) -> tuple[KnownOrganization, int] | None:
        for name, org in self._names:
            end = pos + len(name)
            if text.startswith(name, pos) and (end == len(text) or text[end] in " ,;"):
                return org, len(name)
        return None


def cell_fragment(cell: str, normalized_piece: str) -> str:
    """Show the user the piece as written in the source when we can find it again."""
    flat = _SPACE_RE.sub(" ", cell)
    index = flat.casefold().translate(_QUOTES).find(normalized_piece)
    return flat[index : index + len(normalized_piece)] if index >= 0 else normalized_piece


Organization = KnownOrganization | Proposal
# «План работы Центральной районной детской библиотеки им. А.П. Гайдара», «… Озёрковской ЦБС»
_LIBRARY_OF_RE = re.compile(
    r"(?<![\w-])((?:[А-ЯЁ][а-яё-]+(?:ой|ей)\s+)(?:[а-яё-]+(?:ой|ей)\s+)*)"
    r"(библиотеки|библиотечной\s+системы|системы|ЦБС|МЦБС|МЦБ|ЦРБ|ЦГБ|ЦДБ|ЦРДБ|ЦГДБ)"
    r"((?:\s+им(?:\.|ени)\s*(?:[А-ЯЁ]\.\s*){0,2}[А-ЯЁ][а-яё]+)?)"
)
_NOMINATIVE = (("ой", "ая"), ("ей", "яя"))
_NOUNS = {"библиотеки": "библиотека", "системы": "система"}


def library_in(title: str) -> str | None:
    """The library a title names in the genitive, in the nominative: «План работы Центральной
    районной детской библиотеки» → «Центральная районная детская библиотека»."""
    match = _LIBRARY_OF_RE.search(title)
    if match is None:
        return None
    words = []
    for genitive_word in (match[1] + match[2]).split():
        word = genitive_word
        for genitive, nominative in _NOMINATIVE:
            if word.endswith(genitive):
                word = word[: -len(genitive)] + nominative
                break
        words.append(_NOUNS.get(word, word))
    return " ".join(words) + match[3]


class Roster:
    """Every organization name of one plan, known or proposed. Full names are registered before
    acronyms, so that «ПОНБ» in a row is the «ГБУК «Приморская областная научная библиотека»» of the
    contacts block."""

    def __init__(self, known: list[KnownOrganization]) -> None:
        self.matcher = OrganizerMatcher(known)
        self.proposer = Proposer(list(known))
        self.issuer: Organization | None = None

    def name(self, name: str, seen: str, short: str | None = None) -> Organization:
        found, unmatched = self.matcher.split(name)
        if len(found) == 1 and not unmatched:
            return found[0]
        return self.proposer.propose(name, seen, short)

    def names(self, names: Iterable[tuple[str, str]]) -> None:
        """Register names (with where each was seen) full ones first."""
        pairs = list(names)
        for name, seen in sorted(pairs, key=lambda pair: is_acronym(pair[0])):
            self.name(name, seen)

    def find_issuer(self, title: str, seen: str) -> Organization | None:
        """The library that issued the plan, when its title names one (a known organization, or a legal
        form with the name in quotes)."""
        found, _ = self.matcher.split(title)
        if len(found) == 1:
            self.issuer = found[0]
        else:
            match = NAMED_ORGANIZATION_RE.search(title)
            if match is not None:
                self.issuer = self.name(match.group(), seen)
            elif (library := library_in(title)) is not None:
                self.issuer = self.name(library, seen)
        return self.issuer

    @property
    def proposals(self) -> list[Proposal]:
        return self.proposer.proposals
