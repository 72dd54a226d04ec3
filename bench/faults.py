"""The fault campaigns of issue 7, as numbers: `python -m bench.faults [--trials N] [--seed S] [--json PATH]`.

Campaigns (all on 127.0.0.1, servers started here, temporary folders removed at the end):
  network       syncs through the fault-injecting proxy (tests/faultproxy.py) into Radicale, foreign events
                seeded by hand; then without faults: converged?
  sync-kill     `plansync sync` killed with SIGKILL at a seeded write (before or after the server applied
                it), then run again: converged?
  digest-kill   `plansync digest` killed while the SMTP server holds a message in DATA (accepted or not),
                then run again: every recipient served, duplicates?
  smtp-outage   the SMTP server down for five hourly runs, then up: every digest exactly once?
  fuzz          hostile plans, configs and date cells: a clear error every time?

Each row says how many faults were injected, plansync runs made, trials that converged, and what
broke a promise: duplicate events, foreign events touched, digests lost or duplicated, secrets found in
any output or state file, tracebacks. The harness is the tests' own (tests/faultkit.py and friends).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import random
import signal
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

COLUMNS = (
    ("faults_injected", "faults injected"),
    ("runs", "runs"),
    ("converged", "converged"),
    ("duplicates", "duplicates"),
    ("foreign_events_touched", "foreign events touched"),
    ("digests_lost", "digests lost"),
    ("digests_duplicated", "digests duplicated"),
    ("secrets_leaked", "secrets leaked"),
    ("tracebacks", "tracebacks"),
)


@dataclass
class Row:
    campaign: str
    trials: int = 0
    faults_injected: int = 0
    runs: int = 0
    converged: int = 0
    duplicates: int = 0
    foreign_events_touched: int = 0
    digests_lost: int = 0
    digests_duplicated: int = 0
    secrets_leaked: int = 0
    tracebacks: int = 0
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)

    def add(self, other: Row) -> None:
        for name, _ in COLUMNS:
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.trials += other.trials
        self.seconds += other.seconds


def _leaks(texts: list[str], folders: list[Path]) -> int:
    from tests.support.faultkit import leaks

    found = sum(len(leaks(t)) for t in texts)
    for folder in folders:
        for path in folder.rglob("*"):
            if path.is_file():
                found += len(leaks(path.read_bytes()))
    return found


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """The servers' own warnings (Radicale without auth, aiosmtpd's deprecations) are not the report."""
    import logging

    root = logging.getLogger()
    old = root.level
    root.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        root.setLevel(old)


# -- campaigns ----------------------------------------------------------------------------------------


def network(work: Path, trials: int, seed: int) -> Row:
    from tests.support import faultkit as fk
    from tests.support.faultproxy import FaultConfig, FaultProxy
    from tests.support.servers import start_radicale

    row = Row("network")
    server = start_radicale(work / "radicale")
    try:
        for trial in range(trials):
            s = seed * 1000 + trial
            with FaultProxy(server.url, FaultConfig(rate=0.25, seed=s, hang=1.6)) as proxy:
                folder = fk.SyncFolder(work / f"t{trial}", proxy.url, f"net{trial}", timeout=1)
                figures = fk.network_trial(server, proxy, folder, s)
            row.trials += 1
            row.faults_injected += figures["faults_injected"]
            row.runs += figures["runs"]
            row.converged += bool(figures["converged"])
            row.duplicates += figures["duplicates"]
            row.foreign_events_touched += figures["foreign_events_touched"]
            row.tracebacks += figures["tracebacks"]
            row.secrets_leaked += _leaks(figures["texts"], [folder.state])
            row.notes += [f"seed {s}: {p}" for p in figures["problems"]]
    finally:
        server.stop()
    return row


def sync_kill(work: Path, trials: int, seed: int) -> Row:
    from tests.support import faultkit as fk
    from tests.support.faultkit import Killer, crash_sync_trial
    from tests.support.servers import start_radicale

    row = Row("sync-kill")
    server = start_radicale(work / "radicale")
    killer = Killer()
    server.wrap(killer)
    try:
        for trial in range(trials):
            folder = fk.SyncFolder(work / f"t{trial}", server.url, f"kill{trial}")
            result = crash_sync_trial(server, killer, folder, seed=seed * 1000 + trial)
            row.trials += 1
            row.faults_injected += bool(result["killed"])
            row.runs += 1 + len(result["codes"])
            row.converged += bool(result["converged"]) and result["codes"] == [0, 0, 0]
            row.duplicates += result["duplicates"]
            row.tracebacks += result["tracebacks"]
            row.secrets_leaked += _leaks([result["text"]], [folder.state])
    finally:
        server.stop()
    return row


def digest_kill(work: Path, trials: int, seed: int, tls: Any) -> Row:
    from tests.support import faultkit as fk
    from tests.support.faultkit import HeldRecorder
    from tests.support.smtp import PASSWORD, start_server

    rng = random.Random(seed)
    row = Row("digest-kill")
    env = {fk.SMTP_PASSWORD_ENV: PASSWORD}
    for trial in range(trials):
        recorder = HeldRecorder(hold_at=rng.randint(1, len(fk.RECIPIENTS)), accept=rng.random() < 0.5)
        server = start_server(tls, recorder=recorder)
        try:
            folder = work / f"t{trial}"
            config = fk.digest_folder(folder, server.port, tls.ca)
            proc = fk.popen_plansync(
                ["digest", "--config", str(config), "--as-of", fk.DIGEST_DAY], folder, env
            )
            if recorder.holding.wait(30):
                proc.send_signal(signal.SIGKILL)
                row.faults_injected += 1
            _, err = proc.communicate(timeout=60)
            runs = [
                fk.run_cli(["digest", "--config", str(config), "--as-of", fk.DIGEST_DAY], env)
                for _ in range(2)
            ]
            got = fk.delivered_to(server.messages)
            ids = fk.message_ids(server.messages)
            row.trials += 1
            row.runs += 1 + len(runs)
            lost = sum(1 for r in fk.RECIPIENTS if got[r] == 0)
            row.digests_lost += lost
            row.digests_duplicated += sum(n - 1 for n in ids.values())
            row.converged += lost == 0 and all(r.code == 0 for r in runs)
            row.tracebacks += sum(r.traceback for r in runs) + ("Traceback" in err.decode(errors="replace"))
            row.secrets_leaked += _leaks([r.text for r in runs], [folder / "state"])
        finally:
            server.controller.stop()
    row.notes.append(
        "a duplicate is allowed per crash after the server accepted the message (same Message-ID)"
    )
    return row


def smtp_outage(work: Path, trials: int, tls: Any) -> Row:
    from tests.support import faultkit as fk
    from tests.support.faultkit import DOWN_RUNS, outage_campaign

    row = Row("smtp-outage")
    for trial in range(trials):
        figures = outage_campaign(work / f"t{trial}", tls)
        row.trials += 1
        row.faults_injected += DOWN_RUNS
        row.runs += figures["runs"]
        row.digests_lost += figures["lost"]
        row.digests_duplicated += figures["duplicated"]
        row.converged += figures["lost"] == 0 and figures["duplicated"] == 0
        row.secrets_leaked += _leaks([], [work / f"t{trial}" / "state"])
    del fk
    return row


def fuzz(work: Path, cases: int, seed: int) -> Row:
    """Seeded random hostile inputs for the three readers (the tests use hypothesis for the same)."""
    from plansync.config.load import load_config
    from plansync.errors import InvalidInput, PlansyncError
    from plansync.planread.dates import DateReadError, read_date
    from plansync.planread.planfile import load_plan
    from tests.support.hostile import GOOD_CONFIG, HOSTILE_DOCUMENTS
    from tests.support.plans import GOOD_PLAN as GOOD

    rng = random.Random(seed)
    row = Row("fuzz")
    junk = [
        "\x00",
        "\x1b",
        "\x7f",
        "\ufeff",
        "\r\n",
        "<script>",
        "&a",
        "*a",
        "&a [",
        "{",
        "[",
        "'",
        '"',
        ":",
        "- ",
        "\t",
    ]
    # the documents of the tests, and a number too long for int() (a known bug: see the report)
    documents = [*HOSTILE_DOCUMENTS.values(), b"plan: {year: " + b"2" * 5000 + b"}\n"]

    def mutate(text: str) -> bytes:
        data = text
        for _ in range(rng.randint(1, 4)):
            i = rng.randrange(len(data) + 1)
            data = data[:i] + rng.choice(junk) + data[i:]
        raw = data.encode("utf-8", "surrogatepass")
        if rng.random() < 0.2:
            i = rng.randrange(len(raw) + 1)
            raw = raw[:i] + bytes([rng.randrange(0x80, 0x100)]) + raw[i:]
        return raw

    def attempt(action: Callable[[], object], clear: tuple[type[BaseException], ...]) -> None:
        row.runs += 1
        row.faults_injected += 1
        start = time.monotonic()
        try:
            action()
        except clear:
            pass
        except Exception as exc:  # anything else is a traceback for the user
            row.tracebacks += 1
            row.notes.append(f"{type(exc).__name__}: {str(exc)[:120]}")
            return
        if time.monotonic() - start < 5:
            row.converged += 1
        else:
            row.notes.append(f"a case took {time.monotonic() - start:.1f} s")

    plan, config = work / "plan.yaml", work / "plansync.yaml"
    for case in range(cases):
        kind = case % 3
        if kind == 0:
            plan.write_bytes(documents[case // 3] if case // 3 < len(documents) else mutate(GOOD))
            attempt(lambda: load_plan(plan), (InvalidInput,))
        elif kind == 1:
            config.write_bytes(documents[case // 3] if case // 3 < len(documents) else mutate(GOOD_CONFIG))
            attempt(lambda: load_config(config, {}), (PlansyncError,))
        else:
            text = "".join(
                rng.choice(["15 января", "–", " ", "по", "1", "март", "\x00", "ежемесячно", ","])
                for _ in range(rng.randint(1, 40))
            )
            attempt(lambda text=text: read_date(text, 2024), (DateReadError,))  # type: ignore[misc]
    row.trials = cases
    return row


# -- hostile servers and careless people (issue: nothing lost, nothing leaked, nothing hung) ----------


@dataclass
class Hostile:
    """The figures of the hostile campaigns: all zero, or within their bound."""

    copies_made: int = 0
    copies_deleted: int = 0
    objects_planted: int = 0
    runs_stopped_by_one_object: int = 0
    requests_outside_the_collection: int = 0
    credentials_sent_elsewhere: int = 0
    peak_memory_mb_huge_answer: float = 0.0
    huge_answer_mb: int = 0
    longest_run_s_slow_server: float = 0.0
    slow_server_bound_s: float = 0.0
    tracebacks: int = 0


def _hostile_config(folder: Path, calendars: dict[str, str], timeout: float = 5) -> Path:
    from tests.support import faultkit as fk

    folder.mkdir(parents=True, exist_ok=True)
    fk.write_plan(folder / "plan.yaml", fk.BASE_EVENTS)
    lines = "".join(f"  {k}: {{url: '{u}'}}\n" for k, u in calendars.items())
    config = folder / "plansync.yaml"
    config.write_text(
        f"plans: [plan.yaml]\nstate_dir: state\ncaldav:\n  url: '{next(iter(calendars.values()))}'\n"
        f"  username: u\n  password_env: {fk.CALDAV_PASSWORD_ENV}\n  timeout: {timeout}\n"
        f"calendars:\n{lines}sync: {{combined_calendar: false}}\n",
        encoding="utf-8",
    )
    return config


def _child(args: list[str], folder: Path) -> tuple[int, float, float, str]:
    """`plansync ARGS` as a process: (exit status, seconds, its peak memory in MB, its output)."""
    import resource

    from tests.support import faultkit as fk

    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    start = time.monotonic()
    proc = fk.popen_plansync(args, folder, {fk.CALDAV_PASSWORD_ENV: fk.CALDAV_PASSWORD})
    out, err = proc.communicate(timeout=900)
    seconds = time.monotonic() - start
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    text = (out + err).decode("utf-8", "replace")
    return proc.returncode, seconds, max(peak, before) / 1024, text


def hostile(work: Path, trials: int, seed: int) -> Hostile:
    import base64

    from plansync.caldav.client import CalDAVBackend
    from tests.support import faultkit as fk
    from tests.support.hostile import ODD_LINES
    from tests.support.hostile_server import HostileServer
    from tests.support.servers import start_radicale, start_xandikos

    rng = random.Random(seed)
    figures = Hostile()
    # Copies: a person duplicates events in a calendar app (markers kept, a new UID), then the plan
    # drops the originals; every copy must survive.
    server = start_radicale(work / "radicale")
    try:
        for trial in range(trials):
            folder = fk.SyncFolder(work / f"copies{trial}", server.url, f"copy{trial}")
            fk.run_cli(["sync", "--config", str(folder.config)])
            items = fk.server_items(server.storage, folder.user)
            copied = []
            for cal, objects in items.items():
                for name, body in list(objects.items())[: rng.randint(1, 3)]:
                    uid = fk.uid_of(body)
                    copy = body.replace(f"UID:{uid}".encode(), f"UID:copy-{trial}-{name}@phone".encode())
                    fk.dav(server.url, folder.user, "PUT", f"/{folder.user}/{cal}/copy-{name}", copy,
                           **{"Content-Type": "text/calendar"})  # fmt: skip
                    copied.append(f"copy-{name}")
            figures.copies_made += len(copied)
            folder.write([e for e in folder.events or [] if e[0] not in ("e1", "e2", "e3")])
            run = fk.run_cli(["sync", "--config", str(folder.config), "--force-delete"])
            figures.tracebacks += run.traceback
            after = {n for objects in fk.server_items(server.storage, folder.user).values() for n in objects}
            figures.copies_deleted += sum(1 for c in copied if c not in after)
    finally:
        server.stop()
    # One bad object: a server that keeps what it is given (Xandikos, not strict) holds a malformed one.
    lenient = start_xandikos(work / "xandikos", strict=False)
    try:
        for trial in range(trials):
            folder = fk.SyncFolder(work / f"objects{trial}", lenient.url, f"odd{trial}")  # (own calendars)
            fk.run_cli(["sync", "--config", str(folder.config)])
            line = rng.choice(ODD_LINES)
            body = (
                b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\nBEGIN:VEVENT\r\nUID:odd-%d\r\n"
                b"DTSTAMP:20240101T000000Z\r\nDTSTART;VALUE=DATE:20240315\r\nSUMMARY:odd\r\n%s\r\n"
                b"END:VEVENT\r\nEND:VCALENDAR\r\n" % (trial, line)
            )
            people = CalDAVBackend(lenient.url)
            try:
                url = people.resolve_calendar(
                    "lib-a", url=None, name=folder.calendar_name("lib-a"), create=False
                )
                if url is not None:
                    people.create(url, f"odd-{trial}.ics", body)
                    figures.objects_planted += 1
            except Exception:
                pass  # refused by the server: nothing planted
            finally:
                people.close()
            run = fk.run_cli(["sync", "--config", str(folder.config)])
            figures.runs_stopped_by_one_object += run.code != 0 or run.traceback
            figures.tracebacks += run.traceback
    finally:
        lenient.stop()
    # Hrefs that point elsewhere, and a redirect to another host: nothing goes there, no password.
    token = base64.b64encode(f"u:{fk.CALDAV_PASSWORD}".encode()).decode()
    with HostileServer("escape") as escape:
        config = _hostile_config(work / "escape", {k: escape.calendar_url(k) for k in fk.ORGS})
        for _ in range(2):
            run = fk.run_cli(["sync", "--config", str(config), "--force-delete"])
            figures.tracebacks += run.traceback
        figures.requests_outside_the_collection += sum(
            1 for _, path, _ in escape.log.entries if "trap" in path or ".." in path or "someone-else" in path
        )
        assert escape.other is not None
        figures.requests_outside_the_collection += len(escape.other.log.entries)
        figures.credentials_sent_elsewhere += len(escape.other.log.with_credentials())
        redirect = work / "redirect"
        config = _hostile_config(redirect, {"lib-a": escape.calendar_url("lib-a")})
        text = config.read_text(encoding="utf-8").replace(
            escape.calendar_url("lib-a") + "'\n  username",
            escape.base + "/.well-known/caldav'\n  username",
            1,
        )
        config.write_text(text.replace("calendars:\n  lib-a: {url: '" + escape.calendar_url("lib-a") + "'}\n",
                                       "calendars: {}\n"), encoding="utf-8")  # fmt: skip
        run = fk.run_cli(["sync", "--config", str(config)])
        figures.tracebacks += run.traceback
        figures.credentials_sent_elsewhere += sum(1 for e in escape.other.log.entries if token in e[2])
    # A huge answer (1.5 GiB) and a server that drips a byte every half second.
    with HostileServer("huge", huge_bytes=1536 * 1024 * 1024) as huge:
        folder = work / "huge"
        _hostile_config(folder, {k: huge.calendar_url(k) for k in fk.ORGS})
        _, _, peak, text = _child(["sync", "--config", str(folder / "plansync.yaml")], folder)
        figures.peak_memory_mb_huge_answer = round(peak, 1)
        figures.huge_answer_mb = 1536
        figures.tracebacks += "Traceback (most recent" in text
    with HostileServer("slow", drip_s=0.5) as slow:
        folder = work / "slow"
        _hostile_config(folder, {k: slow.calendar_url(k) for k in fk.ORGS}, timeout=5)
        _, seconds, _, text = _child(["sync", "--config", str(folder / "plansync.yaml")], folder)
        figures.longest_run_s_slow_server = round(seconds, 1)
        # per calendar: a request of at most caldav.timeout, tried at most 4 times, waits between them
        figures.slow_server_bound_s = len(fk.ORGS) * (4 * 5 + 8) + 10
        figures.tracebacks += "Traceback (most recent" in text
    return figures


# -- the report ---------------------------------------------------------------------------------------


def table(rows: list[Row]) -> str:
    head = ["campaign", *(title for _, title in COLUMNS)]
    body = [
        [
            r.campaign,
            *(f"{r.converged}/{r.trials}" if n == "converged" else str(getattr(r, n)) for n, _ in COLUMNS),
        ]
        for r in rows
    ]
    widths = [max(len(line[i]) for line in [head, *body]) for i in range(len(head))]

    def fmt(line: list[str]) -> str:
        return (
            "| "
            + " | ".join(
                c.ljust(w) if i == 0 else c.rjust(w)
                for i, (c, w) in enumerate(zip(line, widths, strict=True))
            )
            + " |"
        )

    rule = (
        "|" + "|".join("-" * (w + 2) if i == 0 else "-" * (w + 1) + ":" for i, w in enumerate(widths)) + "|"
    )
    return "\n".join([fmt(head), rule, *(fmt(line) for line in body)])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.faults", description=__doc__.split("\n")[0])
    parser.add_argument("--trials", type=int, default=20, help="kill trials per campaign (default 20)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", type=Path, default=None, metavar="PATH")
    args = parser.parse_args(argv)
    trials = max(1, args.trials)

    from tests.support.smtp import make_certificates

    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="plansync-faults-") as name, _quiet():
        work = Path(name)
        tls = make_certificates(work / "tls", "bench faults")
        plan: list[tuple[str, Callable[[Path], Row]]] = [
            ("network", lambda w: network(w, max(2, trials // 5), args.seed)),
            ("sync-kill", lambda w: sync_kill(w, trials, args.seed)),
            ("digest-kill", lambda w: digest_kill(w, max(4, trials // 5), args.seed, tls)),
            ("smtp-outage", lambda w: smtp_outage(w, max(1, trials // 10), tls)),
            ("fuzz", lambda w: fuzz(w, trials * 100, args.seed)),
        ]
        for label, campaign in plan:
            folder = work / label
            folder.mkdir()
            start = time.monotonic()
            row = campaign(folder)
            row.seconds = round(time.monotonic() - start, 1)
            rows.append(row)
            print(f"{label}: done in {row.seconds} s", file=sys.stderr)
    total = Row("total")
    for row in rows:
        total.add(row)
    rows.append(total)
    with tempfile.TemporaryDirectory(prefix="plansync-hostile-") as name, _quiet():
        start = time.monotonic()
        figures = hostile(Path(name), max(2, trials // 5), args.seed)
        print(f"hostile: done in {time.monotonic() - start:.1f} s", file=sys.stderr)
    print(f"python -m bench.faults --trials {args.trials} --seed {args.seed}")
    print(table(rows))
    print()
    print("hostile servers and careless people:")
    for key, value in asdict(figures).items():
        print(f"  {key.replace('_', ' '):<36} {value}")
    for row in rows:
        for note in row.notes[:5]:
            print(f"  {row.campaign}: {note}")
    if args.json is not None:
        data = {
            r.campaign: {k: v for k, v in asdict(r).items() if k not in ("campaign", "notes")} for r in rows
        }
        args.json.write_text(
            json.dumps(
                {"trials": args.trials, "seed": args.seed, "campaigns": data, "hostile": asdict(figures)},
                indent=2,
            )
            + "\n"
        )
    bad = (
        figures.copies_deleted
        + figures.runs_stopped_by_one_object
        + figures.requests_outside_the_collection
        + figures.credentials_sent_elsewhere
        + figures.tracebacks
        + (figures.longest_run_s_slow_server > figures.slow_server_bound_s)
        + total.duplicates
        + total.foreign_events_touched
        + total.digests_lost
        + total.secrets_leaked
        + total.tracebacks
    )
    return 1 if bad or total.converged != total.trials else 0


if __name__ == "__main__":
    sys.exit(main())
