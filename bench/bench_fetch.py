"""Fetch-stage throughput over loopback servers; prints figures, asserts nothing.

1. 500 unchanged feeds (every request conditional, every answer 304) at 50-way
   concurrency: newsmon's Fetcher vs bare httpx (sequential and concurrent)
   against the same servers in the same run.
2. 200 feeds x 20 new entries: fetch feeds, parse them, fetch the 4,000 pages
   (robots.txt respected): pages per second end to end.
3. Politeness: 10 hosts x 10 pages with a per-host delay, against the lower
   bound (requests per host - 1) x delay that the delay alone imposes: the pass
   must cost about that bound, not the sum over all hosts.

per_host_delay is 0 in 1 and 2 to measure newsmon's own overhead.

Run: .venv/bin/python bench/bench_fetch.py
"""

from __future__ import annotations

import asyncio
import ipaddress
import sys
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pipeline.config import FetchSettings  # noqa: E402
from pipeline.feeds.entries import FeedEntry  # noqa: E402
from pipeline.feeds.parse import parse_feed  # noqa: E402
from pipeline.net.client import FetchRequest, FetchResult, fetch_all  # noqa: E402
from tests.support import LoopbackServer, Response, loopback_servers  # noqa: E402

HOSTS = 10
FEED = (ROOT / "tests" / "fixtures" / "feeds" / "corss-de" / "tagesschau.xml").read_bytes()
PAGE = (
    b"<html><head><title>t</title></head><body>" + b"<p>Korea text.</p>" * 300 + b"</body></html>"
)
SETTINGS = FetchSettings(
    allow_private_networks=(ipaddress.ip_network("127.0.0.0/8"),),
    concurrency=50,
    per_host_connections=5,
    per_host_delay=0.0,
)


def line(label: str, n: int, wall: float) -> None:
    print(
        f"  {label:<34} {n:>5} req  {wall:7.3f} s  {n / wall:8.0f} req/s  "
        f"{wall / n * 1000:6.2f} ms/req"
    )


def bench_unchanged(servers: list[LoopbackServer]) -> None:
    urls = []
    for srv in servers:
        for i in range(500 // len(servers)):
            srv.add_file(f"/feed{i}.xml", FEED, content_type="application/rss+xml", etag='"v1"')
            urls.append(srv.url(f"/feed{i}.xml"))
    reqs = [FetchRequest(u, "feed", etag='"v1"') for u in urls]
    print(f"500 unchanged feeds on {len(servers)} hosts, 50-way concurrency, all 304:")

    t = time.perf_counter()
    results = fetch_all(SETTINGS, reqs)
    wall = time.perf_counter() - t
    assert all(isinstance(r, FetchResult) and r.not_modified for r in results), results[:3]
    line("newsmon fetch_all", len(reqs), wall)

    async def bare_concurrent() -> None:
        sem = asyncio.Semaphore(50)
        async with httpx.AsyncClient(limits=httpx.Limits(max_connections=50)) as client:

            async def one(u: str) -> None:
                async with sem:
                    r = await client.get(u, headers={"If-None-Match": '"v1"'})
                    assert r.status_code == 304

            await asyncio.gather(*(one(u) for u in urls))

    t = time.perf_counter()
    asyncio.run(bare_concurrent())
    line("bare httpx.AsyncClient, 50-way", len(urls), time.perf_counter() - t)

    t = time.perf_counter()
    with httpx.Client() as client:
        for u in urls:
            assert client.get(u, headers={"If-None-Match": '"v1"'}).status_code == 304
    line("bare httpx.Client, sequential", len(urls), time.perf_counter() - t)


def bench_new_entries(servers: list[LoopbackServer]) -> None:
    feeds: list[str] = []
    for h, srv in enumerate(servers):
        srv.add_file(
            "/robots.txt", b"User-agent: *\nDisallow: /private/\n", content_type="text/plain"
        )
        srv.add_route("/article", lambda req: Response(200, PAGE, {"Content-Type": "text/html"}))
        for f in range(200 // len(servers)):
            items = "".join(
                f"<item><title>Story {h}-{f}-{e}</title>"
                f"<link>{srv.url(f'/article?id={h}-{f}-{e}&utm_source=rss')}</link>"
                f"<pubDate>Mon, 01 Jan 2024 10:{e:02d}:00 GMT</pubDate></item>"
                for e in range(20)
            )
            body = f'<rss version="2.0"><channel><title>F{f}</title>{items}</channel></rss>'
            srv.add_file(f"/new{f}.xml", body.encode(), content_type="application/rss+xml")
            feeds.append(srv.url(f"/new{f}.xml"))
    print(f"200 feeds x 20 new entries on {len(servers)} hosts (robots.txt respected):")
    t0 = time.perf_counter()
    fetched = fetch_all(SETTINGS, [FetchRequest(u, "feed") for u in feeds])
    t1 = time.perf_counter()
    entries: list[FeedEntry] = []
    for res in fetched:
        assert isinstance(res, FetchResult)
        entries.extend(parse_feed(res.body, url=res.url, headers=res.headers).entries)
    t2 = time.perf_counter()
    pages = fetch_all(SETTINGS, [FetchRequest(e.url, "page") for e in entries])
    t3 = time.perf_counter()
    ok = sum(isinstance(p, FetchResult) for p in pages)
    print(f"  feeds fetched   {len(feeds):>5}  {t1 - t0:7.3f} s")
    print(
        f"  feeds parsed    {len(entries):>5} entries  {t2 - t1:7.3f} s "
        f"({(t2 - t1) / len(feeds) * 1000:.1f} ms/feed)"
    )
    print(f"  pages fetched   {ok:>5}/{len(pages)}  {t3 - t2:7.3f} s  {ok / (t3 - t2):.0f} pages/s")
    print(f"  end to end      {t3 - t0:7.3f} s  {ok / (t3 - t0):.0f} pages/s")

    async def bare_pages() -> None:
        sem = asyncio.Semaphore(50)
        async with httpx.AsyncClient(limits=httpx.Limits(max_connections=50)) as client:

            async def one(u: str) -> None:
                async with sem:
                    (await client.get(u)).raise_for_status()

            await asyncio.gather(*(one(e.url) for e in entries))

    t = time.perf_counter()
    asyncio.run(bare_pages())
    bare = time.perf_counter() - t
    print(f"  bare httpx pages {len(entries):>4}  {bare:7.3f} s  {len(entries) / bare:.0f} pages/s")


def bench_politeness(servers: list[LoopbackServer], delay: float = 0.5, per_host: int = 10) -> None:
    for srv in servers:
        srv.add_file("/robots.txt", b"User-agent: *\nAllow: /\n", content_type="text/plain")
        for i in range(per_host):
            srv.add_file(f"/p/{i}", PAGE, content_type="text/html")
    reqs = [FetchRequest(srv.url(f"/p/{i}")) for srv in servers for i in range(per_host)]
    polite = FetchSettings(
        allow_private_networks=SETTINGS.allow_private_networks,
        concurrency=50,
        per_host_connections=2,
        per_host_delay=delay,
    )
    t0 = time.perf_counter()
    results = fetch_all(polite, reqs)
    wall = time.perf_counter() - t0
    ok = sum(isinstance(r, FetchResult) for r in results)
    # robots.txt is one more request to each host: per_host + 1 requests, per_host gaps
    bound = per_host * delay
    serial = len(reqs) * delay
    print(f"{len(servers)} hosts x {per_host} pages, per-host delay {delay} s:")
    print(f"  pass                 {ok:>5}/{len(reqs)}  {wall:7.3f} s")
    print(f"  bound from the delay          {bound:7.3f} s  (robots.txt + one host's pages)")
    print(f"  if hosts were serial          {serial:7.3f} s")
    print(f"  overhead over the bound       {wall - bound:7.3f} s")


def main() -> None:
    with loopback_servers(HOSTS) as servers:
        bench_unchanged(servers)
    with loopback_servers(HOSTS, first=21) as servers:
        bench_new_entries(servers)
    with loopback_servers(HOSTS, first=41) as servers:
        bench_politeness(servers)


if __name__ == "__main__":
    main()
