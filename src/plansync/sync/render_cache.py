"""The render cache: a run in which little or nothing changed reads no plan and renders no event.

Reading a plan and rendering its events dominate such a run (seconds at 10,000 events, against one
request for all calendars). The cache, <state_dir>/cache/render.pickle, keeps for this plansync's source
and icalendar's version:
  * for the exact bytes of the plan files and the rendering settings: the loaded plans, and per
    calendar each event's resource name, label and content hash. A run that finds them reconciles
    with those hashes and renders only the events it is about to write;
  * whatever the plan files: per event, by a fingerprint of what its rendering depends on (the plan
    without its events, the event, the calendar, the settings), its UID, name, label and hash. A run
    after an edit renders only the events whose fingerprint is new; so does `serve`, which keeps its
    own plans.
Anything that does not match, or cannot be read, is ignored and rebuilt: the cache is never a source
of truth, the plan files are.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import pickle
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from plansync.calendar import ical
from plansync.config.load import Config
from plansync.model.plan import Plan
from plansync.sync.reconcile import Desired
from plansync.sync.report import SyncResult

CACHE_DIR = "cache"
CACHE_FILE = "render.pickle"
_CACHE_FORMAT = 2

# event fingerprint → (uid, name, label, hash), or None: the event has no VEVENT (long-span policy)
Memo = dict[str, tuple[str, str, str, str] | None]


@dataclass
class RenderCache:
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


def load_cache(config: Config, *, given: Sequence[Plan] | None) -> RenderCache:
    """The plans (given, or from the cache when their files did not change, else read and checked),
    the cached hashes of their events, and the memo."""
    code = _code_fingerprint()
    path: Path | None = config.state_dir / CACHE_DIR / CACHE_FILE
    key: str | None = None
    if given is None:
        digest = hashlib.sha256(
            repr((config.sync.long_span_policy, config.sync.long_span_days, config.sync.layout)).encode()
        )
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
        return RenderCache(list(given), {}, memo, path, code, None, hit=False)
    if valid and key is not None and stored[2] == key and isinstance(stored[3], list) and stored[3]:
        rendered = stored[4] if isinstance(stored[4], dict) else {}
        return RenderCache(stored[3], rendered, memo, path, code, key, hit=True)
    from plansync.planread.planfile import load_plan  # (with the date reader: not needed on a cache hit)

    plans = [load_plan(plan_path) for plan_path in config.plans]
    return RenderCache(plans, {}, memo, path, code, key, hit=False)


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


class Renderer:
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
        for event in ical.events_of(plan, calendar_id):
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
