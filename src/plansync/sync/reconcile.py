"""The pure heart of sync: what the plan wants × what the server has × what plansync last wrote → actions.

No I/O here. Every input is plain data, so the dry run prints exactly what the real run does, and the
rules can be tested one by one. The rules (one calendar at a time, one UID at a time):

* Only events plansync owns are touched: those carrying its X-PLANSYNC-* marker, or recorded in the
  state database as written by it. Everything else on the server is left alone.
* "Changed on the server" means the ETag moved *and* the owned fields differ from what was last seen
  (vdirsyncer's rule): servers re-serialise, so only a semantic comparison is meaningful.
* "Changed in the plan" means the desired content hash differs from the one last synchronised.
* A change on the server to an event the plan still has is a conflict, resolved by the policy:
  plan-wins writes the plan's version, server-wins accepts the server's, report does nothing;
  all three are reported.
* The safety brake is evaluated on the whole list, before anything is written.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Literal

from plansync.calendar.desired import Desired
from plansync.config.model import ConflictPolicy

ActionKind = Literal["create", "update", "delete", "conflict", "unchanged"]

ABSENT = ""  # the plan hash of an event the plan does not have (any more)


@dataclass(frozen=True)
class Actual:
    """One resource found in the calendar on the server."""

    href: str
    etag: str
    uid: str | None  # None: unparseable or not an event
    managed: bool  # carries plansync's marker for a plan in scope
    hash: str | None  # hash of the owned fields as the server has them; None when not an event
    recorded_hash: str | None = None  # X-PLANSYNC-HASH: what plansync wrote into it
    fields: Mapping[str, str] | None = None  # only when fetched (needed for the diff)


@dataclass(frozen=True)
class Record:
    """What plansync last synchronised for one UID in one calendar (the state database row)."""

    uid: str
    href: str | None  # None: a tombstone — the event was deleted on the server and that was accepted
    etag: str | None
    plan_hash: str  # the desired hash at the last sync; ABSENT if the plan dropped it
    server_hash: str  # the owned-field hash the server had at the last sync


@dataclass(frozen=True)
class FieldChange:
    name: str
    old: str | None
    new: str | None


@dataclass(frozen=True)
class Action:
    kind: ActionKind
    uid: str
    label: str
    href: str | None = None  # the resource to update or delete
    etag: str | None = None  # the If-Match value
    desired: Desired | None = None
    conflict: str | None = None  # why this is (also) a conflict, in words; None when it is not
    # What the state database should hold once this action is done; for writes the applier fills in
    # the new href/etag. `forget` drops the record.
    record: Record | None = None
    forget: bool = False
    changes: tuple[FieldChange, ...] = ()  # filled in by the caller once it has the server's copy


@dataclass(frozen=True)
class Decision:
    actions: tuple[Action, ...]
    managed: int  # managed events in this calendar before the run
    emptied: bool  # the calendar holds nothing although plansync wrote events into it

    @property
    def deletes(self) -> int:
        return sum(1 for a in self.actions if a.kind == "delete")


def reconcile(
    desired: Mapping[str, Desired],
    actual: Iterable[Actual],
    records: Mapping[str, Record],
    *,
    policy: ConflictPolicy = "plan-wins",
) -> Decision:
    """Decide what to do with every UID plansync is responsible for in one calendar."""
    actual_list = list(actual)
    by_uid: dict[str, Actual] = {}
    for item in actual_list:
        if item.uid is None:
            continue
        if item.managed or item.uid in records or item.uid in desired:
            # Two resources with one UID: keep the one the state knows; the other stays untouched.
            known = records.get(item.uid)
            if item.uid not in by_uid or (known is not None and known.href == item.href):
                by_uid[item.uid] = item
    uids = sorted(set(desired) | set(records) | {u for u, a in by_uid.items() if a.managed})
    actions = [
        decide(uid, desired.get(uid), by_uid.get(uid), records.get(uid), policy=policy) for uid in uids
    ]
    live_records = [r for r in records.values() if r.href is not None]
    managed = len({r.uid for r in live_records} | {u for u, a in by_uid.items() if a.managed})
    return Decision(
        tuple(a for a in actions if a is not None), managed, bool(live_records) and not actual_list
    )


def decide(
    uid: str,
    want: Desired | None,
    have: Actual | None,
    record: Record | None,
    *,
    policy: ConflictPolicy = "plan-wins",
) -> Action | None:
    """The action for one UID; also used alone to re-decide after a 412."""
    label = want.label if want is not None else _label_of(uid)
    plan_hash = want.hash if want is not None else ABSENT
    if have is not None and not have.managed and (record is None or record.href != have.href):
        # A foreign resource under our UID (or our UID reused by someone): never touch it.
        return Action(
            "conflict", uid, label, href=have.href, conflict="a resource not written by plansync has this UID"
        )

    if record is None or record.href is None:
        return _without_record(uid, label, want, have, record, policy)

    # plansync wrote this event before.
    if have is None:
        if want is None:
            return Action("unchanged", uid, label, forget=True)  # gone on both sides
        why = "deleted on the server by someone else"
        if policy == "plan-wins":
            return Action("create", uid, label, desired=want, conflict=why)
        if policy == "server-wins":
            tomb = Record(uid, None, None, plan_hash, ABSENT)
            return Action("conflict", uid, label, desired=want, conflict=why, record=tomb)
        return Action("conflict", uid, label, desired=want, conflict=why)

    server_changed = have.etag != record.etag and have.hash != record.server_hash
    plan_changed = plan_hash != record.plan_hash
    refreshed = Record(uid, have.href, have.etag, plan_hash, have.hash or ABSENT)

    if want is None:
        if server_changed and policy != "plan-wins":
            why = "removed from the plan but edited on the server"
            keep = refreshed if policy == "server-wins" else None
            return Action("conflict", uid, label, href=have.href, etag=have.etag, conflict=why, record=keep)
        note = "removed from the plan but edited on the server" if server_changed else None
        return Action("delete", uid, label, href=have.href, etag=have.etag, conflict=note)

    if have.hash == want.hash:
        # Whatever happened, both sides agree now; only refresh the record if it moved.
        same = record == refreshed
        return Action(
            "unchanged", uid, label, href=have.href, etag=have.etag, record=None if same else refreshed
        )
    if not server_changed:
        if plan_changed:
            return Action("update", uid, label, href=have.href, etag=have.etag, desired=want)
        # Neither side moved since the last sync, yet they differ: a server version accepted earlier
        # (server-wins). It stands until the plan changes.
        return Action("unchanged", uid, label, href=have.href, etag=have.etag)
    why = "edited on the server by someone else" + (" and changed in the plan" if plan_changed else "")
    if policy == "plan-wins":
        return Action("update", uid, label, href=have.href, etag=have.etag, desired=want, conflict=why)
    if policy == "server-wins":
        return Action(
            "conflict",
            uid,
            label,
            href=have.href,
            etag=have.etag,
            desired=want,
            conflict=why,
            record=refreshed,
        )
    return Action("conflict", uid, label, href=have.href, etag=have.etag, desired=want, conflict=why)


def _without_record(
    uid: str,
    label: str,
    want: Desired | None,
    have: Actual | None,
    record: Record | None,
    policy: ConflictPolicy,
) -> Action | None:
    """No live record: a first sync, a tombstone, or a run that crashed after writing (or a lost state db)."""
    if have is None:
        if want is None:
            return Action("unchanged", uid, label, forget=True) if record is not None else None
        if record is not None and policy != "plan-wins" and record.plan_hash == want.hash:
            # A deletion on the server that was accepted (server-wins) or is being reported.
            if policy == "report":
                return Action(
                    "conflict", uid, label, desired=want, conflict="deleted on the server by someone else"
                )
            return Action("unchanged", uid, label)
        return Action("create", uid, label, desired=want)
    assert have.managed
    server_hash = have.hash or ABSENT
    # The marker says what plansync wrote into it; if the owned fields still hash to it, nobody edited it.
    edited = have.recorded_hash is not None and have.recorded_hash != have.hash
    adopted = Record(uid, have.href, have.etag, want.hash if want else ABSENT, server_hash)
    if want is None:
        if edited and policy != "plan-wins":
            keep = adopted if policy == "server-wins" else None
            return Action(
                "conflict",
                uid,
                label,
                href=have.href,
                etag=have.etag,
                record=keep,
                conflict="removed from the plan but edited on the server",
            )
        return Action("delete", uid, label, href=have.href, etag=have.etag)
    if have.hash == want.hash:
        return Action("unchanged", uid, label, href=have.href, etag=have.etag, record=adopted)
    if not edited:
        return Action("update", uid, label, href=have.href, etag=have.etag, desired=want)
    why = "edited on the server by someone else"
    if policy == "plan-wins":
        return Action("update", uid, label, href=have.href, etag=have.etag, desired=want, conflict=why)
    keep = adopted if policy == "server-wins" else None
    return Action(
        "conflict", uid, label, href=have.href, etag=have.etag, desired=want, conflict=why, record=keep
    )


def _label_of(uid: str) -> str:
    """For an event the plan no longer has: its key, from the UID plansync made ("plan.key.calendar@…")."""
    parts = uid.split("@", 1)[0].split(".")
    return f"{parts[1]} (no longer in the plan)" if len(parts) == 3 else uid


# -- the safety brake ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Brake:
    calendar: str
    reason: str


def brake(calendar: str, decision: Decision, *, max_delete_share: float, force_delete: bool) -> Brake | None:
    """Stop a run that would delete too much, or that finds a calendar emptied behind its back."""
    if force_delete:
        return None
    if decision.emptied:
        return Brake(
            calendar,
            "the calendar is empty although plansync wrote events into it "
            "(was it wiped or replaced on the server?)",
        )
    if decision.managed and decision.deletes:
        share = decision.deletes / decision.managed
        if share > max_delete_share:
            return Brake(
                calendar,
                f"the run would delete {decision.deletes} of {decision.managed} managed events "
                f"({share:.0%} > the limit of {max_delete_share:.0%})",
            )
    return None


# -- the field-level diff -----------------------------------------------------------------------------


def diff_fields(old: Mapping[str, str] | None, new: Mapping[str, str] | None) -> tuple[FieldChange, ...]:
    """Which owned fields differ, for the dry run and the log."""
    before = old or {}
    after = new or {}
    names: Sequence[str] = sorted(set(before) | set(after))
    return tuple(
        FieldChange(name, before.get(name), after.get(name))
        for name in names
        if before.get(name) != after.get(name)
    )


def with_changes(action: Action, changes: tuple[FieldChange, ...]) -> Action:
    return replace(action, changes=changes)


__all__ = [
    "ABSENT",
    "Action",
    "Actual",
    "Brake",
    "Decision",
    "Desired",
    "FieldChange",
    "Record",
    "brake",
    "decide",
    "diff_fields",
    "reconcile",
    "with_changes",
]
