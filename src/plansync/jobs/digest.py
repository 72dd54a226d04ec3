"""The digest use case: select, render, record and send the weekly digests, once per (address, week).

`send_digests` is the whole job as a function, for `plansync digest`, `plansync run` and the service.
"""

from __future__ import annotations

import datetime as dt
import email.utils
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from plansync.config.model import Config
from plansync.digest.changes import diff, fingerprints, notice_key
from plansync.digest.ledger import Entry, Ledger, ledger_path
from plansync.digest.mail import Rendered, Renderer, build_message, calendar_bytes, list_info
from plansync.digest.schedule import due_digest
from plansync.digest.select import Digest, Period, Rules, digest_period, issued_before, select
from plansync.digest.transports import SendError, Transport, open_transport
from plansync.errors import PlansyncError, UsageError
from plansync.jobs.plans import load_plans
from plansync.model.plan import Plan
from plansync.util.fileio import write_atomic
from plansync.util.lock import digest_lock

__all__ = ["DigestFailed", "DigestReport", "Outcome", "send_digests", "set_stopped"]

Status = Literal[
    "sent",  # sent in this run
    "already-sent",  # sent by an earlier run: never twice
    "failed",  # failed in this run (see transient)
    "held",  # failed permanently earlier; only --resend tries again
    "waiting",  # failed transiently earlier; retried after the backoff
    "empty",  # nothing for this organization this week, and send_empty is off
    "would-send",  # --dry-run
    "would-retry",  # --dry-run, a failed or interrupted one that this run would send
    "previewed",  # --preview wrote its files
    "no-email",  # an organization without e-mail: it gets no digest
    "stopped",  # the address asked to stop (plansync digest --unsubscribe)
    "changes-sent",  # a change notice for a week already sent
    "changes-failed",  # a change notice that failed (see transient); retried like a digest
]


@dataclass(frozen=True)
class Outcome:
    organization: str
    recipient: str | None
    status: Status
    entries: int
    subject: str = ""
    reason: str = ""
    transient: bool = False
    message_id: str = ""
    period: str = ""  # set for outcomes about another week (held failures, change notices)


@dataclass(frozen=True)
class DigestReport:
    period_start: dt.date
    period_end: dt.date
    transport: str
    outcomes: tuple[Outcome, ...] = field(default_factory=tuple)

    @property
    def permanent_failures(self) -> tuple[Outcome, ...]:
        """Failed for good in this run, or held from an earlier one: until someone resolves them
        (`--resend`, or `--unsubscribe` of a dead address), every run says so by its exit status."""
        return tuple(
            o
            for o in self.outcomes
            if (o.status in ("failed", "changes-failed") and not o.transient) or o.status == "held"
        )

    @property
    def transient_failures(self) -> tuple[Outcome, ...]:
        return tuple(o for o in self.outcomes if o.status in ("failed", "changes-failed") and o.transient)

    def count(self, status: Status) -> int:
        return sum(1 for o in self.outcomes if o.status == status)

    def lines(self) -> list[str]:
        out = [f"digest for {self.period_start} … {self.period_end} via {self.transport}"]
        for o in self.outcomes:
            who = f"{o.recipient} ({o.organization})" if o.recipient else o.organization
            entries = f"{o.entries} entr{'y' if o.entries == 1 else 'ies'}"
            if o.status == "no-email":
                line = (
                    f"no e-mail     {who}: {entries}; add an e-mail to its plan contacts to send it digests"
                )
            elif o.status == "empty":
                line = f"empty         {who}: nothing this week, not sent (digest.send_empty is off)"
            elif o.status == "already-sent":
                line = f"already-sent  {who}: «{o.subject}» went out in an earlier run; not sent twice"
            elif o.status in ("failed", "held", "waiting", "changes-failed"):
                kind = "transient, will retry" if o.transient else "permanent, retry with --resend"
                week = f" (week {o.period.replace('..', ' … ')})" if o.period else ""
                line = f"{o.status:<13} {who}{week}: {o.reason} [{kind}]"
            elif o.status == "stopped":
                line = (
                    f"stopped       {who}: asked to stop; not sent (plansync digest --resume {o.recipient})"
                )
            elif o.status == "changes-sent":
                line = f"changes-sent  {who}: «{o.subject}», {entries} changed"
            else:
                line = f"{o.status:<13} {who}: {entries}, «{o.subject}»"
            out.append("  " + line)
        sums = ", ".join(
            f"{n} {s}"
            for s in (
                "sent",
                "already-sent",
                "would-send",
                "would-retry",
                "previewed",
                "failed",
                "held",
                "waiting",
                "empty",
                "stopped",
                "changes-sent",
                "changes-failed",
            )
            if (n := self.count(s))
        )
        out.append(f"total: {sums or 'nothing to do'}")
        return out


class DigestFailed(PlansyncError):
    """Some digests could not be sent; the report above says which and why."""

    def __init__(self, message: str, *, transient: bool) -> None:
        super().__init__(message)
        self.exit_code = 75 if transient else 1  # 75 = EX_TEMPFAIL: a later run may succeed


def send_digests(
    config: Config,
    *,
    as_of: dt.date | None = None,
    dry_run: bool = False,
    preview: Path | None = None,
    to: str | None = None,
    resend: bool = False,
    now: dt.datetime | None = None,
    transport: Transport | None = None,
    environ: Mapping[str, str] | None = None,
    plans: Sequence[Plan] | None = None,
) -> DigestReport:
    """Send the digest of the period `as_of` falls before (see digest.digest_period) to every contact;
    without `as_of`, the digest due now by `digest.schedule`.

    dry_run: report what would happen, change nothing. preview: write .txt/.html/.eml files to the
    folder instead of sending (ledger untouched). to: only this address. resend: also retry digests
    that failed permanently or wait for their backoff. `transport` replaces the configured one (tests).
    """

    now = now if now is not None else dt.datetime.now(dt.UTC)
    if plans is None:
        plans = load_plans(config.plans)
    if not plans:
        raise UsageError("the config names no plan; add one under `plans:`")
    if as_of is not None:
        day = as_of
    else:  # the digest due now by the schedule (a holiday moves it earlier), whenever a timer runs this
        digest = config.digest
        day = due_digest(now, digest.schedule_weekday, digest.schedule_time, plans[0].timezone)[1]
    period = digest_period(day, config.digest.period_days)
    rules = Rules(
        lead_days=config.digest.lead_days, issued_before=issued_before(config.digest.schedule_weekday)
    )
    selection = select(plans, period, include_others=config.digest.include_others, rules=rules)

    pairs = [(d, r) for d in selection.digests for r in d.recipients]
    if to is not None:
        wanted = to.strip().lower()
        pairs = [(d, r) for d, r in pairs if r.lower() == wanted]
        if not pairs:
            known = sorted({r for d in selection.digests for r in d.recipients})
            raise UsageError(
                f"--to {to}: no organization in the plan has this address; known: {', '.join(known)}"
            )

    outcomes: list[Outcome] = []
    if to is None:
        outcomes += [Outcome(org.id, None, "no-email", n) for org, n in selection.without_email]
    renderer = Renderer(config.digest.templates)
    job = _Job(config, renderer, period, now)
    job.to_one = to is not None
    if preview is not None:
        outcomes += [job.preview(d, r, preview) for d, r in pairs]
        return DigestReport(period.start, period.end, f"preview {preview}", tuple(outcomes))
    if dry_run:
        outcomes += job.dry_run(pairs, resend)
        return DigestReport(period.start, period.end, _describe(config) + " (dry run)", tuple(outcomes))

    with digest_lock(config.state_dir), Ledger(ledger_path(config.state_dir)) as ledger:
        stopped = ledger.stopped()
        outcomes += [
            Outcome(d.organization.id, r, "stopped", len(d.items)) for d, r in pairs if r.lower() in stopped
        ]
        pairs = [(d, r) for d, r in pairs if r.lower() not in stopped]
        sender = (
            transport if transport is not None else open_transport(config.mail, dict(environ or {}) or None)
        )
        try:
            outcomes += [job.send(d, r, ledger, sender, resend) for d, r in pairs]
            outcomes += job.send_changes(plans, rules, pairs, ledger, sender, day)
        finally:
            sender.close()
        outcomes += [
            Outcome(
                e.organization,
                e.recipient,
                "held",
                0,
                e.subject,
                e.last_error or "",
                False,
                e.message_id,
                e.period,
            )
            for e in ledger.held()
            if e.period != period.key and (to is None or e.recipient == to.strip().lower())
        ]
    return DigestReport(period.start, period.end, _describe(config), tuple(outcomes))


def set_stopped(config: Config, address: str, *, stop: bool, now: dt.datetime | None = None) -> str:
    """`--unsubscribe ADDRESS` / `--resume ADDRESS`: record the request in the ledger, so it is
    honoured without editing the plan. Returns the line to print."""
    bare = email.utils.parseaddr(address)[1].strip().lower()
    if not bare or bare.count("@") != 1 or any(c.isspace() for c in bare) or len(bare) > 254:
        raise UsageError(f"{address!r} is not a mail address; give it as name@example.ru")
    now = now if now is not None else dt.datetime.now(dt.UTC)
    with digest_lock(config.state_dir), Ledger(ledger_path(config.state_dir)) as ledger:
        if stop:
            changed = ledger.stop(bare, now)
            if not changed:
                return f"{bare}: was already stopped"
            return f"{bare}: stopped; no digest or notice goes there (undo: plansync digest --resume {bare})"
        changed = ledger.resume(bare)
        return f"{bare}: digests resumed" if changed else f"{bare}: was not stopped"


def _describe(config: Config) -> str:
    mail = config.mail
    if mail.transport == "smtp":
        return f"smtp {mail.smtp.host}:{mail.smtp.effective_port} ({mail.smtp.security})"
    return f"outbox {mail.outbox}"


class _Job:
    """The per-recipient steps, sharing one rendering per organization."""

    def __init__(self, config: Config, renderer: Renderer, period: Period, now: dt.datetime) -> None:
        self.config = config
        self.renderer = renderer
        self.period = period
        self.now = now
        self._rendered: dict[str, object] = {}
        self.to_one = False  # --to: `--resend` then also resends a digest that was sent

    def _skip_empty(self, digest: Digest) -> bool:
        return digest.empty and not self.config.digest.send_empty

    def _message(self, digest: Digest, recipient: str) -> tuple[str, str, bytes]:
        """(subject, Message-ID, bytes) of this recipient's message, rendered now."""
        key = digest.organization.id
        rendered = self._rendered.get(key)
        if rendered is None:
            rendered = self.renderer.render(
                digest, reply_to=self.config.digest.reply_to, listing=list_info(self.config.mail)
            )
            self._rendered[key] = rendered
        assert isinstance(rendered, Rendered)
        ics = calendar_bytes(digest, self.now) if self.config.digest.attach_ics else None
        msg = build_message(
            rendered,
            digest=digest,
            recipient=recipient,
            config=self.config.digest,
            now=self.now,
            ics=ics,
            listing=list_info(self.config.mail),
        )
        return rendered.subject, str(msg["Message-ID"]), msg.as_bytes()

    def preview(self, digest: Digest, recipient: str, folder: Path) -> Outcome:
        org = digest.organization.id
        if self._skip_empty(digest):
            return Outcome(org, recipient, "empty", 0)
        subject, message_id, data = self._message(digest, recipient)
        rendered = self._rendered[org]
        assert isinstance(rendered, Rendered)
        stem = f"{self.period.start.isoformat()}-{org}-{_safe(recipient)}"
        if folder.is_symlink():
            raise UsageError(f"--preview {folder} is a symlink; give the folder itself")
        # 0600, as in the outbox: the previews hold the recipients' addresses.
        write_atomic(folder / f"{stem}.txt", rendered.text.encode("utf-8"), mode=0o600)
        write_atomic(folder / f"{stem}.html", rendered.html.encode("utf-8"), mode=0o600)
        write_atomic(folder / f"{stem}.eml", data, mode=0o600)
        return Outcome(org, recipient, "previewed", len(digest.items), subject, message_id=message_id)

    def dry_run(self, pairs: Sequence[tuple[Digest, str]], resend: bool) -> list[Outcome]:
        path = ledger_path(self.config.state_dir)
        ledger = Ledger(path, read_only=True) if path.exists() else None
        try:
            out = []
            stopped = ledger.stopped() if ledger is not None else set()
            for digest, recipient in pairs:
                org = digest.organization.id
                if recipient.lower() in stopped:
                    out.append(Outcome(org, recipient, "stopped", len(digest.items)))
                    continue
                if self._skip_empty(digest):
                    out.append(Outcome(org, recipient, "empty", 0))
                    continue
                entry = ledger.get(recipient, self.period.key) if ledger is not None else None
                held = self._held(entry, resend)
                if held is not None:
                    out.append(held)
                    continue
                subject, message_id, _ = self._message(digest, recipient)
                status: Status = "would-send" if entry is None or entry.state == "pending" else "would-retry"
                out.append(Outcome(org, recipient, status, len(digest.items), subject, message_id=message_id))
            return out
        finally:
            if ledger is not None:
                ledger.close()

    def _held(self, entry: Entry | None, resend: bool) -> Outcome | None:
        """The outcome for an entry this run leaves alone, or None when it is to be sent."""
        if entry is None:
            return None
        if entry.state == "sent":
            return Outcome(
                entry.organization,
                entry.recipient,
                "already-sent",
                0,
                entry.subject,
                message_id=entry.message_id,
            )
        if entry.state == "failed" and not resend:
            if not entry.transient:
                return Outcome(
                    entry.organization,
                    entry.recipient,
                    "held",
                    0,
                    entry.subject,
                    entry.last_error or "",
                    False,
                    entry.message_id,
                )
            if not entry.due(self.now):
                assert entry.next_attempt is not None
                reason = f"{entry.last_error}; next attempt after {entry.next_attempt:%Y-%m-%d %H:%M} UTC"
                return Outcome(
                    entry.organization,
                    entry.recipient,
                    "waiting",
                    0,
                    entry.subject,
                    reason,
                    True,
                    entry.message_id,
                )
        return None

    def send(
        self, digest: Digest, recipient: str, ledger: Ledger, transport: Transport, resend: bool
    ) -> Outcome:
        org = digest.organization.id
        if self._skip_empty(digest):
            return Outcome(org, recipient, "empty", 0)
        entry = ledger.get(recipient, self.period.key)
        if entry is not None and entry.state == "sent" and resend and self.to_one:
            return self._resend(digest, entry, ledger, transport)
        held = self._held(entry, resend)
        if held is not None:
            return held
        if entry is None:  # rendered once: every later attempt sends these very bytes
            subject, message_id, data = self._message(digest, recipient)
            entry = ledger.store(
                recipient=recipient,
                period=self.period.key,
                organization=org,
                message_id=message_id,
                subject=subject,
                message=data,
                now=self.now,
            )
            ledger.set_announced(recipient, self.period.key, fingerprints(digest))
        ledger.mark_sending(recipient, self.period.key)
        try:
            transport.send(entry.message, self.config.digest.sender, recipient)
        except SendError as exc:
            ledger.mark_failed(recipient, self.period.key, exc.reason, transient=exc.transient, now=self.now)
            return Outcome(
                org,
                recipient,
                "failed",
                len(digest.items),
                entry.subject,
                exc.reason,
                exc.transient,
                entry.message_id,
            )
        ledger.mark_sent(recipient, self.period.key, self.now)
        return Outcome(org, recipient, "sent", len(digest.items), entry.subject, message_id=entry.message_id)

    def _resend(self, digest: Digest, entry: Entry, ledger: Ledger, transport: Transport) -> Outcome:
        """`--to ADDRESS --resend`: the stored message of that week again, same bytes and Message-ID."""
        org = digest.organization.id
        try:
            transport.send(entry.message, self.config.digest.sender, entry.recipient)
        except SendError as exc:
            return Outcome(
                org,
                entry.recipient,
                "failed",
                len(digest.items),
                entry.subject,
                exc.reason,
                exc.transient,
                entry.message_id,
            )
        return Outcome(
            org, entry.recipient, "sent", len(digest.items), entry.subject, message_id=entry.message_id
        )

    def send_changes(
        self,
        plans: Sequence[Plan],
        rules: Rules,
        pairs: Sequence[tuple[Digest, str]],
        ledger: Ledger,
        transport: Transport,
        today: dt.date,
    ) -> list[Outcome]:
        """One «Изменения в плане» notice per recipient and week already sent, not over by `today`
        (the run's day, --as-of included), whose entries changed since; ledgered like a digest (the
        key names the changes), so it goes out once."""
        selections: dict[str, dict[str, Digest]] = {}
        out: list[Outcome] = []
        for current, recipient in pairs:
            org = current.organization.id
            for key in ledger.announced_periods(recipient):
                start, _, end = key.partition("..")
                period = Period(dt.date.fromisoformat(start), dt.date.fromisoformat(end))
                if period.end < today:
                    continue  # a week that is over: its changes are news to nobody
                if key not in selections:
                    chosen = select(
                        plans, period, include_others=self.config.digest.include_others, rules=rules
                    )
                    selections[key] = {d.organization.id: d for d in chosen.digests}
                digest = selections[key].get(org)
                if digest is None:
                    continue
                changes = diff(key, ledger.announced(recipient, key), fingerprints(digest))
                if changes is None:
                    continue
                notice = notice_key(changes)
                entry = ledger.get(recipient, notice)
                if entry is not None and entry.state == "sent":
                    ledger.set_announced(recipient, key, changes.current)  # sent before a crash
                    continue
                if (
                    entry is not None
                    and entry.state == "failed"
                    and not (entry.transient and entry.due(self.now))
                ):
                    continue  # held or waiting: reported with the digests
                if entry is None:
                    rendered = self.renderer.render_changes(
                        digest,
                        changes,
                        reply_to=self.config.digest.reply_to,
                        listing=list_info(self.config.mail),
                    )
                    msg = build_message(
                        rendered,
                        digest=digest,
                        recipient=recipient,
                        config=self.config.digest,
                        now=self.now,
                        listing=list_info(self.config.mail),
                        kind=notice.partition("~")[2],
                    )
                    entry = ledger.store(
                        recipient=recipient,
                        period=notice,
                        organization=org,
                        message_id=str(msg["Message-ID"]),
                        subject=rendered.subject,
                        message=msg.as_bytes(),
                        now=self.now,
                    )
                ledger.mark_sending(recipient, notice)
                try:
                    transport.send(entry.message, self.config.digest.sender, recipient)
                except SendError as exc:
                    ledger.mark_failed(recipient, notice, exc.reason, transient=exc.transient, now=self.now)
                    out.append(
                        Outcome(
                            org,
                            recipient,
                            "changes-failed",
                            changes.count,
                            entry.subject,
                            exc.reason,
                            exc.transient,
                            entry.message_id,
                            key,
                        )
                    )
                    continue
                ledger.mark_sent(recipient, notice, self.now)
                ledger.set_announced(recipient, key, changes.current)
                out.append(
                    Outcome(
                        org,
                        recipient,
                        "changes-sent",
                        changes.count,
                        entry.subject,
                        message_id=entry.message_id,
                        period=key,
                    )
                )
        return out


def _safe(text: str) -> str:
    return "".join(c if c.isalnum() or c in "-_.@" else "_" for c in text)
