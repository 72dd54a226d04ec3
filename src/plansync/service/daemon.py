"""`plansync serve`: the long-running service.

One thread runs a simple loop: sync every `sync.interval` and a few seconds after a plan file
changes; send the weekly digests at `digest.schedule` in the plan's time zone, catching up the
latest missed one after downtime (the ledger makes a rerun send nothing twice); keep the embedded
CalDAV server up for other clients. Failures are logged and retried with backoff; nothing a server
does kills the process. SIGTERM/SIGINT stop after the request in flight; SIGHUP reloads the config
and the plans, keeping the old ones when the new ones are broken.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import signal
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from types import FrameType

from plansync.caldav import retry
from plansync.config.load import load_config
from plansync.config.model import Config
from plansync.digest.schedule import due_digest, next_due_digest
from plansync.digest.select import digest_period, today_in
from plansync.errors import PlansyncError
from plansync.jobs.calendars import CalendarServer
from plansync.jobs.digest import send_digests
from plansync.jobs.plans import load_plans
from plansync.jobs.publish import publish_site, site_folder
from plansync.jobs.runlog import record_service
from plansync.jobs.sync import run_sync
from plansync.model.plan import Plan
from plansync.publish.server import SiteServer
from plansync.service.notify import Notifier
from plansync.sync.report import brake_message, problem_lines, summary_line
from plansync.util.backoff import doubling
from plansync.util.logs import one_line, register_secret

log = logging.getLogger("plansync.serve")

PLAN_SETTLE = dt.timedelta(seconds=2)  # editors save in several steps: wait for the file to settle
RETRY_FIRST = dt.timedelta(seconds=30)
DIGEST_RETRY = dt.timedelta(minutes=5)  # the ledger's own backoff decides what is really retried
TICK_SECONDS = 1.0


class Stopping(BaseException):
    """Raised between two sync actions when a stop was asked for (a BaseException, so the per-event
    error handling of the sync lets it through)."""


# -- clocks ---------------------------------------------------------------------------------------


class SystemClock:
    def now(self) -> dt.datetime:
        return dt.datetime.now(dt.UTC)


class FileClock:
    """A clock the tests control: the file holds an ISO time; from then on time runs at the normal
    speed until the file changes again."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._stamp: tuple[int, int] | None = None
        self._base = dt.datetime.now(dt.UTC)
        self._read_at = time.monotonic()

    def now(self) -> dt.datetime:
        try:
            info = self.path.stat()
            stamp = (info.st_mtime_ns, info.st_size)
            if stamp != self._stamp:
                value = dt.datetime.fromisoformat(self.path.read_text(encoding="utf-8").strip())
                self._base = value if value.tzinfo else value.replace(tzinfo=dt.UTC)
                self._read_at, self._stamp = time.monotonic(), stamp
        except (OSError, ValueError) as exc:
            log.warning("clock file %s unreadable (%s); keeping the last time", self.path, exc)
        return self._base + dt.timedelta(seconds=time.monotonic() - self._read_at)


Clock = SystemClock | FileClock


# -- the service ----------------------------------------------------------------------------------


@dataclass
class _Loaded:
    config: Config
    plans: list[Plan]
    signature: tuple[tuple[str, int, int], ...]


def _signature(paths: tuple[Path, ...]) -> tuple[tuple[str, int, int], ...]:
    out = []
    for path in paths:
        try:
            info = path.stat()
            out.append((str(path), info.st_mtime_ns, info.st_size))
        except OSError:
            out.append((str(path), -1, -1))
    return tuple(out)


def load(config_file: Path | None, environ: Mapping[str, str]) -> _Loaded:
    config = load_config(config_file, environ)
    plans = load_plans(config.plans)
    return _Loaded(config, plans, _signature(config.plans))


class Service:
    def __init__(
        self,
        config_file: Path | None,
        *,
        environ: Mapping[str, str] | None = None,
        clock: Clock | None = None,
        notifier: Notifier | None = None,
    ) -> None:
        self.config_file = config_file
        self.environ = dict(os.environ if environ is None else environ)
        self.clock: Clock = clock or SystemClock()
        self.notifier = notifier or Notifier(self.environ)
        self._stop = threading.Event()
        self._reload = threading.Event()
        self._caldav_url: str | None = None  # the embedded server's, once it runs
        self._server: CalendarServer | None = None  # where the calendars are, while `run` runs
        self.loaded = load(config_file, self.environ)
        self._remember_secrets(self.loaded.config)
        self.next_sync = self.clock.now()
        self.sync_failures = 0
        self.digest_done_for: dt.datetime | None = None
        self.digest_retry_at: dt.datetime | None = None
        self._published: tuple[list[Plan], Config] | None = None  # what the site was last built from
        self._publish_retry_at: dt.datetime | None = None

    # -- signals --------------------------------------------------------------------------------

    def install_signal_handlers(self) -> None:
        def stop(signum: int, frame: FrameType | None) -> None:
            log.info("%s received: stopping after the request in flight", signal.Signals(signum).name)
            self._stop.set()
            retry.stop_waiting.set()  # no more waiting to retry a CalDAV request

        def reload(signum: int, frame: FrameType | None) -> None:
            self._reload.set()

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGHUP, reload)

    # -- main loop ------------------------------------------------------------------------------

    def run(self) -> int:
        config = self.loaded.config

        with CalendarServer(config.caldav, self.environ) as server:
            self._server = server
            if config.caldav.is_embedded:
                self._caldav_url = server.url
                log.info(
                    "embedded CalDAV server on %s (storage %s)", server.url, config.caldav.embedded.folder
                )
            self._write_status("starting")
            self.notifier.ready(f"serving {len(self.loaded.plans)} plan(s)")
            log.info(
                "serving %s; sync every %s, digests %s",
                ", ".join(str(p) for p in config.plans),
                config.sync.interval,
                self._schedule_text(),
            )
            site = self._start_site_server()
            try:
                while not self._stop.is_set():
                    self._tick()
                    self._stop.wait(TICK_SECONDS)
            finally:
                if site is not None:
                    site.stop()
        self._server = None
        self.notifier.stopping()
        self._write_status("stopped", stopped=True)
        log.info("stopped")
        return 0

    def _tick(self) -> None:
        if self._reload.is_set():
            self._reload.clear()
            self._do_reload()
        now = self.clock.now()
        signature = _signature(self.loaded.config.plans)
        if signature != self.loaded.signature:
            self.loaded.signature = signature
            self._plans_changed(now)
        if not self._stop.is_set():
            self._publish_cycle(now)
        if now >= self.next_sync and not self._stop.is_set():
            self._sync_cycle(now)
        if not self._stop.is_set():
            self._digest_cycle(self.clock.now())
        self._write_status("idle")
        self.notifier.watchdog()

    # -- the published site ---------------------------------------------------------------------

    def _start_site_server(self) -> SiteServer | None:
        """The HTTP server of the site, with `publish.port`; the site is built before it answers."""
        publish = self.loaded.config.publish
        if publish.port is None:
            return None

        self._publish_cycle(self.clock.now())
        site = SiteServer(site_folder(self.loaded.config, service=True), publish.host, publish.port).start()
        log.info("site on %s", site.url)
        return site

    def _publish_cycle(self, now: dt.datetime) -> None:
        """Rebuild the site when the plans (or the config) in use changed: at once, since the plans were
        re-read only once their files had settled and were valid. Only changed files are rewritten."""
        config = self.loaded.config
        if not config.publish.in_service:
            return
        done = self._published
        if done is not None and done[0] is self.loaded.plans and done[1] is config:
            return  # both are replaced, never changed in place, when a plan or the config changes
        if self._publish_retry_at is not None and now < self._publish_retry_at:
            return

        try:
            report = publish_site(config, self.loaded.plans, out=site_folder(config, service=True))
        except PlansyncError as exc:
            log.error("publishing the site failed: %s; retrying in %s", one_line(str(exc)), RETRY_FIRST)
            self._publish_retry_at = now + RETRY_FIRST
            return
        except Exception as exc:
            log.exception("publishing the site crashed: %s", exc)
            self._publish_retry_at = now + RETRY_FIRST
            return
        self._published, self._publish_retry_at = (self.loaded.plans, config), None
        log.info("site: %s", report.line())

    # -- reload ---------------------------------------------------------------------------------

    def _plans_changed(self, now: dt.datetime) -> None:
        """Re-read the plans; a broken edit is reported and the last good plans stay in use."""
        try:
            plans = load_plans(self.loaded.config.plans)
        except PlansyncError as exc:
            log.error("the changed plan has problems; still using the previous version:\n%s", exc)
            return
        self.loaded.plans = plans
        self.digest_done_for = None  # the edit may change this week's digests
        soon = now + PLAN_SETTLE
        if soon < self.next_sync:
            log.info("a plan file changed: syncing in %s s", PLAN_SETTLE.seconds)
            self.next_sync = soon

    def _do_reload(self) -> None:
        self.notifier.reloading()
        try:
            fresh = load(self.config_file, self.environ)
        except PlansyncError as exc:
            log.error("reload failed, keeping the running config and plans: %s", one_line(str(exc)))
            self.notifier.ready("reload failed; running the old config")
            return
        old = self.loaded.config
        if fresh.config.caldav.embedded != old.caldav.embedded or fresh.config.caldav.url != old.caldav.url:
            log.warning("the CalDAV server settings changed: they take effect after a restart")
            fresh = replace(fresh, config=replace(fresh.config, caldav=old.caldav))
        self.loaded = fresh
        self._remember_secrets(fresh.config)
        self.next_sync = self.clock.now()
        self.digest_done_for = None  # the new plan may change what is due
        log.info("reloaded %s and %d plan(s)", self.config_file or "the config", len(fresh.plans))
        self.notifier.ready("reloaded")

    # -- sync -----------------------------------------------------------------------------------

    def _sync_cycle(self, now: dt.datetime) -> None:

        config = self.loaded.config
        interval = config.sync.interval
        self._write_status("syncing")
        self.notifier.status("syncing")
        started = time.monotonic()
        try:
            result = run_sync(
                config,
                server=self._server,
                checkpoint=self._checkpoint,
                environ=self.environ,
                plans=self.loaded.plans,
            )
        except Stopping:
            log.info("sync interrupted between two actions; the next start goes on from there")
            return
        except PlansyncError as exc:
            self._sync_failed(now, interval, one_line(str(exc)))
            return
        except Exception as exc:  # a bug or a library surprise: log it, never die of it
            log.exception("sync crashed: %s", exc)
            self._sync_failed(now, interval, f"{type(exc).__name__}: {exc}")
            return
        summary = summary_line(result, time.monotonic() - started)
        if result.brakes:
            log.error("%s; stopped by the safety brake: %s", summary, brake_message(result))
        for line in problem_lines(result):
            log.error("%s", line)
        if result.failed:
            self._sync_failed(now, interval, "some calendars or events failed (see above)")
            return
        log.info("%s", summary)
        self.sync_failures = 0
        self.next_sync = now + interval
        self.notifier.status(f"synced at {now:%Y-%m-%d %H:%M} UTC")

    def _sync_failed(self, now: dt.datetime, interval: dt.timedelta, reason: str) -> None:
        self.sync_failures += 1
        delay = doubling(self.sync_failures, RETRY_FIRST, interval)  # 30 s, 1 min … up to the interval
        self.next_sync = now + delay
        log.error("sync failed (%d in a row): %s; next try in %s", self.sync_failures, reason, delay)
        self.notifier.status(f"sync failing: {reason}")

    def _checkpoint(self) -> None:
        """Between two steps of a sync: feed the watchdog, and stop here if asked to."""
        self.notifier.watchdog()
        if self._stop.is_set():
            raise Stopping

    # -- digests --------------------------------------------------------------------------------

    def _digest_cycle(self, now: dt.datetime) -> None:

        config = self.loaded.config
        timezone = self._timezone
        due, as_of = due_digest(now, config.digest.schedule_weekday, config.digest.schedule_time, timezone)
        if due == self.digest_done_for:
            return
        period = digest_period(as_of, config.digest.period_days)
        if today_in(timezone, now) > period.end:
            # Started after the week this digest is about (e.g. Monday 07:59, before this week's is
            # due): catching up would mail last week's news. Nothing to send until the next one.
            log.info("digests due %s: their week %s … %s is over; not sent", as_of, period.start, period.end)
            self.digest_done_for, self.digest_retry_at = due, None
            return
        if self.digest_retry_at is not None and now < self.digest_retry_at:
            return
        self._write_status("sending digests")
        try:
            report = send_digests(config, as_of=as_of, now=now, environ=self.environ, plans=self.loaded.plans)
        except PlansyncError as exc:
            log.error("digests due %s failed: %s; retrying in %s", as_of, one_line(str(exc)), DIGEST_RETRY)
            self.digest_retry_at = now + DIGEST_RETRY
            return
        except Exception as exc:
            log.exception("digests due %s crashed: %s", as_of, exc)
            self.digest_retry_at = now + DIGEST_RETRY
            return
        for line in report.lines()[1:]:
            log.info("digest %s: %s", as_of, line.strip())
        if report.transient_failures:
            self.digest_retry_at = now + DIGEST_RETRY
            log.warning("digests due %s: %d to retry later", as_of, len(report.transient_failures))
            return
        self.digest_done_for, self.digest_retry_at = due, None

    def _schedule_text(self) -> str:
        digest = self.loaded.config.digest
        days = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
        return f"on {days[digest.schedule_weekday]}s at {digest.schedule_time:%H:%M}"

    # -- status ---------------------------------------------------------------------------------

    @property
    def _timezone(self) -> str:
        return self.loaded.plans[0].timezone if self.loaded.plans else "UTC"

    def _write_status(self, activity: str, *, stopped: bool = False) -> None:

        config = self.loaded.config
        now = self.clock.now()
        timezone = self._timezone
        digest = next_due_digest(now, config.digest.schedule_weekday, config.digest.schedule_time, timezone)
        try:
            record_service(
                config.state_dir,
                {
                    "pid": None if stopped else str(os.getpid()),
                    "activity": activity,
                    "heartbeat": dt.datetime.now(dt.UTC).isoformat(),
                    "next_sync": None if stopped else self.next_sync.isoformat(),
                    "next_digest": None if stopped else digest.isoformat(),
                    "caldav_url": self._caldav_url,
                },
            )
        except Exception as exc:  # status is a convenience: never let it stop the service
            log.warning("cannot write the service status: %s", exc)

    def _remember_secrets(self, config: Config) -> None:
        for source in (config.caldav.password, config.mail.smtp.password):
            try:
                secret = source.resolve(self.environ)
            except PlansyncError:
                continue
            if secret is not None:
                register_secret(secret.reveal())
