"""The reconciler on plain data: one rule per test, no server, no files."""

from __future__ import annotations

import pytest

from plansync.calendar.desired import Desired
from plansync.sync.reconcile import ABSENT, Actual, Record, brake, decide, diff_fields, reconcile

UID = "plan-2024.e1.konb@plansync"
HREF = "/cal/plan-2024.e1.konb.plansync.ics"


def want(h: str = "h1", uid: str = UID) -> Desired:
    return Desired(uid, uid + ".ics", "e1 «t»", h, {"summary": h}, b"")


def have(
    h: str = "h1",
    etag: str = '"1"',
    *,
    managed: bool = True,
    uid: str = UID,
    href: str = HREF,
    recorded: str | None = None,
) -> Actual:
    return Actual(href, etag, uid, managed, h, recorded)


def rec(
    plan_hash: str = "h1", server_hash: str = "h1", etag: str | None = '"1"', href: str | None = HREF
) -> Record:
    return Record(UID, href, etag, plan_hash, server_hash)


def test_new_event_is_created() -> None:
    action = decide(UID, want(), None, None)
    assert action is not None and action.kind == "create" and action.conflict is None


def test_nothing_changed_is_unchanged_without_state_write() -> None:
    action = decide(UID, want(), have(), rec())
    assert action is not None and action.kind == "unchanged" and action.record is None


def test_plan_change_is_an_update_with_if_match_etag() -> None:
    action = decide(UID, want("h2"), have(), rec())
    assert action is not None
    assert (action.kind, action.href, action.etag, action.conflict) == ("update", HREF, '"1"', None)


def test_new_etag_with_same_owned_fields_is_not_a_change() -> None:
    # e.g. a person added an alarm: the etag moved, plansync's fields did not.
    action = decide(UID, want(), have(etag='"2"'), rec())
    assert action is not None and action.kind == "unchanged"
    assert action.record == Record(UID, HREF, '"2"', "h1", "h1")


def test_alarm_added_and_plan_changed_is_a_plain_update() -> None:
    action = decide(UID, want("h2"), have(etag='"2"'), rec())
    assert action is not None and (action.kind, action.conflict) == ("update", None)


@pytest.mark.parametrize(
    ("policy", "kind", "record"),
    [
        ("plan-wins", "update", None),
        ("server-wins", "conflict", Record(UID, HREF, '"2"', "h1", "hx")),
        ("report", "conflict", None),
    ],
)
def test_edit_on_server_is_a_conflict_resolved_by_policy(
    policy: str, kind: str, record: Record | None
) -> None:
    action = decide(UID, want(), have("hx", '"2"'), rec(), policy=policy)  # type: ignore[arg-type]
    assert action is not None
    assert action.kind == kind and action.conflict is not None and action.record == record


def test_server_version_accepted_stays_until_the_plan_changes() -> None:
    accepted = Record(UID, HREF, '"2"', "h1", "hx")
    action = decide(UID, want(), have("hx", '"2"'), accepted, policy="server-wins")
    assert action is not None and action.kind == "unchanged"
    later = decide(UID, want("h3"), have("hx", '"2"'), accepted, policy="server-wins")
    assert later is not None and later.kind == "update"


def test_both_sides_changed_to_the_same_is_no_conflict() -> None:
    action = decide(UID, want("h2"), have("h2", '"2"'), rec())
    assert action is not None and action.kind == "unchanged" and action.conflict is None


@pytest.mark.parametrize(
    ("policy", "kind"), [("plan-wins", "create"), ("server-wins", "conflict"), ("report", "conflict")]
)
def test_deleted_on_server(policy: str, kind: str) -> None:
    action = decide(UID, want(), None, rec(), policy=policy)  # type: ignore[arg-type]
    assert action is not None and action.kind == kind and action.conflict is not None


def test_server_wins_deletion_is_remembered_as_a_tombstone() -> None:
    action = decide(UID, want(), None, rec(), policy="server-wins")
    assert action is not None and action.record == Record(UID, None, None, "h1", ABSENT)
    again = decide(UID, want(), None, action.record, policy="server-wins")
    assert again is not None and again.kind == "unchanged" and again.conflict is None


def test_removed_from_plan_is_deleted_with_its_etag() -> None:
    action = decide(UID, None, have(), rec())
    assert action is not None and (action.kind, action.href, action.etag) == ("delete", HREF, '"1"')


def test_removed_from_plan_but_edited_on_server_is_kept_unless_plan_wins() -> None:
    kept = decide(UID, None, have("hx", '"2"'), rec(), policy="report")
    assert kept is not None and kept.kind == "conflict"
    gone = decide(UID, None, have("hx", '"2"'), rec(), policy="plan-wins")
    assert gone is not None and gone.kind == "delete" and gone.conflict is not None


def test_gone_on_both_sides_forgets_the_record() -> None:
    action = decide(UID, None, None, rec())
    assert action is not None and action.forget


def test_written_but_not_recorded_is_adopted_not_duplicated() -> None:
    # The crash case: the server has our event, the state database never heard of it.
    action = decide(UID, want(), have(recorded="h1"), None)
    assert (
        action is not None
        and action.kind == "unchanged"
        and action.record == Record(UID, HREF, '"1"', "h1", "h1")
    )


def test_unrecorded_managed_event_edited_by_a_person_is_a_conflict() -> None:
    # Without a record the X-PLANSYNC-HASH still tells that someone edited it.
    action = decide(UID, want("h2"), have("hx", recorded="h1"), None, policy="report")
    assert action is not None and action.kind == "conflict"
    clean = decide(UID, want("h2"), have("h1", recorded="h1"), None, policy="report")
    assert clean is not None and clean.kind == "update" and clean.conflict is None


def test_orphan_managed_event_is_deleted() -> None:
    action = decide(UID, None, have(), None)
    assert action is not None and action.kind == "delete"


def test_foreign_resource_with_our_uid_is_never_touched() -> None:
    action = decide(UID, want("h2"), have("hx", managed=False), None)
    assert action is not None and action.kind == "conflict" and action.href == HREF


def test_reconcile_ignores_foreign_events() -> None:
    foreign = Actual("/cal/x.ics", '"9"', "x@example.org", False, "hz")
    decision = reconcile({UID: want()}, [have(), foreign], {UID: rec()})
    assert [(a.uid, a.kind) for a in decision.actions] == [(UID, "unchanged")]
    assert decision.managed == 1 and not decision.emptied


def test_reconcile_marks_an_emptied_calendar() -> None:
    decision = reconcile({UID: want()}, [], {UID: rec()})
    assert decision.emptied
    stop = brake("konb", decision, max_delete_share=0.5, force_delete=False)
    assert stop is not None and "empty" in stop.reason
    assert brake("konb", decision, max_delete_share=0.5, force_delete=True) is None


def test_brake_on_share_of_managed_deletes() -> None:
    uids = [f"plan-2024.e{i}.konb@plansync" for i in range(4)]
    actual = [Actual(f"/cal/{i}.ics", '"1"', u, True, "h") for i, u in enumerate(uids)]
    records = {u: Record(u, f"/cal/{i}.ics", '"1"', "h", "h") for i, u in enumerate(uids)}
    keep_two = {u: Desired(u, "n", "l", "h", {}, b"") for u in uids[:2]}
    keep_one = {u: Desired(u, "n", "l", "h", {}, b"") for u in uids[:1]}
    assert brake("k", reconcile(keep_two, actual, records), max_delete_share=0.5, force_delete=False) is None
    stop = brake("k", reconcile(keep_one, actual, records), max_delete_share=0.5, force_delete=False)
    assert stop is not None and "3 of 4" in stop.reason


def test_diff_fields_lists_only_what_differs() -> None:
    changes = diff_fields({"summary": "a", "start": "2024-03-12"}, {"summary": "b", "start": "2024-03-12"})
    assert [(c.name, c.old, c.new) for c in changes] == [("summary", "a", "b")]
    assert [c.name for c in diff_fields(None, {"summary": "x"})] == ["summary"]
