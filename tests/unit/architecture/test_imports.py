"""The import map of plansync: layers that only point down, no cycles, click only in the CLI, and the pure
core importing nothing that talks to the network, the disk's databases, other processes or locks.

Each file is parsed once a session (`_imports`): the map is read from the source, not by importing it.
"""

from __future__ import annotations

import ast
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

# The back and side imports the layers were made to end (module → what it imported): each is refused.
OLD_WRONG_WAYS = (
    ("plansync.calendar.ical", "plansync.sync.reconcile"),  # Desired
    ("plansync.config.model", "plansync.sync.reconcile"),  # ConflictPolicy
    ("plansync.digest.send", "plansync.service.schedule"),
    ("plansync.jobs.status", "plansync.service.schedule"),
    ("plansync.publish.agenda", "plansync.digest.select"),  # rule_words
    ("plansync.publish.site", "plansync.digest.mail"),  # shipped_templates
)

# The pure core: plain data in, plain data out.
PURE = (
    "plansync.model",
    "plansync.wording",
    "plansync.calendar",
    "plansync.planread.dates",
    "plansync.sync.reconcile",
    "plansync.digest.select",
    "plansync.digest.schedule",
    "plansync.publish.agenda",
    "plansync.errors",
    "plansync.util.backoff",
)
# What talks to the outside world: the network, SQLite, mail, processes, locks, and plansync's own edges.
IO = (
    "socket",
    "ssl",
    "select",
    "http",
    "urllib.request",
    "smtplib",
    "mailbox",
    "sqlite3",
    "subprocess",
    "fcntl",
    "signal",
    "caldav",
    "radicale",
    "niquests",
    "plansync.caldav",
    "plansync.sync.state",
    "plansync.sync.engine",
    "plansync.digest.transports",
    "plansync.digest.ledger",
    "plansync.jobs",
    "plansync.service",
    "plansync.cli",
    "plansync.util.lock",
    "plansync.util.fileio",
)


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


@cache
def _imports() -> dict[str, frozenset[str]]:
    """Every module of plansync → every module it imports, at any depth (a lazy import inside a function
    and one under TYPE_CHECKING count too)."""
    found: dict[str, frozenset[str]] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        name = _module_name(path)
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
def _graph() -> dict[str, frozenset[str]]:
    """The map within plansync: module → the plansync modules it imports."""
    modules = _imports()
    return {
        name: frozenset(m for m in imported if m in modules and m != name)
        for name, imported in modules.items()
    }


def _within(name: str, prefixes: Iterable[str]) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


def _package(name: str) -> str:
    """The layer entry a module belongs to: `plansync.sync` for plansync.sync.engine."""
    for layer in LAYERS:
        for entry in layer:
            if name == entry or (entry != "plansync" and name.startswith(entry + ".")):
                return entry
    raise LookupError(f"{name} is in no layer: add its package to LAYERS (and to docs/architecture.md)")


def _layer(name: str) -> int:
    package = _package(name)
    return next(n for n, layer in enumerate(LAYERS) if package in layer)


def _wrong_ways(edges: Iterable[tuple[str, str]]) -> list[str]:
    """The imports among `edges` (importer, imported) that point up or sideways, said plainly."""
    out = []
    for importer, imported in sorted(edges):
        mine, theirs = _package(importer), _package(imported)
        if mine == theirs or _layer(imported) < _layer(importer):
            continue
        way = "sideways to a sibling" if _layer(imported) == _layer(importer) else "up"
        out.append(f"{importer} ({mine}) imports {imported} ({theirs}): {way}")
    return out


def test_every_import_points_down_the_layers() -> None:
    edges = [(name, imported) for name, imports in _graph().items() for imported in imports]
    assert _wrong_ways(edges) == []


def test_the_old_back_and_side_imports_are_refused() -> None:
    """What the layer order was made against: each of these, put back, fails the test above."""
    refused = _wrong_ways(OLD_WRONG_WAYS)
    assert len(refused) == len(OLD_WRONG_WAYS), refused


def test_every_module_is_in_a_layer() -> None:
    for name in _imports():
        _package(name)  # raises for a module outside every layer


def test_no_import_cycles() -> None:
    graph = _graph()
    cycles: list[list[str]] = []
    state: dict[str, int] = {}  # 1: on the path, 2: done

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph[node]):
            if nxt.startswith(node + "."):
                continue  # a package's __init__ importing its own module is not a cycle
            if state.get(nxt) == 1:
                cycles.append([*path[path.index(nxt) :], nxt])
            elif nxt not in state:
                visit(nxt, [*path, nxt])
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node, [node])
    assert cycles == []


def test_click_only_in_the_cli() -> None:
    offenders = sorted(
        name
        for name, imported in _imports().items()
        if not _within(name, ("plansync.cli",)) and any(_within(m, ("click",)) for m in imported)
    )
    assert offenders == []


def test_the_pure_core_imports_no_io() -> None:
    offenders = {
        name: sorted(m for m in imported if _within(m, IO))
        for name, imported in _imports().items()
        if _within(name, PURE)
    }
    assert {name: found for name, found in offenders.items() if found} == {}


def test_the_rules_see_the_modules() -> None:
    """The checks above would pass on nothing: make sure they look at the real package."""
    graph = _graph()
    assert {"plansync.sync.reconcile", "plansync.cli.main", "plansync.calendar.ical"} <= set(graph)
    assert "plansync.sync.reconcile" in graph["plansync.sync.engine"]
    assert any(_within(m, ("click",)) for m in _imports()["plansync.cli.main"])
    assert all(_within(m, ("plansync",)) for m in PURE + tuple(p for layer in LAYERS for p in layer))
