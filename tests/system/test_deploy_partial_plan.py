"""One unreadable date does not stop the region's week (issue 28, item 4): `sync`, `digest` and `run` of
the installed command go on with every other event, name the bad one as file:line:col, leave what the
calendars already hold of it alone, and end with status 4."""

from __future__ import annotations

import email
import email.message
import email.policy
import mailbox
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.installed import Installed, empty_folder, installed
from tests.support.servers import RunningServer, start_radicale

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]  # slow: the installed plansync as a process

PLAN = """\
plan: {{id: plan-2024, title: План на 2024 год, year: 2024, timezone: Europe/Kaliningrad}}
organizations:
  - {{id: konb, name: ГБУК «КОНБ», short_name: КОНБ, kind: library,
     contacts: {{emails: [nmo@konb-region.ru]}}}}
events:
  - key: e1
    title: {e1_title}
    date: 12 марта
    organizers: [konb]
  - key: e2
    title: Вебинар
    date: 14 марта
    organizers: [konb]
  - key: e3
    title: Мониторинг
    date: II квартал
    organizers: [konb]
  - key: e4
    title: Круглый стол
    date: {e4_date}
    organizers: [konb]
"""
BAD_DATE = "32 марта"
PASSWORD_ENV = "TEST_CALDAV_PASSWORD"
LOGIN = {PASSWORD_ENV: "any"}  # the test Radicale takes any password, but wants a login


@pytest.fixture
def radicale_server(tmp_path: Path) -> Iterator[RunningServer]:
    server = start_radicale(tmp_path / "radicale")
    yield server
    server.stop()


def write(work: Path, *, e4_date: str = "15 марта", e1_title: str = "Семинар", caldav: str = "") -> Path:
    plan = work / "plan.yaml"
    plan.write_text(PLAN.format(e4_date=e4_date, e1_title=e1_title), encoding="utf-8")
    (work / "plansync.yaml").write_text(
        "plans: [plan.yaml]\nstate_dir: state\n"
        + caldav
        + "sync:\n  combined_calendar: false\n"
        + 'mail:\n  from: "Сводный план <plan@konb-region.ru>"\n  reply_to: "НМО <nmo@konb-region.ru>"\n'
        + "  outbox: outbox\n",
        encoding="utf-8",
    )
    return plan


def where(plan: Path, text: str) -> str:
    """`plan.yaml:LINE:COL` of the value `text` in the plan file."""
    for number, line in enumerate(plan.read_text(encoding="utf-8").splitlines(), start=1):
        if text in line:
            return f"plan.yaml:{number}:{line.index(text) + 1}"
    raise AssertionError(f"{text!r} is not in {plan}")


def caldav(server: RunningServer) -> str:
    return f"caldav:\n  url: {server.url}\n  username: alice\n  password_env: {PASSWORD_ENV}\n"


def server_titles(server: RunningServer) -> list[str]:
    """The SUMMARY of every event the server holds for alice (read from its storage)."""
    found = []
    for path in (server.storage / "collection-root" / "alice").rglob("*.ics"):
        if any(part.startswith(".Radicale") for part in path.parts):
            continue  # Radicale's own cache
        text = path.read_text(encoding="utf-8")
        found += re.findall(r"(?m)^SUMMARY:(.*)$", text)
    return found


def test_sync_goes_on_with_every_readable_event_and_leaves_the_bad_one_alone(
    installed: Installed, tmp_path: Path, radicale_server: RunningServer
) -> None:
    work = empty_folder(tmp_path)
    write(work, caldav=caldav(radicale_server))
    first = installed.run("sync", cwd=work, env=LOGIN)
    assert first.returncode == 0, first.stdout + first.stderr
    assert "4 created" in first.stdout
    plan = write(
        work, e4_date=BAD_DATE, e1_title="Семинар (перенесён в зал 2)", caldav=caldav(radicale_server)
    )
    second = installed.run("sync", cwd=work, env=LOGIN)
    said = second.stdout + second.stderr
    assert second.returncode == 4, said
    assert where(plan, BAD_DATE) in said and BAD_DATE in said, said
    assert "1 updated" in second.stdout and "0 deleted" in second.stdout, second.stdout  # e4 is kept
    titles = server_titles(radicale_server)
    assert any("Круглый стол" in t for t in titles), titles
    assert any("зал 2" in t for t in titles), titles


def test_digest_sends_the_week_without_the_bad_event_and_never_calls_it_cancelled(
    installed: Installed, tmp_path: Path
) -> None:
    work = empty_folder(tmp_path)
    write(work)
    first = installed.run("digest", "--as-of", "2024-03-08", cwd=work)  # the week of 11 March
    assert first.returncode == 0 and "1 sent" in first.stdout, first.stdout + first.stderr
    plan = write(work, e4_date=BAD_DATE, e1_title="Семинар (перенесён в зал 2)")
    again = installed.run("digest", "--as-of", "2024-03-08", cwd=work)
    said = again.stdout + again.stderr
    assert again.returncode == 4, said
    assert where(plan, BAD_DATE) in said, said
    messages = [
        email.message_from_bytes(bytes(m), policy=email.policy.default)
        for m in mailbox.Maildir(work / "outbox", create=False)
    ]
    assert len(messages) == 2, [m["Subject"] for m in messages]  # the digest, and a notice: e1 changed
    notice = next(m for m in messages if m["In-Reply-To"])
    text = notice.get_body(("plain",))
    assert isinstance(text, email.message.EmailMessage)
    body = text.get_content()
    assert "зал 2" in body and "Круглый стол" not in body, body  # unreadable is not cancelled


def test_digest_of_a_fresh_week_sends_the_others(installed: Installed, tmp_path: Path) -> None:
    work = empty_folder(tmp_path)
    plan = write(work, e4_date=BAD_DATE)
    done = installed.run("digest", "--as-of", "2024-03-08", cwd=work)
    said = done.stdout + done.stderr
    assert done.returncode == 4, said
    assert "1 sent" in done.stdout and where(plan, BAD_DATE) in said, said


def test_run_checks_syncs_and_sends_the_rest(
    installed: Installed, tmp_path: Path, radicale_server: RunningServer
) -> None:
    work = empty_folder(tmp_path)
    plan = write(work, e4_date=BAD_DATE, caldav=caldav(radicale_server))
    done = installed.run("run", "--as-of", "2024-03-08", cwd=work, env=LOGIN)
    said = done.stdout + done.stderr
    assert done.returncode == 4, said
    assert where(plan, BAD_DATE) in said and "3 created" in done.stdout and "1 sent" in done.stdout, said
