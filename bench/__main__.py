"""plansync's sync, side by side with the protocol's limit and with vdirsyncer, on real servers.

    python -m bench [--events N] [--organizers M] [--servers radicale,xandikos] [--repeat K]
                    [--json PATH] [--no-vdirsyncer] [--no-extras]

For each server (a separate process on 127.0.0.1, behind a counting proxy: bench/servers.py) and each
tool, a fresh server with empty storage; then, each tool run as a whole process:
  plansync    first sync into empty calendars, no-op resync, resync after 1% of the events were edited
  putloop     one PUT per object over one keep-alive connection (bench/putloop.py): first, and the edit
              (PUT only the changed objects)
  vdirsyncer  the same objects from a vdir folder (bench/vdirsyncer_baseline.py): first (discover +
              sync), no-op, and the edit (the changed files rewritten in the folder)
The tools take turns within each repeat, in reverse order every other repeat.
Per case: wall time (median of --repeat runs), requests and bytes both ways (the proxy's count), peak RSS
of the measured process (its VmHWM, sampled: see measure()). Also `plansync --help`, digest rendering for
1,000 recipients (bench/digest_render.py) and loading a 10,000-event plan (bench/plan_load.py).
Everything runs in a temporary folder that is removed at the end, and every server is stopped.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench import vdirsyncer_baseline
from bench.servers import KINDS, running_server
from tests.support.synthetic import edited_keys, organization_ids, synthetic_plan

TOOLS = ("plansync", "putloop", "vdirsyncer")
SERVED_BY = (
    "separate process behind a counting proxy; Radicale: bench.servers.KeepAliveServer (threaded, "
    "HTTP/1.1 keep-alive); Xandikos: its own aiohttp server"
)
BENCH_ROOT = Path(__file__).resolve().parents[1]


@dataclass
class Run:
    wall_s: float
    peak_rss_mb: float


class Failed(RuntimeError):
    pass


Measure = Callable[..., Run]  # measure(commands, *, env, log) -> Run


def measure(commands: Sequence[Sequence[str]], *, env: dict[str, str], log: Path) -> Run:
    """Run the commands one after the other, each a process of its own: total wall time, the highest
    peak RSS among them.

    Peak RSS is the process's own VmHWM (/proc/PID/status), read every 10 ms while it runs and once
    more just before it is reaped (waitid with WNOWAIT). Not wait4's ru_maxrss: on Linux that counts
    the pages of the forked copy of this (large) benchmark process before exec, so every tool would
    show at least the benchmark's own size."""
    wall = 0.0
    peak_kb = 0
    for n, command in enumerate(commands):
        out = log.with_suffix(f".{n}.log")
        with out.open("wb") as sink:
            started = time.perf_counter()
            process = subprocess.Popen(
                command, stdout=sink, stderr=subprocess.STDOUT, env=env, cwd=BENCH_ROOT
            )
            peak_kb = max(peak_kb, _watch_hwm(process.pid))
            _, status = os.waitpid(process.pid, 0)
            wall += time.perf_counter() - started
            process.returncode = os.waitstatus_to_exitcode(status)
        if process.returncode != 0:
            tail = out.read_text(encoding="utf-8", errors="replace")[-2000:]
            raise Failed(f"{' '.join(command)} exited with {process.returncode}:\n{tail}")
    return Run(wall, peak_kb / 1024)


def _watch_hwm(pid: int) -> int:
    """The highest VmHWM (kB) seen of `pid` until it exits (it is left to be reaped by the caller)."""
    peak = 0
    status = Path(f"/proc/{pid}/status")
    while True:
        try:
            for line in status.read_text().splitlines():
                if line.startswith("VmHWM:"):
                    peak = max(peak, int(line.split()[1]))
        except (OSError, ValueError):
            pass
        try:
            done = os.waitid(os.P_PID, pid, os.WEXITED | os.WNOHANG | os.WNOWAIT)
        except ChildProcessError:
            return peak
        if done is not None:
            return peak  # exited: a zombie has no memory left to read
        time.sleep(0.01)


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PLANSYNC_") and "proxy" not in k.lower()}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(BENCH_ROOT), os.environ.get("PYTHONPATH")]))
    env.update(extra)
    return env


def plansync_command() -> list[str]:
    script = Path(sys.executable).parent / "plansync"
    return [str(script)] if script.exists() else [sys.executable, "-m", "plansync"]


# -- the data -----------------------------------------------------------------------------------------


@dataclass
class Workload:
    events: int
    organizers: int
    plan: str  # YAML text
    edited_plan: str
    vdir: Path  # calendar folder → the .ics objects plansync would write
    edited_vdir: Path
    changed: list[str]  # "calendar/name.ics" of the objects the edit changes
    objects: int
    calendars: int


def prepare(folder: Path, events: int, organizers: int) -> Workload:
    from plansync.calendar import ical
    from plansync.planread.planfile import load_plan

    edited = edited_keys(events)
    texts = {
        "plan": synthetic_plan(events, organizers),
        "edited": synthetic_plan(events, organizers, edited=edited),
    }
    hashes: dict[str, dict[str, str]] = {}
    for which, text in texts.items():
        path = folder / f"{which}.yaml"
        path.write_text(text, encoding="utf-8")
        plan = load_plan(path)
        vdir = folder / f"vdir-{which}"
        for org in organization_ids(organizers):
            desired = ical.desired_events(plan, org, ical.Rendering())
            if not desired:
                continue
            (vdir / org).mkdir(parents=True)
            for d in desired.values():
                (vdir / org / d.name).write_bytes(d.body)
                hashes.setdefault(which, {})[f"{org}/{d.name}"] = d.hash
    changed = sorted(k for k, h in hashes["edited"].items() if hashes["plan"].get(k) != h)
    return Workload(
        events,
        organizers,
        texts["plan"],
        texts["edited"],
        folder / "vdir-plan",
        folder / "vdir-edited",
        changed,
        len(hashes["plan"]),
        len({k.split("/")[0] for k in hashes["plan"]}),
    )


# -- the tools ----------------------------------------------------------------------------------------


def run_plansync(url: str, folder: Path, work: Workload, measure: Measure) -> dict[str, Run]:
    plan = folder / "plan.yaml"
    plan.write_text(work.plan, encoding="utf-8")
    config = folder / "plansync.yaml"
    config.write_text(
        f"plans: [{plan}]\nstate_dir: {folder / 'state'}\n"
        f"caldav:\n  url: {url}\n  username: plansync\n  password_env: BENCH_CALDAV_PASSWORD\n"
        # The organizers' calendars only: the same work as the baselines, and as the earlier measurements.
        "sync:\n  combined_calendar: false\n",
        encoding="utf-8",
    )
    command = [*plansync_command(), "sync", "--config", str(config)]
    env = clean_env(BENCH_CALDAV_PASSWORD="bench")
    runs = {}
    runs["first"] = measure([command], env=env, log=folder / "first")
    runs["noop"] = measure([command], env=env, log=folder / "noop")
    plan.write_text(work.edited_plan, encoding="utf-8")
    runs["edit"] = measure([command], env=env, log=folder / "edit")
    return runs


def run_putloop(url: str, folder: Path, work: Workload, measure: Measure) -> dict[str, Run]:
    base = [sys.executable, "-m", "bench.putloop", url, "putloop"]
    only = folder / "changed.txt"
    only.write_text("\n".join(work.changed) + "\n", encoding="utf-8")
    env = clean_env()
    return {
        "first": measure([[*base, str(work.vdir)]], env=env, log=folder / "first"),
        "edit": measure([[*base, str(work.edited_vdir), "--only", str(only)]], env=env, log=folder / "edit"),
    }


def run_vdirsyncer(url: str, folder: Path, work: Workload, exe: Path, measure: Measure) -> dict[str, Run]:
    vdir = folder / "vdir"
    shutil.copytree(work.vdir, vdir)
    config = vdirsyncer_baseline.write_config(folder, vdir, url, "vdirsyncer")
    steps = vdirsyncer_baseline.commands(exe, config)
    env = vdirsyncer_baseline.environment()
    runs = {}
    runs["first"] = measure(steps["first"], env=env, log=folder / "first")
    runs["noop"] = measure(steps["noop"], env=env, log=folder / "noop")
    for rel in work.changed:
        shutil.copyfile(work.edited_vdir / rel, vdir / rel)
    runs["edit"] = measure(steps["edit"], env=env, log=folder / "edit")
    return runs


# -- the whole benchmark ------------------------------------------------------------------------------


def run_tool(
    tool: str, kind: str, folder: Path, work: Workload, vdirsyncer: Path | None
) -> list[dict[str, Any]]:
    """One fresh server, one tool through its cases; a row per case with the proxy's counts."""
    folder.mkdir(parents=True)
    rows = []
    with running_server(kind, folder) as server:
        marks = []

        def counted(commands: Sequence[Sequence[str]], *, env: dict[str, str], log: Path) -> Run:
            # A case's traffic is the difference of the proxy's counters around it.
            before = server.proxy.snapshot()
            run = measure(commands, env=env, log=log)
            time.sleep(0.05)  # let the proxy copy the last bytes
            marks.append((log.name, server.proxy.snapshot() - before))
            return run

        if tool == "plansync":
            runs = run_plansync(server.url, folder, work, counted)
        elif tool == "putloop":
            runs = run_putloop(server.url, folder, work, counted)
        else:
            assert vdirsyncer is not None
            runs = run_vdirsyncer(server.url, folder, work, vdirsyncer, counted)
        traffic = dict(marks)
        for case, run in runs.items():
            t = traffic[case]
            rows.append(
                {
                    "tool": tool,
                    "server": kind,
                    "case": case,
                    "events": work.events,
                    "calendars": work.calendars,
                    "objects": work.objects,
                    "wall_s": run.wall_s,
                    "requests": t.requests,
                    "bytes": t.bytes,
                    "bytes_up": t.bytes_up,
                    "bytes_down": t.bytes_down,
                    "connections": t.connections,
                    "methods": t.methods,
                    "peak_rss_mb": run.peak_rss_mb,
                }
            )
    return rows


def combine(rows: list[dict[str, Any]], repeat: int) -> list[dict[str, Any]]:
    """The median of the repeats per (tool, server, case); peak RSS is the highest seen."""
    groups: dict[tuple[str, str, str], list[dict[str, Any]]] = {}
    for row in rows:
        groups.setdefault((row["tool"], row["server"], row["case"]), []).append(row)
    out = []
    for same in groups.values():
        first = dict(same[0])
        first["wall_s"] = round(statistics.median(r["wall_s"] for r in same), 4)
        first["wall_s_all"] = [round(r["wall_s"], 4) for r in same]
        first["requests"] = int(statistics.median(r["requests"] for r in same))
        first["bytes"] = int(statistics.median(r["bytes"] for r in same))
        first["peak_rss_mb"] = round(max(r["peak_rss_mb"] for r in same), 1)
        first["runs"] = len(same)
        out.append(first)
    return out


def help_case(repeat: int) -> dict[str, Any]:
    times = []
    peak = 0.0
    with tempfile.TemporaryDirectory(prefix="plansync-bench-help-") as folder:
        for n in range(max(5, repeat)):
            run = measure([[*plansync_command(), "--help"]], env=clean_env(), log=Path(folder) / f"help{n}")
            times.append(run.wall_s)
            peak = max(peak, run.peak_rss_mb)
    return {
        "tool": "plansync",
        "server": "none",
        "case": "help",
        "events": 0,
        "calendars": 0,
        "wall_s": round(statistics.median(times), 4),
        "requests": 0,
        "bytes": 0,
        "peak_rss_mb": round(peak, 1),
        "runs": len(times),
    }


def find(cases: list[dict[str, Any]], tool: str, server: str, case: str) -> dict[str, Any] | None:
    return next((c for c in cases if (c["tool"], c["server"], c["case"]) == (tool, server, case)), None)


def ratios(cases: list[dict[str, Any]], servers: Sequence[str]) -> list[dict[str, Any]]:
    out = []
    for server in servers:
        for case in ("first", "noop", "edit"):
            mine = find(cases, "plansync", server, case)
            if mine is None:
                continue
            for other in ("putloop", "vdirsyncer"):
                theirs = find(cases, other, server, case)
                if theirs is None or not theirs["wall_s"]:
                    continue
                out.append(
                    {
                        "server": server,
                        "case": case,
                        "versus": other,
                        "wall": round(mine["wall_s"] / theirs["wall_s"], 3),
                        "requests": round(mine["requests"] / max(1, theirs["requests"]), 3),
                    }
                )
    return out


def targets(cases: list[dict[str, Any]], servers: Sequence[str], work: Workload) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []

    def check(name: str, value: float, limit: float, unit: str, met: bool | None = None) -> None:
        out.append(
            {"target": name, "value": round(value, 3), "limit": round(limit, 3), "unit": unit,
             "met": value <= limit if met is None else met}
        )  # fmt: skip

    for server in servers:
        first = find(cases, "plansync", server, "first")
        put = find(cases, "putloop", server, "first")
        if first and put:
            check(f"{server}: first sync ≤ 1.1 × PUT loop", first["wall_s"], 1.1 * put["wall_s"], "s")
        noop = find(cases, "plansync", server, "noop")
        if noop:
            check(
                f"{server}: no-op ≤ 2 requests per calendar", noop["requests"], 2 * work.calendars, "requests"
            )
            check(f"{server}: no-op under 1 s", noop["wall_s"], 1.0, "s", noop["wall_s"] < 1.0)
            vds = find(cases, "vdirsyncer", server, "noop")
            if vds:
                check(f"{server}: no-op ≤ ½ vdirsyncer's", noop["wall_s"], 0.5 * vds["wall_s"], "s")
        edit = find(cases, "plansync", server, "edit")
        if edit:
            limit = len(work.changed) + 2 * work.calendars
            check(f"{server}: 1% edit ≤ edited×organizers + 2/calendar", edit["requests"], limit, "requests")
        rss = [c["peak_rss_mb"] for c in cases if c["tool"] == "plansync" and c["server"] == server]
        if rss:
            check(f"{server}: plansync peak RSS < 150 MB", max(rss), 150, "MB", max(rss) < 150)
    helped = find(cases, "plansync", "none", "help")
    if helped:
        check("plansync --help under 0.3 s", helped["wall_s"], 0.3, "s", helped["wall_s"] < 0.3)
    return out


def print_report(result: dict[str, Any]) -> None:
    w = result["workload"]
    print(
        f"\nplansync benchmark: {w['events']} events over {w['organizers']} organizers → "
        f"{w['objects']} objects in {w['calendars']} calendars; "
        f"1% edit = {w['edited_events']} events, {w['changed_objects']} objects; "
        f"median of {result['repeat']} run(s)"
    )
    head = (
        f"{'tool':<11} {'server':<9} {'case':<6} {'wall s':>8} {'requests':>9} {'bytes':>12} "
        f"{'peak RSS MB':>12}"
    )
    print(head)
    print("-" * len(head))
    for c in result["cases"]:
        print(
            f"{c['tool']:<11} {c['server']:<9} {c['case']:<6} {c['wall_s']:>8.3f} {c['requests']:>9} "
            f"{c['bytes']:>12,} {c['peak_rss_mb']:>12.1f}"
        )
    if result["ratios"]:
        print("\nratios plansync / baseline (wall time, requests)")
        for r in result["ratios"]:
            print(
                f"  {r['server']:<9} {r['case']:<6} vs {r['versus']:<11} wall ×{r['wall']:<7} "
                f"requests ×{r['requests']}"
            )
    extras = result.get("extras") or {}
    if "digest" in extras:
        d = extras["digest"]
        print(
            f"\ndigests: {d['digests']} rendered in {d['render_s']:.3f} s "
            f"({d['digests'] / d['render_s']:.0f}/s); "
            f"with MIME + .ics {d['full_s']:.3f} s ({d['digests'] / d['full_s']:.0f}/s); "
            f"str.format baseline {d['baseline_s']:.3f} s"
        )
    if "plan_load" in extras:
        p = extras["plan_load"]
        print(f"plan load, {p['events']} events ({p['size_mb']:.1f} MB):")
        for name, median, best in p["rows"]:
            print(f"  {name:<55} median {median:.3f} s, best {best:.3f} s")
    print("\ntargets")
    for t in result["targets"]:
        mark = "met   " if t["met"] else "MISSED"
        print(f"  {mark} {t['target']}: {t['value']} {t['unit']} (limit {t['limit']})")
    if result.get("skipped"):
        print("\nskipped: " + "; ".join(result["skipped"]))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=2000)
    parser.add_argument("--organizers", type=int, default=20)
    parser.add_argument("--servers", default="radicale", help="comma-separated: radicale,xandikos")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--json", type=Path, help="write the results here as JSON")
    parser.add_argument(
        "--tools", default=",".join(TOOLS), help="comma-separated subset of " + ",".join(TOOLS)
    )
    parser.add_argument("--no-vdirsyncer", action="store_true", help="skip vdirsyncer (e.g. offline)")
    parser.add_argument("--vdirsyncer-venv", type=Path, default=vdirsyncer_baseline.DEFAULT_VENV)
    parser.add_argument("--no-extras", action="store_true", help="skip digest rendering and plan loading")
    args = parser.parse_args(argv)
    servers = [s for s in args.servers.split(",") if s]
    for s in servers:
        if s not in KINDS:
            parser.error(f"unknown server {s!r}; known: {', '.join(KINDS)}")
    tools = [t for t in args.tools.split(",") if t in TOOLS]
    skipped: list[str] = []
    vdirsyncer: Path | None = None
    if "vdirsyncer" in tools and args.no_vdirsyncer:
        tools.remove("vdirsyncer")
        skipped.append("vdirsyncer (--no-vdirsyncer)")
    elif "vdirsyncer" in tools:
        try:
            vdirsyncer = vdirsyncer_baseline.ensure_venv(args.vdirsyncer_venv)
        except RuntimeError as exc:
            tools.remove("vdirsyncer")
            skipped.append(f"vdirsyncer ({exc})")
            print(f"bench: {exc}", file=sys.stderr)

    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="plansync-bench-") as tmp:
        folder = Path(tmp)
        work = prepare(folder, args.events, args.organizers)
        note = f"{work.objects} objects in {work.calendars} calendars; {len(work.changed)} change in the edit"
        print(f"bench: {note}", file=sys.stderr)
        for kind in servers:
            for r in range(args.repeat):
                # Every other repeat in the reverse order: this machine's speed drifts by 15-25% over
                # minutes, and a fixed order would hand one tool the slow spells.
                for tool in tools if r % 2 == 0 else tools[::-1]:
                    started = time.perf_counter()
                    try:
                        rows += run_tool(tool, kind, folder / f"{kind}-{tool}-{r}", work, vdirsyncer)
                    except Failed as exc:  # one broken tool does not lose the others' numbers
                        skipped.append(f"{tool} on {kind}, run {r + 1}: {str(exc)[:300]}")
                        print(f"bench: {exc}", file=sys.stderr)
                    took = time.perf_counter() - started
                    print(f"bench: {kind} {tool} run {r + 1}/{args.repeat}: {took:.1f} s", file=sys.stderr)
    cases = combine(rows, args.repeat)
    cases.append(help_case(args.repeat))
    extras: dict[str, Any] = {}
    if not args.no_extras:
        from bench import digest_render, plan_load

        extras["digest"] = digest_render.measure(1000)
        size, load_rows = plan_load.measure(10_000, max(1, args.repeat))
        extras["plan_load"] = {"events": 10_000, "size_mb": size, "rows": load_rows}
    result = {
        "command": "python -m bench " + " ".join(sys.argv[1:] if argv is None else argv),
        "machine": {"cpus": os.cpu_count(), "python": sys.version.split()[0]},
        "repeat": args.repeat,
        "workload": {
            "events": work.events,
            "organizers": work.organizers,
            "calendars": work.calendars,
            "objects": work.objects,
            "edited_events": len(edited_keys(work.events)),
            "changed_objects": len(work.changed),
        },
        "servers": dict.fromkeys(servers, SERVED_BY),
        "cases": cases,
        "ratios": ratios(cases, servers),
        "extras": extras,
        "skipped": skipped,
    }
    result["targets"] = targets(cases, servers, work)
    print_report(result)
    if args.json is not None:
        args.json.write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
