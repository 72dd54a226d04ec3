"""CalDAV servers as people run them, with plansync installed from its wheel (issue 28, items 8–11 and
the small ones about sync and serve): a server installed under a path, errors told once and named
right, a server that moved, an event a person moved to another calendar, progress without a terminal,
and what `serve` logs."""

from __future__ import annotations

import base64
import http.client
import re
import shutil
import ssl
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urljoin, urlsplit
from xml.etree import ElementTree as ET

import pytest

from tests.support.configs import write_sync_config
from tests.support.davical import PREFIX, davical_layout, without_well_known
from tests.support.installed import Installed, empty_folder, installed
from tests.support.servers import (
    CyrusServer,
    RunningServer,
    free_port,
    start_cyrus,
    start_radicale,
    start_sabredav,
    start_xandikos,
)
from tests.support.smtp import make_certificates

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]  # slow: the installed plansync as a process

PASSWORD_ENV = "TEST_CALDAV_PASSWORD"
CREATED = re.compile(r"\b[1-9]\d* created")
DAV = "{DAV:}"
CALDAV = "{urn:ietf:params:xml:ns:caldav}"


def login(password: str = "secret-pw") -> dict[str, str]:
    return {PASSWORD_ENV: password}


@pytest.fixture
def radicale_server(tmp_path: Path) -> Iterator[RunningServer]:
    server = start_radicale(tmp_path / "radicale")
    yield server
    server.stop()


@pytest.fixture
def locked_radicale(tmp_path: Path) -> Iterator[RunningServer]:
    """Radicale that wants alice's password."""
    server = start_radicale(tmp_path / "locked", users={"alice": "right-pw"})
    yield server
    server.stop()


# -- raw CalDAV, as a person's calendar app would send it -------------------------------------------


@dataclass
class Dav:
    user: str
    password: str

    def request(
        self, url: str, method: str, body: bytes = b"", headers: dict[str, str] | None = None
    ) -> tuple[int, bytes]:
        parts = urlsplit(url)
        conn = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=30)
        token = base64.b64encode(f"{self.user}:{self.password}".encode()).decode()
        sent = {"Authorization": f"Basic {token}", **(headers or {})}
        try:
            conn.request(method, parts.path, body=body or None, headers=sent)
            answer = conn.getresponse()
            return answer.status, answer.read()
        finally:
            conn.close()

    def objects(self, calendar: str) -> dict[str, bytes]:
        """href → iCalendar text of every event in the calendar (calendar-query)."""
        query = (
            b'<?xml version="1.0" encoding="utf-8"?><c:calendar-query xmlns:d="DAV:" '
            b'xmlns:c="urn:ietf:params:xml:ns:caldav"><d:prop><d:getetag/><c:calendar-data/></d:prop>'
            b'<c:filter><c:comp-filter name="VCALENDAR"><c:comp-filter name="VEVENT"/></c:comp-filter>'
            b"</c:filter></c:calendar-query>"
        )
        status, body = self.request(
            calendar, "REPORT", query, {"Depth": "1", "Content-Type": "application/xml; charset=utf-8"}
        )
        assert status == 207, (status, body[:300])
        out = {}
        for resp in ET.fromstring(body).iter(f"{DAV}response"):
            href, data = resp.find(f"{DAV}href"), resp.find(f".//{CALDAV}calendar-data")
            if href is not None and href.text and data is not None and data.text:
                out[href.text] = data.text.encode("utf-8")
        return out


def calendar_urls(installed: Installed, work: Path, env: dict[str, str]) -> dict[str, str]:
    import json

    status = json.loads(installed.run("status", "--json", cwd=work, env=env).stdout)
    return {c["calendar"]: c["url"] for c in status["calendars"]}


# -- item 8: a server installed under a path --------------------------------------------------------


def test_a_server_under_a_path_is_found_from_the_hosts_root(installed: Installed, tmp_path: Path) -> None:
    server = start_radicale(tmp_path / "radicale", mount=davical_layout)
    try:
        work = empty_folder(tmp_path)
        write_sync_config(work, f"http://127.0.0.1:{server.port}/", user="alice")
        done = installed.run("sync", cwd=work, env=login())
        assert done.returncode == 0, done.stdout + done.stderr
        puts = [path for method, path in server.log.entries if method == "PUT"]
        assert puts and all(p.startswith(PREFIX + "/") for p in puts), puts
        assert ("PROPFIND", "/.well-known/caldav") in server.log.entries
    finally:
        server.stop()


def test_when_nothing_answers_as_caldav_the_urls_tried_are_named(
    installed: Installed, tmp_path: Path
) -> None:
    server = start_radicale(tmp_path / "radicale", mount=without_well_known)
    try:
        work = empty_folder(tmp_path)
        root = f"http://127.0.0.1:{server.port}/"
        write_sync_config(work, root, user="alice")
        done = installed.run("sync", cwd=work, env=login())
        said = done.stdout + done.stderr
        assert done.returncode == 1, said
        assert root in said and f"{root}.well-known/caldav" in said and "405" in said and "404" in said, said
        assert "calendar to be created" not in said, said
    finally:
        server.stop()


# -- item 9: errors told once and named right ---------------------------------------------------------


def test_a_wrong_password_is_told_once_and_costs_a_request_or_two(
    installed: Installed, tmp_path: Path, locked_radicale: RunningServer
) -> None:
    work = empty_folder(tmp_path)
    write_sync_config(work, locked_radicale.url, user="alice")
    assert installed.run("sync", cwd=work, env=login("right-pw")).returncode == 0  # the state knows them
    mark = locked_radicale.log.mark()
    done = installed.run("sync", cwd=work, env=login("wrong-pw"))
    said = done.stdout + done.stderr
    assert done.returncode == 1, said
    assert said.count("401") == 1, said
    assert len(locked_radicale.log.since(mark)) <= 2, locked_radicale.log.since(mark)


def test_no_password_at_all_is_said_so(
    installed: Installed, tmp_path: Path, locked_radicale: RunningServer
) -> None:
    work = empty_folder(tmp_path)
    write_sync_config(work, locked_radicale.url, user="alice")
    done = installed.run("sync", cwd=work)  # TEST_CALDAV_PASSWORD is not set
    said = done.stdout + done.stderr
    assert done.returncode == 1, said
    assert f"{PASSWORD_ENV}" in said and "not set" in said, said
    assert said.count("401") <= 1 and "calendar to be created" not in said, said


def test_an_untrusted_certificate_points_at_caldav_ca_file(installed: Installed, tmp_path: Path) -> None:
    files = make_certificates(tmp_path / "tls", "library test")
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(files.cert, files.key)
    server = start_radicale(tmp_path / "radicale", tls=context)
    try:
        work = empty_folder(tmp_path)
        write_sync_config(work, server.url, user="alice")
        done = installed.run("sync", cwd=work, env=login())
        said = done.stdout + done.stderr
        assert done.returncode == 1, said
        assert "caldav.ca_file" in said and said.count("certificate") <= 2, said
    finally:
        server.stop()


def test_https_against_a_plain_http_port_suggests_http(
    installed: Installed, tmp_path: Path, radicale_server: RunningServer
) -> None:
    work = empty_folder(tmp_path)
    write_sync_config(work, f"https://127.0.0.1:{radicale_server.port}/", user="alice")
    done = installed.run("sync", cwd=work, env=login())
    said = done.stdout + done.stderr
    assert done.returncode == 1, said
    assert f"http://127.0.0.1:{radicale_server.port}/" in said, said


def test_http_against_a_tls_port_suggests_https(installed: Installed, tmp_path: Path) -> None:
    files = make_certificates(tmp_path / "tls", "library test")
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(files.cert, files.key)
    server = start_radicale(tmp_path / "radicale", tls=context)
    try:
        work = empty_folder(tmp_path)
        write_sync_config(work, f"http://127.0.0.1:{server.port}/", user="alice")
        done = installed.run("sync", cwd=work, env=login())
        said = done.stdout + done.stderr
        assert done.returncode == 1, said
        assert f"https://127.0.0.1:{server.port}/" in said, said
    finally:
        server.stop()


def test_the_brake_summary_says_would_be_deleted(
    installed: Installed, tmp_path: Path, radicale_server: RunningServer
) -> None:
    work = empty_folder(tmp_path)
    write_sync_config(work, radicale_server.url, user="alice")
    assert installed.run("sync", cwd=work, env=login()).returncode == 0
    plan = work / "plan.yaml"
    kept = [line for line in plan.read_text(encoding="utf-8").splitlines() if "key: e1" not in line]
    plan.write_text("\n".join(line for line in kept if "key: e3" not in line) + "\n", encoding="utf-8")
    done = installed.run("sync", cwd=work, env=login())
    assert done.returncode == 3, done.stdout + done.stderr
    summary = done.stdout[done.stdout.index("summary") :]
    assert "would be deleted" in summary, summary
    assert not re.search(r"\b2 deleted", summary), summary


def test_php_warnings_before_the_xml_are_quoted_and_named(installed: Installed, tmp_path: Path) -> None:
    (tmp_path / "sabre").mkdir()
    server = start_sabredav(tmp_path / "sabre", "basic", php_warning=True)
    try:
        work = empty_folder(tmp_path)
        write_sync_config(work, server.url, user=server.username)
        done = installed.run("sync", cwd=work, env=login(server.password))
        said = done.stdout + done.stderr
        assert done.returncode == 1, said
        assert "Warning" in said and "Undefined variable" in said, said  # the start of the answer
        assert "display_errors" in said, said  # the cause, and what to do
        assert said.count("display_errors") == 1, said
    finally:
        server.stop()


# -- item 10: the server moved ------------------------------------------------------------------------


def test_localhost_for_127_0_0_1_carries_the_state_over(
    installed: Installed, tmp_path: Path, radicale_server: RunningServer
) -> None:
    work = empty_folder(tmp_path)
    write_sync_config(work, radicale_server.url, user="alice")
    assert installed.run("sync", cwd=work, env=login()).returncode == 0
    renamed = f"http://localhost:{radicale_server.port}/"
    write_sync_config(work, renamed, user="alice")
    done = installed.run("sync", cwd=work, env=login())
    said = done.stdout + done.stderr
    assert done.returncode == 0, said
    assert "carried over" in said.lower() and not CREATED.search(done.stdout), said
    urls = calendar_urls(installed, work, login())
    assert urls and all(u.startswith(renamed) for u in urls.values()), urls
    again = installed.run("sync", cwd=work, env=login())
    assert again.returncode == 0 and "carried over" not in again.stdout.lower(), again.stdout


def test_a_new_server_gets_the_state_and_the_old_one_no_request(installed: Installed, tmp_path: Path) -> None:
    old = start_radicale(tmp_path / "old", users={"alice": "right-pw"})
    new: RunningServer | None = None
    try:
        work = empty_folder(tmp_path)
        write_sync_config(work, old.url, user="alice")
        assert installed.run("sync", cwd=work, env=login("right-pw")).returncode == 0
        shutil.copytree(tmp_path / "old", tmp_path / "new")  # the administrator moved the data
        new = start_radicale(tmp_path / "new", users={"alice": "right-pw"})
        mark = old.log.mark()
        write_sync_config(work, f"http://localhost:{new.port}/", user="alice")
        done = installed.run("sync", cwd=work, env=login("right-pw"))
        said = done.stdout + done.stderr
        assert done.returncode == 0, said
        assert not CREATED.search(done.stdout), said
        assert old.log.since(mark) == [], "nothing, and no password, goes to the old server"
        dav = Dav("alice", "right-pw")
        for url in calendar_urls(installed, work, login("right-pw")).values():
            uids = [re.search(rb"(?m)^UID:(.*?)\r?$", b)[1] for b in dav.objects(url).values()]  # type: ignore[index]
            assert len(uids) == len(set(uids)), (url, uids)
    finally:
        old.stop()
        if new is not None:
            new.stop()


def test_a_new_embedded_port_carries_the_state_over(installed: Installed, tmp_path: Path) -> None:
    work = empty_folder(tmp_path)
    write_sync_config(work, "embedded", user="plansync")
    config = work / "plansync.yaml"
    first_port, second_port = free_port(), free_port()
    text = config.read_text(encoding="utf-8")
    config.write_text(
        text.replace("  url: embedded\n", f"  url: embedded\n  embedded:\n    port: {first_port}\n")
    )
    assert installed.run("sync", cwd=work).returncode == 0
    done = installed.run("sync", cwd=work, env={"PLANSYNC_EMBEDDED_PORT": str(second_port)})
    said = done.stdout + done.stderr
    assert done.returncode == 0, said
    assert "carried over" in said.lower() and not CREATED.search(done.stdout), said


# -- item 11: an event a person moved to another calendar --------------------------------------------


@dataclass
class Account:
    url: str
    user: str
    password: str


@pytest.fixture(params=["radicale", "xandikos", "cyrus"])
def account(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Account]:
    if request.param == "radicale":
        server = start_radicale(tmp_path / "radicale")
        yield Account(server.url, "alice", "secret-pw")
        server.stop()
    elif request.param == "xandikos":
        xandikos = start_xandikos(tmp_path / "xandikos")
        yield Account(xandikos.url, "user", "secret-pw")
        xandikos.stop()
    else:
        cyrus: CyrusServer = start_cyrus()
        try:
            cyrus.add_user("mover", "mover-pw")
            yield Account(cyrus.url, "mover", "mover-pw")
        finally:
            cyrus.stop()
            shutil.rmtree(cyrus.storage, ignore_errors=True)


def test_an_event_moved_to_another_calendar_is_reported_not_made_twice(
    installed: Installed, tmp_path: Path, account: Account
) -> None:
    work = empty_folder(tmp_path)
    write_sync_config(work, account.url, user=account.user)
    env = login(account.password)
    assert installed.run("sync", cwd=work, env=env).returncode == 0
    konb = calendar_urls(installed, work, env)["konb"]
    dav = Dav(account.user, account.password)
    uid = b"UID:plan-2024.e1.konb@plansync"
    href, body = next((h, b) for h, b in dav.objects(konb).items() if uid in b)
    personal = urljoin(konb.rstrip("/").rsplit("/", 1)[0] + "/", "personal/")
    mk = (
        '<?xml version="1.0" encoding="utf-8"?><c:mkcalendar xmlns:d="DAV:" '
        'xmlns:c="urn:ietf:params:xml:ns:caldav"><d:set><d:prop><d:displayname>Личный</d:displayname>'
        "</d:prop></d:set></c:mkcalendar>"
    ).encode()
    made = dav.request(personal, "MKCALENDAR", mk, {"Content-Type": "application/xml; charset=utf-8"})
    assert made[0] in (200, 201), made
    # The calendar app moves it: gone here, there under a name of its own, the UID kept.
    assert dav.request(urljoin(konb, href), "DELETE")[0] in (200, 204)
    put = dav.request(personal + "moved-by-a-person.ics", "PUT", body, {"Content-Type": "text/calendar"})
    assert put[0] in (200, 201, 204), put
    done = installed.run("sync", cwd=work, env=env)
    said = done.stdout + done.stderr
    assert done.returncode == 0, said
    assert "moved" in said and "moved-by-a-person.ics" in said, said
    assert not any(uid in b for b in dav.objects(konb).values()), "re-created beside the moved one"
    assert sum(uid in b for b in dav.objects(personal).values()) == 1


# -- small: progress without a terminal, and what serve logs ----------------------------------------


def test_a_long_first_sync_without_a_terminal_prints_a_count(
    installed: Installed, tmp_path: Path, radicale_server: RunningServer
) -> None:
    work = empty_folder(tmp_path)
    write_sync_config(work, radicale_server.url, user="alice", extra="sync:\n  combined_calendar: false\n")
    events = "".join(
        f"  - {{key: m{n}, title: Семинар {n}, date: {n} марта, organizers: [konb]}}\n" for n in range(1, 31)
    )
    plan = work / "plan.yaml"
    text = plan.read_text(encoding="utf-8")
    plan.write_text(text + events, encoding="utf-8")
    done = installed.run("sync", cwd=work, env=login())
    assert done.returncode == 0, done.stdout + done.stderr
    counts = re.findall(r"(\d+) of (\d+)", done.stderr)
    assert counts, done.stderr
    assert counts[-1][0] == counts[-1][1], counts  # it ends at the total


SERVE_PLAN = """\
plan: {{id: plan-2024, title: План на 2024 год, year: 2024, timezone: Europe/Kaliningrad}}
organizations:
  - {{id: lib-a, name: ГБУК «Библиотека А», short_name: Библиотека А, kind: library,
     contacts: {{emails: [a@lib-a.ru]}}}}
  - {{id: lib-c, name: ГБУК «Библиотека В», short_name: Библиотека В, kind: library}}
events:
  - {{key: e1, title: {title}, date: 21 мая, organizers: [lib-a]}}
  - {{key: e2, title: Семинар В, date: 22 мая, organizers: [lib-c]}}
"""


def test_serve_logs_the_events_it_changed_and_says_no_email_once(
    installed: Installed, tmp_path: Path
) -> None:
    work = empty_folder(tmp_path)
    plan = work / "plan.yaml"
    plan.write_text(SERVE_PLAN.format(title="Семинар А"), encoding="utf-8")
    (work / "plansync.yaml").write_text(
        "plans: [plan.yaml]\nstate_dir: state\n"
        f"caldav:\n  url: embedded\n  embedded:\n    port: {free_port()}\n"
        "sync:\n  interval: 1h\n  combined_calendar: false\n"
        "digest:\n  schedule: mon 08:00\n"
        'mail:\n  from: "Сводный план <plan@konb-region.ru>"\n  reply_to: "НМО <nmo@konb-region.ru>"\n'
        "  outbox: outbox\n",
        encoding="utf-8",
    )
    clock = work / "clock"
    clock.write_text("2024-05-20T06:00:05+00:00\n", encoding="utf-8")  # Monday 08:00:05 in Kaliningrad
    log = work / "serve.log"
    with log.open("wb") as err:
        proc = subprocess.Popen(
            [str(installed.plansync), "serve", "--clock-file", str(clock)],
            cwd=work,
            env=installed.env(tmp_path / "home"),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=err,
        )
    try:

        def wait_for(pattern: str, after: int = 0) -> str:
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                text = log.read_text(encoding="utf-8", errors="replace")
                if re.search(pattern, text[after:]):
                    return text
                assert proc.poll() is None, text
                time.sleep(0.2)
            raise AssertionError(f"no {pattern!r} in the log:\n{log.read_text(encoding='utf-8')}")

        wait_for(r"digest 2024-05-20: .*sent")
        mark = len(log.read_text(encoding="utf-8"))
        plan.write_text(SERVE_PLAN.format(title="Семинар А в новом зале"), encoding="utf-8")
        text = wait_for(r"changes-sent", after=mark)
        wait_for(r"\bsync\b.*в новом зале", after=mark)  # the event that changed, by name
        assert len(re.findall(r"no e-mail.*lib-c", text)) == 1, text
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def test_a_missing_password_file_is_named_by_its_full_path(installed: Installed, tmp_path: Path) -> None:
    work = empty_folder(tmp_path)
    write_sync_config(work, f"http://127.0.0.1:{free_port()}/", user="alice")
    config = work / "plansync.yaml"
    text = config.read_text(encoding="utf-8")
    config.write_text(
        text.replace(f"password_env: {PASSWORD_ENV}", "password_file: caldav-pw"), encoding="utf-8"
    )
    done = installed.run("sync", cwd=work)
    said = done.stdout + done.stderr
    assert done.returncode == 1, said
    assert str(work / "caldav-pw") in said, said
