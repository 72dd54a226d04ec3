"""The sync run: plans → desired events → reconcile with each calendar → apply, one calendar per
organizer.

The order is fixed: look at every calendar first (listing, contents that changed), decide everything
(pure, in plansync.sync.reconcile), check the safety brake for the whole run, and only then write. A dry
run stops before writing and reports the same decisions with their field-level diff. A calendar that
does not exist yet is the one exception: it is empty, so all there is to decide for it is to create its
events, nothing the brake weighs; it is made and its events rendered once the brake has let the run go
on, while the writers already send the other calendars' events (and when the brake stops the run, it
is not made at all).

`SyncEngine` owns what one run works with (the backend, the state database, the settings, the
calendar targets and the renderer); `sync()` is the run as one call. Which calendar is whose is
plansync.sync.calendars', looking at one plansync.sync.looking's, listing again after the writes
plansync.sync.relisting's. Loading the config and the plans, the lock and the server are the jobs
layer's (plansync.jobs.sync).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import logging
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence

from plansync.caldav.backend import Backend, BackendError, PreconditionFailed, Stamp, norm_href
from plansync.caldav.hrefs import inside
from plansync.calendar import ical, identity, merge, readback
from plansync.calendar.desired import Desired
from plansync.config.model import CalendarTarget, SyncConfig
from plansync.errors import PlansyncError, UsageError
from plansync.model.plan import Organization, Plan
from plansync.sync.calendars import Calendars, combined_organization
from plansync.sync.looking import Looked, Looker
from plansync.sync.reconcile import (
    Action,
    Actual,
    Brake,
    Record,
    brake,
    decide,
    diff_fields,
    reconcile,
    with_changes,
)
from plansync.sync.relisting import Relister
from plansync.sync.render_cache import Memo, Renderer
from plansync.sync.report import CalendarReport, Failure, SyncResult
from plansync.sync.stamps import ask_stamps, unchanged
from plansync.sync.state import OpenConflict, SeenItem, State
from plansync.sync.writers import Checkpoint, Progress, ProgressBar, write_calendars

log = logging.getLogger(__name__)


def sync(
    plans: Sequence[Plan],
    *,
    backend: Backend,
    state: State,
    targets: Mapping[str, CalendarTarget] | None = None,
    settings: SyncConfig | None = None,
    dry_run: bool = False,
    org_ids: Sequence[str] = (),
    force_delete: bool = False,
    progress: Progress | None = None,
    rendered: Mapping[str, Mapping[str, tuple[str, str, str]]] | None = None,
    memo: Mapping[str, tuple[str, str, str, str] | None] | None = None,
    checkpoint: Checkpoint | None = None,
    full_plans: Callable[[], Sequence[Plan]] | None = None,
    prune: Sequence[str] = (),
) -> SyncResult:
    """One run. `rendered`: calendar key → uid → (name, label, hash) of the plans' events, from an
    earlier run on the same plans (the render cache); those calendars are reconciled on the hashes and
    only the events to be written are rendered. `full_plans`: when `plans` come without their events
    (the render cache), how to get them should some event have to be rendered after all."""
    engine = SyncEngine(
        plans,
        backend=backend,
        state=state,
        targets=targets or {},
        settings=settings or SyncConfig(),
        memo=memo,
        full_plans=full_plans,
        prune=prune,
    )
    return engine.run(
        dry_run=dry_run,
        org_ids=org_ids,
        force_delete=force_delete,
        progress=progress,
        rendered=rendered or {},
        checkpoint=checkpoint or _no_checkpoint,
    )


def _no_checkpoint() -> None:
    pass


class SyncEngine:
    """One run's backend, state, settings, calendar targets and renderer, and the steps of a run."""

    def __init__(
        self,
        plans: Sequence[Plan],
        *,
        backend: Backend,
        state: State,
        targets: Mapping[str, CalendarTarget],
        settings: SyncConfig,
        memo: Mapping[str, tuple[str, str, str, str] | None] | None = None,
        full_plans: Callable[[], Sequence[Plan]] | None = None,
        prune: Sequence[str] = (),
    ) -> None:
        current = {p.id for p in plans}
        kept = [p for p in prune if p in current]
        if kept:
            raise UsageError(
                f"--prune-plan {kept[0]}: that plan is still in the config; remove it from `plans:` first"
            )
        # Plans in scope: this run's, and those whose events it is to remove. A plan no longer in the
        # config is out of scope: its events stay where they are unless pruned.
        self.scope = frozenset(current | set(prune))
        self.plans = plans  # their events only if `full_plans` is None (see `events`)
        self._full_plans = full_plans
        self.backend = backend
        self.state = state
        self.targets = targets
        self.calendars = Calendars(plans, targets, state, backend)
        self.looker = Looker(backend, state, settings)
        self.settings = settings
        self.renderer = Renderer(
            ical.Rendering(settings.long_span_policy, settings.long_span_days, settings.layout), memo or {}
        )

    def events(self) -> Sequence[Plan]:
        """The plans with their events, read now if the run was given only their heads."""
        if self._full_plans is not None:
            self.plans, self._full_plans = self._full_plans(), None
        return self.plans

    # -- the run --------------------------------------------------------------------------------------

    def run(
        self,
        *,
        dry_run: bool,
        org_ids: Sequence[str],
        force_delete: bool,
        progress: Progress | None,
        rendered: Mapping[str, Mapping[str, tuple[str, str, str]]],
        checkpoint: Checkpoint,
    ) -> SyncResult:
        start_requests = self.backend.requests
        chosen = self._chosen(org_ids)
        known = [self.calendars.known_url(o.id, self.calendars.target(o)) for o in chosen]
        stamps = self._stamps([u for u in known if u is not None], dry_run=dry_run)

        def look(org: Organization, *, dry: bool = dry_run) -> Looked:
            return self._look(org, dry, rendered.get(org.id), stamps)

        calendars = []
        unmade: list[Organization] = []  # no calendar yet: made and looked at while the others are written
        for org in chosen:
            checkpoint()
            if not dry_run and self.calendars.to_be_made(org):
                unmade.append(org)
            else:
                calendars.append(look(org))

        def weigh(cal: Looked) -> Brake | None:
            if cal.decision is None:
                return None
            return brake(
                cal.report.title,
                cal.decision,
                max_delete_share=self.settings.max_delete_share,
                force_delete=force_delete,
            )

        brakes = [stop for stop in map(weigh, calendars) if stop is not None]
        for cal in calendars:
            self._describe(cal, creations=dry_run)

        def make(org: Organization) -> Looked:
            cal = look(org)
            if cal.url is not None and not self.backend.made(cal.url):
                # Someone made it since this run looked: it holds what it holds, so the brake has its say.
                stop = weigh(cal)
                if stop is not None:
                    cal.report.error = f"{stop.reason}; the calendar appeared during the run: run again"
            return cal

        if not dry_run and not brakes:
            expected = (
                sum(len(ical.events_of(p, org.id)) for org in unmade for p in self.events()) if unmade else 0
            )
            made = self._apply_all(calendars, (make(org) for org in unmade), expected, progress, checkpoint)
            calendars += made
            self._record_in_sync(calendars)
        else:
            calendars += [look(org, dry=True) for org in unmade]  # what making them would have led to
        order = {org.id: n for n, org in enumerate(chosen)}
        calendars.sort(key=lambda c: order[c.key])
        result = SyncResult([c.report for c in calendars], brakes, dry_run, force_delete)
        result.rendered = {
            c.key: {u: (d.name, d.label, d.hash) for u, d in c.desired.items()}
            for c in calendars
            if c.key not in rendered
        }
        result.memo = self.renderer.fresh
        result.requests = self.backend.requests - start_requests
        return result

    def _chosen(self, org_ids: Sequence[str]) -> list[Organization]:
        orgs: dict[str, Organization] = {}
        for plan in self.plans:
            for org in plan.organizations:
                orgs.setdefault(org.id, org)
        if self.settings.combined_calendar and self.plans:
            # The whole plan once, as one more calendar: the engine treats it like an organizer's.
            orgs[identity.COMBINED] = combined_organization()
        unknown = [o for o in org_ids if o not in orgs]
        if unknown:
            raise UsageError(
                f"unknown organization {', '.join(repr(o) for o in unknown)} in --org; "
                f"known: {', '.join(sorted(orgs))}"
            )
        return [orgs[o] for o in orgs if not org_ids or o in org_ids]

    # -- looking --------------------------------------------------------------------------------------

    def _look(
        self,
        org: Organization,
        dry_run: bool,
        cached: Mapping[str, tuple[str, str, str]] | None,
        stamps: Mapping[str, Stamp],
    ) -> Looked:
        key = org.id
        target = self.calendars.target(org)
        title = f"{target.name} ({key})" if target.name else f"{key} ({target.url})"
        report = CalendarReport(key, title, target.url)
        owners = frozenset(f"{plan_id}:{key}" for plan_id in self.scope)
        desired: dict[str, Desired] = {}
        if cached is None:
            for plan in self.events():
                desired.update(self.renderer.desired(plan, key))
            digest = self._in_sync_digest(((u, d.hash) for u, d in desired.items()), owners)
        else:
            digest = self._in_sync_digest(((u, h) for u, (_, _, h) in cached.items()), owners)
        cal = Looked(report, key, None, owners, desired, {})
        cal.digest = digest
        policy = self.settings.conflict_policy
        try:
            url, token, ctag, made = self.calendars.resolve(key, target, dry_run)
            report.url = url
            cal.url = url
            if url is not None:
                held = self.state.stamp(url)
                if (
                    held is not None
                    and held.synced == digest
                    and unchanged(held, stamps.get(url), self.settings)
                ):
                    # Neither the server (its stamp) nor the plan (the digest) changed since a run that
                    # left this calendar exactly as desired: nothing to look at.
                    report.untouched = len(cached) if cached is not None else len(desired)
                    report.unresolved = list(self.state.conflicts(url).values())
                    cal.in_sync = True
                    return cal
            if cached is not None:
                desired.update(
                    (uid, Desired(uid, name, label, h, {}, b"")) for uid, (name, label, h) in cached.items()
                )
            if url is None:  # dry run, calendar still to be created
                report.will_create_calendar = True
                self._complete(cal, set(desired))
                cal.decision = reconcile(cal.desired, [], {}, policy=policy)
                report.actions = list(cal.decision.actions)
                return cal
            actual = self.looker.actual(cal, url, token, ctag, dry_run, stamp=stamps.get(url), empty=made)
            cal.server = {a.uid: a.hash for a in actual if a.uid is not None}
            plan_ids = self.scope
            records = {u: r for u, r in self.state.records(url).items() if u.split(".", 1)[0] in plan_ids}
            cal.decision = reconcile(cal.desired, actual, records, policy=policy)
            need = {
                a.uid
                for a in cal.decision.actions
                if a.desired is not None and (a.kind != "unchanged" or a.conflict is not None)
            }
            if self._complete(cal, need):
                # The same hashes, so the same decisions; now with the bodies and fields to write and show.
                cal.decision = reconcile(cal.desired, actual, records, policy=policy)
            report.actions = list(cal.decision.actions)
        except BackendError as exc:
            report.error = str(exc)
        return cal

    def _in_sync_digest(self, pairs: Iterable[tuple[str, str]], owners: frozenset[str]) -> str:
        """What a calendar's desired state is, for telling that it did not change since a clean run."""
        digest = hashlib.sha256(repr((sorted(owners), self.settings.conflict_policy)).encode())
        for uid, content in sorted(pairs):
            digest.update(f"{uid} {content}\n".encode())
        return digest.hexdigest()[:32]

    def _record_in_sync(self, calendars: Sequence[Looked]) -> None:
        """After the writes: a calendar that was looked at and ended exactly as desired (no failure, no
        conflict, nothing left undone) keeps its digest; any other loses it, so it is looked at again."""
        for cal in calendars:
            if cal.in_sync or cal.url is None:
                continue
            report = cal.report
            clean = (
                cal.decision is not None and not report.error and not report.failures and not report.conflicts
            )
            self.state.set_synced(cal.url, cal.digest if clean else None)
            if cal.decision is not None and not report.error:
                self._keep_conflicts(cal)

    def _keep_conflicts(self, cal: Looked) -> None:
        """Remember the conflicts this run left open (a conflict the policy leaves as it is, or a server
        version kept earlier that still differs from the plan); forget those that are resolved."""
        assert cal.url is not None and cal.decision is not None
        before = self.state.conflicts(cal.url)
        now = dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()
        failed = {f.label for f in cal.report.failures}
        still: list[OpenConflict] = []
        for action in cal.report.actions:
            known = before.get(action.uid)
            want = cal.desired.get(action.uid)
            if action.label in failed and known is not None:
                still.append(known)  # nothing was settled for it this run
                continue
            if action.kind == "conflict":
                reason = action.conflict or "left as it is on the server"
            elif (
                action.kind == "unchanged"
                and known is not None
                and want is not None
                and (action.uid in cal.server and cal.server[action.uid] != want.hash)
            ):
                reason = known.reason  # the server's version still stands against the plan's
            else:
                continue
            since = known.since if known is not None else now
            still.append(OpenConflict(action.uid, action.label, reason, since))
        self.state.replace_conflicts(cal.url, still)
        cal.report.unresolved = still

    def _complete(self, cal: Looked, uids: set[str]) -> bool:
        """Render the events of `uids` that are known only by their cached hash; True if any was."""
        stubs = [u for u in uids if u in cal.desired and cal.desired[u].is_stub]
        if not stubs:
            return False
        wanted: dict[str, set[str]] = {}
        for uid in stubs:
            parts = identity.split_uid(uid)
            if parts is not None:
                wanted.setdefault(parts[0], set()).add(parts[1])
        for plan in self.events():
            if plan.id in wanted:
                full = ical.desired_events(plan, cal.key, self.renderer.rendering, keys=wanted[plan.id])
                cal.desired.update((u, d) for u, d in full.items() if u in cal.desired)
        missing = [u for u in stubs if cal.desired[u].is_stub]
        if missing:  # the cache said the plan has it, the plan does not: never write an empty event
            raise PlansyncError(f"the render cache in the state directory is stale ({missing[0]}); delete it")
        return True

    def _stamps(self, urls: Sequence[str], *, dry_run: bool) -> dict[str, Stamp]:
        return ask_stamps(self.backend, urls, self.state, self.settings, dry_run)

    def _describe(self, cal: Looked, *, creations: bool) -> None:
        """Attach the field-level diff to each action (to creations only if `creations`: only a dry run
        shows them, and for a large plan they weigh megabytes); fetches the server copies updates need."""
        if cal.decision is None:
            return
        need = [
            a.href
            for a in cal.report.actions
            if a.href
            and a.desired is not None
            and a.kind in ("update", "conflict")
            and a.href not in cal.bodies
        ]
        if need and cal.url is not None:
            try:
                cal.bodies.update(self.backend.fetch(cal.url, sorted(set(need))))
            except BackendError as exc:
                cal.report.error = str(exc)
                return
        described: list[Action] = []
        for action in cal.report.actions:
            if action.kind == "create" and action.desired is not None and creations:
                described.append(with_changes(action, diff_fields(None, action.desired.fields)))
            elif (
                action.kind in ("update", "conflict")
                and action.desired is not None
                and action.href in cal.bodies
            ):
                server = readback.parse(cal.bodies[action.href][1]).fields
                described.append(with_changes(action, diff_fields(server, action.desired.fields)))
            else:
                described.append(action)
        cal.report.actions = described

    # -- applying -------------------------------------------------------------------------------------

    def _apply_all(
        self,
        looked: Sequence[Looked],
        unmade: Iterator[Looked],
        expected: int,
        progress: Progress | None,
        checkpoint: Checkpoint,
    ) -> list[Looked]:
        """Write the calendars looked at, then each of `unmade` as it is made and looked at (`expected`:
        the events they will have at most, for the progress bar), and list them again; returns `unmade`'s
        calendars. Making and rendering a calendar in this thread while the writers send the earlier ones
        keeps the server busy from the start instead of after the last calendar is ready."""
        made: list[Looked] = []

        def to_write(cal: Looked) -> list[Action]:
            return list(cal.report.actions) if cal.decision is not None and cal.report.error is None else []

        def work(bar: ProgressBar | None) -> Iterator[tuple[Looked, Sequence[Action]]]:
            for cal in looked:
                if actions := to_write(cal):
                    yield cal, actions
            for cal in unmade:
                made.append(cal)
                _start_done(cal)
                actions = to_write(cal)
                if bar is not None:  # `expected` counted every event: those that are not to be written
                    bar.update(sum(len(ical.events_of(p, cal.key)) for p in self.events()) - len(actions))
                if actions:
                    yield cal, actions

        for cal in looked:
            _start_done(cal)
        total = expected + sum(len(to_write(c)) for c in looked)
        relister = Relister(self._ask_stamps, self._list_after_writes)
        with progress(total, "syncing") if progress is not None else contextlib.nullcontext(None) as bar:
            write_calendars(
                work(bar), self._apply_one, self.backend.writers, checkpoint, bar, relister.written
            )
        relister.finish([*looked, *made])
        return made

    def _ask_stamps(self, urls: Sequence[str]) -> dict[str, Stamp]:
        return self._stamps(urls, dry_run=False)

    def _list_after_writes(self, cal: Looked, stamps: Mapping[str, Stamp]) -> None:
        assert cal.url is not None
        try:
            self.looker.actual(
                cal, cal.url, cal.token, cal.ctag, False, stamp=stamps.get(cal.url), force=True
            )
        except BackendError as exc:
            cal.report.failures.append(Failure("(listing after the writes)", str(exc)))

    def _apply_one(self, cal: Looked, action: Action) -> None:
        """One action; a refusal or an outage is recorded and does not stop the others. Anything else is a
        bug, and stops the run."""
        try:
            self._execute(cal, action, attempt=1)
        except BackendError as exc:
            cal.report.failures.append(Failure(action.label, str(exc)))

    def _execute(self, cal: Looked, action: Action, *, attempt: int) -> None:
        assert cal.url is not None
        url = cal.url
        done = cal.report.done
        state = self.state
        try:
            if action.kind == "create":
                cal.created = True
                want = _need(action.desired)
                href, etag = self.backend.create(url, want.name, want.body)
                cal.wrote = True
                self._written(url, cal, want, href, etag)
            elif action.kind == "update":
                want = _need(action.desired)
                assert action.href is not None and action.etag is not None
                _confined(action.href, url)
                current = cal.bodies.get(action.href)
                if current is None or current[0] != action.etag:
                    raise PreconditionFailed(action.href)  # changed since we looked: re-decide
                etag = self.backend.update(action.href, action.etag, merge.merge(current[1], want.body))
                self._written(url, cal, want, action.href, etag)
            elif action.kind == "delete":
                assert action.href is not None and action.etag is not None
                _confined(action.href, url)
                self.backend.delete(action.href, action.etag)
                with state.transaction():
                    state.drop_record(url, action.uid)
                    state.drop_item(url, action.href)
            elif action.forget:
                state.drop_record(url, action.uid)
            elif action.record is not None:
                state.put_record(url, action.record)
            done[action.kind] = done.get(action.kind, 0) + (0 if action.forget else 1)
        except PreconditionFailed as exc:
            if attempt > 1:
                raise BackendError(f"{exc}; it kept changing, try again later") from None
            again = self._redecide(cal, action, exc.href)
            if again is None:
                return
            # What was decided the second time is what happened; keep the report honest.
            cal.report.actions = [again if a is action else a for a in cal.report.actions]
            self._execute(cal, again, attempt=attempt + 1)

    def _written(self, url: str, cal: Looked, want: Desired, href: str, etag: str) -> None:
        owner = next((o for o in cal.owners if want.uid.startswith(o.split(":", 1)[0] + ".")), None)
        with self.state.transaction():
            self.state.put_record(url, Record(want.uid, href, etag, want.hash, want.hash))
            self.state.put_item(url, SeenItem(href, etag, want.uid, owner, want.hash, want.hash))

    def _redecide(self, cal: Looked, action: Action, href: str) -> Action | None:
        """After a 412: look at the resource as it is now and decide again; never overwrite blindly."""
        assert cal.url is not None
        found = self.backend.get(href)
        have: Actual | None = None
        if found is not None:
            etag, body = found
            parsed = readback.parse(body)
            if parsed.uid != action.uid:
                raise BackendError(f"{href} holds another event (UID {parsed.uid}); plansync leaves it alone")
            have = Actual(
                norm_href(href),
                etag,
                parsed.uid,
                parsed.owner in cal.owners,
                parsed.hash,
                parsed.recorded_hash,
                parsed.fields,
            )
            cal.bodies[have.href] = (etag, body)
        record = self.state.records(cal.url).get(action.uid)
        self._complete(cal, {action.uid})
        return decide(
            action.uid, cal.desired.get(action.uid), have, record, policy=self.settings.conflict_policy
        )


def _start_done(cal: Looked) -> None:
    cal.report.done = {"create": 0, "update": 0, "delete": 0, "unchanged": 0, "conflict": 0}


def _need(desired: Desired | None) -> Desired:
    assert desired is not None
    return desired


def _confined(href: str, calendar_url: str) -> None:
    """A write goes only to an object inside the calendar (whatever an older state database holds)."""
    if not inside(href, calendar_url):
        raise BackendError(f"{href} is not inside the calendar {calendar_url}; plansync leaves it alone")


__all__ = ["Memo", "SyncEngine", "sync"]
