"""HTTP fetching: polite, bounded, and safe against hostile servers.

One :class:`Fetcher` per pass wraps one ``httpx.AsyncClient``. It owns the
pass-scoped state that makes newsmon a good citizen: per-host connection
limits and request spacing, the robots.txt cache, and the DNS pins of the
address policy (see pipeline.net.addresses). Everything it raises is a
:class:`pipeline.errors.FetchError` so callers can record and move on.

Why the body is decoded here instead of by httpx: httpx inflates each network
chunk without an output limit, so a 100 kB gzip chunk may become 100 MB in
one call. We read raw bytes and inflate with ``max_length``, counting as we
go, so memory stays below the configured cap plus one chunk.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import ssl
import time
import zlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from types import TracebackType
from urllib.parse import urljoin

import brotli
import httpcore
import httpx

from pipeline.config import FetchSettings
from pipeline.errors import (
    FetchError,
    FetchTimeout,
    HostBackoff,
    PermanentFetchError,
    ResponseTooLarge,
    RobotsDisallowed,
    TooManyRedirects,
    TransientFetchError,
)
from pipeline.net.addresses import AddressPolicy, PinnedBackend, check_url
from pipeline.net.content import BufferSink, Inflater, check_type, stream_body
from pipeline.net.messages import BodySink, FetchRequest, FetchResult
from pipeline.net.politeness import HostSlot, PoliteSlot, parse_retry_after
from pipeline.net.robots import RobotsRules

KINDS = ("page", "feed", "sitemap")
ROBOTS_MAX_BYTES = 512 * 1024
REDIRECT_CODES = frozenset({301, 302, 303, 307, 308})
_ACCEPT = {
    "page": "text/html,application/xhtml+xml;q=0.9,*/*;q=0.1",
    "feed": "application/rss+xml,application/atom+xml,application/xml;q=0.9,text/xml;q=0.9,"
    "*/*;q=0.1",
    "sitemap": "application/xml,text/xml;q=0.9,*/*;q=0.1",
    "robots": "text/plain,*/*;q=0.1",
}


@functools.cache
def _ssl_context() -> ssl.SSLContext:
    """The TLS client context of every Fetcher in this process.

    Loading the CA bundle costs ~40 ms CPU, and a pass made four (two Fetchers, each
    with the transport's context and the pool's); the context holds no per-connection
    state, so one serves them all.
    """
    return httpx.create_ssl_context(trust_env=False)


@dataclass
class _Hop:
    status: int
    headers: dict[str, str]
    body: bytes
    location: str | None = None
    digest: str | None = None  # sha256 of a body that went to a sink (body is then empty)
    size: int = 0


class Fetcher:
    """Async context manager; ``await fetcher.fetch(FetchRequest(...))``."""

    def __init__(self, settings: FetchSettings) -> None:
        self.settings = settings
        self.user_agent = settings.user_agent + (
            f" contact: {settings.contact}" if settings.contact else ""
        )
        self._policy = AddressPolicy(settings.allow_private_networks, settings.connect_timeout)
        self._client: httpx.AsyncClient | None = None
        self._global = asyncio.Semaphore(max(1, settings.concurrency))
        self._hosts: dict[str, HostSlot] = {}
        self._robots: dict[str, RobotsRules | FetchError] = {}
        self._robots_locks: dict[str, asyncio.Lock] = {}

    async def __aenter__(self) -> Fetcher:
        s = self.settings
        limits = httpx.Limits(
            max_connections=max(1, s.concurrency), max_keepalive_connections=max(1, s.concurrency)
        )
        ssl_context = _ssl_context()
        transport = httpx.AsyncHTTPTransport(verify=ssl_context, limits=limits, trust_env=False)
        # httpx has no public hook for the network backend; swap the pool it
        # built for one that connects only to policy-checked addresses.
        transport._pool = httpcore.AsyncConnectionPool(
            ssl_context=ssl_context,
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=PinnedBackend(self._policy),
        )
        self._client = httpx.AsyncClient(
            transport=transport,
            trust_env=False,
            follow_redirects=False,
            timeout=httpx.Timeout(
                connect=s.connect_timeout,
                read=s.read_timeout,
                write=s.read_timeout,
                pool=s.total_timeout,
            ),
            headers={"User-Agent": self.user_agent},
        )
        return self

    async def __aexit__(
        self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    # -- public ----------------------------------------------------------------

    async def fetch(self, req: FetchRequest) -> FetchResult:
        """Fetch one URL, following redirects; every hop is checked before it is requested.

        Each hop must pass robots.txt (pages only, when respected), the host's back-off and the
        address policy, and waits for its polite slot. Any failure raises a FetchError subclass; a
        304 or an unchanged body returns with ``not_modified``.
        """
        if req.kind not in KINDS:
            raise ValueError(f"unknown fetch kind {req.kind!r}")
        s = self.settings
        cap = s.max_page_bytes if req.kind == "page" else s.max_feed_bytes
        headers = {"Accept": _ACCEPT[req.kind]}
        if req.etag:
            headers["If-None-Match"] = req.etag
        if req.last_modified:
            headers["If-Modified-Since"] = req.last_modified
        url, hop, elapsed = await self._chain(req.url, req.kind, headers, cap, req.sink)
        get = hop.headers.get
        if hop.status == 304:
            return FetchResult(
                url=url,
                status=304,
                headers=hop.headers,
                body=b"",
                not_modified=True,
                content_hash=None,
                elapsed=elapsed,
                etag=get("etag") or req.etag,
                last_modified=get("last-modified") or req.last_modified,
                key=req.key,
            )
        body = hop.body
        if req.kind == "sitemap" and body[:2] == b"\x1f\x8b":  # sitemap.xml.gz served as a file
            try:
                body = Inflater(["gzip"], cap, url).feed(body)
            except zlib.error as exc:
                raise PermanentFetchError(f"corrupt gzip sitemap: {exc}", url=url) from exc
        digest = hop.digest or hashlib.sha256(body).hexdigest()
        return FetchResult(
            url=url,
            status=hop.status,
            headers=hop.headers,
            body=body,
            not_modified=digest == req.previous_hash,
            content_hash=digest,
            elapsed=elapsed,
            etag=get("etag"),
            last_modified=get("last-modified"),
            key=req.key,
            size=hop.size if hop.digest else len(body),
        )

    # -- redirect chain -----------------------------------------------------------

    async def _chain(
        self,
        url: str,
        kind: str,
        headers: dict[str, str],
        cap: int,
        sink: Callable[[str], BodySink] | None = None,
    ) -> tuple[str, _Hop, float]:
        seen: set[str] = set()
        elapsed = 0.0
        for _ in range(self.settings.max_redirects + 1):
            seen.add(url)
            _, host, _ = check_url(url)
            if kind == "page" and self.settings.respect_robots:
                rules = await self._rules_for(url)
                if not rules.allowed(url):
                    raise RobotsDisallowed("robots.txt disallows this URL", url=url)
            self._check_backoff(host, url)
            await self._policy.resolve(url)
            remaining = self.settings.total_timeout - elapsed
            async with self._polite(host):
                start = time.monotonic()
                try:
                    hop = await self._request(url, kind, headers, cap, remaining, sink)
                except TransientFetchError as exc:
                    if exc.status in (429, 503):
                        self._back_off(host, exc.retry_after)
                    raise
                finally:
                    elapsed += time.monotonic() - start
            if hop.location is None:
                return url, hop, elapsed
            nxt = urljoin(url, hop.location.strip())
            if nxt in seen:
                raise TooManyRedirects(f"redirect loop back to {nxt}", url=url, status=hop.status)
            url = nxt
        raise TooManyRedirects(
            f"more than {self.settings.max_redirects} redirects", url=url, status=302
        )

    async def _request(
        self,
        url: str,
        kind: str,
        headers: dict[str, str],
        cap: int,
        budget: float,
        sink: Callable[[str], BodySink] | None = None,
    ) -> _Hop:
        assert self._client is not None, "use Fetcher as an async context manager"
        hdrs = {**headers, "Accept-Encoding": "gzip, deflate, br"}
        try:
            async with asyncio.timeout(max(budget, 0.001)):
                return await self._exchange(url, kind, hdrs, cap, sink)
        except TimeoutError as exc:
            raise FetchTimeout(
                f"total time limit {self.settings.total_timeout:g}s exceeded", url=url
            ) from exc
        except httpx.TimeoutException as exc:
            raise FetchTimeout(f"{type(exc).__name__}: {exc}", url=url) from exc
        except (httpx.InvalidURL, httpx.UnsupportedProtocol) as exc:
            raise PermanentFetchError(f"invalid URL: {exc}", url=url) from exc
        except (httpx.HTTPError, httpx.StreamError, OSError) as exc:
            raise TransientFetchError(f"{type(exc).__name__}: {exc}", url=url) from exc
        except (zlib.error, brotli.error) as exc:
            raise PermanentFetchError(f"corrupt content-encoding: {exc}", url=url) from exc

    async def _exchange(
        self,
        url: str,
        kind: str,
        hdrs: dict[str, str],
        cap: int,
        sink: Callable[[str], BodySink] | None = None,
    ) -> _Hop:
        assert self._client is not None
        async with self._client.stream("GET", url, headers=hdrs) as resp:
            headers = _flat_headers(resp.headers)
            status = resp.status_code
            if status in REDIRECT_CODES and headers.get("location"):
                return _Hop(status, headers, b"", headers["location"])
            if status == 304:
                return _Hop(status, headers, b"")
            if status in (408, 425, 429) or status >= 500:
                raise TransientFetchError(
                    f"HTTP {status}",
                    url=url,
                    status=status,
                    retry_after=parse_retry_after(headers.get("retry-after")),
                )
            if status >= 300 or status < 200:
                raise PermanentFetchError(f"HTTP {status}", url=url, status=status)
            sniff = check_type(kind, headers.get("content-type", ""), url)
            length = headers.get("content-length", "")
            if length.isdigit() and int(length) > cap:
                raise ResponseTooLarge(f"Content-Length {length} exceeds {cap}", url=url)
            inflater = Inflater(headers.get("content-encoding", "").split(","), cap, url)
            out = sink(url) if sink is not None else BufferSink()
            digest, size = await stream_body(
                resp.aiter_raw(), inflater, out, cap, url, sniff, headers
            )
            if isinstance(out, BufferSink):
                return _Hop(status, headers, b"".join(out.chunks))
            return _Hop(status, headers, b"", digest=digest, size=size)

    # -- politeness ----------------------------------------------------------------

    def _slot(self, host: str) -> HostSlot:
        slot = self._hosts.get(host)
        if slot is None:
            slot = HostSlot(
                asyncio.Semaphore(max(1, self.settings.per_host_connections)),
                asyncio.Lock(),
                max(0.0, self.settings.per_host_delay),
            )
            self._hosts[host] = slot
        return slot

    def _back_off(self, host: str, retry_after: float | None) -> None:
        s = self.settings
        self._slot(host).back_off(
            retry_after,
            asyncio.get_running_loop().time(),
            max_delay=s.max_host_delay,
            max_wait=s.max_retry_after,
        )

    def _check_backoff(self, host: str, url: str) -> None:
        """Refuse to send while the host's Retry-After lasts longer than a short wait."""
        slot = self._hosts.get(host)
        if slot is None:
            return
        left = slot.blocked_until - asyncio.get_running_loop().time()
        if left > self.settings.max_host_delay:
            raise HostBackoff(f"{host} asked to wait {left:.0f} s more", url=url, retry_after=left)

    def _polite(self, host: str) -> PoliteSlot:
        return PoliteSlot(self._slot(host), self._global)

    # -- robots.txt ------------------------------------------------------------------

    async def _rules_for(self, url: str) -> RobotsRules:
        scheme, host, port = check_url(url)
        origin = f"{scheme}://{host}:{port}"
        lock = self._robots_locks.setdefault(origin, asyncio.Lock())
        async with lock:
            cached = self._robots.get(origin)
            if cached is None:
                cached = await self._load_robots(origin)
                self._robots[origin] = cached
        if isinstance(cached, FetchError):
            raise TransientFetchError(f"robots.txt unavailable: {cached}", url=url)
        return cached

    async def _load_robots(self, origin: str) -> RobotsRules | FetchError:
        try:
            _, hop, _ = await self._chain(
                origin + "/robots.txt", "robots", {"Accept": _ACCEPT["robots"]}, ROBOTS_MAX_BYTES
            )
        except TransientFetchError as exc:
            return exc  # RFC 9309: unreachable -> assume disallowed for now
        except FetchError:
            return RobotsRules.allow_all()  # 4xx, too large, refused redirect: no usable rules
        rules = RobotsRules.parse(hop.body.decode("utf-8", "replace"), self.user_agent)
        if rules.crawl_delay is not None:
            _, host, _ = check_url(origin)
            slot = self._slot(host)
            slot.delay = max(slot.delay, rules.crawl_delay)
        return rules


def _flat_headers(headers: httpx.Headers) -> dict[str, str]:
    out: dict[str, str] = {}
    for k, v in headers.multi_items():
        k = k.lower()
        out[k] = f"{out[k]}, {v}" if k in out else v
    return out


async def afetch_all(
    settings: FetchSettings, requests: Sequence[FetchRequest]
) -> list[FetchResult | FetchError]:
    """Fetch all ``requests`` concurrently with one Fetcher; results in request order."""
    async with Fetcher(settings) as fetcher:

        async def one(r: FetchRequest) -> FetchResult | FetchError:
            try:
                return await fetcher.fetch(r)
            except FetchError as exc:
                return exc

        return list(await asyncio.gather(*(one(r) for r in requests)))


def fetch_all(
    settings: FetchSettings, requests: Sequence[FetchRequest]
) -> list[FetchResult | FetchError]:
    """Synchronous entry point (Airflow tasks, CLI). Must not be called inside a running loop."""
    return asyncio.run(afetch_all(settings, requests))


def header(headers: Mapping[str, str], name: str) -> str | None:
    """Case-insensitive header lookup for callers holding a FetchResult.headers mapping."""
    lname = name.lower()
    for k, v in headers.items():
        if k.lower() == lname:
            return v
    return None
