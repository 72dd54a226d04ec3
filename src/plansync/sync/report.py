"""What a sync did, per calendar, and how it reads: the report the CLI prints and the service logs."""

from __future__ import annotations

from dataclasses import dataclass, field

from plansync.errors import EXIT_BRAKE, EXIT_FAILED, EXIT_NEEDS_ATTENTION, EXIT_OK, Problem, worst_status
from plansync.sync.reconcile import Action, Brake
from plansync.sync.state import OpenConflict


@dataclass
class Failure:
    label: str
    message: str


@dataclass
class CalendarReport:
    key: str
    title: str
    url: str | None
    actions: list[Action] = field(default_factory=list)
    failures: list[Failure] = field(default_factory=list)
    error: str | None = None  # the whole calendar could not be synced
    will_create_calendar: bool = False
    untouched: int = 0  # events known unchanged without reconciling (see _in_sync)
    done: dict[str, int] = field(default_factory=dict)  # what was actually done, by kind
    notices: list[str] = field(default_factory=list)  # what was left alone and why, said once
    unresolved: list[OpenConflict] = field(default_factory=list)  # conflicts still open after this run

    def count(self, kind: str) -> int:
        extra = self.untouched if kind == "unchanged" else 0
        if self.done:
            return self.done.get(kind, 0) + extra
        return sum(1 for a in self.actions if a.kind == kind and not a.forget) + extra

    @property
    def conflicts(self) -> int:
        return sum(1 for a in self.actions if a.conflict is not None)

    def summary(self, *, would: bool = False) -> str:
        """`would`: what a run stopped before it wrote (the brake) would have done."""
        parts = [
            f"{self.count(k)} {'would be ' if would and k != 'unchanged' else ''}{w}"
            for k, w in (
                ("create", "created"),
                ("update", "updated"),
                ("delete", "deleted"),
                ("unchanged", "unchanged"),
            )
        ]
        parts.append(f"{self.conflicts} conflict{'s' if self.conflicts != 1 else ''}")
        parts.append(f"{len(self.failures) + (1 if self.error else 0)} failed")
        if self.unresolved:
            parts.append(
                f"{len(self.unresolved)} unresolved conflict{'s' if len(self.unresolved) != 1 else ''}"
            )
        return ", ".join(parts)


@dataclass
class SyncResult:
    calendars: list[CalendarReport]
    brakes: list[Brake]
    dry_run: bool
    force_delete: bool = False
    requests: int = 0  # HTTP requests this run made (client side)
    # calendar key → uid → (resource name, label, hash) of the calendars whose events were rendered this
    # run: what the render cache keeps for the next run (see _Prepared)
    rendered: dict[str, dict[str, tuple[str, str, str]]] = field(default_factory=dict, repr=False)
    # event fingerprint → what rendering it gave, for the calendars looked at (see "the render cache")
    memo: dict[str, tuple[str, str, str, str] | None] = field(default_factory=dict, repr=False)
    plan_problems: tuple[Problem, ...] = ()  # events left out: they cannot be read (jobs.plans)

    @property
    def failed(self) -> bool:
        return any(c.failures or c.error for c in self.calendars)

    @property
    def exit_code(self) -> int:
        return worst_status(
            EXIT_BRAKE if self.brakes else EXIT_OK,
            EXIT_FAILED if self.failed else EXIT_OK,
            EXIT_NEEDS_ATTENTION if self.plan_problems else EXIT_OK,
        )

    @property
    def writes(self) -> int:
        return (
            sum(c.count(k) for c in self.calendars for k in ("create", "update", "delete"))
            if not self.dry_run
            else 0
        )


_SIGNS = {"create": "+", "update": "~", "delete": "-", "conflict": "!"}
_POLICY_WORDS = {
    "create": "the plan's version is re-created",
    "update": "the plan's version is written",
    "delete": "it is deleted",
    "conflict": "left as it is on the server",
}


def format_report(result: SyncResult, *, details: bool | None = None) -> str:
    """Per calendar: each change (with its fields in a dry run), conflicts, failures; then the summary."""
    details = result.dry_run if details is None else details
    lines: list[str] = []
    if result.dry_run:
        lines.append("dry run: nothing is changed; this is what a sync would do")
    # An error shared by calendars (the server is down, the login fails) is told once, with the others named.
    sharing: dict[str, list[str]] = {}
    for cal in result.calendars:
        if cal.error:
            sharing.setdefault(cal.error, []).append(cal.title)
    for cal in result.calendars:
        shown = [a for a in cal.actions if a.kind != "unchanged" or a.conflict]
        this_run = {a.uid for a in shown if a.conflict}
        still = [c for c in cal.unresolved if c.uid not in this_run]
        told = cal.error is not None and sharing[cal.error][0] != cal.title
        quiet = not cal.failures and not cal.will_create_calendar and not cal.notices
        if not shown and not still and quiet and (told or not cal.error):
            continue
        where = cal.url or ("calendar to be created" if cal.will_create_calendar else "not reached")
        lines.append(f"{cal.title}: {where}")
        if cal.will_create_calendar:
            lines.append("  + calendar (created by MKCALENDAR)")
        if cal.error and not told:
            lines.append(f"  ✗ {cal.error}")
            others = sharing[cal.error][1:]
            if others:
                lines.append(f"  ✗ the same for {', '.join(others)}")
        for action in shown:
            text = f"  {_SIGNS.get(action.kind, ' ')} {action.label}"
            if action.conflict:
                text += f": conflict — {action.conflict}; {_POLICY_WORDS.get(action.kind, '')}"
            lines.append(text)
            if details:
                for change in action.changes:
                    if action.kind == "create":
                        lines.append(f"      {change.name}: {_show_value(change.new)}")
                    else:
                        lines.append(
                            f"      {change.name}: {_show_value(change.old)} → {_show_value(change.new)}"
                        )
        for c in still:
            lines.append(f"  ! {c.label}: unresolved conflict since {c.since} — {c.reason}")
        for failure in cal.failures:
            lines.append(f"  ✗ {failure.label}: {failure.message}")
        lines.extend(f"  ? {notice}" for notice in cal.notices)
    if result.dry_run:
        lines.append("summary (would be):")
    elif result.brakes:
        lines.append("summary (stopped by the safety brake before it changed anything; the run would have):")
    else:
        lines.append("summary:")
    for cal in result.calendars:
        lines.append(f"  {cal.title}: {cal.summary(would=bool(result.brakes) and not result.dry_run)}")
    return "\n".join(lines)


def closing_line(result: SyncResult) -> str | None:
    """The one line that says why a run did not end well (the brake, or failures), if it did not."""
    if result.brakes:
        return brake_message(result)
    if result.failed:
        return "some events could not be synced; see ✗ above"
    return None


def change_lines(result: SyncResult, limit: int = 20) -> list[str]:
    """Each event the run created, updated or deleted (at most `limit`, then how many more), for the
    service's log: which events changed, not only how many."""
    failed = {(c.key, f.label) for c in result.calendars for f in c.failures}
    lines = [
        f"sync {c.key}: {_SIGNS[a.kind]} {a.label}"
        for c in result.calendars
        for a in c.actions
        if a.kind in ("create", "update", "delete") and (c.key, a.label) not in failed
    ]
    if len(lines) > limit:
        lines[limit:] = [f"sync: … and {len(lines) - limit} more"]
    return lines


def summary_line(result: SyncResult, seconds: float) -> str:
    """A run in one line, for the service's log."""
    totals = {k: sum(c.count(k) for c in result.calendars) for k in ("create", "update", "delete")}
    return (
        f"sync: {len(result.calendars)} calendars, {totals['create']} created, "
        f"{totals['update']} updated, {totals['delete']} deleted in {seconds:.1f} s"
    )


def problem_lines(result: SyncResult) -> list[str]:
    """Each failed calendar and event, one line each, for the service's log."""
    lines: list[str] = []
    for report in result.calendars:
        lines.extend(f"sync {report.key}: {f.label}: {f.message}" for f in report.failures)
        if report.error:
            lines.append(f"sync {report.key}: {report.error}")
    return lines


def brake_message(result: SyncResult) -> str:
    reasons = "; ".join(f"{b.calendar}: {b.reason}" for b in result.brakes)
    return (
        f"stopped by the safety brake, nothing was changed: {reasons}. If this is intended, run "
        "`plansync sync --force-delete`"
    )


def _show_value(value: str | None, limit: int = 100) -> str:
    if value is None or value == "":
        return "(none)"
    flat = value.replace("\n", " ⏎ ")
    return "«" + (flat if len(flat) <= limit else flat[: limit - 1] + "…") + "»"
