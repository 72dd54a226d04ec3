"""The wheel's package list (pyproject.toml names them, to map the data folders in) is the one in src/."""

from __future__ import annotations

import tomllib

from plansync.util.shipped import FOLDERS
from tests.support.paths import REPO


def test_every_package_in_src_is_in_the_wheel_and_the_data_folders_too() -> None:
    setuptools = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]
    in_src = {
        ".".join(init.parent.relative_to(REPO / "src").parts)
        for init in (REPO / "src" / "plansync").rglob("__init__.py")
    }
    data = {f"plansync.{name}" for name in FOLDERS}
    assert set(setuptools["packages"]) == in_src | data
    assert {name: setuptools["package-dir"][f"plansync.{name}"] for name in FOLDERS} == FOLDERS
    for package in data:
        folder = REPO / setuptools["package-dir"][package]
        for pattern in setuptools["package-data"][package]:
            assert list(folder.glob(pattern)), f"{package}: nothing matches {pattern} in {folder}"
