"""docs/architecture.md lists every module of plansync, and nothing that is not one."""

from __future__ import annotations

import re

from tests.support.import_map import PACKAGE
from tests.support.paths import REPO


def _listed() -> set[str]:
    text = (REPO / "docs" / "architecture.md").read_text(encoding="utf-8")
    section = text[text.index("## Modules") :]
    section = section[: section.index("\n## ", 1)]
    return set(re.findall(r"`([\w/]+\.py)`", section))


def test_every_module_is_listed_in_the_architecture() -> None:
    modules = {str(p.relative_to(PACKAGE)) for p in PACKAGE.rglob("*.py") if p.name != "__init__.py"}
    listed = _listed()
    assert sorted(modules - listed) == [], "add them to docs/architecture.md, section Modules"
    assert sorted(listed - modules) == [], "docs/architecture.md lists modules that are not there"
