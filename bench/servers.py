"""CalDAV servers for the benchmark, each a separate process on 127.0.0.1, behind a counting proxy.

    with running_server("radicale", folder) as server:   # server.url is the proxy's URL
        ... run a tool against server.url ...
        server.proxy.snapshot()                          # requests, bytes up and down so far

The server process (`python -m bench.servers KIND PORT STORAGE`) serves Radicale's WSGI application
through `KeepAliveServer` below: a threaded HTTP/1.1 server that keeps connections open. Radicale's own
server (wsgiref) speaks HTTP/1.0 and closes every connection, which would make every client pay a TCP
handshake per request and hide the difference between a keep-alive client and a connection-per-request
one. Xandikos runs on its own aiohttp server, as its `xandikos` command runs it (keep-alive included).

The proxy is transparent at the TCP level: one upstream connection per client connection, bytes copied
as they come, and a small HTTP parser on the client's side that counts requests (method by method). It
closes the client's connection when the server closes its own, so a client sees exactly the server's
keep-alive behaviour.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import io
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

KINDS = ("radicale", "xandikos")
START_TIMEOUT = 30.0
WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


# -- the server process -------------------------------------------------------------------------------


class _KeepAliveHandler(BaseHTTPRequestHandler):
    """A WSGI gateway on http.server with HTTP/1.1 keep-alive (http.server loops over requests on one
    connection when protocol_version is HTTP/1.1 and every response has a Content-Length)."""

    protocol_version = "HTTP/1.1"
    # TCP_NODELAY, as production front ends set it: without it a response written in two parts waits
    # for the client's delayed ACK (~40 ms) before its second part, whatever the application did.
    disable_nagle_algorithm = True
    server: KeepAliveServer

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _handle_any(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length > 0 else b""
        path, _, query = self.path.partition("?")
        environ: dict[str, Any] = {
            "REQUEST_METHOD": self.command,
            "SCRIPT_NAME": "",
            "PATH_INFO": _unquote_path(path),
            "QUERY_STRING": query,
            "SERVER_NAME": "127.0.0.1",
            "SERVER_PORT": str(self.server.server_address[1]),
            "SERVER_PROTOCOL": self.request_version,
            "REMOTE_ADDR": self.client_address[0],
            "CONTENT_LENGTH": str(length) if length else "",
            "CONTENT_TYPE": self.headers.get("Content-Type", ""),
            "wsgi.version": (1, 0),
            "wsgi.url_scheme": "http",
            "wsgi.input": io.BytesIO(body),  # bounded: Xandikos reads its input to EOF
            "wsgi.errors": sys.stderr,
            "wsgi.multithread": True,
            "wsgi.multiprocess": False,
            "wsgi.run_once": False,
        }
        for key, value in self.headers.items():
            name = "HTTP_" + key.upper().replace("-", "_")
            if name not in ("HTTP_CONTENT_LENGTH", "HTTP_CONTENT_TYPE"):
                environ[name] = value
        started: list[Any] = []

        def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            started[:] = [status, headers]
            return lambda data: None

        chunks = self.server.app(environ, start_response)
        try:
            payload = b"".join(chunks)
        finally:
            close = getattr(chunks, "close", None)
            if close is not None:
                close()
        status, headers = started
        code, _, reason = status.partition(" ")
        self.send_response(int(code), reason)
        for key, value in headers:
            if key.lower() not in ("content-length", "connection", "transfer-encoding"):
                self.send_header(key, value)
        if self.command != "HEAD":
            self.send_header("Content-Length", str(len(payload)))
        # Head and body in one write: one segment for a small response, as a real server sends it.
        self._headers_buffer.append(b"\r\n")
        if self.command != "HEAD" and payload:
            self._headers_buffer.append(payload)
        self.flush_headers()

    def __getattr__(self, name: str) -> Any:
        if name.startswith("do_"):
            return self._handle_any
        raise AttributeError(name)


def _unquote_path(path: str) -> str:
    from urllib.parse import unquote

    # PEP 3333: PATH_INFO is bytes-as-latin-1.
    return unquote(path, encoding="latin-1")


class KeepAliveServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], app: WSGIApp) -> None:
        super().__init__(address, _KeepAliveHandler)
        self.app = app


def radicale_app(storage: Path) -> WSGIApp:
    import logging

    import radicale
    import radicale.config

    configuration = radicale.config.load()  # no files: never a stray system config
    configuration.update(
        {
            "auth": {"type": "none"},
            "rights": {"type": "owner_only"},
            "storage": {"filesystem_folder": str(storage)},
            "logging": {"level": "warning", "mask_passwords": "True"},
        },
        "plansync benchmark",
    )
    logging.getLogger("radicale").setLevel(logging.ERROR)
    app: WSGIApp = radicale.Application(configuration)
    return app


def serve(kind: str, port: int, storage: Path) -> None:
    """Run in the server process until stdin closes or the process is terminated."""
    if kind not in KINDS:
        raise ValueError(f"unknown server kind {kind!r}; known: {', '.join(KINDS)}")
    storage.mkdir(parents=True, exist_ok=True)
    if kind == "xandikos":
        serve_xandikos_natively(port, storage)
        return
    server = KeepAliveServer(("127.0.0.1", port), radicale_app(storage))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    print("ready", flush=True)
    with contextlib.suppress(KeyboardInterrupt):
        sys.stdin.read()  # the benchmark closes our stdin (or dies): then stop
    server.shutdown()
    server.server_close()


def serve_xandikos_natively(port: int, storage: Path) -> None:
    """Xandikos as its `xandikos` command runs it: its aiohttp handler, one event loop in one thread
    (keep-alive included), without the per-request access log. Through the threaded WSGI front above,
    two requests at a time ran Xandikos's git code in two threads side by side, and the same 2,460 PUTs
    cost the server 15-25% more CPU from two connections than from one; on its own server they cost
    the same (2,000-event first sync: 70.6 / 70.5 s of server CPU for plansync, 72.4 / 64.7 s for the
    PUT loop)."""
    from aiohttp import web
    from xandikos.web import SingleUserFilesystemBackend, XandikosApp

    backend = SingleUserFilesystemBackend(str(storage))
    backend.create_principal("/user/", create_defaults=False)
    xapp = XandikosApp(backend, current_user_principal="/user/", strict=True)

    async def handler(request: web.Request) -> web.StreamResponse:
        response: web.StreamResponse = await xapp.aiohttp_handler(request, "/")
        return response

    async def run() -> None:
        app = web.Application()
        app.router.add_route("*", "/{path_info:.*}", handler)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", port).start()
        print("ready", flush=True)
        # the benchmark closes our stdin (or dies): then stop
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
        await runner.cleanup()

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(run())


# -- the counting proxy -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Traffic:
    requests: int
    bytes_up: int  # client → server
    bytes_down: int  # server → client
    connections: int
    methods: dict[str, int]

    @property
    def bytes(self) -> int:
        return self.bytes_up + self.bytes_down

    def __sub__(self, other: Traffic) -> Traffic:
        methods = collections.Counter(self.methods)
        methods.subtract(other.methods)
        return Traffic(
            self.requests - other.requests,
            self.bytes_up - other.bytes_up,
            self.bytes_down - other.bytes_down,
            self.connections - other.connections,
            {k: v for k, v in methods.items() if v},
        )


class _RequestCounter:
    """Follows the framing of the requests in a client's byte stream (Content-Length or chunked)."""

    def __init__(self, on_request: Callable[[str], None]) -> None:
        self.buffer = bytearray()
        self.body_left = 0
        self.chunked = False
        self.on_request = on_request

    def feed(self, data: bytes) -> None:
        self.buffer += data
        while True:
            if self.body_left:
                take = min(self.body_left, len(self.buffer))
                del self.buffer[:take]
                self.body_left -= take
                if self.body_left:
                    return
                continue
            if self.chunked:
                if not self._chunk():
                    return
                continue
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            head = bytes(self.buffer[:end]).decode("latin-1")
            del self.buffer[: end + 4]
            lines = head.split("\r\n")
            if not lines[0].strip():
                continue
            self.on_request(lines[0].split(" ", 1)[0])
            headers = {k.strip().lower(): v.strip() for k, _, v in (h.partition(":") for h in lines[1:])}
            if "chunked" in headers.get("transfer-encoding", "").lower():
                self.chunked = True
            else:
                self.body_left = int(headers.get("content-length") or 0)

    def _chunk(self) -> bool:
        end = self.buffer.find(b"\r\n")
        if end < 0:
            return False
        size = int(bytes(self.buffer[:end]).split(b";")[0] or b"0", 16)
        if size == 0:
            trailer = self.buffer.find(b"\r\n\r\n", end)
            if trailer < 0:
                return False
            del self.buffer[: trailer + 4]
            self.chunked = False
            return True
        if len(self.buffer) < end + 2 + size + 2:
            return False
        del self.buffer[: end + 2 + size + 2]
        return True


class CountingProxy:
    """A TCP proxy on 127.0.0.1 that counts HTTP requests and bytes both ways; runs in its own thread."""

    def __init__(self, upstream_port: int) -> None:
        self.upstream_port = upstream_port
        self.port = 0
        self._requests = 0
        self._up = 0
        self._down = 0
        self._connections = 0
        self._methods: collections.Counter[str] = collections.Counter()
        self._lock = threading.Lock()
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._server: asyncio.Server | None = None
        self._thread = threading.Thread(target=self._run, name="counting-proxy", daemon=True)

    def start(self) -> None:
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("the counting proxy did not start")

    def stop(self) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=5)

    def snapshot(self) -> Traffic:
        with self._lock:
            return Traffic(self._requests, self._up, self._down, self._connections, dict(self._methods))

    def _count(self, method: str) -> None:
        with self._lock:
            self._requests += 1
            self._methods[method] += 1

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)

        async def begin() -> None:
            self._server = await asyncio.start_server(self._client, "127.0.0.1", 0)
            self.port = self._server.sockets[0].getsockname()[1]

        self._loop.run_until_complete(begin())
        self._ready.set()
        self._loop.run_forever()
        assert self._server is not None
        self._server.close()
        for task in asyncio.all_tasks(self._loop):
            task.cancel()
        with contextlib.suppress(Exception):
            self._loop.run_until_complete(asyncio.sleep(0))
        self._loop.close()

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with self._lock:
            self._connections += 1
        try:
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.upstream_port)
        except OSError:
            writer.close()
            return
        counter = _RequestCounter(self._count)

        async def pump(src: asyncio.StreamReader, dst: asyncio.StreamWriter, upward: bool) -> None:
            try:
                while data := await src.read(65536):
                    with self._lock:
                        if upward:
                            self._up += len(data)
                        else:
                            self._down += len(data)
                    if upward:
                        counter.feed(data)
                    dst.write(data)
                    await dst.drain()
            except (ConnectionError, OSError):
                pass
            finally:
                with contextlib.suppress(Exception):
                    dst.close()

        await asyncio.gather(pump(reader, up_writer, True), pump(up_reader, writer, False))


# -- both together ------------------------------------------------------------------------------------


@dataclass
class RunningServer:
    kind: str
    url: str  # the proxy's URL: what every tool is given
    server_url: str  # the server's own, unproxied
    proxy: CountingProxy
    storage: Path
    process: subprocess.Popen[str]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@contextlib.contextmanager
def running_server(kind: str, folder: Path) -> Iterator[RunningServer]:
    """A fresh server of `kind` with its storage in `folder`, behind a fresh proxy; both stopped after."""
    if kind not in KINDS:
        raise ValueError(f"unknown server {kind!r}; known: {', '.join(KINDS)}")
    storage = folder / f"{kind}-storage"
    port = free_port()
    bench_root = Path(__file__).resolve().parents[1]
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(bench_root), os.environ.get("PYTHONPATH")])),
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "bench.servers", kind, str(port), str(storage)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env=env,
        cwd=bench_root,
    )
    proxy: CountingProxy | None = None
    try:
        assert process.stdout is not None
        deadline = time.monotonic() + START_TIMEOUT
        line = process.stdout.readline()
        if line.strip() != "ready":
            raise RuntimeError(f"the {kind} server did not start (exit status {process.poll()})")
        while not _answers(port):
            if time.monotonic() > deadline:
                raise RuntimeError(f"the {kind} server does not answer on port {port}")
            time.sleep(0.02)
        proxy = CountingProxy(port)
        proxy.start()
        yield RunningServer(
            kind, f"http://127.0.0.1:{proxy.port}/", f"http://127.0.0.1:{port}/", proxy, storage, process
        )
    finally:
        if proxy is not None:
            proxy.stop()
        if process.stdin is not None:
            with contextlib.suppress(OSError):
                process.stdin.close()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if process.stdout is not None:
            process.stdout.close()


def _answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return True
    except OSError:
        return False


if __name__ == "__main__":
    serve(sys.argv[1], int(sys.argv[2]), Path(sys.argv[3]))
