"""Organizers a registry does not know, proposed for review instead of stopping the import: an id made
from the name, the name as written, where it was seen, and, when the name is close to a known
organization («Калининградская областная научная библиотека» and «КОНБ»), that organization as the
proposed `alias_of`. Nothing here is applied: the proposals file is read back only through --registry."""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Protocol

from plansync.planread.yamlwrite import Flow, dump_yaml

LEGAL_FORMS = frozenset(
    {
        "гбук",
        "гкук",
        "мбук",
        "мкук",
        "мбу",
        "мку",
        "гбу",
        "гку",
        "гаук",
        "маук",
        "мау",
        "мбоу",
        "мбудо",
        "ооо",
        "ано",
        "огбук",
        "кгбук",
        "гук",
        "мук",
        "огук",
        "бук",
        "кгбу",
        "гау",
        "гбоу",
        "гобук",
        "обук",
        "бу",
        "ау",
        "ку",
        "гу",
        "му",
    }
)
_SMALL_WORDS = frozenset({"им", "г", "и", "для", "по", "в", "на", "с", "о", "при"})
_WORD_RE = re.compile(r"[0-9a-zа-яё]+", re.IGNORECASE)
_ACRONYM_RE = re.compile(r"[А-ЯЁA-Z]{2,8}")
_TRANSLIT = str.maketrans(
    {
        "а": "a", "б": "b", "в": "v", "г": "g", "д": "d", "е": "e", "ё": "e", "ж": "zh", "з": "z", "и": "i",
        "й": "y", "к": "k", "л": "l", "м": "m", "н": "n", "о": "o", "п": "p", "р": "r", "с": "s", "т": "t",
        "у": "u", "ф": "f", "х": "kh", "ц": "ts", "ч": "ch", "ш": "sh", "щ": "shch", "ъ": "", "ы": "y",
        "ь": "", "э": "e", "ю": "yu", "я": "ya",
    }
)  # fmt: skip
MAX_ID_LENGTH = 40
NEAR_RATIO = 0.85


class Known(Protocol):
    @property
    def id(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def short_name(self) -> str: ...
    @property
    def aliases(self) -> tuple[str, ...]: ...


@dataclass
class Proposal:
    id: str
    name: str
    kind: str
    seen: list[str] = field(default_factory=list)
    alias_of: str | None = None  # a known organization the name is close to
    close_to: str | None = None  # that organization's name, for the reviewer
    short: str | None = None  # the short name the plan gives or abbreviates it by («ПОНБ»)


def _words(text: str) -> list[str]:
    return [w for w in _WORD_RE.findall(text.casefold().replace("ё", "е")) if w not in LEGAL_FORMS]


def _core(text: str) -> str:
    """A name without its legal form and punctuation: «ГБУК «КОНБ»» and «КОНБ» have the same core."""
    return " ".join(_words(text))


def _acronym(text: str) -> str:
    return "".join(w[0] for w in _words(text) if w not in _SMALL_WORDS and not w.isdigit())


def kind_of(name: str) -> str:
    low = name.casefold()
    if "библиотек" in low or "цбс" in low:
        return "library"
    if "министерств" in low:
        return "ministry"
    if "проектный офис" in low:
        return "project-office"
    return "other"


def make_id(name: str, taken: set[str]) -> str:
    words = [w.translate(_TRANSLIT) for w in _words(name)]
    slug = ""
    for word in filter(None, (re.sub(r"[^a-z0-9]", "", w) for w in words)):
        if slug and len(slug) + 1 + len(word) > MAX_ID_LENGTH:
            break
        slug = f"{slug}-{word}" if slug else word[:MAX_ID_LENGTH]
    slug = slug or "organization"
    candidate, suffix = slug, 2
    while candidate in taken:
        candidate, suffix = f"{slug}-{suffix}", suffix + 1
    taken.add(candidate)
    return candidate


def near_match(name: str, known: Iterable[Known]) -> Known | None:
    """The known organization whose name, short name or alias the name is close to, if exactly one is."""
    core, acronym = _core(name), _acronym(name).upper()
    found: list[Known] = []
    for org in known:
        forms = [org.name, org.short_name, *org.aliases]
        close = any(difflib.SequenceMatcher(None, core, _core(f)).ratio() >= NEAR_RATIO for f in forms)
        abbreviated = len(acronym) >= 3 and any(acronym == _core(f).upper().replace(" ", "") for f in forms)
        expanded = any(_acronym(f).upper() == core.upper().replace(" ", "") and len(core) >= 3 for f in forms)
        if close or abbreviated or expanded:
            found.append(org)
    return found[0] if len(found) == 1 else None


def is_acronym(name: str) -> bool:
    """«ПОНБ», «ЦРДБ»: a short name of capital letters."""
    return bool(_ACRONYM_RE.fullmatch(name.strip()))


class Proposer:
    """Collects one proposal per distinct unknown name; an acronym of a name proposed earlier («ПОНБ»
    after «ГБУК «Приморская областная научная библиотека»») is that proposal, with the acronym as its
    short name."""

    def __init__(self, known: list[Known]) -> None:
        self.known = known
        self.taken = {org.id for org in known}
        self.by_name: dict[str, Proposal] = {}

    def abbreviated(self, name: str) -> Proposal | None:
        """The proposal whose given short name, or whose name's initials, the acronym is."""
        if not is_acronym(name):
            return None
        wanted = name.strip().upper()
        found = [
            p
            for p in self.by_name.values()
            if (p.short or "").upper() == wanted
            or (not is_acronym(p.name) and _acronym(p.name).upper() == wanted)
        ]
        return found[0] if len(found) == 1 else None

    def propose(self, name: str, seen: str, short: str | None = None) -> Proposal:
        key = " ".join(name.casefold().split())
        proposal = self.by_name.get(key) or self.abbreviated(name)
        if proposal is not None and proposal.short is None and is_acronym(name) and proposal.name != name:
            proposal.short = name.strip()
        if proposal is not None and short and proposal.short is None:
            proposal.short = short
        if proposal is None:
            close = near_match(name, self.known)
            proposal = Proposal(
                make_id(name, self.taken),
                name,
                kind_of(name),
                alias_of=close.id if close else None,
                close_to=close.name if close else None,
                short=short,
            )
            self.by_name[key] = proposal
        if seen not in proposal.seen:
            proposal.seen.append(seen)
        return proposal

    @property
    def proposals(self) -> list[Proposal]:
        return list(self.by_name.values())


def render_proposals(proposals: list[Proposal], source_name: str, registry_args: str, file_name: str) -> str:
    header = (
        f"# Organizations named in {source_name} that the registry does not know. Nothing here is applied.\n"
        "# Check each one: correct `name`, `short_name` and `kind`, delete what is not an organization;\n"
        "# an `alias_of` entry, once kept, makes its name an alias of that known organization instead.\n"
        f"# Then import again with: {registry_args} --registry {file_name}\n\n"
    )
    entries = []
    for p in proposals:
        entry: dict[str, object] = {
            "id": p.id,
            "name": p.name,
            "short_name": p.short or p.name,
            "kind": p.kind,
        }
        if p.alias_of:
            entry["alias_of"] = p.alias_of
        entry["seen"] = Flow(p.seen)
        entries.append(entry)
    return header + dump_yaml({"organizations": entries})
