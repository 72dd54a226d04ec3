"""plansync's import map, read from its source (each file parsed once), its layers in order, and the
map as a Graphviz drawing (scripts/import-map writes docs/import-map.dot and .svg from `dot_text`)."""

from __future__ import annotations

import ast
import itertools
from collections import Counter
from collections.abc import Iterable
from functools import cache
from pathlib import Path

from tests.support.paths import REPO

PACKAGE = REPO / "src" / "plansync"

# The layers, lowest first (docs/architecture.md says why this order). A module may import its own
# package and any package of a lower layer; packages of one layer are siblings and import nothing of
# each other: the calendars, the digests and the site are each made from the layers below.
LAYERS: tuple[tuple[str, ...], ...] = (
    ("plansync", "plansync.errors"),  # the version, and the one exception tree
    ("plansync.util",),
    ("plansync.model",),
    ("plansync.wording",),
    ("plansync.planread",),
    ("plansync.calendar",),
    ("plansync.config",),
    ("plansync.caldav",),
    ("plansync.sync", "plansync.digest", "plansync.publish"),
    ("plansync.jobs",),
    ("plansync.service",),
    ("plansync.cli",),
    ("plansync.__main__",),  # `python -m plansync`
)


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


@cache
def imports() -> dict[str, frozenset[str]]:
    """Every module of plansync → every module it imports, at any depth (a lazy import inside a function
    and one under TYPE_CHECKING count too)."""
    found: dict[str, frozenset[str]] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        name = module_name(path)
        package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
        names: set[str] = set()
        for node in ast.walk(ast.parse(path.read_bytes(), str(path))):
            if isinstance(node, ast.Import):
                names.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:  # relative: up from this module's package
                    parts = package.split(".")
                    base = ".".join([*parts[: len(parts) - node.level + 1], base]).strip(".")
                names.add(base)
                # `from plansync.sync import engine` imports the module plansync.sync.engine
                names.update(f"{base}.{alias.name}" for alias in node.names)
        found[name] = frozenset(names)
    return found


@cache
def graph() -> dict[str, frozenset[str]]:
    """The map within plansync: module → the plansync modules it imports."""
    modules = imports()
    return {
        name: frozenset(m for m in found if m in modules and m != name) for name, found in modules.items()
    }


def within(name: str, prefixes: Iterable[str]) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


def package_of(name: str) -> str:
    """The layer entry a module belongs to: `plansync.sync` for plansync.sync.engine."""
    for layer in LAYERS:
        for entry in layer:
            if name == entry or (entry != "plansync" and name.startswith(entry + ".")):
                return entry
    raise LookupError(f"{name} is in no layer: add its package to LAYERS (and to docs/architecture.md)")


def layer_of(name: str) -> int:
    package = package_of(name)
    return next(n for n, layer in enumerate(LAYERS) if package in layer)


def wrong_ways(edges: Iterable[tuple[str, str]]) -> list[str]:
    """The imports among `edges` (importer, imported) that point up or sideways, said plainly."""
    out = []
    for importer, imported in sorted(edges):
        mine, theirs = package_of(importer), package_of(imported)
        if mine == theirs or layer_of(imported) < layer_of(importer):
            continue
        way = "sideways to a sibling" if layer_of(imported) == layer_of(importer) else "up"
        out.append(f"{importer} ({mine}) imports {imported} ({theirs}): {way}")
    return out


def package_edges() -> Counter[tuple[str, str]]:
    """(importing package, imported package) → how many module imports make that arrow."""
    counts: Counter[tuple[str, str]] = Counter()
    for name, found in graph().items():
        for imported in found:
            mine, theirs = package_of(name), package_of(imported)
            if mine != theirs:
                counts[mine, theirs] += 1
    return counts


def _short(package: str) -> str:
    return package.removeprefix("plansync.") if package != "plansync" else "plansync (version)"


def dot_text() -> str:
    """The package-level map, the top layer first: every arrow from an importer down to what it imports
    (faint to errors and util, which every layer may use; an arrow up or sideways would be red)."""
    lines = [
        "// Written by scripts/import-map from the source; tests/unit/architecture checks it is current.",
        "digraph plansync {",
        '  graph [rankdir=TB, ranksep=0.35, nodesep=0.3, fontname="Helvetica", '
        'label="plansync: who imports whom (an arrow points at what is imported)", labelloc=t];',
        '  node [shape=box, style="rounded,filled", fillcolor="#eef3fb", fontname="Helvetica", fontsize=12];',
        '  edge [color="#5b6b80", arrowsize=0.6];',
    ]
    top_down = list(reversed(LAYERS))
    for n, layer in enumerate(top_down):
        level = len(LAYERS) - 1 - n
        members = " ".join(f'"{_short(p)}";' for p in layer)
        lines.append(
            f'  {{ rank=same; "layer {level}" [shape=plaintext, style="", fontcolor="#7a869a"]; {members} }}'
        )
    for upper, lower in itertools.pairwise(top_down):
        lines.append(f'  "layer {LAYERS.index(upper)}" -> "layer {LAYERS.index(lower)}" [style=invis];')
    for importer, imported in sorted(package_edges()):
        if layer_of(imported) >= layer_of(importer):
            style = ' [color="#d0021b", penwidth=2]'
        elif layer_of(imported) <= 1:  # errors and util, which every layer may use: drawn faint
            style = ' [color="#c9d1dc"]'
        else:
            style = ""
        lines.append(f'  "{_short(importer)}" -> "{_short(imported)}"{style};')
    lines.append("}")
    return "\n".join(lines) + "\n"
