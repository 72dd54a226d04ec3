"""The import map of plansync: no cycles, click only in the CLI, and the pure core importing nothing
that talks to the network, the disk's databases, other processes or locks."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

from tests.support.paths import REPO

PACKAGE = REPO / "src" / "plansync"

# The pure core: plain data in, plain data out.
PURE = (
    "plansync.model",
    "plansync.wording",
    "plansync.calendar",
    "plansync.planread.dates",
    "plansync.sync.reconcile",
    "plansync.digest.select",
    "plansync.publish.agenda",
    "plansync.digest.schedule",
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
    "plansync.digest.mail",
    "plansync.digest.ledger",
    "plansync.digest.send",
    "plansync.jobs",
    "plansync.service.daemon",
    "plansync.cli",
    "plansync.util.lock",
    "plansync.util.fileio",
)


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports(path: Path) -> Iterator[str]:
    """Every module a file imports, at any depth (a lazy import inside a function counts too)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = _module_name(path).rsplit(".", 1)[0] if path.name != "__init__.py" else _module_name(path)
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: up from this module's package
                parts = package.split(".")
                base = ".".join([*parts[: len(parts) - node.level + 1], base]).strip(".")
            yield base
            # `from plansync.sync import engine` imports the module plansync.sync.engine
            yield from (f"{base}.{alias.name}" for alias in node.names)


def _graph() -> dict[str, set[str]]:
    modules = {_module_name(p): p for p in PACKAGE.rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        graph[name] = {m for m in _imports(path) if m in modules and m != name}
    return graph


def _all_imports() -> dict[str, set[str]]:
    return {_module_name(p): set(_imports(p)) for p in PACKAGE.rglob("*.py")}


def _within(name: str, prefixes: tuple[str, ...]) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


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
        for name, imported in _all_imports().items()
        if not _within(name, ("plansync.cli",)) and any(_within(m, ("click",)) for m in imported)
    )
    assert offenders == []


def test_the_pure_core_imports_no_io() -> None:
    offenders = {
        name: sorted(m for m in imported if _within(m, IO))
        for name, imported in _all_imports().items()
        if _within(name, PURE)
    }
    assert {name: found for name, found in offenders.items() if found} == {}


def test_the_rules_see_the_modules() -> None:
    """The checks above would pass on nothing: make sure they look at the real package."""
    graph = _graph()
    assert {"plansync.sync.reconcile", "plansync.cli.main", "plansync.calendar.ical"} <= set(graph)
    assert "plansync.sync.reconcile" in graph["plansync.sync.engine"]
    assert any(_within(m, ("click",)) for m in _all_imports()["plansync.cli.main"])
