"""The import use case: a published plan document → plan YAML, the organizers to review, or a merge.

`read_import` reads the document (and merges it into the plan in use with `into`); `write_proposals`
writes the organizers to review; the CLI (`plansync import`) prints between the steps and writes the
plan, so that a dry run shows the diff and writes nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import yaml

from plansync.errors import UsageError
from plansync.jobs.plans import load_plans
from plansync.planread.importer import import_document, render_yaml
from plansync.planread.layout import parse_columns
from plansync.planread.proposals import Proposal, render_proposals
from plansync.planread.reissue import reissue
from plansync.util.fileio import write_atomic
from plansync.util.shipped import REGISTRY, WORKING_REGISTRY, shipped_file


@dataclass(frozen=True)
class Imported:
    source: Path
    registries: tuple[Path, ...]
    document: dict[str, object]
    proposals: list[Proposal]  # organizers the registries do not know
    diff: list[str]  # with `into`: the lines of the merge


def read_import(
    source: Path,
    *,
    year: int,
    registries: Sequence[Path] = (),
    plan_id: str | None = None,
    timezone: str,
    columns: str | None = None,
    into: Path | None = None,
) -> Imported:
    """The plan of `source`, its organizers matched against `registries` (default: ./data's registry
    when there is one, else the one plansync ships); with `into`, merged into that plan file (checked
    first: a broken plan is reported as usual, before anything is merged)."""
    if not registries:
        shipped = WORKING_REGISTRY if WORKING_REGISTRY.is_file() else shipped_file("example", REGISTRY)
        registries = (shipped,)
    for registry in registries:
        if not registry.is_file():
            raise UsageError(f"organizations registry {registry} not found; pass --registry FILE")
    roles = parse_columns(columns) if columns is not None else None
    proposals: list[Proposal] = []
    document = import_document(
        source, registries, year, plan_id or f"plan-{year}", timezone, roles, proposals
    )
    diff: list[str] = []
    if into is not None:
        load_plans([into])
        merged = reissue(yaml.safe_load(into.read_text(encoding="utf-8")), document)
        document, diff = merged.document, list(merged.lines())
    return Imported(source, tuple(registries), document, proposals, diff)


def plan_yaml(imported: Imported) -> str:
    """The plan as the YAML file people edit from now on."""
    return render_yaml(imported.document, imported.source.name)


def registry_options(imported: Imported) -> str:
    """The --registry options of this import, to repeat with the proposals file added."""
    return " ".join(f"--registry {r}" for r in imported.registries)


def write_proposals(
    imported: Imported, *, output: Path | None, into: Path | None, proposed: Path | None
) -> Path | None:
    """The organizers to review, written to `proposed` (default: beside the output, the plan merged
    into, or the source); None when there are none."""
    if not imported.proposals:
        return None
    base = output or into or imported.source
    proposed = proposed or base.with_name(f"{base.stem}.proposed-organizations.yaml")
    text = render_proposals(
        imported.proposals, imported.source.name, registry_options(imported), str(proposed)
    )
    write_atomic(proposed, text.encode("utf-8"))
    return proposed


def write_plan(text: str, target: Path) -> None:
    """The plan YAML into `target`, atomically: a reader never sees half a plan."""
    write_atomic(target, text.encode("utf-8"))
