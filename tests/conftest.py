"""Shared test settings. Server fixtures live in tests/support and are imported where used.

A test is `slow` by what it starts: a server (a fixture of STARTERS, or a real server behind `env`), a
browser or a process (an explicit `@pytest.mark.slow` with its reason, or `pytestmark` for a whole
module); or when it waits seconds of real time (marked the same way). Everything else, the sync engine
on the memory backend included, is the quick loop: `scripts/test -m "not slow"`. A quick test that
starts a process, listens or connects anyway fails, saying to mark it (see `_starts_nothing`).
"""

from __future__ import annotations

import ast
import os
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, settings

settings.register_profile("ci", max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("dev", max_examples=100, deadline=None)
settings.register_profile("quick", max_examples=10, deadline=None)  # the quick loop (pytest_configure)
settings.load_profile("ci" if os.environ.get("CI") else "dev")

# Fixtures that start a server, a browser or a process (tests/support and the test modules' own).
STARTERS = frozenset(
    {
        # CalDAV servers (tests/support/servers.py) and the tests' own
        "radicale",
        "xandikos",
        "lenient_xandikos",
        "sabredav_basic",
        "sabredav_digest",
        "cyrus",
        "tls_radicale",
        "own_radicale",
        "proxy",
        "server",
        # mail (tests/support/smtp.py: openssl makes the certificates, aiosmtpd serves)
        "tls_files",
        "rogue_tls_files",
        "smtp_server",
        "smtps_server",
        "rogue_smtp_server",
        "silent_server",
        "smtp_servers",
        # the site's server and pages in Chromium
        "served",
        "site",
        # plansync as a process
        "launch",
        "killer",
    }
)
QUICK_BACKENDS = frozenset({"memory"})  # the `env` fixture's backends that start nothing
# Modules whose tests run `plansync import` as a process in their bodies and carry no marker of their
# own yet: marked here until they say `pytestmark = pytest.mark.slow` themselves.
PROCESS_MODULES = frozenset({"test_import_documents.py", "test_import_reissue.py", "test_importer.py"})


@pytest.fixture(autouse=True, scope="session")
def _own_config_and_state_folders(tmp_path_factory: pytest.TempPathFactory) -> None:
    """A config without `state_dir` keeps its state under $XDG_STATE_HOME, and plansync looks for a
    config under $XDG_CONFIG_HOME: in tests (and the processes they start) these are the session's
    own, never the user's."""
    home = tmp_path_factory.mktemp("xdg")
    os.environ["XDG_STATE_HOME"] = str(home / "state")
    os.environ["XDG_CONFIG_HOME"] = str(home / "config")
    os.environ.pop("STATE_DIRECTORY", None)


def pytest_configure(config: pytest.Config) -> None:
    """The quick loop tries each property on fewer examples; the whole suite on all of them."""
    if config.getoption("markexpr") == "not slow" and not os.environ.get("CI"):
        settings.load_profile("quick")


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    """The quick loop does not even import a module whose tests are all slow (by its name in
    PROCESS_MODULES, or a `pytestmark` that says slow): importing the servers' code costs a second."""
    if config.getoption("markexpr") != "not slow" or collection_path.suffix != ".py":
        return None
    if collection_path.name in PROCESS_MODULES or _marked_slow(collection_path):
        return True
    return None


def _marked_slow(path: Path) -> bool:
    try:
        tree = ast.parse(path.read_bytes(), str(path))
    except (OSError, SyntaxError):
        return False  # collected as usual, which reports what is wrong
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "pytestmark" for t in node.targets
        ):
            return any(isinstance(n, ast.Attribute) and n.attr == "slow" for n in ast.walk(node.value))
    return False


def _starts_something(item: pytest.Item) -> bool:
    if item.get_closest_marker("slow") is not None or item.path.name in PROCESS_MODULES:
        return True
    if STARTERS.intersection(getattr(item, "fixturenames", ())):
        return True
    params = getattr(getattr(item, "callspec", None), "params", {})
    return "env" in params and params["env"] not in QUICK_BACKENDS


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if _starts_something(item) and item.get_closest_marker("slow") is None:
            item.add_marker(pytest.mark.slow)


@pytest.fixture(autouse=True)
def _starts_nothing(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """A quick test that starts a process, listens or connects fails: it belongs to the slow ones."""
    if request.node.get_closest_marker("slow") is not None:
        yield
        return
    started: list[str] = []
    popen, listen, connect = subprocess.Popen.__init__, socket.socket.listen, socket.socket.connect

    def record_popen(self: subprocess.Popen[Any], args: Any, *rest: Any, **kwargs: Any) -> None:
        started.append(f"a process ({args!r:.80})")
        popen(self, args, *rest, **kwargs)

    def record_listen(self: socket.socket, *args: Any) -> None:
        started.append("a server (a listening socket)")
        listen(self, *args)

    def record_connect(self: socket.socket, address: Any) -> None:
        started.append(f"a connection to {address!r}")
        connect(self, address)

    monkeypatch.setattr(subprocess.Popen, "__init__", record_popen)
    monkeypatch.setattr(socket.socket, "listen", record_listen)
    monkeypatch.setattr(socket.socket, "connect", record_connect)
    yield
    if started:
        pytest.fail(
            f"this quick test starts {started[0]}: mark it @pytest.mark.slow (or use a fixture that starts "
            "it, listed in tests/conftest.py's STARTERS)",
            pytrace=False,
        )
