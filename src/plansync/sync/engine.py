"""Sync orchestration: plans → desired events → reconcile with each calendar → apply, one calendar per
organizer.

The order is fixed: look at every calendar first (listing, contents that changed), decide everything
(pure, in plansync.sync.reconcile), check the safety brake for the whole run, and only then write. A dry run
stops before writing and reports the same decisions with their field-level diff. A calendar that does
not exist yet is the one exception: it is empty, so all there is to decide for it is to create its
events, nothing the brake weighs; it is made and its events rendered once the brake has let the run go
on, while the writers already send the other calendars' events (and when the brake stops the run, it
is not made at all).

Entry points:
  run_sync(config, *, dry_run, org_ids, force_delete, ...) -> SyncResult   the CLI and `serve`
  sync(plans, *, backend, state, targets, settings, ...)   -> SyncResult   the same without config/lock
  format_report(result) -> str                                             what the CLI prints
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import logging
import os
import pickle
import queue
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Protocol

from plansync.caldav.backend import (
    STAMP_SETTLE_S,
    Backend,
    BackendError,
    Listing,
    PreconditionFailed,
    Stamp,
    norm_href,
    parent_collection,
)
from plansync.caldav.retry import stop_waiting
from plansync.calendar import ical
from plansync.config.load import CalendarTarget, Config, SyncConfig
from plansync.errors import PlansyncError, UsageError
from plansync.model.plan import Organization, Plan
from plansync.sync.reconcile import (
    Action,
    Actual,
    Brake,
    Decision,
    Desired,
    Record,
    brake,
    decide,
    diff_fields,
    reconcile,
    with_changes,
)
from plansync.sync.state import HeldStamp, SeenItem, State, open_state

log = logging.getLogger(__name__)


class ProgressBar(Protocol):
    def update(self, n_steps: int) -> None: ...


# Called before each calendar is looked at and before each action: `serve` stops there when asked to
# (by raising) and feeds systemd's watchdog, so a long run stays both stoppable and alive.
Checkpoint = Callable[[], None]
# (total, label) → a context manager giving a bar; click.progressbar(length=total, label=label) fits.
Progress = Callable[[int, str], contextlib.AbstractContextManager[ProgressBar]]
LOCK_NAME = "sync.lock"


class LockHeld(PlansyncError):
    exit_code = 1


class SafetyBrake(PlansyncError):
    """Raised by callers who prefer an exception to `SyncResult.exit_code == 2`."""

    exit_code = 2


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

    def count(self, kind: str) -> int:
        extra = self.untouched if kind == "unchanged" else 0
        if self.done:
            return self.done.get(kind, 0) + extra
        return sum(1 for a in self.actions if a.kind == kind and not a.forget) + extra

    @property
    def conflicts(self) -> int:
        return sum(1 for a in self.actions if a.conflict is not None)

    def summary(self) -> str:
        parts = [
            f"{self.count(k)} {w}"
            for k, w in (
                ("create", "created"),
                ("update", "updated"),
                ("delete", "deleted"),
                ("unchanged", "unchanged"),
            )
        ]
        parts.append(f"{self.conflicts} conflict{'s' if self.conflicts != 1 else ''}")
        parts.append(f"{len(self.failures) + (1 if self.error else 0)} failed")
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

    @property
    def failed(self) -> bool:
        return any(c.failures or c.error for c in self.calendars)

    @property
    def exit_code(self) -> int:
        if self.brakes:
            return 2
        return 1 if self.failed else 0

    @property
    def writes(self) -> int:
        return (
            sum(c.count(k) for c in self.calendars for k in ("create", "update", "delete"))
            if not self.dry_run
            else 0
        )


# -- the entry point with config ----------------------------------------------------------------------


def run_sync(
    config: Config,
    *,
    dry_run: bool = False,
    org_ids: Sequence[str] = (),
    force_delete: bool = False,
    backend: Backend | None = None,
    progress: Progress | None = None,
    environ: Mapping[str, str] | None = None,
    plans: Sequence[Plan] | None = None,
    checkpoint: Checkpoint | None = None,
) -> SyncResult:
    """Load the plans of `config` (unless given: `serve` keeps the last good ones), take the lock,
    open the state, start the embedded server if configured (unless a `backend` is given), and sync."""
    cache = _load_cache(config, given=plans)
    with run_lock(config.state_dir):
        state = open_state(config.state_dir)
        try:
            with _backend(config, backend, environ) as live:
                result = sync(
                    cache.plans,
                    backend=live,
                    state=state,
                    targets=config.calendars,
                    settings=config.sync,
                    dry_run=dry_run,
                    org_ids=org_ids,
                    force_delete=force_delete,
                    progress=progress,
                    rendered=cache.rendered if cache.hit else None,
                    memo=cache.memo,
                    checkpoint=checkpoint,
                )
        finally:
            state.close()
        if result.rendered or result.memo or not cache.hit:
            cache.save(result, whole=not org_ids)
    return result


# -- the render cache ---------------------------------------------------------------------------------
#
# Reading a plan and rendering its events dominate a run in which little or nothing changed (2 s to
# read 10,000 events, ~1 ms to render each of their VEVENTs through icalendar, against one request for
# all calendars). The cache, <state_dir>/cache/render.pickle, keeps for this plansync's source and
# icalendar's version:
#   * for the exact bytes of the plan files and the rendering settings: the loaded plans, and per
#     calendar each event's resource name, label and content hash. A run that finds them reconciles
#     with those hashes and renders only the events it is about to write;
#   * whatever the plan files: per event, by a fingerprint of what its rendering depends on (the plan
#     without its events, the event, the calendar, the settings), its UID, name, label and hash. A run
#     after an edit renders only the events whose fingerprint is new; so does `serve`, which keeps its
#     own plans.
# Anything that does not match, or cannot be read, is ignored and rebuilt: the cache is never a source
# of truth, the plan files are.

CACHE_DIR = "cache"
CACHE_FILE = "render.pickle"
_CACHE_FORMAT = 2

# event fingerprint → (uid, name, label, hash), or None: the event has no VEVENT (long-span policy)
Memo = dict[str, tuple[str, str, str, str] | None]


@dataclass
class _Cache:
    plans: list[Plan]
    rendered: dict[str, dict[str, tuple[str, str, str]]]  # valid for these plans only when `hit`
    memo: Memo
    path: Path | None  # None: do not keep (the plan files could not be read)
    code: bytes
    key: str | None  # of the plan files' bytes and the settings; None: plans given by the caller
    hit: bool

    def save(self, result: SyncResult, *, whole: bool) -> None:
        """Keep the plans, the hashes and the memo, atomically, 0600. A run over some calendars only
        (--org) adds to the memo; a whole run replaces it, so that it holds only current events."""
        if self.path is None:
            return
        rendered = {**self.rendered, **result.rendered} if self.hit else dict(result.rendered)
        memo = dict(result.memo) if whole else {**self.memo, **result.memo}
        plans = self.plans if self.key is not None else []
        temp = self.path.with_suffix(f".{os.getpid()}.tmp")
        try:
            self.path.parent.mkdir(mode=0o700, exist_ok=True)
            fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "wb") as out:  # streamed: no second copy of it all in memory
                pickle.dump(
                    (_CACHE_FORMAT, self.code, self.key, plans, rendered, memo),
                    out,
                    protocol=pickle.HIGHEST_PROTOCOL,
                )
            temp.replace(self.path)
        except OSError:
            temp.unlink(missing_ok=True)  # a cache that cannot be written costs time next run, nothing else


def _load_cache(config: Config, *, given: Sequence[Plan] | None) -> _Cache:
    """The plans (given, or from the cache when their files did not change, else read and checked),
    the cached hashes of their events, and the memo."""
    code = _code_fingerprint()
    path: Path | None = config.state_dir / CACHE_DIR / CACHE_FILE
    key: str | None = None
    if given is None:
        digest = hashlib.sha256(repr((config.sync.long_span_policy, config.sync.long_span_days)).encode())
        try:
            for plan_path in config.plans:
                digest.update(str(plan_path.resolve()).encode() + b"\0" + plan_path.read_bytes() + b"\0")
            key = digest.hexdigest()
        except OSError:
            path = None  # load_plan below reports the unreadable file with its usual message
    stored: tuple[object, ...] = ()
    if path is not None:
        try:
            with path.open("rb") as stream:
                stored = pickle.load(stream)
        except Exception:  # missing, truncated, from another version: rebuild
            stored = ()
    valid = len(stored) == 6 and stored[0] == _CACHE_FORMAT and stored[1] == code
    memo: Memo = stored[5] if valid and isinstance(stored[5], dict) else {}
    if given is not None:
        return _Cache(list(given), {}, memo, path, code, None, hit=False)
    if valid and key is not None and stored[2] == key and isinstance(stored[3], list) and stored[3]:
        rendered = stored[4] if isinstance(stored[4], dict) else {}
        return _Cache(stored[3], rendered, memo, path, code, key, hit=True)
    from plansync.planread.planfile import load_plan  # (with the date reader: not needed on a cache hit)

    plans = [load_plan(plan_path) for plan_path in config.plans]
    return _Cache(plans, {}, memo, path, code, key, hit=False)


def _code_fingerprint() -> bytes:
    """What the loaded plans and the rendered events depend on besides the plan files."""
    digest = hashlib.sha256(sys.version.encode())
    from importlib.metadata import PackageNotFoundError, version

    with contextlib.suppress(PackageNotFoundError):  # (not importing it: a no-op run never needs it)
        digest.update(version("icalendar").encode())
    package = Path(__file__).resolve().parents[1]
    for source in sorted(package.rglob("*.py")):
        digest.update(str(source.relative_to(package)).encode() + b"\0" + source.read_bytes())
    return digest.digest()


@contextlib.contextmanager
def _backend(config: Config, given: Backend | None, environ: Mapping[str, str] | None) -> Iterator[Backend]:
    from plansync.caldav.client import CalDAVBackend, caldav_auth

    if given is not None:
        yield given
        return
    env = os.environ if environ is None else environ
    caldav = config.caldav
    if caldav.is_embedded:
        from plansync.caldav.embedded import EMBEDDED_USER, EmbeddedRadicale

        with EmbeddedRadicale(caldav.embedded.host, caldav.embedded.port, caldav.embedded.folder) as server:
            # Radicale runs with auth "none": any password is accepted; the username picks the principal.
            live = CalDAVBackend(
                server.url,
                username=caldav.username or EMBEDDED_USER,
                password="embedded",
                timeout=caldav.timeout,
                writers=caldav.connections,
            )
            try:
                yield live
            finally:
                live.close()
        return
    secret = caldav.password.resolve(env)
    live = CalDAVBackend(
        caldav.url,
        username=caldav.username,
        password=secret.reveal() if secret else None,
        auth=caldav_auth(caldav.auth),
        verify_tls=caldav.verify_tls,
        ca_file=str(caldav.ca_file) if caldav.ca_file is not None else None,
        timeout=caldav.timeout,
        writers=caldav.connections,
    )
    try:
        yield live
    finally:
        live.close()


@contextlib.contextmanager
def run_lock(state_dir: Path) -> Iterator[None]:
    """One run at a time: an flock on a file in the state directory, holding the holder's pid."""
    try:
        state_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd = os.open(state_dir / LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o600)
    except OSError as exc:
        raise PlansyncError(
            f"cannot use the state directory {state_dir}: {exc.strerror}; check state_dir in the "
            "config (or PLANSYNC_STATE_DIR) and its permissions"
        ) from None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode("ascii", "replace").strip() or "unknown"
            raise LockHeld(
                f"another plansync run (pid {holder}) is syncing with the state in {state_dir}; "
                "wait for it to finish and run again"
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        try:
            yield
        finally:
            os.ftruncate(fd, 0)
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


# -- the sync itself ----------------------------------------------------------------------------------


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
    plans: Sequence[Plan] = ()
    rendering: ical.Rendering = field(default_factory=ical.Rendering)
    digest: str = ""  # of the desired events (see _in_sync_digest)
    in_sync: bool = False  # known unchanged on both sides: not looked at
    listing_s: float = 0.0  # time the server took to list it this run, and the resources it listed
    listed: int = 0


def default_calendar_name(org: Organization, plans: Sequence[Plan]) -> str:
    years = sorted({p.year for p in plans if any(o.id == org.id for o in p.organizations)})
    span = f"{years[0]}" if len(years) == 1 else f"{years[0]}–{years[-1]}" if years else ""
    return f"{org.short_name} — план {span}".strip()


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
) -> SyncResult:
    """`rendered`: calendar key → uid → (name, label, hash) of the plans' events, from an earlier run on
    the same plans (the render cache); those calendars are reconciled on the hashes and only the events
    to be written are rendered."""
    settings = settings or SyncConfig()
    targets = targets or {}
    start_requests = backend.requests
    orgs: dict[str, Organization] = {}
    for plan in plans:
        for org in plan.organizations:
            orgs.setdefault(org.id, org)
    unknown = [o for o in org_ids if o not in orgs]
    if unknown:
        raise UsageError(
            f"unknown organization {', '.join(repr(o) for o in unknown)} in --org; "
            f"known: {', '.join(sorted(orgs))}"
        )
    chosen = [orgs[o] for o in orgs if not org_ids or o in org_ids]
    rendering = ical.Rendering(settings.long_span_policy, settings.long_span_days)

    cached = rendered or {}
    renderer = _Renderer(rendering, memo or {})
    check = checkpoint or _no_checkpoint
    known = [_known_url(o.id, _target(o, plans, targets), state) for o in chosen]
    stamps = _stamps(backend, [u for u in known if u is not None], state, settings, dry_run)

    def look(org: Organization, *, dry: bool = dry_run) -> _Calendar:
        return _look(org, plans, backend, state, targets, renderer, settings, dry, cached.get(org.id), stamps)

    calendars = []
    unmade: list[Organization] = []  # no calendar yet: made and looked at while the others are written
    for org in chosen:
        check()
        if not dry_run and _to_be_made(org, plans, backend, state, targets):
            unmade.append(org)
        else:
            calendars.append(look(org))

    def weigh(cal: _Calendar) -> Brake | None:
        if cal.decision is None:
            return None
        return brake(
            cal.report.title,
            cal.decision,
            max_delete_share=settings.max_delete_share,
            force_delete=force_delete,
        )

    brakes = [stop for stop in map(weigh, calendars) if stop is not None]
    for cal in calendars:
        _describe(cal, backend, creations=dry_run)

    def make(org: Organization) -> _Calendar:
        cal = look(org)
        if cal.url is not None and not backend.made(cal.url):
            # Someone made it since this run looked: it holds what it holds, so the brake has its say.
            stop = weigh(cal)
            if stop is not None:
                cal.report.error = f"{stop.reason}; the calendar appeared during the run: run again"
        return cal

    if not dry_run and not brakes:
        expected = sum(len(p.events_of(org.id)) for org in unmade for p in plans)
        made = _apply_all(
            calendars, (make(org) for org in unmade), expected, backend, state, settings, progress, check
        )
        calendars += made
        _record_in_sync(calendars, state)
    else:
        calendars += [look(org, dry=True) for org in unmade]  # what making them would have led to
    order = {org.id: n for n, org in enumerate(chosen)}
    calendars.sort(key=lambda c: order[c.key])
    result = SyncResult([c.report for c in calendars], brakes, dry_run, force_delete)
    result.rendered = {
        c.key: {u: (d.name, d.label, d.hash) for u, d in c.desired.items()}
        for c in calendars
        if c.key not in cached
    }
    result.memo = renderer.fresh
    result.requests = backend.requests - start_requests
    return result


def _to_be_made(
    org: Organization,
    plans: Sequence[Plan],
    backend: Backend,
    state: State,
    targets: Mapping[str, CalendarTarget],
) -> bool:
    """The organizer's calendar does not exist yet, and this run is to make it: then it is empty, and
    all there is to decide is to create its events (nothing for the safety brake to weigh)."""
    target = _target(org, plans, targets)
    if target.url is not None or _known_url(org.id, target, state) is not None:
        return False
    try:
        return backend.resolve_calendar(org.id, url=None, name=target.name, create=False) is None
    except BackendError:
        return False  # looked at in the usual way, which reports what is wrong


def _look(
    org: Organization,
    plans: Sequence[Plan],
    backend: Backend,
    state: State,
    targets: Mapping[str, CalendarTarget],
    renderer: _Renderer,
    settings: SyncConfig,
    dry_run: bool,
    cached: Mapping[str, tuple[str, str, str]] | None = None,
    stamps: Mapping[str, Stamp] | None = None,
) -> _Calendar:
    key = org.id
    target = _target(org, plans, targets)
    title = f"{target.name} ({key})" if target.name else f"{key} ({target.url})"
    report = CalendarReport(key, title, target.url)
    owners = frozenset(f"{p.id}:{key}" for p in plans)
    desired: dict[str, Desired] = {}
    if cached is None:
        for plan in plans:
            desired.update(renderer.desired(plan, key))
        digest = _in_sync_digest(((u, d.hash) for u, d in desired.items()), owners, settings)
    else:
        digest = _in_sync_digest(((u, h) for u, (_, _, h) in cached.items()), owners, settings)
    cal = _Calendar(report, key, None, owners, desired, {}, plans=plans, rendering=renderer.rendering)
    cal.digest = digest
    try:
        url, token, ctag, made = _resolve(key, target, backend, state, dry_run)
        report.url = url
        cal.url = url
        if url is not None:
            held = state.stamp(url)
            if (
                held is not None
                and held.synced == digest
                and _unchanged(held, (stamps or {}).get(url), settings)
            ):
                # Neither the server (its stamp) nor the plan (the digest) changed since a run that
                # left this calendar exactly as desired: nothing to look at.
                report.untouched = len(cached) if cached is not None else len(desired)
                cal.in_sync = True
                return cal
        if cached is not None:
            desired.update(
                (uid, Desired(uid, name, label, h, {}, b"")) for uid, (name, label, h) in cached.items()
            )
        if url is None:  # dry run, calendar still to be created
            report.will_create_calendar = True
            _complete(cal, set(desired))
            cal.decision = reconcile(cal.desired, [], {}, policy=settings.conflict_policy)
            report.actions = list(cal.decision.actions)
            return cal
        stamp = (stamps or {}).get(url)
        actual = _actual(
            cal, url, token, ctag, backend, state, dry_run, stamp=stamp, settings=settings, empty=made
        )
        plan_ids = {p.id for p in plans}
        records = {u: r for u, r in state.records(url).items() if u.split(".", 1)[0] in plan_ids}
        cal.decision = reconcile(cal.desired, actual, records, policy=settings.conflict_policy)
        need = {
            a.uid
            for a in cal.decision.actions
            if a.desired is not None and (a.kind != "unchanged" or a.conflict is not None)
        }
        if _complete(cal, need):
            # The same hashes, so the same decisions; now with the bodies and fields to write and show.
            cal.decision = reconcile(cal.desired, actual, records, policy=settings.conflict_policy)
        report.actions = list(cal.decision.actions)
    except BackendError as exc:
        report.error = str(exc)
    return cal


def _in_sync_digest(pairs: Iterable[tuple[str, str]], owners: frozenset[str], settings: SyncConfig) -> str:
    """What a calendar's desired state is, for telling that it did not change since a clean run."""
    digest = hashlib.sha256(repr((sorted(owners), settings.conflict_policy)).encode())
    for uid, content in sorted(pairs):
        digest.update(f"{uid} {content}\n".encode())
    return digest.hexdigest()[:32]


def _record_in_sync(calendars: Sequence[_Calendar], state: State) -> None:
    """After the writes: a calendar that was looked at and ended exactly as desired (no failure, no
    conflict, nothing left undone) keeps its digest; any other loses it, so it is looked at again."""
    for cal in calendars:
        if cal.in_sync or cal.url is None:
            continue
        report = cal.report
        clean = cal.decision is not None and not report.error and not report.failures and not report.conflicts
        state.set_synced(cal.url, cal.digest if clean else None)


class _Renderer:
    """The plans' events as desired in one calendar: from the memo (see "the render cache") where
    the event's fingerprint is known, else rendered; `fresh` is the memo of this run's calendars."""

    def __init__(self, rendering: ical.Rendering, memo: Mapping[str, tuple[str, str, str, str] | None]):
        self.rendering = rendering
        self.memo = memo
        self.fresh: Memo = {}

    def desired(self, plan: Plan, calendar_id: str) -> dict[str, Desired]:
        # The rendering of an event depends on the event, on its plan without the events (zone, year,
        # organizations), on the calendar and on the settings; the code is the cache file's own key.
        head = hashlib.sha256(repr((replace(plan, events=()), calendar_id, self.rendering)).encode()).digest()
        out: dict[str, Desired] = {}
        todo: dict[str, str] = {}  # event key → fingerprint
        for event in plan.events_of(calendar_id):
            fingerprint = hashlib.sha256(head + repr(event).encode()).hexdigest()[:40]
            if fingerprint not in self.memo:
                todo[event.key] = fingerprint
                continue
            known = self.fresh[fingerprint] = self.memo[fingerprint]
            if known is not None:
                uid, name, label, digest = known
                out[uid] = Desired(uid, name, label, digest, {}, b"")
        if todo:
            made = ical.desired_events(plan, calendar_id, self.rendering, keys=set(todo))
            by_key = {ical.event_uid(plan.id, k, calendar_id): k for k in todo}
            for uid, event_key in by_key.items():
                desired = made.get(uid)
                self.fresh[todo[event_key]] = (
                    (uid, desired.name, desired.label, desired.hash) if desired is not None else None
                )
                if desired is not None:
                    out[uid] = desired
        return out


def _complete(cal: _Calendar, uids: set[str]) -> bool:
    """Render the events of `uids` that are known only by their cached hash; True if any was."""
    stubs = [u for u in uids if u in cal.desired and cal.desired[u].is_stub]
    if not stubs:
        return False
    wanted: dict[str, set[str]] = {}
    for uid in stubs:
        parts = ical.split_uid(uid)
        if parts is not None:
            wanted.setdefault(parts[0], set()).add(parts[1])
    for plan in cal.plans:
        if plan.id in wanted:
            full = ical.desired_events(plan, cal.key, cal.rendering, keys=wanted[plan.id])
            cal.desired.update((u, d) for u, d in full.items() if u in cal.desired)
    missing = [u for u in stubs if cal.desired[u].is_stub]
    if missing:  # the cache said the plan has it, the plan does not: never write an empty event
        raise PlansyncError(f"the render cache in the state directory is stale ({missing[0]}); delete it")
    return True


def _target(
    org: Organization, plans: Sequence[Plan], targets: Mapping[str, CalendarTarget]
) -> CalendarTarget:
    return targets.get(org.id) or CalendarTarget(name=default_calendar_name(org, plans))


def _spec(target: CalendarTarget) -> str:
    return f"url:{target.url}" if target.url else f"name:{target.name}"


def _known_url(key: str, target: CalendarTarget, state: State) -> str | None:
    known = state.calendar(key)
    return known.url if known is not None and known.target == _spec(target) else None


def _resolve(
    key: str, target: CalendarTarget, backend: Backend, state: State, dry_run: bool
) -> tuple[str | None, str | None, str | None, bool]:
    """The calendar's URL, sync token and ctag, and whether it was created just now (so is empty)."""
    spec = _spec(target)
    known = state.calendar(key)
    if known is not None and known.target == spec:
        # Found or created before: no discovery requests on later runs.
        return known.url, known.sync_token, known.ctag, False
    url = backend.resolve_calendar(key, url=target.url, name=target.name, create=not dry_run)
    if url is not None and not dry_run:
        state.set_calendar(key, spec, url)
    return url, None, None, url is not None and backend.made(url)


# -- stamps: noticing that nothing changed without listing ------------------------------------------
#
# Answering a sync-collection REPORT or a getctag costs Radicale time in proportion to the calendar
# (it reads every item: ~80 ms at 500 events), while its DAV:getlastmodified of a calendar comes from
# file times (~5 ms), for all of a user's calendars in one PROPFIND. So each run first asks for those
# stamps, and a calendar whose stamp equals the one held is not listed: the cached listing stands for it.
#
# Held is only a *settled* stamp (STAMP_SETTLE_S older than the server's clock when it answered, taken
# before a listing): whatever changes after that listing gets a later stamp, even within the same
# second. A run that created events takes the stamps of those calendars before listing them again (a
# listing it does anyway: see _apply_all). The calendars written last may not have settled by then:
# the run waits for them (2–3 s) only when listing them next time would take longer, by how long this
# run's listings took; else the next run lists them once more.
# A calendar whose stamp stayed while its events changed (seen when it is listed) is not trusted
# again; every calendar is listed at least every sync.recheck_every regardless. A server without
# last-modified stamps (Xandikos) is asked for getctag, which serves as a stamp that is settled at once
# (it changes with every change); a server with neither has its calendars listed every run.


def _stamps(
    backend: Backend, urls: Sequence[str], state: State, settings: SyncConfig, dry_run: bool
) -> dict[str, Stamp]:
    """The calendars' stamps: last-modified, else getctag. A calendar home whose calendars had no
    last-modified (Xandikos) is asked for getctag instead, and one that had neither is asked nothing;
    each is asked again after sync.recheck_every (a server may have been upgraded). Radicale is never
    asked for getctag: it reads every event of a calendar to answer."""
    if not settings.recheck_every:
        return {}
    now = time.time()
    recheck = settings.recheck_every.total_seconds()
    parents: dict[str, list[str]] = {}
    for url in urls:
        parents.setdefault(parent_collection(url), []).append(url)
    found: dict[str, Stamp] = {}
    for ctag in (False, True):
        asked = {
            parent: group
            for parent, group in parents.items()
            if not _stampless_since(state, parent, now - recheck, ctag=ctag)
        }
        if asked:
            try:
                found.update(backend.stamps([u for group in asked.values() for u in group], ctag=ctag))
            except BackendError:
                return found  # then those calendars are listed, which reports what is wrong if it persists
        without = {parent: group for parent, group in parents.items() if not any(u in found for u in group)}
        if not dry_run:
            for parent in asked:
                state.set_stampless(parent, now if parent in without else None, ctag=ctag)
        parents = without  # asked for the other kind
        if not parents:
            break
    return found


def _stampless_since(state: State, parent: str, since: float, *, ctag: bool) -> bool:
    at = state.stampless_at(parent, ctag=ctag)
    return at is not None and at > since


def _unchanged(held: HeldStamp | None, stamp: Stamp | None, settings: SyncConfig | None) -> bool:
    """The cached listing of a calendar still stands for it: no need to list it."""
    if held is None or stamp is None or held.value is None or not held.trusted or settings is None:
        return False
    recent = time.time() - held.listed_at < settings.recheck_every.total_seconds()
    return recent and held.value == stamp.value


def _actual(
    cal: _Calendar,
    url: str,
    token: str | None,
    ctag: str | None,
    backend: Backend,
    state: State,
    dry_run: bool,
    *,
    stamp: Stamp | None = None,
    settings: SyncConfig | None = None,
    force: bool = False,
    empty: bool = False,
) -> list[Actual]:
    """The calendar's resources, from the cached listing when its stamp says it stands, else listed
    (`empty`: created just now, nothing to list yet; the writes are followed by a listing anyway)."""
    held = state.stamp(url)
    cached = state.items(url)
    if not force and _unchanged(held, stamp, settings):
        return [
            Actual(s.href, s.etag, s.uid, s.owner in cal.owners, s.hash, s.recorded_hash)
            for s in cached.values()
        ]
    listed_at = time.time()
    started = time.monotonic()
    listing = Listing(complete=True, items={}) if empty else backend.listing(url, sync_token=token, ctag=ctag)
    if listing.complete:
        etags = dict(listing.items)
    else:
        etags = {h: s.etag for h, s in cached.items() if h not in listing.removed}
        etags.update(listing.items)
    if not empty:
        cal.listing_s += time.monotonic() - started
        cal.listed += len(etags)
    need = sorted(h for h, e in etags.items() if h not in cached or cached[h].etag != e)
    fetched = backend.fetch(url, need) if need else {}
    cal.bodies.update(fetched)
    seen: dict[str, SeenItem] = {}
    fields: dict[str, Mapping[str, str] | None] = {}
    for href in etags:
        if href in fetched:
            etag, body = fetched[href]
            parsed = ical.parse(body)
            owner = f"{parsed.marker.plan_id}:{parsed.marker.calendar_id}" if parsed.marker else None
            seen[href] = SeenItem(href, etag, parsed.uid, owner, parsed.hash, parsed.recorded_hash)
            fields[href] = parsed.fields
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
                state.set_stamp(url, _held_after_listing(held, stamp, cached, seen, listed_at, cal))
    return [
        Actual(s.href, s.etag, s.uid, s.owner in cal.owners, s.hash, s.recorded_hash, fields.get(s.href))
        for s in seen.values()
    ]


def _held_after_listing(
    held: HeldStamp | None,
    stamp: Stamp,
    cached: Mapping[str, SeenItem],
    seen: Mapping[str, SeenItem],
    listed_at: float,
    cal: _Calendar,
) -> HeldStamp:
    trusted = held.trusted if held is not None else True
    if held is not None and held.value is not None and held.value == stamp.value:
        # The stamp stayed since a settled one; then nothing may have changed since (our own writes are
        # in the cache already, so a difference is someone else's, or ours after that stamp).
        others = set(cached) != set(seen) or any(
            cached[h].etag != s.etag for h, s in seen.items() if h in cached
        )
        if others or cal.wrote:
            log.info(
                "%s: its last-modified stamp does not follow its changes; it is listed every run", cal.url
            )
            trusted = False
    return HeldStamp(stamp.value if stamp.settled else None, listed_at, trusted)


def _describe(cal: _Calendar, backend: Backend, *, creations: bool) -> None:
    """Attach the field-level diff to each action (to creations only if `creations`: only a dry run
    shows them, and at 10,000 events they weigh 15 MB); fetches the server copies updates need."""
    if cal.decision is None:
        return
    need = [
        a.href
        for a in cal.report.actions
        if a.href and a.desired is not None and a.kind in ("update", "conflict") and a.href not in cal.bodies
    ]
    if need and cal.url is not None:
        try:
            cal.bodies.update(backend.fetch(cal.url, sorted(set(need))))
        except BackendError as exc:
            cal.report.error = str(exc)
            return
    described: list[Action] = []
    for action in cal.report.actions:
        if action.kind == "create" and action.desired is not None and creations:
            described.append(with_changes(action, diff_fields(None, action.desired.fields)))
        elif (
            action.kind in ("update", "conflict") and action.desired is not None and action.href in cal.bodies
        ):
            server = ical.parse(cal.bodies[action.href][1]).fields
            described.append(with_changes(action, diff_fields(server, action.desired.fields)))
        else:
            described.append(action)
    cal.report.actions = described


# -- applying -----------------------------------------------------------------------------------------


def _no_checkpoint() -> None:
    pass


def _apply_all(
    looked: Sequence[_Calendar],
    unmade: Iterator[_Calendar],
    expected: int,
    backend: Backend,
    state: State,
    settings: SyncConfig,
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
                bar.update(sum(len(p.events_of(cal.key)) for p in cal.plans) - len(actions))
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
    # so that the next run can tell it unchanged without listing it (see "stamps"): a calendar is listed
    # while the others are still written once its stamp has settled, and the last ones after the writes.
    relister = _Relister(backend, state, settings)
    with progress(total, "syncing") if progress is not None else contextlib.nullcontext(None) as bar:
        _write_calendars(work(bar), backend, state, settings, checkpoint, bar, relister.written)
    calendars = [*looked, *made]
    relist = [c for c in calendars if c.created and c.url is not None and c.url not in relister.listed]
    if not relist:
        return made
    urls = [c.url for c in relist if c.url is not None]
    stamps = _stamps(backend, urls, state, settings, dry_run=False)
    asked = time.monotonic()
    later_urls = [u for u in urls if u in stamps and not stamps[u].settled]
    later = [c for c in relist if c.url in later_urls]
    for cal in relist:
        if cal.url not in later_urls:
            _list_after_writes(cal, backend, state, settings, stamps)
    if not later:
        return made
    wait = min(STAMP_SETTLE_S, max(stamps[u].settles_in for u in later_urls)) - (time.monotonic() - asked)
    if wait <= 0 or (wait < _listing_estimate(calendars, later) and not stop_waiting.wait(wait + 0.05)):
        stamps = _stamps(backend, later_urls, state, settings, dry_run=False)
    for cal in later:
        _list_after_writes(cal, backend, state, settings, stamps)
    return made


# A stamp has a resolution of a second and settles STAMP_SETTLE_S after the last change: asked sooner,
# it would have to be asked again.
RELIST_AFTER_S = STAMP_SETTLE_S + 1.0


class _Relister:
    """Lists each calendar plansync created events in, during the writing of the others, as soon as its
    own writes are done and its stamp has settled (see _apply_all)."""

    def __init__(self, backend: Backend, state: State, settings: SyncConfig) -> None:
        self.backend, self.state, self.settings = backend, state, settings
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
        stamps = _stamps(self.backend, urls, self.state, self.settings, dry_run=False)
        for cal in due:
            assert cal.url is not None
            stamp = stamps.get(cal.url)
            if stamp is not None and not stamp.settled:
                self.waiting[cal.url] = (time.monotonic() + max(stamp.settles_in, 0.5), cal)
                continue
            del self.waiting[cal.url]
            _list_after_writes(cal, self.backend, self.state, self.settings, stamps)
            self.listed.add(cal.url)


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


def _list_after_writes(
    cal: _Calendar, backend: Backend, state: State, settings: SyncConfig, stamps: Mapping[str, Stamp]
) -> None:
    assert cal.url is not None
    try:
        _actual(
            cal,
            cal.url,
            cal.token,
            cal.ctag,
            backend,
            state,
            dry_run=False,
            stamp=stamps.get(cal.url),
            settings=settings,
            force=True,
        )
    except BackendError as exc:
        cal.report.failures.append(Failure("(listing after the writes)", str(exc)))


def _write_calendars(
    work: Iterable[tuple[_Calendar, Sequence[Action]]],
    backend: Backend,
    state: State,
    settings: SyncConfig,
    checkpoint: Checkpoint,
    bar: ProgressBar | None,
    written: Callable[[Sequence[_Calendar]], None] | None = None,
) -> None:
    """Each calendar's actions in order, up to `backend.writers` calendars at a time: a server answers
    one PUT while the next is prepared and sent (each writer has its own connection), and our own work
    per event hides behind the server's. `work` is drawn here, in the calling thread, while the writers
    write what it gave before. `checkpoint` runs here too, between calendars and answers; when it
    raises, the writers stop before their next action and the exception goes on. So does `written`,
    with the calendars whose writes ended since (or none), once all of `work` is given."""
    stop = threading.Event()
    finished: queue.SimpleQueue[int] = queue.SimpleQueue()
    ended: queue.SimpleQueue[_Calendar] = queue.SimpleQueue()

    def write(cal: _Calendar, actions: Sequence[Action]) -> None:
        for action in actions:
            if stop.is_set():
                return
            try:
                _apply_one(cal, action, backend, state, settings)
            except BaseException:
                stop.set()  # not a failure of this action (those are recorded): everyone stops
                raise
            finished.put(1)
        ended.put(cal)

    def advance() -> None:
        while not finished.empty():
            n = finished.get()
            if bar is not None:
                bar.update(n)

    def drained() -> list[_Calendar]:
        out = []
        while not ended.empty():
            out.append(ended.get())
        return out

    futures = []
    with ThreadPoolExecutor(max(1, backend.writers), thread_name_prefix="plansync-write") as pool:
        try:
            given = iter(work)
            while not stop.is_set():
                checkpoint()
                item = next(given, None)
                if item is None:
                    break
                futures.append(pool.submit(write, *item))
                advance()
            pending = set(futures)
            done: list[_Calendar] = []
            while pending and not stop.is_set():
                checkpoint()
                if written is not None:
                    written(done)
                _, pending = wait(pending, timeout=0.2, return_when=FIRST_EXCEPTION)
                advance()
                done = drained()
        except BaseException:
            stop.set()
            raise
    advance()
    for future in futures:
        future.result()  # a writer's exception (a crash, a bug) is the run's


def _apply_one(cal: _Calendar, action: Action, backend: Backend, state: State, settings: SyncConfig) -> None:
    """One action; a failure is recorded and does not stop the others."""
    try:
        _execute(cal, action, backend, state, settings, attempt=1)
    except BackendError as exc:
        cal.report.failures.append(Failure(action.label, str(exc)))
    except (OSError, ValueError, KeyError) as exc:
        cal.report.failures.append(Failure(action.label, f"{type(exc).__name__}: {exc}"))


def _execute(
    cal: _Calendar, action: Action, backend: Backend, state: State, settings: SyncConfig, *, attempt: int
) -> None:
    assert cal.url is not None
    url = cal.url
    done = cal.report.done
    try:
        if action.kind == "create":
            cal.created = True
            want = _need(action.desired)
            href, etag = backend.create(url, want.name, want.body)
            cal.wrote = True
            _written(state, url, cal, want, href, etag)
        elif action.kind == "update":
            want = _need(action.desired)
            assert action.href is not None and action.etag is not None
            current = cal.bodies.get(action.href)
            if current is None or current[0] != action.etag:
                raise PreconditionFailed(action.href)  # changed since we looked: re-decide
            etag = backend.update(action.href, action.etag, ical.merge(current[1], want.body))
            _written(state, url, cal, want, action.href, etag)
        elif action.kind == "delete":
            assert action.href is not None and action.etag is not None
            backend.delete(action.href, action.etag)
            with state.transaction():
                state.drop_record(url, action.uid)
                state.drop_item(url, action.href)
        else:
            _bookkeeping(state, url, action)
        done[action.kind] = done.get(action.kind, 0) + (0 if action.forget else 1)
    except PreconditionFailed as exc:
        if attempt > 1:
            raise BackendError(f"{exc}; it kept changing, try again later") from None
        again = _redecide(cal, action, backend, state, settings, exc.href)
        if again is None:
            return
        # What was decided the second time is what happened; keep the report honest.
        cal.report.actions = [again if a is action else a for a in cal.report.actions]
        _execute(cal, again, backend, state, settings, attempt=attempt + 1)


def _need(desired: Desired | None) -> Desired:
    assert desired is not None
    return desired


def _written(state: State, url: str, cal: _Calendar, want: Desired, href: str, etag: str) -> None:
    owner = next((o for o in cal.owners if want.uid.startswith(o.split(":", 1)[0] + ".")), None)
    with state.transaction():
        state.put_record(url, Record(want.uid, href, etag, want.hash, want.hash))
        state.put_item(url, SeenItem(href, etag, want.uid, owner, want.hash, want.hash))


def _bookkeeping(state: State, url: str, action: Action) -> None:
    if action.forget:
        state.drop_record(url, action.uid)
    elif action.record is not None:
        state.put_record(url, action.record)


def _redecide(
    cal: _Calendar, action: Action, backend: Backend, state: State, settings: SyncConfig, href: str
) -> Action | None:
    """After a 412: look at the resource as it is now and decide again; never overwrite blindly."""
    assert cal.url is not None
    found = backend.get(href)
    have: Actual | None = None
    if found is not None:
        etag, body = found
        parsed = ical.parse(body)
        if parsed.uid != action.uid:
            raise BackendError(f"{href} holds another event (UID {parsed.uid}); plansync leaves it alone")
        owner = f"{parsed.marker.plan_id}:{parsed.marker.calendar_id}" if parsed.marker else None
        have = Actual(
            norm_href(href),
            etag,
            parsed.uid,
            owner in cal.owners,
            parsed.hash,
            parsed.recorded_hash,
            parsed.fields,
        )
        cal.bodies[have.href] = (etag, body)
    record = state.records(cal.url).get(action.uid)
    _complete(cal, {action.uid})
    return decide(action.uid, cal.desired.get(action.uid), have, record, policy=settings.conflict_policy)


# -- the report ---------------------------------------------------------------------------------------

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
    told: set[str] = set()  # an error shared by calendars (the server is down, the login fails) is told once
    for cal in result.calendars:
        shown = [a for a in cal.actions if a.kind != "unchanged" or a.conflict]
        if not shown and not cal.failures and not cal.error and not cal.will_create_calendar:
            continue
        lines.append(f"{cal.title}: {cal.url or 'calendar to be created'}")
        if cal.will_create_calendar:
            lines.append("  + calendar (created by MKCALENDAR)")
        if cal.error:
            lines.append(f"  ✗ {cal.error}" if cal.error not in told else "  ✗ the same error as above")
            told.add(cal.error)
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
        for failure in cal.failures:
            lines.append(f"  ✗ {failure.label}: {failure.message}")
    lines.append("summary:" if not result.dry_run else "summary (would be):")
    for cal in result.calendars:
        lines.append(f"  {cal.title}: {cal.summary()}")
    return "\n".join(lines)


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
