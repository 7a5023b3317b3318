"""A loopback HTTP server for tests: real sockets on 127.0.0.x, no mocks.

Usage::

    with LoopbackServer() as srv:
        srv.add_file("/feed.xml", data, content_type="application/rss+xml", etag='"v1"')
        srv.add_route("/x", lambda req: Response(200, b"hi"))
        srv.add_behaviour("/slow", "drip", chunk=b"x", interval=0.2, count=50)
        url = srv.url("/feed.xml")
        ...
        assert srv.requests[0].headers["if-none-match"] == '"v1"'

Every behaviour loop is bounded (count/limit/deadline) and the server's
threads are daemons, so a test that forgets to read a response can never hang
the suite: ``close()`` shuts the listener and the handler loops notice
``stopping`` and return.

``host`` may be any 127.0.0.0/8 address (Linux routes the whole block to lo),
which lets tests model several distinct hosts with one machine.
"""

from __future__ import annotations

import gzip
import hashlib
import socket
import struct
import threading
import time
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from email.utils import formatdate, parsedate_to_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

__all__ = [
    "LoopbackServer",
    "RecordedRequest",
    "Request",
    "Response",
    "gzip_bomb",
    "loopback_servers",
]


@dataclass(frozen=True)
class RecordedRequest:
    """One request as the server saw it. ``start``/``end`` are time.monotonic()."""

    method: str
    path: str
    headers: dict[str, str]  # lower-cased names
    start: float
    end: float = 0.0
    host: str = ""


@dataclass
class Request:
    """What a route handler receives."""

    method: str
    path: str  # includes the query string
    headers: dict[str, str]
    body: bytes = b""


@dataclass
class Response:
    """What a route handler returns.

    ``body`` may be bytes or an iterable of byte chunks (sent chunked unless
    ``content_length`` is given, which then is sent as-is even if it lies).
    """

    status: int = 200
    body: bytes | Iterable[bytes] = b""
    headers: dict[str, str] = field(default_factory=dict)
    content_length: int | None = None


Handler = Callable[[Request], Response]


def gzip_bomb(decompressed_size: int = 200 * 1024 * 1024) -> bytes:
    """A small gzip stream that inflates to ``decompressed_size`` zero bytes.

    Built incrementally so the test process never holds the inflated data.
    """
    comp = zlib.compressobj(9, zlib.DEFLATED, 31)
    block = b"\0" * (1024 * 1024)
    out = [comp.compress(block) for _ in range(decompressed_size // len(block))]
    out.append(comp.flush())
    return b"".join(out)


def _http_date(ts: float) -> str:
    return formatdate(ts, usegmt=True)


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        pass  # keep pytest output clean

    def _dispatch(self) -> None:
        owner = self.server.owner
        headers = {k.lower(): v for k, v in self.headers.items()}
        length = int(headers.get("content-length") or 0)
        body = self.rfile.read(length) if length else b""
        start = time.monotonic()
        idx = owner._record_start(self.command, self.path, headers, self.server.host)
        try:
            handler = owner._lookup(self.path)
            if handler is None:
                self._send(Response(404, b"not found", {"Content-Type": "text/plain"}))
            else:
                handler(self, Request(self.command, self.path, headers, body))
        except (BrokenPipeError, ConnectionResetError, TimeoutError, OSError):
            self.close_connection = True
        finally:
            owner._record_end(idx, start)

    do_GET = do_HEAD = do_POST = _dispatch

    # -- writing helpers used by behaviours --------------------------------

    def _send(self, resp: Response) -> None:
        self.send_response(resp.status)
        names = {k.lower() for k in resp.headers}
        for k, v in resp.headers.items():
            self.send_header(k, v)
        if isinstance(resp.body, bytes | bytearray):
            if "content-length" not in names:
                n = resp.content_length if resp.content_length is not None else len(resp.body)
                self.send_header("Content-Length", str(n))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(resp.body)
            return
        if resp.content_length is not None:
            self.send_header("Content-Length", str(resp.content_length))
            self.end_headers()
            sent = 0
            for chunk in resp.body:
                if self.server.owner.stopping.is_set():
                    break
                self.wfile.write(chunk)
                self.wfile.flush()
                sent += len(chunk)
            if sent < resp.content_length:
                # A lying Content-Length: close so the client sees the truncation.
                self.close_connection = True
                self.connection.shutdown(socket.SHUT_WR)
            return
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        for chunk in resp.body:
            if self.server.owner.stopping.is_set():
                self.close_connection = True
                return
            if chunk:
                self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                self.wfile.flush()
        self.wfile.write(b"0\r\n\r\n")

    def reset(self) -> None:
        """Abort the TCP connection with RST (SO_LINGER 0)."""
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.connection.close()
        self.close_connection = True


RawHandler = Callable[[_Handler, Request], None]


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    owner: LoopbackServer
    host: str

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # clients hanging up mid-response is what many tests do on purpose


class LoopbackServer:
    """An HTTP server on ``host`` (default 127.0.0.1) with an ephemeral port."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self.host = host
        self._routes: dict[str, RawHandler] = {}
        self._lock = threading.Lock()
        self._requests: list[RecordedRequest] = []
        self.stopping = threading.Event()
        self._httpd = _Server((host, port), _Handler)
        self._httpd.owner = self
        self._httpd.host = host
        self.port: int = self._httpd.server_address[1]
        self._thread: threading.Thread | None = None

    # -- lifecycle -----------------------------------------------------------

    def start(self) -> LoopbackServer:
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def close(self) -> None:
        self.stopping.set()
        self._httpd.shutdown()
        self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> LoopbackServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- addressing and log --------------------------------------------------

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def url(self, path: str = "/") -> str:
        return self.base_url + path

    @property
    def requests(self) -> list[RecordedRequest]:
        with self._lock:
            return list(self._requests)

    def requests_for(self, path: str) -> list[RecordedRequest]:
        return [r for r in self.requests if r.path == path]

    def clear_log(self) -> None:
        with self._lock:
            self._requests.clear()

    def _record_start(self, method: str, path: str, headers: dict[str, str], host: str) -> int:
        with self._lock:
            self._requests.append(RecordedRequest(method, path, headers, time.monotonic(), 0, host))
            return len(self._requests) - 1

    def _record_end(self, idx: int, start: float) -> None:
        with self._lock:
            if idx < len(self._requests):
                r = self._requests[idx]
                self._requests[idx] = RecordedRequest(
                    r.method, r.path, r.headers, r.start, time.monotonic(), r.host
                )

    def _lookup(self, path: str) -> RawHandler | None:
        with self._lock:
            handler = self._routes.get(path)
            if handler is None:
                handler = self._routes.get(path.split("?", 1)[0])
            return handler

    # -- routes ----------------------------------------------------------------

    def add_raw(self, path: str, handler: RawHandler) -> None:
        """Register a handler that writes to the socket itself (for odd behaviours)."""
        with self._lock:
            self._routes[path] = handler

    def add_route(self, path: str, handler: Handler) -> None:
        """Register ``handler(Request) -> Response``."""
        self.add_raw(path, lambda h, req: h._send(handler(req)))

    def add_file(
        self,
        path: str,
        body: bytes,
        *,
        content_type: str = "application/octet-stream",
        headers: dict[str, str] | None = None,
        status: int = 200,
        etag: str | None = None,
        last_modified: float | None = None,
        encoding: str | None = None,
    ) -> None:
        """Serve fixed bytes, honouring If-None-Match / If-Modified-Since with 304.

        ``etag=""`` derives a strong ETag from the body hash. ``encoding`` is
        "gzip", "deflate" or "br": the body is compressed on the wire and
        Content-Encoding set. ``last_modified`` is a Unix timestamp.
        """
        if etag == "":
            etag = '"' + hashlib.sha256(body).hexdigest()[:16] + '"'
        wire = _encode(body, encoding)
        extra = {"Content-Type": content_type, **(headers or {})}
        if encoding:
            extra["Content-Encoding"] = encoding
        if etag:
            extra["ETag"] = etag
        if last_modified is not None:
            extra["Last-Modified"] = _http_date(last_modified)

        def handle(h: _Handler, req: Request) -> None:
            if status == 200 and _not_modified(req.headers, etag, last_modified):
                validators = {k: v for k, v in extra.items() if k in ("ETag", "Last-Modified")}
                h._send(Response(304, b"", validators))
                return
            h._send(Response(status, wire, dict(extra)))

        self.add_raw(path, handle)

    def add_behaviour(self, path: str, kind: str, **opts: Any) -> None:
        """Register one of the built-in misbehaviours.

        kinds and options:
        - ``status``: code=503, body=b"", headers={} (e.g. {"Retry-After": "120"})
        - ``delay``: seconds=2.0, then serve body/content_type (a slow first byte)
        - ``drip``: chunk=b"<", interval=0.1, count=100, content_type (slow body, chunked)
        - ``reset``: RST the connection before any response byte
        - ``reset_mid``: send headers and part of a body (``body``), then RST
        - ``endless``: chunked body of ``chunk`` (64 KiB) repeated up to ``limit`` bytes
          (default 1 GiB) or until the server stops
        - ``huge``: Content-Length ``size`` (default 1 GiB) body streamed in 64 KiB blocks
        - ``gzip_bomb``: Content-Encoding gzip, inflating to ``size`` (default 200 MiB)
        - ``redirect``: to=URL-or-path, code=302
        - ``redirect_loop``: /path -> /path?n=1 -> ... (``count`` hops, default endless,
          with ``cycle`` > 0: cycles back to path after that many hops)
        - ``truncated``: Content-Length larger than the body actually sent
        """
        ctype = opts.get("content_type", "application/rss+xml")
        if kind == "status":
            resp = Response(opts.get("code", 503), opts.get("body", b""), opts.get("headers", {}))
            self.add_route(path, lambda req: resp)
        elif kind == "delay":
            seconds = float(opts.get("seconds", 2.0))
            body = opts.get("body", b"<rss/>")

            def delayed(h: _Handler, req: Request) -> None:
                self.stopping.wait(seconds)
                h._send(Response(200, body, {"Content-Type": ctype}))

            self.add_raw(path, delayed)
        elif kind == "drip":
            chunk, interval = opts.get("chunk", b"<"), float(opts.get("interval", 0.1))
            count = int(opts.get("count", 100))

            def drip() -> Iterator[bytes]:
                for _ in range(count):
                    yield chunk
                    if self.stopping.wait(interval):
                        return

            self.add_route(path, lambda req: Response(200, drip(), {"Content-Type": ctype}))
        elif kind == "reset":
            self.add_raw(path, lambda h, req: h.reset())
        elif kind == "reset_mid":
            part = opts.get("body", b"<rss><channel><title>x")

            def reset_mid(h: _Handler, req: Request) -> None:
                h.send_response(200)
                h.send_header("Content-Type", ctype)
                h.send_header("Content-Length", str(len(part) * 10))
                h.end_headers()
                h.wfile.write(part)
                h.wfile.flush()
                h.reset()

            self.add_raw(path, reset_mid)
        elif kind == "endless":
            block = opts.get("chunk", b"<item>" + b"x" * 65530)
            limit = int(opts.get("limit", 1 << 30))

            def endless() -> Iterator[bytes]:
                sent = 0
                while sent < limit and not self.stopping.is_set():
                    yield block
                    sent += len(block)

            self.add_route(path, lambda req: Response(200, endless(), {"Content-Type": ctype}))
        elif kind == "huge":
            size = int(opts.get("size", 1 << 30))
            blk = b"a" * 65536

            def huge() -> Iterator[bytes]:
                for _ in range(size // len(blk)):
                    yield blk

            self.add_route(
                path,
                lambda req: Response(200, huge(), {"Content-Type": ctype}, content_length=size),
            )
        elif kind == "gzip_bomb":
            bomb = gzip_bomb(int(opts.get("size", 200 * 1024 * 1024)))
            hdrs = {"Content-Type": ctype, "Content-Encoding": "gzip"}
            self.add_route(path, lambda req: Response(200, bomb, hdrs))
        elif kind == "redirect":
            target, code = opts["to"], int(opts.get("code", 302))
            self.add_route(path, lambda req: Response(code, b"", {"Location": target}))
        elif kind == "redirect_loop":
            cycle = int(opts.get("cycle", 0))

            def loop(req: Request) -> Response:
                n = int(req.path.rsplit("n=", 1)[1]) if "n=" in req.path else 0
                nxt = path if cycle and n + 1 >= cycle else f"{path}?n={n + 1}"
                return Response(302, b"", {"Location": nxt})

            self.add_route(path, loop)
        elif kind == "truncated":
            body = opts.get("body", b"<rss><channel><title>cut")
            self.add_route(
                path,
                lambda req: Response(
                    200, iter([body]), {"Content-Type": ctype}, content_length=len(body) + 1000
                ),
            )
        else:
            raise ValueError(f"unknown behaviour {kind!r}")


def _encode(body: bytes, encoding: str | None) -> bytes:
    if encoding is None:
        return body
    if encoding == "gzip":
        return gzip.compress(body)
    if encoding == "deflate":
        return zlib.compress(body)
    if encoding == "br":
        import brotli

        return bytes(brotli.compress(body))
    raise ValueError(f"unknown encoding {encoding!r}")


def _not_modified(headers: dict[str, str], etag: str | None, last_modified: float | None) -> bool:
    inm = headers.get("if-none-match")
    if inm is not None and etag is not None:
        tags = [t.strip() for t in inm.split(",")]
        return etag in tags or "*" in tags
    ims = headers.get("if-modified-since")
    if ims and last_modified is not None:
        try:
            return parsedate_to_datetime(ims).timestamp() >= int(last_modified)
        except (TypeError, ValueError):
            return False
    return False


class loopback_servers:
    """Context manager for several servers on distinct loopback hosts.

    ``with loopback_servers(3) as (a, b, c):`` gives servers on 127.0.0.1,
    127.0.0.2 and 127.0.0.3, i.e. three hosts as far as a client is concerned.
    """

    def __init__(self, n: int, first: int = 1) -> None:
        self._servers = [LoopbackServer(f"127.0.0.{first + i}") for i in range(n)]

    def __enter__(self) -> list[LoopbackServer]:
        for s in self._servers:
            s.start()
        return self._servers

    def __exit__(self, *exc: object) -> None:
        for s in self._servers:
            s.close()
