"""The render cache: a run in which little or nothing changed reads no plan and renders no event.

Reading a plan and rendering its events dominate such a run (seconds for a large plan, against one
request for all calendars). The cache, <state_dir>/cache/render.json, keeps for this plansync's source
and icalendar's version:
  * for the exact bytes of the plan files and the rendering settings: the plans without their events
    (ids, years, organizations), and per calendar each event's resource name, label and content hash.
    A run that finds them reconciles with those hashes; the plan files are read only if some event is
    to be rendered after all (something to write);
  * whatever the plan files: per event, by a fingerprint of what its rendering depends on (the plan
    without its events, the event, the calendar, the settings), its UID, name, label and hash. A run
    after an edit renders only the events whose fingerprint is new; so does `serve`, which keeps its
    own plans.
It is JSON, not a pickle: whoever could write it could not make plansync run code. Anything that does
not match, or cannot be read, is ignored and rebuilt: the cache is never a source of truth, the plan
files are.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from plansync.calendar import ical, identity
from plansync.calendar.desired import Desired
from plansync.config.model import Config
from plansync.model.codec import decode_plan, encode
from plansync.model.plan import Plan
from plansync.sync.report import SyncResult
from plansync.util.private import private_dir

CACHE_DIR = "cache"
CACHE_FILE = "render.json"
_CACHE_FORMAT = 3
MAX_CACHE_BYTES = 512 * 1024 * 1024  # far beyond any plan: a larger file is not ours to read

# event fingerprint → (uid, name, label, hash), or None: the event has no VEVENT (long-span policy)
Memo = dict[str, tuple[str, str, str, str] | None]
Rendered = dict[str, dict[str, tuple[str, str, str]]]  # calendar → uid → (name, label, hash)


@dataclass
class RenderCache:
    plans: list[Plan]  # without their events on a hit (see `full`)
    rendered: Rendered  # valid for these plans only when `hit`
    memo: Memo
    path: Path | None  # None: do not keep (the plan files could not be read)
    code: str
    key: str | None  # of the plan files' bytes and the settings; None: plans given by the caller
    hit: bool
    full: Callable[[], list[Plan]] | None = None  # the plans with their events, read when first needed

    def save(self, result: SyncResult, *, whole: bool) -> None:
        """Keep the plans' heads, the hashes and the memo, atomically, 0600. A run over some calendars
        only (--org) adds to the memo; a whole run replaces it, so that it holds only current events."""
        if self.path is None:
            return
        rendered = {**self.rendered, **result.rendered} if self.hit else dict(result.rendered)
        memo = dict(result.memo) if whole else {**self.memo, **result.memo}
        heads = [encode(replace(p, events=())) for p in self.plans] if self.key is not None else []
        document = {"format": _CACHE_FORMAT, "code": self.code, "key": self.key, "plans": heads}
        temp = self.path.with_suffix(f".{os.getpid()}.tmp")
        try:
            private_dir(self.path.parent)
            fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                json.dump({**document, "rendered": rendered, "memo": memo}, out, separators=(",", ":"))
            temp.replace(self.path)
        except (OSError, ValueError):
            temp.unlink(missing_ok=True)  # a cache that cannot be written costs time next run, nothing else


def load_cache(
    config: Config, *, given: Sequence[Plan] | None, read_plans: Callable[[], list[Plan]]
) -> RenderCache:
    """The plans (given, or from the cache when their files did not change, else read and checked by
    `read_plans`, called only then), the cached hashes of their events, and the memo."""
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
            path = None  # read_plans below reports the unreadable file with its usual message
    stored = _read(path) if path is not None else {}
    valid = stored.get("format") == _CACHE_FORMAT and stored.get("code") == code
    memo: Memo = _memo(stored.get("memo")) if valid else {}

    if given is not None:
        return RenderCache(list(given), {}, memo, path, code, None, hit=False)
    if valid and key is not None and stored.get("key") == key:
        try:
            heads = [decode_plan(p) for p in stored.get("plans") or ()]
            rendered = _rendered(stored.get("rendered"))
        except (TypeError, ValueError):
            heads = []
        if heads:
            return RenderCache(heads, rendered, memo, path, code, key, hit=True, full=read_plans)
    return RenderCache(read_plans(), {}, memo, path, code, key, hit=False)


def _read(path: Path) -> dict[str, Any]:
    """The stored document, or {} when it is missing, too large, not ours or not JSON."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    except OSError:
        return {}
    try:
        with os.fdopen(fd, "rb") as stream:
            if os.fstat(stream.fileno()).st_size > MAX_CACHE_BYTES:
                return {}
            data = json.load(stream)
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _memo(data: object) -> Memo:
    if not isinstance(data, dict):
        return {}
    out: Memo = {}
    for fingerprint, value in data.items():
        if value is None:
            out[fingerprint] = None
        elif isinstance(value, list) and len(value) == 4 and all(isinstance(v, str) for v in value):
            out[fingerprint] = (value[0], value[1], value[2], value[3])
    return out


def _rendered(data: object) -> Rendered:
    if not isinstance(data, dict):
        raise TypeError("rendered is not a mapping")
    out: Rendered = {}
    for calendar, events in data.items():
        if not isinstance(events, dict):
            raise TypeError("a calendar's events are not a mapping")
        out[calendar] = {uid: (v[0], v[1], v[2]) for uid, v in events.items() if _strings(v, 3)}
    return out


def _strings(value: object, count: int) -> bool:
    return isinstance(value, list) and len(value) == count and all(isinstance(v, str) for v in value)


def _code_fingerprint() -> str:
    """What the loaded plans and the rendered events depend on besides the plan files."""
    digest = hashlib.sha256(sys.version.encode())
    with contextlib.suppress(PackageNotFoundError):  # (not importing it: a no-op run never needs it)
        digest.update(version("icalendar").encode())
    package = Path(__file__).resolve().parents[1]
    for source in sorted(package.rglob("*.py")):
        digest.update(str(source.relative_to(package)).encode() + b"\0" + source.read_bytes())
    return digest.hexdigest()


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
            by_key = {identity.event_uid(plan.id, k, calendar_id): k for k in todo}
            for uid, event_key in by_key.items():
                desired = made.get(uid)
                self.fresh[todo[event_key]] = (
                    (uid, desired.name, desired.label, desired.hash) if desired is not None else None
                )
                if desired is not None:
                    out[uid] = desired
        return out
