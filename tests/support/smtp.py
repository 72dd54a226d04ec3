"""A real SMTP server for tests: aiosmtpd on 127.0.0.1 with STARTTLS (or implicit TLS) and AUTH, or a plain
relay with neither (`relay`).

Certificates are made per test session with the `openssl` command line: a test CA that the client
is told to trust (mail.smtp.ca_file) and a server certificate for 127.0.0.1 signed by it; and a
second, "rogue" CA nobody trusts, to prove that verification is on.
Import the fixtures explicitly: `from tests.support.smtp import smtp_server, tls_files  # noqa: F401`.
"""

from __future__ import annotations

import socket
import ssl
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

USER = "plansync"
PASSWORD = "s3cret-пароль"  # non-ASCII on purpose: AUTH must carry UTF-8


@dataclass(frozen=True)
class TLSFiles:
    ca: Path  # the CA certificate a client must trust
    cert: Path  # the server's certificate chain
    key: Path


def make_certificates(folder: Path, common_name: str) -> TLSFiles:
    """A CA and a server certificate for 127.0.0.1/localhost signed by it (EC P-256, two days)."""
    folder.mkdir(parents=True, exist_ok=True)

    def openssl(*args: str) -> None:
        subprocess.run(["openssl", *args], check=True, capture_output=True, cwd=folder, timeout=30)

    ec = ("-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes")
    openssl("req", "-x509", *ec, "-keyout", "ca.key", "-out", "ca.pem", "-days", "2",
            "-subj", f"/CN={common_name} CA",
            "-addext", "basicConstraints=critical,CA:TRUE",
            "-addext", "keyUsage=critical,keyCertSign,cRLSign")  # fmt: skip
    openssl("req", *ec, "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=127.0.0.1")
    (folder / "server.ext").write_text(
        "subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=critical,CA:FALSE\n"
        "keyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n"
        "subjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid,issuer\n"
    )
    openssl("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
            "-out", "server.pem", "-days", "2", "-extfile", "server.ext")  # fmt: skip
    return TLSFiles(folder / "ca.pem", folder / "server.pem", folder / "server.key")


@dataclass(frozen=True)
class Received:
    mail_from: str
    rcpt_tos: tuple[str, ...]
    data: bytes
    authenticated: bool
    tls: bool


@dataclass
class Recorder:
    """aiosmtpd handler: keeps every accepted message; `replies` scripts failures for the next DATAs."""

    messages: list[Received] = field(default_factory=list)
    replies: list[str] = field(default_factory=list)  # e.g. "451 4.3.0 Try again later"
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self.lock:
            if self.replies:
                return self.replies.pop(0)
            self.messages.append(
                Received(
                    envelope.mail_from,
                    tuple(envelope.rcpt_tos),
                    bytes(envelope.original_content or envelope.content),
                    bool(session.authenticated),
                    server.transport.get_extra_info("ssl_object") is not None,
                )
            )
        return "250 2.0.0 OK: queued"


def _authenticator(server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any) -> AuthResult:
    ok = (
        isinstance(auth_data, LoginPassword)
        and auth_data.login == USER.encode()
        and auth_data.password == PASSWORD.encode()
    )
    return AuthResult(success=ok, handled=False)  # handled=True would mean "I answered already"


@dataclass
class SMTPServer:
    host: str
    port: int
    security: str
    recorder: Recorder
    controller: Controller

    @property
    def messages(self) -> list[Received]:
        return self.recorder.messages


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _server_context(files: TLSFiles) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(files.cert, files.key)
    return context


def start_server(
    files: TLSFiles, security: str = "starttls", port: int | None = None, recorder: Recorder | None = None
) -> SMTPServer:
    """security: starttls (required before AUTH and MAIL) or tls (implicit TLS on connect).
    port: None for a free one; the port of a stopped server to start it again where clients expect it.
    recorder: the handler (a Recorder subclass can hold up or script DATA); a fresh Recorder by default."""
    recorder = recorder if recorder is not None else Recorder()
    context = _server_context(files)
    kwargs: dict[str, Any] = {
        "authenticator": _authenticator,
        "auth_required": True,
        "auth_require_tls": True,
    }
    if security == "tls":
        kwargs["ssl_context"] = context
        kwargs["auth_require_tls"] = (
            False  # aiosmtpd only knows STARTTLS as TLS; this one is TLS from the start
        )
    else:
        kwargs["tls_context"] = context
        kwargs["require_starttls"] = True
    controller = Controller(
        recorder, hostname="127.0.0.1", port=port or free_port(), ready_timeout=10, **kwargs
    )
    controller.start()
    return SMTPServer("127.0.0.1", controller.port, security, recorder, controller)


def start_relay(recorder: Recorder | None = None) -> SMTPServer:
    """A plain relay as many offices run one on their network: no TLS at all, no login."""
    recorder = recorder if recorder is not None else Recorder()
    controller = Controller(recorder, hostname="127.0.0.1", port=free_port(), ready_timeout=10)
    controller.start()
    return SMTPServer("127.0.0.1", controller.port, "none", recorder, controller)


@pytest.fixture
def relay() -> Iterator[SMTPServer]:
    """A plain relay: no STARTTLS, no AUTH (security `none` is the only setting that works with it)."""
    server = start_relay()
    try:
        yield server
    finally:
        server.controller.stop()


@pytest.fixture(scope="session")
def tls_files(tmp_path_factory: pytest.TempPathFactory) -> TLSFiles:
    return make_certificates(tmp_path_factory.mktemp("tls"), "plansync test")


@pytest.fixture(scope="session")
def rogue_tls_files(tmp_path_factory: pytest.TempPathFactory) -> TLSFiles:
    return make_certificates(tmp_path_factory.mktemp("rogue-tls"), "untrusted")


@pytest.fixture
def smtp_server(tls_files: TLSFiles) -> Iterator[SMTPServer]:
    """STARTTLS required, AUTH required, certificate signed by `tls_files.ca`."""
    server = start_server(tls_files, "starttls")
    try:
        yield server
    finally:
        server.controller.stop()


@pytest.fixture
def smtps_server(tls_files: TLSFiles) -> Iterator[SMTPServer]:
    """Implicit TLS (port 465 style), AUTH required."""
    server = start_server(tls_files, "tls")
    try:
        yield server
    finally:
        server.controller.stop()


@pytest.fixture
def rogue_smtp_server(rogue_tls_files: TLSFiles) -> Iterator[SMTPServer]:
    """STARTTLS with a certificate from a CA the client does not trust."""
    server = start_server(rogue_tls_files, "starttls")
    try:
        yield server
    finally:
        server.controller.stop()


@pytest.fixture
def silent_server() -> Iterator[int]:
    """A port that accepts connections and never says a word: a hanging SMTP server."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(5)
    port: int = listener.getsockname()[1]
    try:
        yield port
    finally:
        listener.close()
