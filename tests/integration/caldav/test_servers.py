"""What differs between the CalDAV servers people run, each against the real server: SabreDAV's 403 for
an unsupported REPORT and its Digest login, the UID clash answers, `/.well-known/caldav`, a private CA,
and a server nobody answers for."""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from plansync.caldav.backend import BackendError, LoginFailed, NotAllowed, UidClash, Unreachable
from plansync.caldav.client import CalDAVBackend
from plansync.config.model import CalendarTarget
from tests.support import faultkit as fk
from tests.support.plans import retitle, small_plan
from tests.support.servers import (
    CyrusServer,
    RunningServer,
    ServerProcess,
    cyrus,
    free_port,
    radicale,
    sabredav_basic,
    sabredav_digest,
    start_radicale,
    xandikos,
)
from tests.support.smtp import TLSFiles, make_certificates
from tests.support.sync_env import Env, desired_summaries, foreign_event, server_summaries

pytestmark = [pytest.mark.timeout(60), pytest.mark.slow]  # slow: starts real CalDAV servers
_names = itertools.count(1)

__all__ = ["cyrus", "radicale", "sabredav_basic", "sabredav_digest", "xandikos"]


def _backend(server: RunningServer | ServerProcess, **options: object) -> CalDAVBackend:
    if isinstance(server, ServerProcess):
        return CalDAVBackend(server.url, username=server.username, password=server.password, **options)  # type: ignore[arg-type]
    return CalDAVBackend(server.url, username="user1", password="x", **options)  # type: ignore[arg-type]


def _env(
    backend: CalDAVBackend, people: CalDAVBackend, server: RunningServer | ServerProcess, tmp: Path
) -> Env:
    n = next(_names)
    targets = {"konb": CalendarTarget(name=f"Серверы {n}"), "gaidar": CalendarTarget(name=f"Сервер Б {n}")}
    return Env(backend, people, tmp / "state", server.log.mark, server.log.since, targets)


# -- SabreDAV: no sync-collection, answered with 403 DAV:supported-report ------------------------------


def test_sabredav_403_supported_report_falls_back_to_etags_once_a_run(sabredav_basic: ServerProcess) -> None:
    live = _backend(sabredav_basic)
    url = live.resolve_calendar("k", url=None, name="Без sync-collection")
    assert url is not None
    href, _ = live.create(url, "one.ics", foreign_event("sabre-1@example.org"))
    mark = sabredav_basic.log.mark()
    first = live.listing(url, sync_token=None, ctag=None)
    second = live.listing(url, sync_token=None, ctag=None)
    assert first.complete and list(first.items) == [href] and second.items == first.items
    methods = [m for m, _ in sabredav_basic.log.since(mark)]
    assert methods.count("REPORT") == 1, methods  # asked once, then remembered for the run
    live.close()


def test_plan_edits_reach_sabredav_on_later_runs(sabredav_digest: ServerProcess, tmp_path: Path) -> None:
    env = _env(_backend(sabredav_digest), _backend(sabredav_digest), sabredav_digest, tmp_path)
    plan = small_plan()
    assert env.sync(plan).exit_code == 0
    edited = retitle(plan, "e1", "Новое название")
    result = env.sync(edited)
    assert result.exit_code == 0, result
    url = env.url(result, "konb")
    assert "Новое название" in server_summaries(env, url).values()
    assert server_summaries(env, url) == desired_summaries(edited, "konb")


# -- logins ---------------------------------------------------------------------------------------------


def test_digest_login_works_and_a_wrong_password_is_a_login_message(sabredav_digest: ServerProcess) -> None:
    live = _backend(sabredav_digest)
    assert live.resolve_calendar("k", url=None, name="Digest") is not None
    assert live._http.scheme == "digest"
    live.close()
    for auth in ("auto", "digest"):
        wrong = CalDAVBackend(
            sabredav_digest.url,
            username=sabredav_digest.username,
            password="wrong",
            auth=auth,  # type: ignore[arg-type]
        )
        with pytest.raises(
            LoginFailed, match=r"401 Unauthorized; check caldav\.url, the username and the password"
        ):
            wrong.resolve_calendar("k", url=None, name="Digest")
        wrong.close()


def test_basic_only_server_is_not_sent_digest(sabredav_basic: ServerProcess) -> None:
    live = _backend(sabredav_basic)
    assert live.resolve_calendar("k", url=None, name="Basic") is not None
    assert live._http.scheme == "basic"
    live.close()


# -- UID clashes ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("server_name", ["radicale", "xandikos"])
def test_a_uid_clash_says_so_instead_of_a_status(server_name: str, request: pytest.FixtureRequest) -> None:
    server: RunningServer = request.getfixturevalue(server_name)
    live = _backend(server)
    url = live.resolve_calendar("k", url=None, name=f"UID {server_name}")
    assert url is not None
    live.create(url, "held.ics", foreign_event("clash@example.org"))
    with pytest.raises(UidClash, match="already holds an event with this UID") as info:
        live.create(url, "again.ics", foreign_event("clash@example.org"))
    assert "move it back or delete that copy" in str(info.value)
    live.close()


# -- discovery ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("server_name", ["radicale", "xandikos", "sabredav_basic"])
def test_well_known_caldav_is_followed_never_appended_to(
    server_name: str, request: pytest.FixtureRequest
) -> None:
    server: RunningServer | ServerProcess = request.getfixturevalue(server_name)
    plain = _backend(server)
    expected = plain.resolve_calendar("k", url=None, name="Известный адрес")
    plain.close()
    user = server.username if isinstance(server, ServerProcess) else "user1"
    password = server.password if isinstance(server, ServerProcess) else "x"
    well_known = CalDAVBackend(server.url + ".well-known/caldav", username=user, password=password)
    mark = server.log.mark()
    assert well_known.resolve_calendar("k", url=None, name="Известный адрес") == expected
    paths = [p for _, p in server.log.since(mark)]
    assert "/.well-known/caldav/" not in paths, paths
    well_known.close()


# -- TLS with a private CA -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def tls_radicale(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[RunningServer, TLSFiles]]:
    import ssl

    files = make_certificates(tmp_path_factory.mktemp("caldav-tls"), "plansync CalDAV test")
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(files.cert, files.key)
    server = start_radicale(tmp_path_factory.mktemp("radicale-tls"), tls=context)
    yield server, files
    server.stop()


def test_ca_file_serves_discovery_and_events(
    tls_radicale: tuple[RunningServer, TLSFiles], tmp_path: Path
) -> None:
    server, files = tls_radicale
    ca = str(files.ca)
    env = _env(_backend(server, ca_file=ca), _backend(server, ca_file=ca), server, tmp_path)
    plan = small_plan()
    result = env.sync(plan)
    assert result.exit_code == 0, result
    assert server_summaries(env, env.url(result, "konb")) == desired_summaries(plan, "konb")


def test_without_the_ca_the_certificate_is_refused_at_once(
    tls_radicale: tuple[RunningServer, TLSFiles],
) -> None:
    server, _ = tls_radicale
    live = _backend(server)
    start = time.monotonic()
    with pytest.raises(BackendError, match=r"(?i)certificate"):
        live.resolve_calendar("k", url=None, name="Без CA")
    assert time.monotonic() - start < 5
    live.close()


def test_an_unreadable_ca_file_is_one_clear_message(
    tls_radicale: tuple[RunningServer, TLSFiles], tmp_path: Path
) -> None:
    server, _ = tls_radicale
    live = _backend(server, ca_file=str(tmp_path / "missing.pem"))
    with pytest.raises(Unreachable, match=r"caldav\.ca_file: .*missing\.pem does not exist"):
        live.resolve_calendar("k", url=None, name="Без CA")
    live.close()


# -- nobody answers ---------------------------------------------------------------------------------------


def test_a_refused_connection_fails_the_run_in_seconds_with_one_message(tmp_path: Path) -> None:
    folder = fk.SyncFolder(tmp_path, f"http://127.0.0.1:{free_port()}/", "nobody")
    text = folder.config.read_text(encoding="utf-8").replace("  timeout: 2\n", "  timeout: 30\n")
    folder.config.write_text(text, encoding="utf-8")
    start = time.monotonic()
    run = fk.run_cli(["sync", "--config", str(folder.config)])
    assert time.monotonic() - start < 5
    assert run.code == 1 and not run.traceback, run.text
    assert run.out.count("Connection refused") == 1, run.out
    assert "check caldav.url and that the server is running" in run.out


# -- Cyrus: one event per UID in the whole account ----------------------------------------------------------


def test_cyrus_uid_clash_names_the_calendar_that_holds_the_event(cyrus: CyrusServer, tmp_path: Path) -> None:
    user = f"moved{next(_names)}"
    cyrus.add_user(user, "x")
    live = CalDAVBackend(cyrus.url, username=user, password="x")
    env = _env(live, CalDAVBackend(cyrus.url, username=user, password="x"), cyrus, tmp_path)
    plan = small_plan()
    result = env.sync(plan)
    assert result.exit_code == 0, result
    konb, gaidar = env.url(result, "konb"), env.url(result, "gaidar")
    # A person moves a plansync event from one calendar into another of the same account.
    uid = next(u for u in env.server(konb) if u.startswith("plan-2024.e1."))
    href, etag, body = env.server(konb)[uid]
    env.people.delete(href, etag)
    moved, _ = env.people.create(gaidar, "moved-by-hand.ics", body)
    again = env.sync(plan)
    failure = next(f for c in again.calendars for f in c.failures)
    assert moved in failure.message and "move it back or delete that copy" in failure.message, failure
    assert "password" not in failure.message


def test_a_403_says_what_the_server_said_not_a_password_problem(sabredav_basic: ServerProcess) -> None:
    live = _backend(sabredav_basic)
    with pytest.raises(NotAllowed, match=r"refused \(403\): Permission denied to create file") as info:
        live.create(sabredav_basic.url + "calendars/", "x.ics", foreign_event("stranger@example.org"))
    assert "password" not in str(info.value)
    live.close()
