"""The import map of plansync: layers that only point down, no cycles, click only in the CLI, and the pure
core importing nothing that talks to the network, the disk's databases, other processes or locks.

The map is read from the source, each file parsed once a session (tests/support/import_map.py, which
also holds the layer order and draws the map).
"""

from __future__ import annotations

from tests.support.import_map import LAYERS, dot_text, graph, imports, package_of, within, wrong_ways
from tests.support.paths import REPO

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


def test_every_import_points_down_the_layers() -> None:
    edges = [(name, imported) for name, imports in graph().items() for imported in imports]
    assert wrong_ways(edges) == []


def test_the_old_back_and_side_imports_are_refused() -> None:
    """What the layer order was made against: each of these, put back, fails the test above."""
    refused = wrong_ways(OLD_WRONG_WAYS)
    assert len(refused) == len(OLD_WRONG_WAYS), refused


def test_every_module_is_in_a_layer() -> None:
    for name in imports():
        package_of(name)  # raises for a module outside every layer


def test_no_import_cycles() -> None:
    edges = graph()
    cycles: list[list[str]] = []
    state: dict[str, int] = {}  # 1: on the path, 2: done

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(edges[node]):
            if nxt.startswith(node + "."):
                continue  # a package's __init__ importing its own module is not a cycle
            if state.get(nxt) == 1:
                cycles.append([*path[path.index(nxt) :], nxt])
            elif nxt not in state:
                visit(nxt, [*path, nxt])
        state[node] = 2

    for node in sorted(edges):
        if node not in state:
            visit(node, [node])
    assert cycles == []


def test_click_only_in_the_cli() -> None:
    offenders = sorted(
        name
        for name, imported in imports().items()
        if not within(name, ("plansync.cli",)) and any(within(m, ("click",)) for m in imported)
    )
    assert offenders == []


def test_the_pure_core_imports_no_io() -> None:
    offenders = {
        name: sorted(m for m in imported if within(m, IO))
        for name, imported in imports().items()
        if within(name, PURE)
    }
    assert {name: found for name, found in offenders.items() if found} == {}


def test_the_rules_see_the_modules() -> None:
    """The checks above would pass on nothing: make sure they look at the real package."""
    edges = graph()
    assert {"plansync.sync.reconcile", "plansync.cli.main", "plansync.calendar.ical"} <= set(edges)
    assert "plansync.sync.reconcile" in edges["plansync.sync.engine"]
    assert any(within(m, ("click",)) for m in imports()["plansync.cli.main"])
    assert all(within(m, ("plansync",)) for m in PURE + tuple(p for layer in LAYERS for p in layer))


def test_the_drawing_of_the_map_is_current() -> None:
    committed = (REPO / "docs" / "import-map.dot").read_text(encoding="utf-8")
    assert dot_text() == committed, "run scripts/import-map"
