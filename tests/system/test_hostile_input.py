"""Hostile input: whatever the plan, the config or a date cell holds, plansync answers with a clear error
(file:line problems) in bounded time and memory, never a traceback or a hang, and writes nothing to
any calendar or mailbox; and text with HTML, <script>, CR/LF and very long lines is escaped in the
HTML digest, inert in mail headers and valid folded iCalendar.

This extends tests/test_loader_fuzz.py (random plan structures and bytes) and the property tests of
tests/test_dates.py with what they do not cover: the config loader, big, deep and aliased documents,
invalid UTF-8 and control characters at any place, enormous strings, and the end-to-end "nothing
written". Examples per property: FUZZ_EXAMPLES (CI: many; locally fewer), the whole file < 60 s.
"""

from __future__ import annotations

import contextlib
import email
import email.policy
import os
import tempfile
import time
import tracemalloc
from collections.abc import Callable, Iterator
from pathlib import Path

import icalendar
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from plansync.calendar import ical
from plansync.config.load import load_config
from plansync.config.schema import all_names
from plansync.errors import InvalidInput, PlansyncError
from plansync.planread.dates import DateReadError, read_date
from plansync.planread.planfile import load_plan
from tests.support import faultkit as fk
from tests.support.hostile import GOOD_CONFIG, HOSTILE_DOCUMENTS
from tests.support.plans import GOOD_PLAN
from tests.support.servers import RunningServer, radicale
from tests.support.smtp import PASSWORD as SMTP_PASSWORD
from tests.support.smtp import SMTPServer, TLSFiles, smtp_server, tls_files
from tests.support.synthetic import synthetic_plan

# slow: megabytes of hostile input a test, its memory measured
pytestmark = [pytest.mark.timeout(120), pytest.mark.slow]

FUZZ_EXAMPLES = int(os.environ.get("PLANSYNC_FUZZ_EXAMPLES", "1000" if os.environ.get("CI") else "150"))
fuzz = settings(
    max_examples=FUZZ_EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
SECONDS = 5.0  # the most any single input may take
MEGABYTES = 200  # the most memory any single input may allocate at its peak

CONFIG_KEYS = all_names()  # from the schema, so a new key is fuzzed too
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**6), 10**6),
    st.floats(allow_nan=True),
    st.text(max_size=30),
    st.sampled_from(["embedded", "https://x.ru/", "http://u:p@h/", "~nobody-xyz/x", "mon 25:00", "0s"]),
)
documents = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(st.one_of(st.sampled_from(CONFIG_KEYS), st.text(max_size=8)), children, max_size=6),
    ),
    max_leaves=40,
)
CONTROL = st.sampled_from(
    ["\x00", "\x01", "\x07", "\x0b", "\x0c", "\x1b", "\x7f", "\u0085", "\u2028", "\ufeff"]
)


@pytest.fixture(scope="module")
def folder() -> Iterator[Path]:
    with tempfile.TemporaryDirectory() as name:
        yield Path(name)


def bounded(action: Callable[[], object]) -> None:
    """Run `action`: a result or a PlansyncError, never anything else, in bounded time and memory."""
    tracemalloc.start()
    start = time.monotonic()
    try:
        action()
    except InvalidInput as exc:
        assert exc.problems
        for problem in exc.problems:
            assert problem.file and problem.line >= 1 and problem.col >= 1
            assert problem.message and problem.hint
            assert len(str(problem)) < 2000  # a message, not the input echoed back
    except PlansyncError as exc:
        assert str(exc)
    finally:
        elapsed = time.monotonic() - start
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    assert elapsed < SECONDS, f"{elapsed:.1f} s"
    assert peak < MEGABYTES * 2**20, f"{peak / 2**20:.0f} MB"


def load_config_bytes(folder: Path, data: bytes) -> None:
    path = folder / "plansync.yaml"
    path.write_bytes(data)
    bounded(lambda: load_config(path, {}))


def load_plan_bytes(folder: Path, data: bytes) -> None:
    path = folder / "plan.yaml"
    path.write_bytes(data)
    bounded(lambda: load_plan(path))


# -- the config loader --------------------------------------------------------------------------------


def test_the_good_config_loads(folder: Path) -> None:
    path = folder / "plansync.yaml"
    path.write_text(GOOD_CONFIG, encoding="utf-8")
    config = load_config(path, {})
    assert config.caldav.url == "https://dav.example.ru/" and config.mail.smtp.port == 587


@fuzz
@given(documents)
def test_config_random_structures(folder: Path, document: object) -> None:
    load_config_bytes(folder, yaml.safe_dump(document, allow_unicode=True).encode())


@fuzz
@given(st.binary(max_size=300))
def test_config_random_bytes(folder: Path, data: bytes) -> None:
    load_config_bytes(folder, data)


@fuzz
@given(st.integers(0, len(GOOD_CONFIG)), st.text(max_size=16) | CONTROL)
def test_config_edits(folder: Path, position: int, insert: str) -> None:
    text = GOOD_CONFIG[:position] + insert + GOOD_CONFIG[position:]
    load_config_bytes(folder, text.encode("utf-8", "surrogatepass"))


@fuzz
@given(st.sampled_from(["https://dav.example.ru/", "konb", "10m", "mon 08:00", "587", "state"]), scalars)
def test_config_any_value_in_any_field(folder: Path, old: str, new: object) -> None:
    value = yaml.safe_dump(new, allow_unicode=True).strip().removesuffix("...").strip()
    load_config_bytes(folder, GOOD_CONFIG.replace(old, value or "''").encode("utf-8", "surrogatepass"))


def test_config_home_of_an_unknown_user_is_a_problem_not_a_crash(folder: Path) -> None:
    path = folder / "plansync.yaml"
    path.write_text(GOOD_CONFIG.replace("state_dir: state", "state_dir: ~nobody-xyz/state"), encoding="utf-8")
    with pytest.raises(InvalidInput, match=r"plansync.yaml:2:\d+: state_dir: cannot find the home folder"):
        load_config(path, {})


# -- big, deep, aliased, broken documents (plan and config) --------------------------------------------


@pytest.mark.parametrize("name", sorted(HOSTILE_DOCUMENTS))
def test_hostile_plans_are_refused_clearly_and_quickly(folder: Path, name: str) -> None:
    load_plan_bytes(folder, HOSTILE_DOCUMENTS[name])
    with pytest.raises(InvalidInput):
        load_plan(folder / "plan.yaml")


@pytest.mark.parametrize("name", sorted(HOSTILE_DOCUMENTS))
def test_hostile_configs_are_refused_clearly_and_quickly(folder: Path, name: str) -> None:
    load_config_bytes(folder, HOSTILE_DOCUMENTS[name])
    with pytest.raises(InvalidInput):
        load_config(folder / "plansync.yaml", {})


def _peak_bytes_per_byte(path: Path, data: bytes) -> float:
    path.write_bytes(data)
    tracemalloc.start()
    try:
        with contextlib.suppress(InvalidInput):
            load_plan(path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak / len(data)


def test_memory_is_proportionate_to_the_file(folder: Path) -> None:
    # PyYAML's composed tree took 96 bytes per byte of this (100,000 one-letter values) and 25 per
    # byte of a real-sized plan; yamlcheck's own slotted tree 38 and 11.
    worst = _peak_bytes_per_byte(folder / "plan.yaml", b"plan: [" + b"x, " * 100_000 + b"]")
    assert worst < 50, f"{worst:.0f} bytes per byte of one-letter values"
    plan = synthetic_plan(2_000)
    typical = _peak_bytes_per_byte(folder / "plan.yaml", plan.encode())
    assert typical < 15, f"{typical:.0f} bytes per byte of a plan of 2,000 events"


@fuzz
@given(st.integers(0, len(GOOD_PLAN)), st.lists(CONTROL, min_size=1, max_size=3).map("".join))
def test_control_characters_anywhere_in_a_plan(folder: Path, position: int, chars: str) -> None:
    load_plan_bytes(folder, (GOOD_PLAN[:position] + chars + GOOD_PLAN[position:]).encode("utf-8"))


@fuzz
@given(
    st.integers(0, len(GOOD_PLAN.encode())), st.binary(min_size=1, max_size=4).filter(lambda b: b[0] >= 0x80)
)
def test_invalid_utf8_anywhere_in_a_plan(folder: Path, position: int, junk: bytes) -> None:
    data = GOOD_PLAN.encode()
    load_plan_bytes(folder, data[:position] + junk + data[position:])


def test_a_number_with_5000_digits_is_a_problem(folder: Path) -> None:
    path = folder / "plan.yaml"
    path.write_text(GOOD_PLAN.replace("year: 2025", "year: " + "2" * 5000), encoding="utf-8")
    with pytest.raises(InvalidInput) as info:
        load_plan(path)
    (problem,) = info.value.problems
    assert problem.field == "plan.year" and problem.message == "22222222222222222... is out of range"


def test_a_flood_of_problems_stops_early_and_says_so(folder: Path) -> None:
    path = folder / "plan.yaml"
    path.write_text(GOOD_PLAN.split("events:")[0] + "events:\n" + "  - {}\n" * 50_000, encoding="utf-8")
    started = time.monotonic()
    with pytest.raises(InvalidInput) as info:
        load_plan(path)
    assert time.monotonic() - started < 10
    problems = info.value.problems
    assert len(problems) == 501
    assert any(p.message == "stopped after 500 problems" for p in problems)


# -- the date reader ----------------------------------------------------------------------------------


@fuzz
@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=200), st.integers(1900, 2200))
def test_date_reader_any_text(text: str, year: int) -> None:
    start = time.monotonic()
    try:
        read_date(text, year)
    except DateReadError as exc:
        assert exc.reason and len(str(exc)) < 1000
    assert time.monotonic() - start < 1


@pytest.mark.parametrize(
    "text",
    [
        "1" * 1_000_000,
        "15 января " * 100_000,
        "(" * 100_000,
        "с 1 по " * 50_000 + "5 июля",
        "\x00" * 10_000,
        "1 - 5 июля, 10:00\r\n<script>alert(1)</script>",
        "ежемесячно " * 20_000,
    ],
    ids=["digits", "repeated date", "parens", "ranges", "NULs", "markup", "rules"],
)
def test_date_reader_enormous_text_is_refused_quickly(text: str) -> None:
    tracemalloc.start()
    start = time.monotonic()
    try:
        read_date(text, 2024)
    except DateReadError as exc:
        assert len(str(exc)) < 1000
    finally:
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    assert time.monotonic() - start < SECONDS and peak < MEGABYTES * 2**20


# -- a broken plan or config writes nothing -----------------------------------------------------------

BROKEN_PLANS = {
    "syntax": b"plan: [unclosed\n",
    "alias bomb": HOSTILE_DOCUMENTS["alias bomb"],
    "invalid UTF-8": HOSTILE_DOCUMENTS["invalid UTF-8"],
    "unknown field": GOOD_PLAN.replace(
        "    date: 15 января", "    date: 15 января\n    colour: red"
    ).encode(),
    "bad date": GOOD_PLAN.replace("15 января", "31 февраля").encode(),
}


@pytest.mark.parametrize("name", sorted(BROKEN_PLANS))
def test_a_broken_plan_writes_nothing_anywhere(
    tmp_path: Path, radicale: RunningServer, smtp_server: SMTPServer, tls_files: TLSFiles, name: str
) -> None:
    env = {fk.SMTP_PASSWORD_ENV: SMTP_PASSWORD}
    sync_folder = fk.SyncFolder(tmp_path / "sync", radicale.url, f"broken-{len(name)}")
    sync_folder.plan.write_bytes(BROKEN_PLANS[name])
    config = fk.digest_folder(tmp_path / "digest", smtp_server.port, tls_files.ca)
    (tmp_path / "digest" / "plan.yaml").write_bytes(BROKEN_PLANS[name])
    mark = radicale.log.mark()
    for args in (
        ["sync", "--config", str(sync_folder.config)],
        ["sync", "--config", str(sync_folder.config), "--dry-run"],
        ["digest", "--config", str(config), "--as-of", fk.DIGEST_DAY],
        ["run", "--config", str(config), "--as-of", fk.DIGEST_DAY],
    ):
        run = fk.run_cli(args, env)
        assert run.code == 1 and not run.traceback, run.text
        assert "plan.yaml:" in run.err and "problem" in run.err, run.text
    assert radicale.log.since(mark) == []  # not even a look
    assert smtp_server.messages == []
    assert not (sync_folder.state / "plansync.sqlite3").exists()


@pytest.mark.parametrize(
    "broken",
    [
        "plans: [plan.yaml]\ncaldav: {url: URL, password: hunter2}\n",
        "plans: [plan.yaml]\ncaldav: {url: URL, timeout: 0}\n",
        "plans: [plan.yaml]\ncaldav: {url: URL}\nsync: {max_delete_share: 7}\n",
        "plans: [plan.yaml]\ncaldav: {url: URL}\nmail: &m {smtp: *m}\n",
        "plans: [plan.yaml]\ncaldav: {url: URL}\n\x1b[31m\n",
    ],
    ids=["password", "timeout", "share", "alias", "escape"],
)
def test_a_broken_config_writes_nothing(tmp_path: Path, radicale: RunningServer, broken: str) -> None:
    folder = fk.SyncFolder(tmp_path, radicale.url, "broken-config")
    folder.config.write_text(broken.replace("URL", radicale.url), encoding="utf-8")
    mark = radicale.log.mark()
    for command in ("sync", "digest"):
        run = fk.run_cli([command, "--config", str(folder.config)])
        assert run.code == 1 and not run.traceback, run.text
        assert "plansync.yaml:" in run.err, run.text
        assert "hunter2" not in run.text
    assert radicale.log.since(mark) == []
    assert not (folder.folder / "outbox").exists()


# -- hostile text in the plan: HTML, headers, iCalendar -----------------------------------------------

EVIL_TITLE = (
    '<script>alert("x")</script><b>жирный</b> & «кавычки»\r\nBcc: victim@evil.example\r\n\r\n'
    + "Очень длинная строка без пробелов " * 40
    + "X" * 300
)
EVIL_NAME = "Библиотека\r\nBcc: evil@attacker.example <img src=x onerror=alert(1)>"


def evil_plan(path: Path) -> None:
    import json

    lines = [
        "plan: {id: test-plan, title: Тестовый план, year: 2024, timezone: Europe/Kaliningrad}",
        "organizations:",
        f"  - {{id: lib-a, name: {json.dumps(EVIL_NAME, ensure_ascii=False)},",
        f"     short_name: {json.dumps(EVIL_NAME, ensure_ascii=False)}, kind: library,",
        "     contacts: {emails: [a@lib.example]}}",
        "events:",
        "  - key: e1",
        f"    title: {json.dumps(EVIL_TITLE, ensure_ascii=False)}",
        '    date: "21 мая, 10:00"',
        "    organizers: [lib-a]",
        "  - key: e2",
        f"    title: {json.dumps('a' * 5000, ensure_ascii=False)}",
        '    date: "22 мая"',
        "    organizers: [lib-a]",
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def check_ics(data: bytes, titles: list[str]) -> None:
    """Folded at 75 octets, parses back, and the titles come back (line ends as iCalendar keeps them)."""
    for line in data.split(b"\r\n"):
        assert len(line) <= 75, line
    assert b"\n" not in data.replace(b"\r\n", b"")
    calendar = icalendar.Calendar.from_ical(data)
    summaries = {str(e["SUMMARY"]) for e in calendar.walk("VEVENT")}
    for title in titles:
        assert any(" ".join(title.split()) == " ".join(s.split()) for s in summaries), summaries


def test_hostile_text_in_the_calendars_is_valid_folded_icalendar(
    tmp_path: Path, radicale: RunningServer
) -> None:
    folder = fk.SyncFolder(tmp_path, radicale.url, "evil-ics")
    evil_plan(folder.plan)
    plan = load_plan(folder.plan)
    for desired in ical.desired_events(plan, "lib-a", ical.Rendering()).values():
        check_ics(desired.body, [])
    run = fk.run_cli(["sync", "--config", str(folder.config), "--org", "lib-a"])
    assert run.code == 0, run.text
    stored = [b for files in fk.server_items(radicale.storage, folder.user).values() for b in files.values()]
    assert len(stored) == 2
    for body in stored:
        calendar = icalendar.Calendar.from_ical(body)
        assert len(calendar.walk("VEVENT")) == 1
    check_ics(
        b"".join(stored).replace(b"END:VCALENDAR\r\nBEGIN:VCALENDAR\r\n", b""), [EVIL_TITLE, "a" * 5000]
    )
    again = fk.run_cli(["sync", "--config", str(folder.config), "--org", "lib-a"])
    assert again.code == 0 and "0 created, 0 updated" in again.out  # it round-trips: nothing to fix


def test_hostile_text_in_a_digest_is_escaped_and_inert(
    tmp_path: Path, smtp_server: SMTPServer, tls_files: TLSFiles
) -> None:
    config = fk.digest_folder(tmp_path, smtp_server.port, tls_files.ca)
    evil_plan(tmp_path / "plan.yaml")
    run = fk.run_cli(
        ["digest", "--config", str(config), "--as-of", fk.DIGEST_DAY], {fk.SMTP_PASSWORD_ENV: SMTP_PASSWORD}
    )
    assert run.code == 0 and not run.traceback, run.text
    assert [m.rcpt_tos for m in smtp_server.messages] == [("a@lib.example",)]  # no Bcc smuggled in
    raw = smtp_server.messages[0].data
    head = raw.split(b"\r\n\r\n", 1)[0].split(b"\r\n")
    # every header line is a known field or the folded continuation (leading white space) of one
    fields = [line.split(b":", 1)[0] for line in head if not line[:1].isspace()]
    assert set(fields) == {
        b"From", b"To", b"Reply-To", b"Subject", b"Date", b"Message-ID", b"Auto-Submitted",
        b"X-Auto-Response-Suppress", b"Content-Language", b"MIME-Version", b"Content-Type",
        b"List-Id", b"List-Unsubscribe",
    }, fields  # fmt: skip
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    assert msg["Bcc"] is None and len(msg.get_all("To") or []) == 1
    assert "Bcc: evil@attacker" in msg["To"].addresses[0].display_name  # inert: words of a name
    for name in ("Subject", "To", "From"):
        assert "\r" not in str(msg[name]) and "\n" not in str(msg[name])
    html = msg.get_body(("html",))
    text = msg.get_body(("plain",))
    assert html is not None and text is not None
    html_text, plain = html.get_content(), text.get_content()
    assert "<script>" not in html_text and "&lt;script&gt;" in html_text
    assert "<b>жирный</b>" not in html_text and "&lt;b&gt;жирный&lt;/b&gt;" in html_text
    assert "<img src=x" not in html_text
    assert "&amp;amp;" not in html_text  # escaped once, not twice
    assert "<script>" in plain  # the text part shows the text as written: it is not HTML
    for part in msg.walk():
        assert part.get("Content-Transfer-Encoding", "7bit") in ("base64", "quoted-printable", "7bit")
        if part.get_content_type() == "text/calendar":
            check_ics(part.get_payload(decode=True), [EVIL_TITLE])
