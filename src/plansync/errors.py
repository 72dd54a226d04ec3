"""The one exception tree of plansync.

Every error a user can cause is a PlansyncError: it carries the message to print and the exit code.
`plansync.cli.main.main` is the one place that turns them into text on stderr and a process status, so no
user mistake ever ends in a traceback.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


class PlansyncError(Exception):
    """An error the user can act on. `str()` is the full message, without a trailing newline."""

    exit_code = 1


class UsageError(PlansyncError):
    """A wrong command-line argument or missing file."""

    exit_code = 2


@dataclass(frozen=True, order=True)
class Problem:
    """One thing wrong in an input file, pointing at the exact place."""

    file: str
    line: int  # 1-based
    col: int  # 1-based
    field: str  # dotted path such as "events[3].organizers[1]"; "(file)" for the document itself
    message: str  # what is wrong
    hint: str  # how to fix it

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.col}: {self.field}: {self.message} — {self.hint}"


class InvalidInput(PlansyncError):
    """A file (plan, config, source table) has problems; all of them are reported at once."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = sorted(problems)
        super().__init__("\n".join(str(p) for p in self.problems))

    def summary(self) -> str:
        count = len(self.problems)
        files = sorted({p.file for p in self.problems})
        return f"{count} problem{'s' if count != 1 else ''} in {', '.join(files)}"
