"""Which exit status a run of several parts ends with (`plansync run`, a sync with a partial plan)."""

from __future__ import annotations

from plansync.errors import (
    EXIT_BRAKE,
    EXIT_FAILED,
    EXIT_INTERRUPTED,
    EXIT_NEEDS_ATTENTION,
    EXIT_OK,
    EXIT_TEMPFAIL,
    EXIT_USAGE,
    worst_status,
)


def test_the_worst_status_wins_in_the_documented_order() -> None:
    order = [EXIT_INTERRUPTED, EXIT_BRAKE, EXIT_FAILED, EXIT_NEEDS_ATTENTION, EXIT_TEMPFAIL, EXIT_OK]
    for n, status in enumerate(order):
        assert worst_status(*order[n:]) == status
        assert worst_status(*reversed(order[n:])) == status
    assert worst_status() == EXIT_OK
    assert worst_status(EXIT_TEMPFAIL, EXIT_NEEDS_ATTENTION) == EXIT_NEEDS_ATTENTION  # a person beats a retry
    assert worst_status(EXIT_USAGE, EXIT_BRAKE) == EXIT_USAGE  # a wrong command line ran nothing
