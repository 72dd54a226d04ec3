"""Real CalDAV servers for the tests: Radicale and Xandikos on 127.0.0.1, each on a free port with its
own temporary storage, behind a WSGI middleware that counts every request.

The count is taken on the server side so a test can assert what actually went over the wire
("a no-op resync costs at most 2 requests per calendar and writes nothing"), whatever the client does.
"""

from __future__ import annotations

import imaplib
import io
import os
import shutil
import socket
import ssl
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from socketserver import ThreadingMixIn
from typing import Any
from urllib.parse import urlsplit
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer

import pytest

from tests.support.faultproxy import FaultConfig, FaultProxy

WRITE_METHODS = frozenset({"PUT", "DELETE", "MKCALENDAR", "MKCOL", "PROPPATCH", "MOVE", "COPY", "POST"})

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


@dataclass
class RequestLog:
    """Every request a server received, as (method, path)."""

    entries: list[tuple[str, str]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, method: str, path: str) -> None:
        with self.lock:
            self.entries.append((method, path))

    def mark(self) -> int:
        with self.lock:
            return len(self.entries)

    def since(self, mark: int) -> list[tuple[str, str]]:
        with self.lock:
            return list(self.entries[mark:])

    def writes_since(self, mark: int) -> list[tuple[str, str]]:
        return [e for e in self.since(mark) if e[0] in WRITE_METHODS]


class _Counting:
    def __init__(self, app: WSGIApp, log: RequestLog) -> None:
        self.app = app
        self.log = log

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        self.log.add(environ["REQUEST_METHOD"], environ.get("PATH_INFO", ""))
        # wsgiref hands over the raw socket, and Xandikos reads its input to EOF: give it a body that ends.
        length = int(environ.get("CONTENT_LENGTH") or 0)
        environ["wsgi.input"] = io.BytesIO(environ["wsgi.input"].read(length) if length > 0 else b"")
        return self.app(environ, start_response)


class _ThreadingServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True
    allow_reuse_address = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@dataclass
class RunningServer:
    name: str
    url: str  # what a client is configured with
    log: RequestLog
    storage: Path
    _server: WSGIServer
    _thread: threading.Thread

    @property
    def port(self) -> int:
        port: int = self._server.server_address[1]
        return port

    def wrap(self, middleware: Callable[[WSGIApp], WSGIApp]) -> None:
        """Put a WSGI middleware in front of the app (behind the request log), e.g. to slow PUTs."""
        app = self._server.get_app()
        assert app is not None
        self._server.set_app(middleware(app))

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


def _serve(
    name: str, app: WSGIApp, path: str, storage: Path, port: int = 0, tls: ssl.SSLContext | None = None
) -> RunningServer:
    log = RequestLog()
    server = _ThreadingServer(("127.0.0.1", port), _QuietHandler)
    if tls is not None:
        server.socket = tls.wrap_socket(server.socket, server_side=True)
    server.set_app(_Counting(app, log))
    port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, name=f"{name}-test-server", daemon=True)
    thread.start()
    scheme = "https" if tls is not None else "http"
    return RunningServer(name, f"{scheme}://127.0.0.1:{port}{path}", log, storage, server, thread)


def start_radicale(
    storage: Path,
    port: int = 0,
    tls: ssl.SSLContext | None = None,
    *,
    users: Mapping[str, str] | None = None,
    mount: Callable[[WSGIApp], WSGIApp] | None = None,
) -> RunningServer:
    """port 0: a free one; give the port of a stopped server to start it again where clients expect it.
    With `tls`, it answers HTTPS only. `users` (name → password): a login is required (htpasswd);
    without, any name is taken. `mount`: a WSGI app put in front of Radicale (e.g. to serve it under a
    path, as tests/support/davical.py does)."""
    import radicale
    import radicale.config

    auth: dict[str, str] = {"type": "none"}
    if users is not None:
        htpasswd = storage.with_name(storage.name + ".htpasswd")
        htpasswd.write_text("".join(f"{u}:{p}\n" for u, p in users.items()), encoding="utf-8")
        auth = {"type": "htpasswd", "htpasswd_filename": str(htpasswd), "htpasswd_encryption": "plain"}
    configuration = radicale.config.load()  # no files: never a stray system config
    configuration.update(
        {
            "auth": auth,
            "rights": {"type": "owner_only"},
            "storage": {"filesystem_folder": str(storage)},
            "logging": {"level": "warning", "mask_passwords": "True"},
        },
        "plansync tests",
    )
    app: WSGIApp = radicale.Application(configuration)
    return _serve("radicale", mount(app) if mount is not None else app, "/", storage, port, tls)


def start_xandikos(storage: Path, port: int = 0, *, strict: bool = True) -> RunningServer:
    """`strict=False`: Xandikos stores whatever a client PUTs, malformed iCalendar included, as many
    servers do."""
    from xandikos.web import SingleUserFilesystemBackend, XandikosApp

    backend = SingleUserFilesystemBackend(str(storage))
    backend.create_principal("/user/", create_defaults=False)
    app = XandikosApp(backend, current_user_principal="/user/", strict=strict)
    return _serve("xandikos", app.handle_wsgi_request, "/", storage, port)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@pytest.fixture(scope="module")
def radicale(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    server = start_radicale(tmp_path_factory.mktemp("radicale"))
    yield server
    server.stop()


@pytest.fixture(scope="module")
def lenient_xandikos(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    server = start_xandikos(tmp_path_factory.mktemp("xandikos-lenient"), strict=False)
    yield server
    server.stop()


@pytest.fixture(scope="module")
def xandikos(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    server = start_xandikos(tmp_path_factory.mktemp("xandikos"))
    yield server
    server.stop()


# -- servers run as processes ---------------------------------------------------------------------------


class FileRequestLog:
    """The request log a server process appends to, one "METHOD /path" a line."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def _entries(self) -> list[tuple[str, str]]:
        if not self.path.exists():
            return []
        lines = self.path.read_text(encoding="utf-8").splitlines()
        return [(m, p) for m, _, p in (line.partition(" ") for line in lines)]

    def mark(self) -> int:
        return len(self._entries())

    def since(self, mark: int) -> list[tuple[str, str]]:
        return self._entries()[mark:]

    def writes_since(self, mark: int) -> list[tuple[str, str]]:
        return [e for e in self.since(mark) if e[0] in WRITE_METHODS]


@dataclass
class ServerProcess:
    name: str
    url: str
    log: FileRequestLog | ProxyRequestLog
    storage: Path
    username: str
    password: str
    process: subprocess.Popen[bytes]

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


SABREDAV_SCRIPT = Path(__file__).with_name("sabredav_server.php")
SABREDAV_LIBRARY = Path("/usr/share/php/Sabre/autoload.php")


def start_sabredav(
    storage: Path,
    auth: str,
    username: str = "alice",
    password: str = "sabre-secret",
    *,
    php_warning: bool = False,
) -> ServerProcess:
    """SabreDAV 1.8 (Debian's php-sabre-dav) on its PDO SQLite backends under `php -S`, with one user who
    logs in with `auth` ("basic" or "digest"). `php_warning`: PHP shows its warnings (display_errors on,
    as on a misconfigured server) and prints one before every answer."""
    if shutil.which("php") is None or not SABREDAV_LIBRARY.exists():
        pytest.skip("SabreDAV is not installed (apt-get install php-cli php-sqlite3 php-sabre-dav)")
    port = free_port()
    env = {
        **os.environ,
        "SABRE_DB": str(storage / "sabre.sqlite"),
        "SABRE_AUTH": auth,
        "SABRE_USER": username,
        "SABRE_PASSWORD": password,
        "SABRE_LOG": str(storage / "requests.log"),
    }
    shown = ("-d", "display_errors=1", "-d", "html_errors=1", "-d", "output_buffering=4096")
    if php_warning:
        env["SABRE_PHP_WARNING"] = "1"
    process = subprocess.Popen(
        [
            "php",
            *(shown if php_warning else ()),
            "-d",
            "include_path=.:/usr/share/php",
            "-S",
            f"127.0.0.1:{port}",
            "-t",
            str(storage),
            str(SABREDAV_SCRIPT),
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    _wait_listening(port, process)
    return ServerProcess(
        f"sabredav-{auth}",
        f"http://127.0.0.1:{port}/",
        FileRequestLog(storage / "requests.log"),
        storage,
        username,
        password,
        process,
    )


def _wait_listening(port: int, process: subprocess.Popen[bytes], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server process ended at start with status {process.returncode}")
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    process.kill()
    raise RuntimeError(f"the server did not listen on 127.0.0.1:{port} within {timeout:.0f} s")


@pytest.fixture(scope="module")
def sabredav_basic(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    server = start_sabredav(tmp_path_factory.mktemp("sabredav-basic"), "basic")
    yield server
    server.stop()


@pytest.fixture(scope="module")
def sabredav_digest(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    server = start_sabredav(tmp_path_factory.mktemp("sabredav-digest"), "digest")
    yield server
    server.stop()


# -- Cyrus IMAP with CalDAV ------------------------------------------------------------------------------

CYRUS_MASTER = Path("/usr/sbin/cyrmaster")
CYRUS_HTTPD = Path("/usr/lib/cyrus/bin/httpd")


class ProxyRequestLog:
    """The requests a FaultProxy (faults off) forwarded, in the order it received them."""

    def __init__(self, proxy: FaultProxy) -> None:
        self.proxy = proxy

    def mark(self) -> int:
        return len(self.proxy.log)

    def since(self, mark: int) -> list[tuple[str, str]]:
        return [(method, urlsplit(path).path) for _, method, path, _ in self.proxy.log[mark:]]

    def writes_since(self, mark: int) -> list[tuple[str, str]]:
        return [e for e in self.since(mark) if e[0] in WRITE_METHODS]


def start_cyrus(username: str = "alice", password: str = "cyrus-secret") -> CyrusServer:
    """Cyrus IMAP 3.6 with its CalDAV module on 127.0.0.1, its config, databases and spool in a temporary
    folder, one user (made over IMAP by an admin), behind a proxy that logs the requests. Cyrus will not
    run as root: it runs as the `cyrus` user the Debian package makes, so it needs root to start."""
    missing = [p for p in (CYRUS_MASTER, CYRUS_HTTPD) if not p.exists()] or (
        ["saslpasswd2"] if shutil.which("saslpasswd2") is None else []
    )
    if missing:
        pytest.skip("Cyrus is not installed (apt-get install cyrus-imapd cyrus-caldav sasl2-bin)")
    if os.geteuid() != 0 or shutil.which("setpriv") is None:
        pytest.skip("Cyrus runs as the cyrus user: starting it needs root (CI runs the tests as root)")
    base = Path(tempfile.mkdtemp(prefix="plansync-cyrus-"))  # not under pytest's root-only folder
    base.chmod(0o755)
    conf, run = base / "conf", base / "run"
    for sub in (conf / "db", conf / "socket", base / "spool", run / "socket"):
        sub.mkdir(parents=True)
    http_port, imap_port = free_port(), free_port()
    config = base / "imapd.conf"
    config.write_text(
        f"configdirectory: {conf}\nproc_path: {run}/proc\nmboxname_lockpath: {run}/lock\n"
        f"defaultpartition: default\npartition-default: {base}/spool\nservername: 127.0.0.1\n"
        "admins: admin\nhttpmodules: caldav\nallowplaintext: yes\nsasl_pwcheck_method: auxprop\n"
        f"sasl_auxprop_plugin: sasldb\nsasl_sasldb_path: {base}/sasldb2\nsasl_mech_list: PLAIN\n"
        f"lmtpsocket: {run}/socket/lmtp\nidlesocket: {run}/socket/idle\nnotifysocket: {run}/socket/notify\n"
        "syslog_prefix: plansync-test-cyrus\ncaldav_create_default: no\n",
        encoding="utf-8",
    )
    services = base / "cyrus.conf"
    services.write_text(
        f'START {{\n  recover cmd="ctl_cyrusdb -C {config} -r"\n}}\nSERVICES {{\n'
        f'  imap cmd="imapd -C {config}" listen="127.0.0.1:{imap_port}" prefork=0\n'
        f'  http cmd="httpd -C {config}" listen="127.0.0.1:{http_port}" prefork=0\n}}\n'
        "EVENTS {\n}\nDAEMON {\n}\n",
        encoding="utf-8",
    )
    admin_password = "cyrus-admin-secret"
    _sasl_user(base, "admin", admin_password)
    for path in (base, *base.rglob("*")):
        shutil.chown(path, "cyrus", "mail")
    process = subprocess.Popen(
        [
            *("setpriv", "--reuid=cyrus", "--regid=mail", "--init-groups"),
            *(str(CYRUS_MASTER), "-C", str(config), "-M", str(services), "-D", "-p", str(run / "master.pid")),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    proxy = FaultProxy(f"http://127.0.0.1:{http_port}/", FaultConfig(rate=0.0)).start()
    server = CyrusServer(
        "cyrus",
        f"{proxy.url}.well-known/caldav",
        ProxyRequestLog(proxy),
        base,
        username,
        password,
        process,
        imap_port,
        admin_password,
        proxy,
    )
    try:
        _wait_listening(imap_port, process)
        _wait_listening(http_port, process)
        server.add_user(username, password)
    except BaseException:
        server.stop()
        shutil.rmtree(base, ignore_errors=True)
        raise
    return server


@dataclass
class CyrusServer(ServerProcess):
    imap_port: int
    admin_password: str
    proxy: FaultProxy

    def stop(self) -> None:
        self.proxy.stop()
        super().stop()

    def add_user(self, username: str, password: str) -> None:
        """A new account (Cyrus keeps a UID once per account: a test that reuses UIDs needs its own)."""
        _sasl_user(self.storage, username, password)
        shutil.chown(self.storage / "sasldb2", "cyrus", "mail")
        imap = imaplib.IMAP4("127.0.0.1", self.imap_port, timeout=10)
        try:
            imap.login("admin", self.admin_password)
            status, _ = imap.create(f"user/{username}")  # the account: its calendar home comes with it
        finally:
            imap.logout()
        assert status == "OK", status


def _sasl_user(base: Path, username: str, password: str) -> None:
    subprocess.run(
        ["saslpasswd2", "-f", str(base / "sasldb2"), "-c", "-p", "-u", "127.0.0.1", username],
        input=password.encode(),
        check=True,
        capture_output=True,
        timeout=30,
    )


@pytest.fixture(scope="module")
def cyrus() -> Iterator[CyrusServer]:
    server = start_cyrus()
    yield server
    server.stop()
    shutil.rmtree(server.storage, ignore_errors=True)
