"""Publish once: build the site from the plans and write it into its folder. The CLI (`publish`) and the
service call this and nothing else."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from plansync.calendar import ical
from plansync.config.model import Config
from plansync.model.plan import Plan
from plansync.publish.site import SiteBuilder
from plansync.publish.writer import Written, write_site

DEFAULT_OUT = Path("site")


@dataclass(frozen=True)
class Published:
    out: Path
    events: int
    pages: int
    feeds: int
    written: Written

    def line(self) -> str:
        w = self.written
        return (
            f"published {self.events} events into {self.out}: {self.pages} pages, {self.feeds} feeds "
            f"({len(w.changed)} files changed, {w.unchanged} unchanged, {len(w.removed)} removed)"
        )


def site_folder(config: Config, out: Path | None = None, *, service: bool = False) -> Path:
    """--out beats publish.out; then `site` for the command and <state_dir>/site for the service."""
    if out is not None:
        return out
    if config.publish.out is not None:
        return config.publish.out
    return config.state_dir / "site" if service else DEFAULT_OUT


def plans_stamp(paths: Sequence[Path]) -> dt.datetime:
    """When the plans last changed (their newest file time, whole seconds, UTC): the feeds' DTSTAMP,
    so publishing unchanged plans again gives the same bytes and the same ETags."""
    newest = 0.0
    for path in paths:
        try:
            newest = max(newest, path.stat().st_mtime)
        except OSError:
            continue
    return dt.datetime.fromtimestamp(int(newest), dt.UTC)


def publish_site(
    config: Config,
    plans: Sequence[Plan],
    *,
    out: Path,
    base_url: str | None = None,
) -> Published:
    rendering = ical.Rendering(config.sync.long_span_policy, config.sync.long_span_days)
    site = SiteBuilder(config.digest.templates).build(
        plans,
        stamp=plans_stamp(config.plans),
        base_url=base_url if base_url is not None else config.publish.base_url,
        rendering=rendering,
    )
    written = write_site(out, site.files)
    events = sum(len(p.events) for p in plans)
    return Published(out, events, len(site.pages), len(site.feeds), written)
