"""The one exception tree of plansync.

Every error a user can cause is a PlansyncError: it carries the message to print and the exit code.
`plansync.cli.main.main` is the one place that turns them into text on stderr and a process status, so no
user mistake ever ends in a traceback.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

# The exit statuses of every command (README, `plansync --help`, the systemd units).
EXIT_OK = 0
EXIT_FAILED = 1  # something failed; the output names it
EXIT_USAGE = 2  # a wrong command line (click's own status for usage errors)
EXIT_BRAKE = 3  # the safety brake stopped a sync before it changed anything
# Done what could be done, but a person must look at something (the output lists it): a plan event that
# cannot be read (the rest was synced and sent), a library with events and no e-mail (or only a
# placeholder address), an import's items to review.
EXIT_NEEDS_ATTENTION = 4
EXIT_TEMPFAIL = 75  # EX_TEMPFAIL: nothing is wrong that a later run cannot cure
EXIT_INTERRUPTED = 130
# Which status a run of several parts (`plansync run`, a sync with a partial plan) ends with: the first
# of these that any part has.
_WORST_FIRST = (EXIT_INTERRUPTED, EXIT_BRAKE, EXIT_FAILED, EXIT_NEEDS_ATTENTION, EXIT_TEMPFAIL)


def worst_status(*statuses: int) -> int:
    """The status that says most of `statuses`: interrupted, the brake, a failure, a person needed, a
    retry to come, in that order; a status outside that list (a wrong command line) beats them all."""
    given = set(statuses) - {EXIT_OK}
    for status in sorted(given):
        if status not in _WORST_FIRST:
            return status
    return next((status for status in _WORST_FIRST if status in given), EXIT_OK)


class PlansyncError(Exception):
    """An error the user can act on. `str()` is the full message, without a trailing newline."""

    exit_code = EXIT_FAILED


class UsageError(PlansyncError):
    """A wrong command-line argument or missing file."""

    exit_code = EXIT_USAGE


class Busy(PlansyncError):
    """Another run holds a lock of the state folder."""

    def __init__(self, message: str, exit_code: int) -> None:
        super().__init__(message)
        self.exit_code = exit_code


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
