"""The import use case: a published plan document → plan YAML, the organizers and rows to review, or a
merge into the plan in use.

`read_import` reads the document (and with `into` merges it into that plan, edited in place so that
comments and hand edits stay); `write_proposals` writes the organizers to review; `write_plan` writes
the plan and, beside it, what the import wrote (the base by which the next re-issue tells a person's
edits from the source's). The CLI (`plansync import`) prints between the steps, so that a dry run
shows the diff and writes nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from plansync.errors import UsageError
from plansync.jobs.plans import load_plans
from plansync.planread.importer import import_plan, render_base, render_yaml
from plansync.planread.layout import parse_columns
from plansync.planread.proposals import Proposal, render_proposals
from plansync.planread.reissue import reissue
from plansync.planread.review import ReviewItem
from plansync.planread.yamledit import PlanEdit
from plansync.util.fileio import write_atomic
from plansync.util.shipped import REGISTRY, WORKING_REGISTRY, shipped_file


@dataclass(frozen=True)
class Imported:
    source: Path
    registries: tuple[Path, ...]
    document: dict[str, Any]  # what the document says
    proposals: list[Proposal]  # organizers the registries do not know
    review: list[ReviewItem]  # what a person must look at, by source row
    diff: list[str]  # with `into`: the lines of the merge
    merged: PlanEdit | None = None  # with `into`: the plan in use, edited (not yet written)

    @property
    def needs_attention(self) -> bool:
        """Something to look at: review items (events the plan gives no date are listed, but are the
        plan's, as `validate` says), or a merge that replaced a hand edit or keeps an override the new
        date contradicts."""
        return any(item.kind != "undated" for item in self.review) or any(
            line.startswith("! ") for line in self.diff
        )


def base_path(plan: Path) -> Path:
    """Where the import keeps what it wrote last, beside the plan: `plan-2025.imported.yaml`."""
    return plan.with_name(f"{plan.stem}.imported.yaml")


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
    result = import_plan(source, registries, year, plan_id or f"plan-{year}", timezone, roles)
    diff: list[str] = []
    merged = None
    if into is not None:
        load_plans([into])
        merged = PlanEdit.load(into)
        diff = reissue(merged, result.document, _base(into)).lines()
    return Imported(source, tuple(registries), result.document, result.proposals, result.review, diff, merged)


def _base(plan: Path) -> dict[str, Any] | None:
    """What the import wrote last beside `plan`, or None when there is no such record (or it is not
    one plansync wrote)."""
    try:
        data = yaml.safe_load(base_path(plan).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return None
    return data if isinstance(data, dict) and isinstance(data.get("events"), list) else None


def plan_yaml(imported: Imported) -> str:
    """The plan as the YAML file people edit from now on (with `into`: the plan in use, merged)."""
    if imported.merged is not None:
        return imported.merged.text()
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


def write_plan(imported: Imported, target: Path) -> None:
    """The plan into `target` (the merged plan in use replaces itself only if it still holds what was
    read and the result validates), and what the import wrote beside it, for the next re-issue."""
    if imported.merged is not None:
        imported.merged.save()
    else:
        write_atomic(target, plan_yaml(imported).encode("utf-8"))
    write_atomic(base_path(target), render_base(imported.document, imported.source.name).encode("utf-8"))
