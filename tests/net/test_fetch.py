"""pipeline.net.client over loopback servers: conditional GET, caps, hostile servers, politeness."""

from __future__ import annotations

import asyncio
import gzip
import ipaddress
import itertools
from collections.abc import Iterator
from dataclasses import replace

import pytest

from pipeline.config import FetchSettings
from pipeline.errors import (
    BlockedAddress,
    FetchError,
    FetchTimeout,
    PermanentFetchError,
    ResponseTooLarge,
    RobotsDisallowed,
    TooManyRedirects,
    TransientFetchError,
    UnsupportedContent,
)
from pipeline.net.addresses import AddressPolicy, is_public
from pipeline.net.client import Fetcher, FetchRequest, FetchResult, fetch_all, parse_retry_after
from tests.support import LoopbackServer, loopback_servers
from tests.support.paths import FIXTURES as FIXTURES_DIR

FIXTURES = FIXTURES_DIR / "feeds"
TAGESSCHAU = (FIXTURES / "corss-de" / "tagesschau.xml").read_bytes()
LOOPBACK = (ipaddress.ip_network("127.0.0.0/8"),)
RSS = "application/rss+xml"


@pytest.fixture
def loopback_server() -> Iterator[LoopbackServer]:
    with LoopbackServer() as srv:
        yield srv


def settings(**kw: object) -> FetchSettings:
    base = FetchSettings(
        allow_private_networks=LOOPBACK,
        per_host_delay=0.0,
        total_timeout=5.0,
        read_timeout=5.0,
        connect_timeout=2.0,
    )
    return replace(base, **kw)  # type: ignore[arg-type]


def one(s: FetchSettings, req: FetchRequest) -> FetchResult | FetchError:
    return fetch_all(s, [req])[0]


def test_conditional_get_etag_and_last_modified(loopback_server: LoopbackServer) -> None:
    srv = loopback_server
    srv.add_file("/feed", TAGESSCHAU, content_type=RSS, etag="", last_modified=1_700_000_000)
    first = one(settings(), FetchRequest(srv.url("/feed"), kind="feed"))
    assert isinstance(first, FetchResult) and first.status == 200 and not first.not_modified
    assert first.body == TAGESSCHAU and first.etag and first.last_modified
    second = one(
        settings(),
        FetchRequest(srv.url("/feed"), "feed", etag=first.etag, last_modified=first.last_modified),
    )
    assert isinstance(second, FetchResult)
    assert second.status == 304 and second.not_modified and second.body == b""
    assert second.etag == first.etag and second.last_modified == first.last_modified
    sent = srv.requests[-1].headers
    assert sent["if-none-match"] == first.etag and sent["if-modified-since"] == first.last_modified
    # Only Last-Modified known (server without ETag support of ours): still a 304.
    third = one(
        settings(), FetchRequest(srv.url("/feed"), "feed", last_modified=first.last_modified)
    )
    assert isinstance(third, FetchResult) and third.not_modified


def test_unchanged_body_recognised_by_hash_without_validators(
    loopback_server: LoopbackServer,
) -> None:
    loopback_server.add_file("/feed", TAGESSCHAU, content_type=RSS)
    first = one(settings(), FetchRequest(loopback_server.url("/feed"), "feed"))
    assert isinstance(first, FetchResult) and first.content_hash
    again = one(
        settings(),
        FetchRequest(loopback_server.url("/feed"), "feed", previous_hash=first.content_hash),
    )
    assert isinstance(again, FetchResult) and again.status == 200 and again.not_modified
    changed = one(
        settings(), FetchRequest(loopback_server.url("/feed"), "feed", previous_hash="0" * 64)
    )
    assert isinstance(changed, FetchResult) and not changed.not_modified


@pytest.mark.parametrize("encoding", ["gzip", "deflate", "br"])
def test_content_encodings_are_decoded(loopback_server: LoopbackServer, encoding: str) -> None:
    loopback_server.add_file("/f", TAGESSCHAU, content_type=RSS, encoding=encoding)
    res = one(settings(), FetchRequest(loopback_server.url("/f"), "feed"))
    assert isinstance(res, FetchResult) and res.body == TAGESSCHAU
    assert "br" in loopback_server.requests[0].headers["accept-encoding"]


def test_size_caps(loopback_server: LoopbackServer) -> None:
    srv = loopback_server
    srv.add_file("/big", b"x" * 5000, content_type=RSS)  # honest Content-Length
    srv.add_behaviour("/huge", "huge", size=1 << 30)  # 1 GiB announced and streamed
    srv.add_behaviour("/endless", "endless")  # chunked, no length, never ends
    srv.add_behaviour("/bomb", "gzip_bomb", size=64 * 1024 * 1024)
    srv.add_file("/smallgz", b"y" * 5000, content_type=RSS, encoding="gzip")  # small on wire
    s = settings(max_feed_bytes=4096)
    results = fetch_all(
        s, [FetchRequest(srv.url(p), "feed") for p in ("/big", "/huge", "/endless", "/smallgz")]
    )
    assert all(isinstance(r, ResponseTooLarge) for r in results), results
    bomb = one(settings(max_feed_bytes=1024 * 1024), FetchRequest(srv.url("/bomb"), "feed"))
    assert isinstance(bomb, ResponseTooLarge) and "decoded" in str(bomb)


def test_slow_hosts_time_out_while_others_proceed() -> None:
    with LoopbackServer() as slow, LoopbackServer("127.0.0.2") as fast:
        slow.add_behaviour("/drip", "drip", chunk=b"<", interval=0.2, count=1000)
        slow.add_behaviour("/silent", "delay", seconds=30)
        fast.add_file("/ok", TAGESSCHAU, content_type=RSS)
        s = settings(total_timeout=1.0, read_timeout=10.0)
        drip, silent, ok = fetch_all(
            s,
            [FetchRequest(slow.url(p), "feed") for p in ("/drip", "/silent")]
            + [FetchRequest(fast.url("/ok"), "feed")],
        )
        assert isinstance(drip, FetchTimeout) and drip.transient
        assert isinstance(silent, FetchTimeout)
        assert isinstance(ok, FetchResult) and ok.body == TAGESSCHAU


def test_read_timeout_on_silent_server(loopback_server: LoopbackServer) -> None:
    loopback_server.add_behaviour("/silent", "delay", seconds=30)
    res = one(settings(read_timeout=0.3), FetchRequest(loopback_server.url("/silent"), "feed"))
    assert isinstance(res, FetchTimeout)


def test_resets_and_truncation_are_transient(loopback_server: LoopbackServer) -> None:
    srv = loopback_server
    srv.add_behaviour("/reset", "reset")
    srv.add_behaviour("/reset_mid", "reset_mid")
    srv.add_behaviour("/truncated", "truncated")
    results = fetch_all(
        settings(),
        [FetchRequest(srv.url(p), "feed") for p in ("/reset", "/reset_mid", "/truncated")],
    )
    assert all(isinstance(r, TransientFetchError) for r in results), results


def test_redirects_followed_loops_and_limits_refused(loopback_server: LoopbackServer) -> None:
    srv = loopback_server
    srv.add_file("/final", TAGESSCHAU, content_type=RSS)
    srv.add_behaviour("/moved", "redirect", to="/final", code=301)
    srv.add_behaviour("/loop", "redirect_loop", cycle=3)  # /loop -> ?n=1 -> ?n=2 -> /loop
    srv.add_behaviour("/chain", "redirect_loop")  # endless distinct URLs
    moved, loop, chain = fetch_all(
        settings(), [FetchRequest(srv.url(p), "feed") for p in ("/moved", "/loop", "/chain")]
    )
    assert isinstance(moved, FetchResult) and moved.url == srv.url("/final")
    assert isinstance(loop, TooManyRedirects) and "loop" in str(loop)
    assert isinstance(chain, TooManyRedirects)
    assert (
        len(srv.requests_for("/chain")) + sum(r.path.startswith("/chain?") for r in srv.requests)
        == 6
    )  # max_redirects=5 hops after the first request, then stop


@pytest.mark.parametrize(
    "target",
    [
        "http://169.254.169.254/latest/meta-data/",
        "http://10.0.0.1/",
        "http://[::1]/",
        "http://[::ffff:127.0.0.1]/",
        "http://0.0.0.0/",
        "file:///etc/passwd",
        "ftp://example.org/x",
        "gopher://127.0.0.1/",
    ],
)
def test_address_policy_refuses_private_targets_and_schemes(
    loopback_server: LoopbackServer, target: str
) -> None:
    loopback_server.add_behaviour("/r", "redirect", to=target)
    direct = one(settings(allow_private_networks=()), FetchRequest(target, "page"))
    assert isinstance(direct, BlockedAddress), direct
    via_redirect = one(settings(), FetchRequest(loopback_server.url("/r"), "feed"))
    if target.startswith(("http://[::1]", "http://[::ffff:127")):
        return  # inside the test allow-list (127/8 via mapping) or not listening: not the point
    assert isinstance(via_redirect, BlockedAddress), via_redirect


def test_loopback_refused_without_allow_list(loopback_server: LoopbackServer) -> None:
    loopback_server.add_file("/f", TAGESSCHAU, content_type=RSS)
    res = one(settings(allow_private_networks=()), FetchRequest(loopback_server.url("/f"), "feed"))
    assert isinstance(res, BlockedAddress)
    assert loopback_server.requests == []  # refused before any connection


def test_is_public_classification() -> None:
    for ip in ("8.8.8.8", "2606:4700::1111", "193.99.144.80"):
        assert is_public(ipaddress.ip_address(ip)), ip
    for ip in (
        "127.0.0.1",
        "10.1.2.3",
        "172.16.0.1",
        "192.168.1.1",
        "169.254.169.254",
        "100.64.0.1",
        "224.0.0.1",
        "0.0.0.0",
        "::1",
        "fe80::1",
        "fc00::1",
        "::ffff:10.0.0.1",
        "2002:a00:1::1",
        "255.255.255.255",
    ):
        assert not is_public(ipaddress.ip_address(ip)), ip


def test_policy_pins_resolved_addresses() -> None:
    async def run() -> tuple[tuple[str, ...], tuple[str, ...] | None]:
        policy = AddressPolicy(LOOPBACK)
        addrs = await policy.resolve("http://localhost:8080/x")
        return addrs, policy.pinned("localhost")

    addrs, pinned = asyncio.run(run())
    assert addrs == pinned and addrs and all(a in ("127.0.0.1", "::1") for a in addrs) is True


def test_content_type_policy(loopback_server: LoopbackServer) -> None:
    srv = loopback_server
    srv.add_file("/a.pdf", b"%PDF-1.7", content_type="application/pdf")
    srv.add_file("/img", b"\x89PNG", content_type="image/png")
    srv.add_file("/page", b"<html><body>hi</body></html>", content_type="text/html; charset=utf-8")
    srv.add_file("/feed-as-html", TAGESSCHAU, content_type="text/html")
    s = settings(respect_robots=False)
    pdf, img, page = fetch_all(s, [FetchRequest(srv.url(p)) for p in ("/a.pdf", "/img", "/page")])
    assert isinstance(pdf, UnsupportedContent) and isinstance(img, UnsupportedContent)
    assert isinstance(page, FetchResult)
    feed_pdf, feed_html = fetch_all(
        s, [FetchRequest(srv.url(p), "feed") for p in ("/a.pdf", "/feed-as-html")]
    )
    assert isinstance(feed_pdf, UnsupportedContent)
    assert isinstance(feed_html, FetchResult)  # the feed parser decides


def test_mislabelled_pages_are_sniffed(loopback_server: LoopbackServer) -> None:
    """Servers that send HTML as octet-stream (or untyped) still deliver pages; PDFs do not."""
    srv = loopback_server
    html = b"<!DOCTYPE html>\n<html><body><p>Seoul</p></body></html>"
    srv.add_file("/untyped-page", html, content_type="application/octet-stream")
    srv.add_file("/untyped-pdf", b"%PDF-1.7 ...", content_type="application/octet-stream")
    srv.add_file("/plain-text", b"just words, no markup", content_type="text/plain")
    page, pdf, text = fetch_all(
        settings(respect_robots=False),
        [FetchRequest(srv.url(p)) for p in ("/untyped-page", "/untyped-pdf", "/plain-text")],
    )
    assert isinstance(page, FetchResult) and page.body == html
    assert isinstance(pdf, UnsupportedContent) and isinstance(text, UnsupportedContent)


def test_robots_txt_respected_for_pages_only(loopback_server: LoopbackServer) -> None:
    srv = loopback_server
    srv.add_file(
        "/robots.txt",
        b"User-agent: *\nDisallow: /private/\n\nUser-agent: newsmon\nDisallow: /news/blocked\n",
        content_type="text/plain",
    )
    for p in ("/news/ok", "/news/blocked", "/private/x"):
        srv.add_file(p, b"<html></html>", content_type="text/html")
    srv.add_file("/news/blocked.rss", TAGESSCHAU, content_type=RSS)
    s = settings(contact="ops@example.org")
    ok, blocked, private = fetch_all(
        s, [FetchRequest(srv.url(p)) for p in ("/news/ok", "/news/blocked", "/private/x")]
    )
    assert isinstance(ok, FetchResult)
    assert isinstance(blocked, RobotsDisallowed)
    assert isinstance(private, FetchResult)  # our group replaces the * group (RFC 9309)
    assert len(srv.requests_for("/robots.txt")) == 1  # cached per host for the pass
    assert srv.requests_for("/news/blocked") == []
    ua = srv.requests_for("/news/ok")[0].headers["user-agent"]
    assert ua.startswith("newsmon/") and "ops@example.org" in ua
    # Feeds are not subject to robots.txt; switching it off lets pages through too.
    feed = one(s, FetchRequest(srv.url("/news/blocked.rss"), "feed"))
    assert isinstance(feed, FetchResult)
    off = one(settings(respect_robots=False), FetchRequest(srv.url("/news/blocked")))
    assert isinstance(off, FetchResult)


def test_robots_unavailable_is_transient_and_404_allows(loopback_server: LoopbackServer) -> None:
    srv = loopback_server
    srv.add_file("/p", b"<html></html>", content_type="text/html")
    assert isinstance(one(settings(), FetchRequest(srv.url("/p"))), FetchResult)  # 404 robots
    srv.add_behaviour("/robots.txt", "status", code=503)
    res = one(settings(), FetchRequest(srv.url("/p")))
    assert isinstance(res, TransientFetchError) and "robots" in str(res)


def test_status_codes_and_retry_after(loopback_server: LoopbackServer) -> None:
    srv = loopback_server
    srv.add_behaviour("/503", "status", code=503, headers={"Retry-After": "120"})
    srv.add_behaviour(
        "/429", "status", code=429, headers={"Retry-After": "Wed, 21 Oct 2099 07:28:00 GMT"}
    )
    srv.add_behaviour("/404", "status", code=404)
    srv.add_behaviour("/410", "status", code=410)
    r503, r429, r404, r410 = fetch_all(
        settings(), [FetchRequest(srv.url(p), "feed") for p in ("/503", "/429", "/404", "/410")]
    )
    assert isinstance(r503, TransientFetchError) and r503.status == 503 and r503.retry_after == 120
    assert isinstance(r429, TransientFetchError) and r429.retry_after == 7 * 86400  # clamped
    assert isinstance(r404, PermanentFetchError) and r404.status == 404 and not r404.transient
    assert isinstance(r410, PermanentFetchError)
    assert parse_retry_after("garbage") is None
    assert parse_retry_after("Thu, 01 Jan 2026 00:00:10 GMT", now=1767225600.0) == 10.0


def test_gzipped_sitemap_file_is_inflated(loopback_server: LoopbackServer) -> None:
    xml = b'<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"/>'
    loopback_server.add_file("/s.xml.gz", gzip.compress(xml), content_type="application/x-gzip")
    res = one(settings(), FetchRequest(loopback_server.url("/s.xml.gz"), "sitemap"))
    assert isinstance(res, FetchResult) and res.body == xml


def test_results_keep_request_order_and_keys() -> None:
    with loopback_servers(3) as servers:
        reqs = []
        for i, srv in enumerate(servers):
            srv.add_file("/f", TAGESSCHAU + str(i).encode(), content_type=RSS)
            reqs.append(FetchRequest(srv.url("/f"), "feed", key=("feed", i)))
        reqs.insert(1, FetchRequest("file:///x", "feed", key="bad"))
        results = fetch_all(settings(), reqs)
        assert isinstance(results[1], BlockedAddress)
        good = [r for r in results if isinstance(r, FetchResult)]
        assert [r.key for r in good] == [("feed", 0), ("feed", 1), ("feed", 2)]
        assert [r.body[-1:] for r in good] == [b"0", b"1", b"2"]


def _overlaps(spans: list[tuple[float, float]]) -> int:
    """Largest number of simultaneously open [start, end] spans."""
    events = sorted([(s, 1) for s, _ in spans] + [(e, -1) for _, e in spans])
    cur = best = 0
    for _, d in events:
        cur += d
        best = max(best, cur)
    return best


def test_per_host_connection_limit_and_spacing() -> None:
    with loopback_servers(2) as (a, b):
        for srv in (a, b):
            srv.add_behaviour("/slow", "delay", seconds=0.05, body=TAGESSCHAU)
        s = settings(per_host_connections=1, per_host_delay=0.05, concurrency=50)
        reqs = [FetchRequest(srv.url(f"/slow?{i}"), "feed") for i in range(6) for srv in (a, b)]
        results = fetch_all(s, reqs)
        assert all(isinstance(r, FetchResult) for r in results)
        for srv in (a, b):
            spans = sorted((r.start, r.end) for r in srv.requests)
            assert len(spans) == 6
            assert _overlaps(spans) == 1  # never two requests to one host at once
            # per_host_delay is a lower bound between request starts
            starts = [st for st, _ in spans]
            assert all(y - x >= 0.05 * 0.9 for x, y in itertools.pairwise(starts))
        # ...while the two hosts were served in parallel, not one after the other.
        all_spans = [(r.start, r.end) for r in a.requests + b.requests]
        assert _overlaps(all_spans) == 2


def test_per_host_connections_allow_parallelism_up_to_limit() -> None:
    with LoopbackServer() as srv:
        srv.add_behaviour("/slow", "delay", seconds=0.2, body=TAGESSCHAU)
        s = settings(per_host_connections=3, per_host_delay=0.0)
        results = fetch_all(s, [FetchRequest(srv.url(f"/slow?{i}"), "feed") for i in range(9)])
        assert all(isinstance(r, FetchResult) for r in results)
        peak = _overlaps([(r.start, r.end) for r in srv.requests])
        assert 1 < peak <= 3


def test_fetcher_as_async_context_manager(loopback_server: LoopbackServer) -> None:
    loopback_server.add_file("/f", TAGESSCHAU, content_type=RSS)

    async def run() -> FetchResult:
        async with Fetcher(settings()) as f:
            return await f.fetch(FetchRequest(loopback_server.url("/f"), "feed"))

    res = asyncio.run(run())
    assert res.body == TAGESSCHAU and res.elapsed > 0
    assert res.content_hash is not None and len(res.content_hash) == 64
