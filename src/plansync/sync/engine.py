"""Sync orchestration: plans → desired events → reconcile with each calendar → apply, one calendar per
organizer.

The order is fixed: look at every calendar first (listing, contents that changed), decide everything
(pure, in plansync.sync.reconcile), check the safety brake for the whole run, and only then write. A dry
run stops before writing and reports the same decisions with their field-level diff. A calendar that
does not exist yet is the one exception: it is empty, so all there is to decide for it is to create its
events, nothing the brake weighs; it is made and its events rendered once the brake has let the run go
on, while the writers already send the other calendars' events (and when the brake stops the run, it
is not made at all).

`SyncEngine` owns what one run works with (the backend, the state database, the settings, the
calendar targets and the renderer); `sync()` is the run as one call. Loading the config and the plans,
the lock and the server are the jobs layer's (plansync.jobs.sync).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import logging
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field

from plansync.caldav.backend import (
    STAMP_SETTLE_S,
    Backend,
    BackendError,
    Listing,
    PreconditionFailed,
    Stamp,
    norm_href,
)
from plansync.caldav.hrefs import inside
from plansync.caldav.retry import stop_waiting
from plansync.calendar import ical, identity, merge, readback
from plansync.calendar.desired import Desired
from plansync.config.model import CalendarTarget, SyncConfig
from plansync.errors import PlansyncError, UsageError
from plansync.model.plan import Organization, Plan
from plansync.sync.reconcile import (
    Action,
    Actual,
    Brake,
    Decision,
    Record,
    brake,
    decide,
    diff_fields,
    reconcile,
    with_changes,
)
from plansync.sync.render_cache import Memo, Renderer
from plansync.sync.report import CalendarReport, Failure, SyncResult
from plansync.sync.stamps import ask_stamps, held_after_listing, unchanged
from plansync.sync.state import OpenConflict, SeenItem, State
from plansync.sync.writers import Checkpoint, Progress, ProgressBar, write_calendars

log = logging.getLogger(__name__)

# A stamp has a resolution of a second and settles STAMP_SETTLE_S after the last change: asked sooner,
# it would have to be asked again.
RELIST_AFTER_S = STAMP_SETTLE_S + 1.0


@dataclass
class _Calendar:
    """Everything known about one calendar between looking and writing."""

    report: CalendarReport
    key: str
    url: str | None
    owners: frozenset[str]
    desired: dict[str, Desired]
    bodies: dict[str, tuple[str, bytes]]  # href → (etag, body) fetched this run
    decision: Decision | None = None
    token: str | None = None  # sync token and ctag after the listing
    ctag: str | None = None
    created: bool = False  # this run created an event in it (or may have: the answer was lost)
    wrote: bool = False  # the server confirmed one of this run's creations
    digest: str = ""  # of the desired events (see _in_sync_digest)
    in_sync: bool = False  # known unchanged on both sides: not looked at
    server: dict[str, str | None] = field(default_factory=dict)  # uid → owned-field hash on the server
    listing_s: float = 0.0  # time the server took to list it this run, and the resources it listed
    listed: int = 0


def default_calendar_name(org: Organization, plans: Sequence[Plan]) -> str:
    """«КОНБ — план»; the combined calendar: «Сводный план». Without the year: an organizer's calendar
    holds its events of every plan, so next year's plan lands where people already look."""
    return "Сводный план" if org.id == identity.COMBINED else f"{org.short_name} — план"


def _earlier_default(org: Organization, spec: str) -> bool:
    """A calendar an earlier version found or made under its default name («КОНБ — план 2024»)."""
    name = "Сводный план" if org.id == identity.COMBINED else f"{org.short_name} — план"
    return spec.startswith(f"name:{name} ")


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
        known = [self._known_url(o.id, self._target(o)) for o in chosen]
        stamps = self._stamps([u for u in known if u is not None], dry_run=dry_run)

        def look(org: Organization, *, dry: bool = dry_run) -> _Calendar:
            return self._look(org, dry, rendered.get(org.id), stamps)

        calendars = []
        unmade: list[Organization] = []  # no calendar yet: made and looked at while the others are written
        for org in chosen:
            checkpoint()
            if not dry_run and self._to_be_made(org):
                unmade.append(org)
            else:
                calendars.append(look(org))

        def weigh(cal: _Calendar) -> Brake | None:
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

        def make(org: Organization) -> _Calendar:
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
            orgs[identity.COMBINED] = Organization(identity.COMBINED, "Сводный план", "Сводный план", "other")
        unknown = [o for o in org_ids if o not in orgs]
        if unknown:
            raise UsageError(
                f"unknown organization {', '.join(repr(o) for o in unknown)} in --org; "
                f"known: {', '.join(sorted(orgs))}"
            )
        return [orgs[o] for o in orgs if not org_ids or o in org_ids]

    # -- which calendar -------------------------------------------------------------------------------

    def _target(self, org: Organization) -> CalendarTarget:
        return self.targets.get(org.id) or CalendarTarget(name=default_calendar_name(org, self.plans))

    def _known_url(self, key: str, target: CalendarTarget) -> str | None:
        known = self.state.calendar(key)
        return known.url if known is not None and self._same_target(key, known.target, target) else None

    def _same_target(self, key: str, known: str, target: CalendarTarget) -> bool:
        """The calendar the state knows is this target's: the same URL or name, or (for a calendar not
        named in the config) the one an earlier version named with the plan's year: adopted, not made
        again beside it."""
        if known == _spec(target):
            return True
        org = next((o for p in self.plans for o in p.organizations if o.id == key), None)
        if key == identity.COMBINED:
            org = Organization(identity.COMBINED, "Сводный план", "Сводный план", "other")
        return org is not None and key not in self.targets and _earlier_default(org, known)

    def _to_be_made(self, org: Organization) -> bool:
        """The organizer's calendar does not exist yet, and this run is to make it: then it is empty, and
        all there is to decide is to create its events (nothing for the safety brake to weigh)."""
        target = self._target(org)
        if target.url is not None or self._known_url(org.id, target) is not None:
            return False
        try:
            return self.backend.resolve_calendar(org.id, url=None, name=target.name, create=False) is None
        except BackendError:
            return False  # looked at in the usual way, which reports what is wrong

    def _resolve(
        self, key: str, target: CalendarTarget, dry_run: bool
    ) -> tuple[str | None, str | None, str | None, bool]:
        """The calendar's URL, sync token and ctag, and whether it was created just now (so is empty)."""
        spec = _spec(target)
        known = self.state.calendar(key)
        if known is not None and self._same_target(key, known.target, target):
            # Found or created before: no discovery requests on later runs.
            if known.target != spec and not dry_run:
                self.state.adopt_calendar(key, spec)  # (an earlier version's name: kept, not made again)
            return known.url, known.sync_token, known.ctag, False
        url = self.backend.resolve_calendar(key, url=target.url, name=target.name, create=not dry_run)
        if url is not None and not dry_run:
            self.state.set_calendar(key, spec, url)
        return url, None, None, url is not None and self.backend.made(url)

    # -- looking --------------------------------------------------------------------------------------

    def _look(
        self,
        org: Organization,
        dry_run: bool,
        cached: Mapping[str, tuple[str, str, str]] | None,
        stamps: Mapping[str, Stamp],
    ) -> _Calendar:
        key = org.id
        target = self._target(org)
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
        cal = _Calendar(report, key, None, owners, desired, {})
        cal.digest = digest
        policy = self.settings.conflict_policy
        try:
            url, token, ctag, made = self._resolve(key, target, dry_run)
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
            actual = self._actual(cal, url, token, ctag, dry_run, stamp=stamps.get(url), empty=made)
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

    def _record_in_sync(self, calendars: Sequence[_Calendar]) -> None:
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

    def _keep_conflicts(self, cal: _Calendar) -> None:
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

    def _complete(self, cal: _Calendar, uids: set[str]) -> bool:
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

    def _actual(
        self,
        cal: _Calendar,
        url: str,
        token: str | None,
        ctag: str | None,
        dry_run: bool,
        *,
        stamp: Stamp | None = None,
        force: bool = False,
        empty: bool = False,
    ) -> list[Actual]:
        """The calendar's resources, from the cached listing when its stamp says it stands, else listed
        (`empty`: created just now, nothing to list yet; the writes are followed by a listing anyway)."""
        state = self.state
        held = state.stamp(url)
        cached = state.items(url)
        if not force and unchanged(held, stamp, self.settings):
            return [
                Actual(s.href, s.etag, s.uid, _managed(cal, s), s.hash, s.recorded_hash)
                for s in cached.values()
            ]
        listed_at = time.time()
        started = time.monotonic()
        listing = (
            Listing(complete=True, items={})
            if empty
            else self.backend.listing(url, sync_token=token, ctag=ctag)
        )
        if listing.outside:
            shown = ", ".join(listing.outside[:3]) + (", …" if len(listing.outside) > 3 else "")
            cal.report.notices.append(
                f"the server listed {len(listing.outside)} href(s) outside this calendar ({shown}): "
                "ignored, nothing is sent there"
            )
        if listing.complete:
            etags = dict(listing.items)
        else:
            etags = {h: s.etag for h, s in cached.items() if h not in listing.removed}
            etags.update(listing.items)
        if not empty:
            cal.listing_s += time.monotonic() - started
            cal.listed += len(etags)
        need = sorted(h for h, e in etags.items() if h not in cached or cached[h].etag != e)
        fetched = self.backend.fetch(url, need) if need else {}
        cal.bodies.update(fetched)
        seen: dict[str, SeenItem] = {}
        fields: dict[str, Mapping[str, str] | None] = {}
        for href in etags:
            if href in fetched:
                etag, body = fetched[href]
                parsed = readback.parse(body)
                seen[href] = SeenItem(href, etag, parsed.uid, parsed.owner, parsed.hash, parsed.recorded_hash)
                fields[href] = parsed.fields
                _notice(cal, href, parsed)
            elif href in cached and cached[href].etag == etags[href]:
                seen[href] = cached[href]
            # else: gone between the listing and the multiget
        changed = (
            listing.complete
            or bool(listing.items)
            or bool(listing.removed)
            or listing.sync_token != token
            or listing.ctag != ctag
        )
        cal.token, cal.ctag = listing.sync_token, listing.ctag
        if not dry_run:
            with state.transaction():
                if changed:
                    state.replace_items(url, seen.values())
                    state.set_tokens(cal.key, listing.sync_token, listing.ctag)
                if stamp is not None:
                    now_held = held_after_listing(
                        held, stamp, cached, seen, listed_at, url=url, wrote=cal.wrote
                    )
                    state.set_stamp(url, now_held)
        return [
            Actual(s.href, s.etag, s.uid, _managed(cal, s), s.hash, s.recorded_hash, fields.get(s.href))
            for s in seen.values()
        ]

    def _describe(self, cal: _Calendar, *, creations: bool) -> None:
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
        looked: Sequence[_Calendar],
        unmade: Iterator[_Calendar],
        expected: int,
        progress: Progress | None,
        checkpoint: Checkpoint,
    ) -> list[_Calendar]:
        """Write the calendars looked at, then each of `unmade` as it is made and looked at (`expected`:
        the events they will have at most, for the progress bar), and list them again; returns `unmade`'s
        calendars. Making and rendering a calendar in this thread while the writers send the earlier ones
        keeps the server busy from the start instead of after the last calendar is ready."""
        made: list[_Calendar] = []

        def to_write(cal: _Calendar) -> list[Action]:
            return list(cal.report.actions) if cal.decision is not None and cal.report.error is None else []

        def work(bar: ProgressBar | None) -> Iterator[tuple[_Calendar, Sequence[Action]]]:
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
        # Move the sync token past our own creations. A server may leave out of a later delta a resource
        # created and deleted after the token (Xandikos does): then a person deleting an event plansync just
        # created would go unnoticed. Updates and deletions need no such step: those resources existed at
        # the token, so a later delta reports what happens to them, and our own writes come back in it with
        # the etags we already hold (nothing to fetch). Each calendar's stamp is taken before it is listed,
        # so that the next run can tell it unchanged without listing it (plansync.sync.stamps): a calendar
        # is listed while the others are still written once its stamp has settled, and the last ones
        # after the writes.
        relister = _Relister(self)
        with progress(total, "syncing") if progress is not None else contextlib.nullcontext(None) as bar:
            write_calendars(
                work(bar), self._apply_one, self.backend.writers, checkpoint, bar, relister.written
            )
        calendars = [*looked, *made]
        relist = [c for c in calendars if c.created and c.url is not None and c.url not in relister.listed]
        if not relist:
            return made
        urls = [c.url for c in relist if c.url is not None]
        stamps = self._stamps(urls, dry_run=False)
        asked = time.monotonic()
        later_urls = [u for u in urls if u in stamps and not stamps[u].settled]
        later = [c for c in relist if c.url in later_urls]
        for cal in relist:
            if cal.url not in later_urls:
                self._list_after_writes(cal, stamps)
        if not later:
            return made
        wait = min(STAMP_SETTLE_S, max(stamps[u].settles_in for u in later_urls)) - (time.monotonic() - asked)
        if wait <= 0 or (wait < _listing_estimate(calendars, later) and not stop_waiting.wait(wait + 0.05)):
            stamps = self._stamps(later_urls, dry_run=False)
        for cal in later:
            self._list_after_writes(cal, stamps)
        return made

    def _list_after_writes(self, cal: _Calendar, stamps: Mapping[str, Stamp]) -> None:
        assert cal.url is not None
        try:
            self._actual(cal, cal.url, cal.token, cal.ctag, False, stamp=stamps.get(cal.url), force=True)
        except BackendError as exc:
            cal.report.failures.append(Failure("(listing after the writes)", str(exc)))

    def _apply_one(self, cal: _Calendar, action: Action) -> None:
        """One action; a refusal or an outage is recorded and does not stop the others. Anything else is a
        bug, and stops the run."""
        try:
            self._execute(cal, action, attempt=1)
        except BackendError as exc:
            cal.report.failures.append(Failure(action.label, str(exc)))

    def _execute(self, cal: _Calendar, action: Action, *, attempt: int) -> None:
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

    def _written(self, url: str, cal: _Calendar, want: Desired, href: str, etag: str) -> None:
        owner = next((o for o in cal.owners if want.uid.startswith(o.split(":", 1)[0] + ".")), None)
        with self.state.transaction():
            self.state.put_record(url, Record(want.uid, href, etag, want.hash, want.hash))
            self.state.put_item(url, SeenItem(href, etag, want.uid, owner, want.hash, want.hash))

    def _redecide(self, cal: _Calendar, action: Action, href: str) -> Action | None:
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


class _Relister:
    """Lists each calendar plansync created events in, during the writing of the others, as soon as its
    own writes are done and its stamp has settled (see SyncEngine._apply_all)."""

    def __init__(self, engine: SyncEngine) -> None:
        self.engine = engine
        self.waiting: dict[str, tuple[float, _Calendar]] = {}  # url → (when to ask its stamp, calendar)
        self.listed: set[str] = set()  # urls

    def written(self, done: Sequence[_Calendar]) -> None:
        """Called between the writers' answers with the calendars whose writes just ended."""
        now = time.monotonic()
        for cal in done:
            if cal.created and cal.url is not None:
                self.waiting[cal.url] = (now + RELIST_AFTER_S, cal)
        due = [cal for at, cal in self.waiting.values() if at <= now]
        if not due:
            return
        urls = [c.url for c in due if c.url is not None]
        stamps = self.engine._stamps(urls, dry_run=False)
        for cal in due:
            assert cal.url is not None
            stamp = stamps.get(cal.url)
            if stamp is not None and not stamp.settled:
                self.waiting[cal.url] = (time.monotonic() + max(stamp.settles_in, 0.5), cal)
                continue
            del self.waiting[cal.url]
            self.engine._list_after_writes(cal, stamps)
            self.listed.add(cal.url)


def _managed(cal: _Calendar, item: SeenItem) -> bool:
    """plansync's own object for this calendar: its markers name a plan of this run and this calendar,
    and its UID is the one plansync derives from them (a person's copy keeps the markers, not the UID)."""
    return item.owner in cal.owners and identity.owns(item.uid, item.owner)


def _notice(cal: _Calendar, href: str, parsed: readback.Parsed) -> None:
    """Say once (when it is first fetched) what plansync leaves alone and why."""
    copied = parsed.copy_of
    if copied is not None and parsed.marker is not None:
        owner = f"{parsed.marker.plan_id}:{parsed.marker.calendar_id}"
        if owner in cal.owners:
            original = cal.desired.get(copied)
            what = original.label if original is not None else parsed.marker.event_key
            cal.report.notices.append(f"{href} looks like a copy of {what}: a person's event, left alone")
    elif parsed.problem is not None and parsed.owner not in cal.owners:
        cal.report.notices.append(f"{href} cannot be read ({parsed.problem}): not plansync's, left alone")


def _start_done(cal: _Calendar) -> None:
    cal.report.done = {"create": 0, "update": 0, "delete": 0, "unchanged": 0, "conflict": 0}


def _listing_estimate(calendars: Sequence[_Calendar], these: Sequence[_Calendar]) -> float:
    """How long listing `these` would take, at the pace of this run's listings (0 when there were none
    to go by): what waiting for their stamps to settle saves the next run."""
    seconds = sum(c.listing_s for c in calendars)
    listed = sum(c.listed for c in calendars)
    if not listed:
        return 0.0
    return seconds / listed * sum(len(c.desired) for c in these)


def _need(desired: Desired | None) -> Desired:
    assert desired is not None
    return desired


def _confined(href: str, calendar_url: str) -> None:
    """A write goes only to an object inside the calendar (whatever an older state database holds)."""
    if not inside(href, calendar_url):
        raise BackendError(f"{href} is not inside the calendar {calendar_url}; plansync leaves it alone")


def _spec(target: CalendarTarget) -> str:
    return f"url:{target.url}" if target.url else f"name:{target.name}"


__all__ = ["RELIST_AFTER_S", "Memo", "SyncEngine", "default_calendar_name", "sync"]
