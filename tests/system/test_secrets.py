"""Secrets: the CalDAV and SMTP passwords never show up in logs (every logger at DEBUG, libraries
included), error messages, dry-run output, `status --json`, or any file in the state folder (state
database, ledger, run log, render cache) — neither as text nor as base64 of user:password or of an AUTH
PLAIN token. TLS verification is on by default and turning it off is explicit and warned about on each
run. The state folder is 0700 and every file in it 0600, whichever command creates it.
"""

from __future__ import annotations

import base64
import logging
import os
import stat
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from plansync.caldav.client import CalDAVBackend
from plansync.config.load import load_config
from plansync.config.model import CalDAVConfig, SMTPConfig
from tests.support import faultkit as fk
from tests.support.faultkit import leaks
from tests.support.servers import RunningServer, WSGIApp, radicale
from tests.support.smtp import PASSWORD as SMTP_PASSWORD
from tests.support.smtp import USER as SMTP_USER
from tests.support.smtp import SMTPServer, TLSFiles, smtp_server, tls_files

pytestmark = pytest.mark.timeout(90)

REFUSED_USER = "refused"
ECHO_USER = "echoer"


def refusing(app: WSGIApp) -> WSGIApp:
    """401 for the user `refused`: a server that does not take the password. For the user `echoer`, a
    server that refuses every PUT with an error body echoing the request's Authorization header and
    terminal escape sequences."""

    def middleware(environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        auth = environ.get("HTTP_AUTHORIZATION", "")
        user = base64.b64decode(auth[6:]).decode().split(":")[0] if auth.startswith("Basic ") else ""
        if user == REFUSED_USER:
            start_response(
                "401 Unauthorized", [("WWW-Authenticate", 'Basic realm="x"'), ("Content-Length", "0")]
            )
            return [b""]
        if user == ECHO_USER and environ["REQUEST_METHOD"] == "PUT":
            body = f"\x1b]0;pwned\x07\x1b[2Jbad request from Authorization: {auth}\r\n".encode()
            start_response("400 Bad Request", [("Content-Length", str(len(body)))])
            return [body]
        return app(environ, start_response)

    return middleware


@pytest.fixture(scope="module")
def server(radicale: RunningServer) -> RunningServer:
    radicale.wrap(refusing)
    return radicale


@pytest.fixture
def all_logs(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    """Every logger at DEBUG, the chattiest libraries included (caldav, niquests, urllib3, smtplib)."""
    names = ["", "caldav", "niquests", "urllib3", "urllib3_future", "mail.log", "radicale", "plansync"]
    old = {n: logging.getLogger(n).level for n in names}
    for n in names:
        logging.getLogger(n).setLevel(logging.DEBUG)
    caplog.set_level(logging.DEBUG)
    try:
        yield caplog
    finally:
        for n, level in old.items():
            logging.getLogger(n).setLevel(level)


def state_files(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if p.is_file()]


def test_passwords_appear_nowhere(
    tmp_path: Path,
    server: RunningServer,
    smtp_server: SMTPServer,
    tls_files: TLSFiles,
    all_logs: pytest.LogCaptureFixture,
) -> None:
    """One folder doing everything: sync (dry run and real, then refused), digest (dry run, real, then a
    wrong SMTP password), status; then every output, log record and state file is searched."""
    env = {fk.SMTP_PASSWORD_ENV: SMTP_PASSWORD}
    sync = fk.SyncFolder(tmp_path, server.url, "secrets")
    digest_config = fk.digest_folder(tmp_path / "d", smtp_server.port, tls_files.ca)
    # one folder, one state: the digest's config shares the sync's state and plan
    text = digest_config.read_text(encoding="utf-8").replace("state_dir: state", f"state_dir: {sync.state}")
    digest_config.write_text(text, encoding="utf-8")
    outputs = []
    for args in (
        ["sync", "--config", str(sync.config), "--dry-run"],
        ["sync", "--config", str(sync.config)],
        ["digest", "--config", str(digest_config), "--as-of", fk.DIGEST_DAY, "--dry-run"],
        ["digest", "--config", str(digest_config), "--as-of", fk.DIGEST_DAY],
        ["status", "--json", "--config", str(sync.config)],
        ["status", "--config", str(digest_config)],
    ):
        run = fk.run_cli(args, env)
        assert run.code == 0 and not run.traceback, (args, run.text)
        outputs.append(run.text)
    assert len(smtp_server.messages) == 2

    # refused: a CalDAV server that does not take the password, an SMTP server likewise
    sync.user = REFUSED_USER
    sync.point_at(server.url)
    refused = fk.run_cli(["sync", "--config", str(sync.config)])
    assert (
        refused.code == 1 and "Unauthorized; check caldav.url, the username and the password" in refused.out
    )
    outputs.append(refused.text)
    wrong = fk.digest_folder(tmp_path / "w", smtp_server.port, tls_files.ca)
    bad = fk.run_cli(
        ["digest", "--config", str(wrong), "--as-of", fk.DIGEST_DAY],
        {fk.SMTP_PASSWORD_ENV: "x" + SMTP_PASSWORD},
    )
    assert bad.code == 1 and "refused the login" in bad.out, bad.text
    outputs.append(bad.text)
    outputs.append(fk.run_cli(["status", "--json", "--config", str(wrong)]).text)

    logged = "\n".join(f"{r.name} {r.getMessage()}" for r in all_logs.records)
    assert logged.strip(), "the logs were captured"
    assert leaks("\n".join(outputs)) == []
    assert leaks(logged) == []
    files = state_files(sync.state) + state_files(tmp_path / "w" / "state")
    assert any(p.name == "plansync.sqlite3" for p in files) and any(
        p.name == "digests.sqlite3" for p in files
    )
    for path in files:
        assert leaks(path.read_bytes()) == [], path


def test_a_server_echoing_the_authorization_header_leaks_nothing(
    tmp_path: Path, server: RunningServer
) -> None:
    sync = fk.SyncFolder(tmp_path / "s", server.url, ECHO_USER)
    run = fk.run_cli(["sync", "--config", str(sync.config)])
    assert run.code == 1 and not run.traceback and "HTTP 400 bad request from Authorization" in run.out
    status = fk.run_cli(["status", "--json", "--config", str(sync.config)])
    assert "HTTP 400" in status.out  # the failure is kept, masked
    token = base64.b64encode(f"{ECHO_USER}:{fk.CALDAV_PASSWORD}".encode()).decode()
    for text in (run.text, status.text):
        assert token not in text and fk.CALDAV_PASSWORD not in text
        assert "\x1b" not in text and "\x07" not in text
    for path in state_files(sync.state):  # (binary SQLite files: only the secrets are looked for)
        data = path.read_bytes()
        assert token.encode() not in data and fk.CALDAV_PASSWORD.encode() not in data, path
        assert b"\x1b]0;pwned" not in data, path


# -- TLS ----------------------------------------------------------------------------------------------


def test_tls_verification_is_on_by_default(tmp_path: Path) -> None:
    assert CalDAVConfig().verify_tls and SMTPConfig().verify_tls
    path = tmp_path / "plansync.yaml"
    path.write_text(
        "plans: [plan.yaml]\ncaldav: {url: 'https://dav.example.ru/'}\n"
        "mail: {transport: smtp, from: plan@lib39.ru, reply_to: nmo@lib39.ru}\n",
        encoding="utf-8",
    )
    config = load_config(path, {})
    assert config.caldav.verify_tls and config.mail.smtp.verify_tls


@pytest.mark.slow  # runs plansync as a process
def test_turning_caldav_verification_off_warns_on_every_run(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    CalDAVBackend("https://dav.example.ru/", username="u", password="p", verify_tls=False).close()
    CalDAVBackend("https://dav.example.ru/", username="u", password="p").close()
    warnings = [
        r for r in caplog.records if r.levelno == logging.WARNING and "verification is OFF" in r.getMessage()
    ]
    assert len(warnings) == 1 and "caldav.verify_tls: false" in warnings[0].getMessage()

    # end to end: the setting in the config, the warning on stderr of `plansync sync`, each run
    folder = fk.SyncFolder(tmp_path, "https://127.0.0.1:9/", "tls")
    text = folder.config.read_text(encoding="utf-8").replace(
        "  timeout: 2\n", "  timeout: 1\n  verify_tls: false\n"
    )
    folder.config.write_text(text, encoding="utf-8")
    for _ in range(2):
        caplog.clear()
        run = fk.run_cli(["sync", "--config", str(folder.config), "--org", "lib-a"])
        assert run.code == 1 and not run.traceback
        assert any("caldav.verify_tls: false" in r.getMessage() for r in caplog.records)


def test_turning_smtp_verification_off_warns_on_every_run(
    tmp_path: Path, smtp_server: SMTPServer, tls_files: TLSFiles, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    config = fk.digest_folder(tmp_path, smtp_server.port, tls_files.ca)
    text = config.read_text(encoding="utf-8").replace(
        "    timeout: 5\n", "    timeout: 5\n    verify_tls: false\n"
    )
    config.write_text(text, encoding="utf-8")
    for _ in range(2):
        caplog.clear()
        run = fk.run_cli(
            ["digest", "--config", str(config), "--as-of", fk.DIGEST_DAY],
            {fk.SMTP_PASSWORD_ENV: SMTP_PASSWORD},
        )
        assert run.code == 0, run.text
        assert any("mail.smtp.verify_tls: false" in r.getMessage() for r in caplog.records)
    assert len(smtp_server.messages) == 2  # sent once each, the warning notwithstanding


# -- permissions --------------------------------------------------------------------------------------


@pytest.mark.parametrize("first", ["digest", "sync"])
def test_state_folder_is_private_whoever_creates_it(
    tmp_path: Path, server: RunningServer, smtp_server: SMTPServer, tls_files: TLSFiles, first: str
) -> None:
    old = os.umask(0o022)
    try:
        sync = fk.SyncFolder(tmp_path, server.url, f"perm-{first}")
        digest_config = fk.digest_folder(tmp_path / "d", smtp_server.port, tls_files.ca)
        text = digest_config.read_text(encoding="utf-8").replace(
            "state_dir: state", f"state_dir: {sync.state}"
        )
        digest_config.write_text(text, encoding="utf-8")
        commands = [
            ["digest", "--config", str(digest_config), "--as-of", fk.DIGEST_DAY],
            ["sync", "--config", str(sync.config)],
        ]
        for args in commands if first == "digest" else commands[::-1]:
            run = fk.run_cli(args, {fk.SMTP_PASSWORD_ENV: SMTP_PASSWORD})
            assert run.code == 0, run.text
    finally:
        os.umask(old)
    assert stat.S_IMODE(sync.state.stat().st_mode) == 0o700
    names = set()
    for path in sync.state.rglob("*"):
        mode = stat.S_IMODE(path.stat().st_mode)
        names.add(path.name)
        assert mode == (0o700 if path.is_dir() else 0o600), (path, oct(mode))
    assert {"plansync.sqlite3", "sync.lock", "digests.sqlite3", "digests.lock"} <= names
