"""Shared test settings. Server fixtures live in tests/support and are imported where used.

Tests under tests/integration (real servers) and tests/system (the command as a process) are marked
`slow`: `scripts/test -m "not slow"` is the quick loop over tests/unit.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

settings.register_profile("ci", max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("dev", max_examples=100, deadline=None)
settings.load_profile("ci" if os.environ.get("CI") else "dev")

_HERE = Path(__file__).resolve().parent
_SLOW = (_HERE / "integration", _HERE / "system")


@pytest.fixture(autouse=True, scope="session")
def _own_config_and_state_folders(tmp_path_factory: pytest.TempPathFactory) -> None:
    """A config without `state_dir` keeps its state under $XDG_STATE_HOME, and plansync looks for a
    config under $XDG_CONFIG_HOME: in tests (and the processes they start) these are the session's
    own, never the user's."""
    home = tmp_path_factory.mktemp("xdg")
    os.environ["XDG_STATE_HOME"] = str(home / "state")
    os.environ["XDG_CONFIG_HOME"] = str(home / "config")
    os.environ.pop("STATE_DIRECTORY", None)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        path = Path(str(item.fspath)).resolve()
        if any(path.is_relative_to(folder) for folder in _SLOW):
            item.add_marker(pytest.mark.slow)
