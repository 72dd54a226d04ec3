"""Edit a plan file a person keeps by hand without losing their work: the file is read round-trip
(ruamel.yaml keeps comments, key order, quotes and flow lists), keys of an event are set or deleted
in place, and the result replaces the file only if it passes `plansync validate` and the file still
has the bytes it was read with (no edit made meanwhile is overwritten).

    edit = PlanEdit.load(path)
    edit.set("dated-05", "start", "2024-11-20")
    edit.delete("dated-05", "date_known")
    edit.save()
"""

from __future__ import annotations

import io
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import YAMLError

from plansync.errors import InvalidInput, PlansyncError, Problem
from plansync.planread.planfile import EVENT_FIELDS, load_plan
from plansync.planread.yamlcheck import MAX_FILE_BYTES
from plansync.util.fileio import write_atomic

__all__ = ["ChangedMeanwhile", "PlanEdit", "flow", "yaml_text"]


class ChangedMeanwhile(PlansyncError):
    """The file was changed by someone else between reading and writing it."""

    exit_code = 1


def _yaml() -> YAML:
    yaml = YAML(typ="rt")
    yaml.preserve_quotes = True
    yaml.width = 100_000  # never fold a long title
    yaml.indent(mapping=2, sequence=4, offset=2)  # `  - key: …` under its key, as plansync writes
    return yaml


def flow(items: list[Any]) -> CommentedSeq:
    """A short list written on one line: `organizers: [konb, gaidar]`."""
    seq = CommentedSeq(items)
    seq.fa.set_flow_style()
    return seq


def yaml_text(data: Any) -> str:
    out = io.StringIO()
    _yaml().dump(data, out)
    return out.getvalue()


class PlanEdit:
    """A plan file read for editing, with the bytes it was read from."""

    def __init__(self, path: Path, original: bytes, data: CommentedMap) -> None:
        self.path = path
        self.original = original
        self.data = data

    @classmethod
    def load(cls, path: Path) -> PlanEdit:
        """Read the file; InvalidInput when it is no YAML mapping (check it with load_plan first for
        the full list of problems)."""
        with path.open("rb") as stream:
            original = stream.read(MAX_FILE_BYTES + 1)
        if len(original) > MAX_FILE_BYTES:
            raise InvalidInput(
                [Problem(str(path), 1, 1, "(file)", "the file is too large", "check the file")]
            )
        try:
            data = _yaml().load(original.decode("utf-8").removeprefix("\ufeff"))
        except (UnicodeDecodeError, YAMLError) as exc:
            raise InvalidInput(
                [Problem(str(path), 1, 1, "(file)", f"cannot read the file ({exc})", "run plansync validate")]
            ) from None
        if not isinstance(data, CommentedMap):
            raise InvalidInput(
                [Problem(str(path), 1, 1, "(file)", "the file holds no plan", "see docs/plan-format.md")]
            )
        return cls(path, original, data)

    # -- reading

    def events(self) -> list[CommentedMap]:
        events = self.data.get("events")
        return [e for e in events if isinstance(e, CommentedMap)] if isinstance(events, list) else []

    def event(self, key: str) -> CommentedMap:
        for event in self.events():
            if str(event.get("key")) == key:
                return event
        raise KeyError(key)

    def line_of(self, key: str, field: str | None = None) -> int:
        """The 1-based line of an event (or of one of its fields), for messages."""
        event = self.event(key)
        if field is not None and field in event:
            return int(event.lc.key(field)[0]) + 1
        return int(event.lc.line) + 1

    # -- editing

    def set(self, key: str, field: str, value: Any) -> None:
        """Set a field of an event: in place when it is there, else where the plan format lists it."""
        set_field(self.event(key), field, value)

    def delete(self, key: str, field: str) -> None:
        self.event(key).pop(field, None)

    def text(self) -> str:
        return yaml_text(self.data)

    def save(self, check: Callable[[Path], object] = load_plan) -> None:
        """Replace the file with the edited plan: only if the result passes `check` (the plan file's
        checks) and the file still holds what was read (else ChangedMeanwhile, nothing written)."""
        data = self.text().encode("utf-8")
        with tempfile.TemporaryDirectory(prefix="plansync-edit-") as folder:
            trial = Path(folder) / self.path.name
            trial.write_bytes(data)
            try:
                check(trial)
            except InvalidInput as exc:  # name the real file, not the trial copy
                problems = [
                    Problem(str(self.path), p.line, p.col, p.field, p.message, p.hint) for p in exc.problems
                ]
                raise InvalidInput(problems) from None
        if self.path.read_bytes() != self.original:
            raise ChangedMeanwhile(
                f"{self.path} was changed while plansync was editing it; nothing was written — run again"
            )
        mode = self.path.stat().st_mode & 0o777
        write_atomic(self.path, data, mode)
        self.original = data


def set_field(event: CommentedMap, field: str, value: Any) -> None:
    """Set a field of an event mapping where the plan format lists it (after the fields before it)."""
    if field in event:
        event[field] = value
        return
    order = list(EVENT_FIELDS)
    before = order[: order.index(field)] if field in order else order
    position = 0
    for index, name in enumerate(event.keys()):
        if name in before:
            position = index + 1
    event.insert(position, field, value)
