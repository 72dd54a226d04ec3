"""`plansync serve` publishing the site: a real subscribing client (vdirsyncer's http storage) gets every
event of the feeds over HTTP; an unchanged feed answers a conditional GET with 304; a plan edit reaches
the feed and the page within the service's plan-change delay. Every process is killed in teardown."""

from __future__ import annotations

import http.client
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import icalendar
import pytest

from bench.vdirsyncer_baseline import ensure_venv
from plansync.calendar.identity import event_uid
from plansync.service.daemon import PLAN_SETTLE, TICK_SECONDS
from tests.support.plans import write_plan_yaml
from tests.support.servers import free_port

pytestmark = [pytest.mark.timeout(300), pytest.mark.slow]  # slow: plansync serve as a process

WAIT = 30.0
EVENTS: list[tuple[str, str, str, list[str]]] = [
    ("e1", "Семинар «Библиотека, ты где?»", "21 мая", ["lib-a"]),
    ("e2", "Вебинар по обслуживанию", "23 мая, 10:00", ["lib-a", "lib-b"]),
    ("e3", "Мониторинг", "II квартал", ["lib-b"]),
    ("e4", "Приём заявок", "до 20 ноября", ["lib-a"]),
]


@dataclass
class Served:
    folder: Path
    port: int
    proc: subprocess.Popen[bytes]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    def log(self) -> str:
        return (self.folder / "serve.stderr").read_text(encoding="utf-8", errors="replace")

    def get(self, path: str, headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            conn.request("GET", path, headers=headers or {})
            response = conn.getresponse()
            return response.status, dict(response.getheaders()), response.read()
        finally:
            conn.close()


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    port, caldav_port = free_port(), free_port()
    write_plan_yaml(tmp_path / "plan.yaml", EVENTS)
    (tmp_path / "plansync.yaml").write_text(
        "plans: [plan.yaml]\nstate_dir: state\n"
        f"caldav:\n  url: embedded\n  embedded: {{host: 127.0.0.1, port: {caldav_port}}}\n"
        "sync:\n  interval: 1h\n"
        f"publish:\n  port: {port}\n  base_url: http://127.0.0.1:{port}/\n",
        encoding="utf-8",
    )
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("PLANSYNC_", "NOTIFY_SOCKET"))}
    with (tmp_path / "serve.stderr").open("wb") as err:
        proc = subprocess.Popen(
            [sys.executable, "-m", "plansync", "serve", "--config", str(tmp_path / "plansync.yaml")],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err, env=environ, cwd=tmp_path,
        )  # fmt: skip
    served = Served(tmp_path, port, proc)
    try:
        deadline = time.monotonic() + WAIT
        while "site on http://" not in served.log():
            assert proc.poll() is None, served.log()
            assert time.monotonic() < deadline, served.log()
            time.sleep(0.1)
        yield served
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def vdirsyncer() -> Path:
    try:
        return ensure_venv()
    except RuntimeError as exc:
        if os.environ.get("CI") == "true":
            pytest.fail(f"vdirsyncer cannot be installed: {exc}")
        pytest.skip(f"vdirsyncer cannot be installed ({exc})")


def subscribe(exe: Path, folder: Path, url: str) -> set[str]:
    """What a subscribing client gets: vdirsyncer's read-only http storage into a local folder, as the
    UIDs plansync gave the events (vdirsyncer's folder storage replaces UIDs it finds unsafe as file
    names by hashes, so they are rebuilt from the plansync marks it keeps)."""
    local = folder / "local"
    local.mkdir(parents=True)
    config = folder / "vdirsyncer.conf"
    config.write_text(
        f'[general]\nstatus_path = "{folder / "status"}/"\n\n'
        '[pair feed]\na = "feed_remote"\nb = "feed_local"\ncollections = null\n'
        'conflict_resolution = "a wins"\n\n'
        f'[storage feed_remote]\ntype = "http"\nurl = "{url}"\n\n'
        f'[storage feed_local]\ntype = "filesystem"\npath = "{local}/"\nfileext = ".ics"\n',
        encoding="utf-8",
    )
    for command in (["discover", "feed"], ["sync", "feed"]):
        done = subprocess.run(
            [str(exe), "-c", str(config), *command], input="y\n", capture_output=True, text=True, timeout=120
        )
        assert done.returncode == 0, done.stderr[-2000:]
    uids = set()
    for item in local.rglob("*.ics"):
        cal = icalendar.Calendar.from_ical(item.read_bytes())
        for e in cal.walk("VEVENT"):
            uids.add(
                event_uid(
                    str(e["X-PLANSYNC-PLAN"]), str(e["X-PLANSYNC-EVENT"]), str(e["X-PLANSYNC-CALENDAR"])
                )
            )
    return uids


def test_a_subscribing_client_gets_every_event_of_each_feed(served: Served, tmp_path: Path) -> None:
    exe = vdirsyncer()
    whole = subscribe(exe, tmp_path / "whole", served.url + "feeds/test-plan.ics")
    assert whole == {event_uid("test-plan", key, orgs[0]) for key, _, _, orgs in EVENTS}
    for org in ("lib-a", "lib-b"):
        got = subscribe(exe, tmp_path / org, served.url + f"feeds/test-plan/{org}.ics")
        assert got == {event_uid("test-plan", key, org) for key, _, _, orgs in EVENTS if org in orgs}
    status, _, page = served.get("/")
    assert status == 200
    for key, _, _, _ in EVENTS:
        assert f'<tr id="e-test-plan-{key}">'.encode() in page


def test_unchanged_feed_is_304_and_an_edit_arrives_within_the_plan_delay(served: Served) -> None:
    status, headers, body = served.get("/feeds/test-plan/lib-a.ics")
    assert status == 200 and b"BEGIN:VEVENT" in body
    etag = headers["ETag"]
    assert served.get("/feeds/test-plan/lib-a.ics", {"If-None-Match": etag})[0] == 304
    assert served.get("/feeds/test-plan/lib-a.ics", {"If-Modified-Since": headers["Last-Modified"]})[0] == 304
    page_etag = served.get("/index.html")[1]["ETag"]

    time.sleep(1.1)  # a new whole second for Last-Modified
    edited = [(k, "Семинар после правки" if k == "e1" else t, d, o) for k, t, d, o in EVENTS]
    write_plan_yaml(served.folder / "plan.yaml", edited)
    edited_at = time.monotonic()
    delay = PLAN_SETTLE.total_seconds() + TICK_SECONDS
    while True:
        status, headers, body = served.get("/feeds/test-plan/lib-a.ics", {"If-None-Match": etag})
        if status == 200:
            break
        assert status == 304
        # The delay, plus slack for a machine busy with other tests.
        assert time.monotonic() - edited_at < delay + 5, served.log()[-2000:]
        time.sleep(0.2)
    assert "Семинар после правки".encode() in body.replace(b"\r\n ", b"")
    status, headers, page = served.get("/index.html", {"If-None-Match": page_etag})
    assert status == 200 and "Семинар после правки".encode() in page
    assert re.search(r"site: published 4 events", served.log())
