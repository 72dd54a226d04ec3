"""Files that come with plansync: the digest templates, the default config, the example plan and its
organizations registry. A checkout (and an editable install) has them in its own folders; a wheel
carries them inside the package (see pyproject.toml's package-dir)."""

from __future__ import annotations

from pathlib import Path

from plansync.errors import PlansyncError

_CHECKOUT = Path(__file__).resolve().parents[3]
# The folder inside the installed package → the checkout's folder with the same files.
FOLDERS = {"templates": "templates", "starter": "config", "example": "data"}
DIGEST_TEMPLATES = ("digest_subject.txt.j2", "digest.txt.j2", "digest.html.j2")  # subject, text, HTML


def shipped_folder(name: str, must_hold: str) -> Path:
    """The folder `name` (a key of FOLDERS) that holds the file `must_hold`."""
    checkout = _CHECKOUT / FOLDERS[name]
    if (checkout / must_hold).is_file():
        return checkout
    # Only when no checkout holds it; `plansync --help` imports this module.
    import importlib.resources  # noqa: PLC0415

    packaged = Path(str(importlib.resources.files("plansync").joinpath(name)))
    if (packaged / must_hold).is_file():
        return packaged
    raise PlansyncError(
        f"plansync's {must_hold} is missing (looked in {checkout} and {packaged}); reinstall plansync"
    )


def shipped_file(name: str, file: str) -> Path:
    return shipped_folder(name, file) / file


def shipped_templates() -> Path:
    """The templates of the digests and the site: a checkout's `templates/`, else the installed
    package's."""
    try:
        return shipped_folder("templates", DIGEST_TEMPLATES[1])
    except PlansyncError as exc:
        raise PlansyncError(
            f"{exc}, or set digest.templates in the config to a folder with " + ", ".join(DIGEST_TEMPLATES)
        ) from None


EXAMPLE_PLAN = "plan-2024.yaml"
REGISTRY = "organizations.yaml"
# The registry `plansync import` reads by default when it runs in a checkout: ./data/organizations.yaml.
WORKING_REGISTRY = Path(FOLDERS["example"]) / REGISTRY
STARTER_CONFIG = "plansync.yaml"
