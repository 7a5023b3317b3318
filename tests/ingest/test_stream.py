"""The streaming page pass over loopback sites: fair share, claims, spool reuse, Retry-After."""

from __future__ import annotations

import html
import threading
import time
import zlib
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

import pytest
from sqlmodel import Session, col, select

from pipeline import stages
from pipeline.config import IngestSettings, Settings
from pipeline.enrich.reprocess import reextract
from pipeline.errors import DatabaseUnavailable
from pipeline.ingest import stream
from pipeline.ingest.fairness import fair_order
from pipeline.pages import spool
from pipeline.pages.extract import extract_article
from pipeline.pages.markup import TRIM_ABOVE, bounded_markup
from pipeline.report import StageReport
from storage import queue
from storage.db import make_engine, session_scope
from storage.models import Article, Entry, Feed
from tests.support.faulty_site import load_articles, page_html
from tests.support.http_server import LoopbackServer, Request, Response

T0 = datetime(2026, 3, 2, 6, 0, tzinfo=UTC)
HTML = "text/html; charset=utf-8"


def _rss(server: LoopbackServer, title: str, urls: list[str]) -> bytes:
    items = "".join(
        f"<item><title>{html.escape(title)} {i}</title><link>{u}</link><guid>{u}</guid>"
        f"<pubDate>{format_datetime(T0 - timedelta(minutes=i))}</pubDate></item>"
        for i, u in enumerate(urls)
    )
    return (
        f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>{title}'
        f"</title><link>{server.url('/')}</link><description>x</description>{items}"
        "</channel></rss>"
    ).encode()


class _Site:
    """Feeds of real article pages on one loopback server; page requests are counted."""

    def __init__(self, server: LoopbackServer) -> None:
        self.server = server
        self.articles = load_articles()
        self.used = 0
        self.feeds: list[tuple[str, str]] = []
        self.hits: dict[str, int] = {}
        self.order: list[str] = []
        self._lock = threading.Lock()
        server.add_file("/robots.txt", b"User-agent: *\nAllow: /\n", content_type="text/plain")

    def page(self, path: str, respond: object = None) -> str:
        art = self.articles[self.used % len(self.articles)]
        self.used += 1
        url = self.server.url(path)
        # a numbered headline keeps reused texts distinct pages for the test's purposes
        body = page_html(f"{art['title']} ({self.used})", art["text"], url, T0, "de")

        def handle(req: Request) -> Response:
            with self._lock:
                self.hits[path] = self.hits.get(path, 0) + 1
                self.order.append(path)
                n = self.hits[path]
            if callable(respond):
                special = respond(n)
                if special is not None:
                    return special
            return Response(200, body, {"Content-Type": HTML})

        self.server.add_route(path, handle)
        return url

    def feed(self, name: str, paths: list[str]) -> list[str]:
        urls = [self.page(p) for p in paths]
        fpath = f"/feeds/{name}.xml"
        self.server.add_file(
            fpath, _rss(self.server, name, urls), content_type="application/rss+xml"
        )
        self.feeds.append((name, self.server.url(fpath)))
        return urls

    def write_feed_list(self, path: Path) -> Path:
        lines = ["feeds:"]
        for name, url in self.feeds:
            lines += [f"  - name: {name}", f"    url: {url}", "    language: de"]
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        return path


@pytest.fixture
def site() -> Iterator[_Site]:
    with LoopbackServer() as srv:
        yield _Site(srv)


def _cfg(settings: Settings, site: _Site, tmp_path: Path, **ingest: object) -> Settings:
    return settings.with_overrides(
        feeds_path=site.write_feed_list(tmp_path / "feeds.yaml"),
        ingest=replace(IngestSettings(workers=1), **ingest),  # type: ignore[arg-type]
    )


def _stored_urls(cfg: Settings) -> set[str]:
    engine = make_engine(cfg.database_url)
    try:
        with Session(engine) as s:
            return set(s.exec(select(Article.url).where(col(Article.is_seed).is_(False))).all())
    finally:
        engine.dispose()


def test_fair_order_interleaves_hosts_and_feeds() -> None:
    c = queue.Candidate
    cands = [
        *(c(i, 1, f"https://flood.example/{i}", i) for i in range(1, 6)),
        *(c(10 + i, 2, f"https://small.example/{i}", i) for i in range(1, 3)),
        *(c(20 + i, 3, f"https://flood.example/other/{i}", i) for i in range(1, 3)),
    ]
    order = [(x.feed_id, x.rank) for x in fair_order(cands)]
    # round 1: one page per host; the flood host alternates its two feeds
    assert order[:2] == [(1, 1), (2, 1)]
    assert order[2:4] == [(3, 1), (2, 2)]
    assert order[4:] == [(1, 2), (3, 2), (1, 3), (1, 4), (1, 5)]


def test_a_flooding_feed_delays_only_itself(
    settings: Settings, site: _Site, tmp_path: Path
) -> None:
    flood = site.feed("Flut", [f"/flood/{i}.html" for i in range(120)])
    good = site.feed("Gut", [f"/good/{i}.html" for i in range(3)])
    cfg = _cfg(settings, site, tmp_path, feed_budget=10)
    stages.init(cfg)
    report = stages.ingest(cfg, now=T0)
    stored = _stored_urls(cfg)
    assert set(good) <= stored
    assert len(stored & set(flood)) == 10
    assert report.counts["articles_stored"] == 13
    # the good feed's pages went out among the first, not after the flood's
    assert {f"/good/{i}.html" for i in range(3)} <= set(site.order[:8])
    engine = make_engine(cfg.database_url)
    try:
        with Session(engine) as s:
            backlog = queue.backlog_by_feed(s, T0)
            ids = {f.name: f.id for f in s.exec(select(Feed))}
    finally:
        engine.dispose()
    assert backlog[ids["Flut"]].due == 110
    assert ids["Gut"] not in backlog
    # the next pass takes the flood's next share; nothing is fetched twice
    stages.process_pending(cfg, now=T0 + timedelta(minutes=30))
    assert len(_stored_urls(cfg) & set(flood)) == 20
    assert max(site.hits.values()) == 1


def test_pages_claimed_by_a_live_run_are_skipped(
    settings: Settings, site: _Site, tmp_path: Path
) -> None:
    urls = site.feed("Eins", [f"/a/{i}.html" for i in range(6)])
    cfg = _cfg(settings, site, tmp_path)
    stages.init(cfg)
    # queue the links without fetching pages: poll only, through a zero page budget
    stages.ingest(replace(cfg, ingest=replace(cfg.ingest, pass_seconds=0.0)), now=T0)
    engine = make_engine(cfg.database_url)
    try:
        with session_scope(engine) as s:
            ids = [e.id or 0 for e in s.exec(select(Entry).order_by(col(Entry.id)))]
            assert len(ids) == 6
            # another machine's run holds two of them for the next 15 minutes
            queue.claim(s, ids[:2], "elsewhere:4242:x", T0, T0 + timedelta(minutes=15))
        report = stages.process_pending(cfg, now=T0 + timedelta(minutes=1))
        assert _stored_urls(cfg) == set(urls[2:])
        assert report.counts["articles_stored"] == 4
        assert all(site.hits.get(f"/a/{i}.html") is None for i in range(2))
        # the lease lapsed without the other run storing them: this run takes over
        stages.process_pending(cfg, now=T0 + timedelta(minutes=20))
        assert _stored_urls(cfg) == set(urls)
        with Session(engine) as s:
            assert {(e.status, e.claimed_by) for e in s.exec(select(Entry))} == {("done", None)}
    finally:
        engine.dispose()


def test_a_spooled_body_is_stored_without_a_second_fetch(
    settings: Settings, site: _Site, tmp_path: Path
) -> None:
    urls = site.feed("Eins", [f"/s/{i}.html" for i in range(3)])
    cfg = _cfg(settings, site, tmp_path)
    stages.init(cfg)
    stages.ingest(replace(cfg, ingest=replace(cfg.ingest, pass_seconds=0.0)), now=T0)
    engine = make_engine(cfg.database_url)
    try:
        with Session(engine) as s:
            first = s.exec(select(Entry).where(Entry.url == urls[0])).one()
        # what a run killed after the download and before the store leaves behind
        body = page_html("Gespoolter Artikel", load_articles()[-1]["text"], urls[0], T0, "de")
        spool.write(cfg.spool_dir, first.id or 0, urls[0], body)
        report = stages.process_pending(cfg, now=T0 + timedelta(minutes=1))
        with Session(engine) as s:
            art = s.exec(select(Article).where(Article.url == urls[0])).one()
    finally:
        engine.dispose()
    assert report.counts["pages_from_spool"] == 1
    assert site.hits.get("/s/0.html") is None
    assert art.title == "Gespoolter Artikel"
    assert _stored_urls(cfg) == set(urls)
    assert list(cfg.spool_dir.iterdir()) == []


def _limited(retry_after: str) -> object:
    def respond(n: int) -> Response | None:
        if n == 1:
            return Response(429, b"slow down", {"Retry-After": retry_after})
        return None

    return respond


def test_retry_after_holds_the_page_and_its_host(
    settings: Settings, site: _Site, tmp_path: Path
) -> None:
    limited = site.page("/r/0.html", _limited("7200"))
    others = [site.page(f"/r/{i}.html") for i in range(1, 4)]
    fpath = "/feeds/r.xml"
    site.server.add_file(
        fpath, _rss(site.server, "R", [limited, *others]), content_type="application/rss+xml"
    )
    site.feeds.append(("R", site.server.url(fpath)))
    cfg = _cfg(settings, site, tmp_path, page_concurrency=1)
    cfg = cfg.with_overrides(fetch=replace(cfg.fetch, per_host_connections=1))
    stages.init(cfg)
    report = stages.ingest(cfg, now=T0)
    assert report.counts["pages_failed"] == 1
    assert report.counts["pages_deferred"] == 3  # the host asked everyone to wait
    engine = make_engine(cfg.database_url)
    try:
        with Session(engine) as s:
            rows = {e.url: e for e in s.exec(select(Entry))}
    finally:
        engine.dispose()
    wait = rows[limited].next_attempt_at - T0  # type: ignore[operator]
    assert timedelta(hours=2) <= wait < timedelta(hours=2, minutes=5)
    assert rows[limited].attempts == 1
    assert all(rows[u].attempts == 0 and rows[u].status == "pending" for u in others)
    assert sum(site.hits.values()) == 1
    # the usual 15-minute retry comes and goes: nobody asks the host again
    stages.process_pending(cfg, now=T0 + timedelta(minutes=20))
    assert sum(site.hits.values()) == 1
    # once the two hours are over, everything is fetched (the limited page a second time)
    stages.process_pending(cfg, now=T0 + timedelta(hours=2, minutes=10))
    assert _stored_urls(cfg) == {limited, *others}
    assert site.hits["/r/0.html"] == 2


def test_retry_after_is_capped(settings: Settings, site: _Site, tmp_path: Path) -> None:
    limited = site.page("/c/0.html", _limited(str(30 * 86400)))
    fpath = "/feeds/c.xml"
    site.server.add_file(
        fpath, _rss(site.server, "C", [limited]), content_type="application/rss+xml"
    )
    site.feeds.append(("C", site.server.url(fpath)))
    cfg = _cfg(settings, site, tmp_path)
    cfg = cfg.with_overrides(fetch=replace(cfg.fetch, max_retry_after=3600.0))
    stages.init(cfg)
    stages.ingest(cfg, now=T0)
    engine = make_engine(cfg.database_url)
    try:
        with Session(engine) as s:
            row = s.exec(select(Entry)).one()
    finally:
        engine.dispose()
    wait = row.next_attempt_at - T0  # type: ignore[operator]
    assert timedelta(hours=1) <= wait < timedelta(hours=1, minutes=5)


def test_a_page_failing_in_a_batch_is_undone_alone(
    settings: Settings, site: _Site, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    urls = site.feed("Eins", [f"/b/{i}.html" for i in range(6)])
    bad = urls[4]
    real = stream.store_page
    sizes: list[int] = []
    real_batch = stream._Stream._store_batch

    def record_batch(self: stream._Stream, batch: list[stream._Done]) -> None:
        sizes.append(len(batch))
        if len(sizes) == 1:
            time.sleep(0.5)  # the others queue up meanwhile: one batch of several pages
        real_batch(self, batch)

    def store_page(session: Session, kit: object, entry: Entry, *args: object) -> None:
        real(session, kit, entry, *args)  # type: ignore[arg-type]
        if entry.url == bad:
            # written, then failed: the savepoint must take back this page's rows only
            raise DatabaseUnavailable("lost the connection mid-page")

    monkeypatch.setattr(stream, "store_page", store_page)
    monkeypatch.setattr(stream._Stream, "_store_batch", record_batch)
    cfg = _cfg(settings, site, tmp_path)
    stages.init(cfg)
    report = stages.ingest(cfg, now=T0)
    assert max(sizes) > 1
    assert _stored_urls(cfg) == set(urls) - {bad}
    assert report.counts["articles_stored"] == 5
    assert report.counts["errors"] == 1
    engine = make_engine(cfg.database_url)
    try:
        with Session(engine) as s:
            row = s.exec(select(Entry).where(Entry.url == bad)).one()
    finally:
        engine.dispose()
    assert row.status in ("pending", "failed") and row.article_id is None
    # its body stays spooled for the next pass; the stored pages' files are gone
    assert [p.name for p in cfg.spool_dir.iterdir()] == [f"{row.id}.page"]


def test_a_huge_page_is_archived_as_the_markup_that_was_parsed(
    settings: Settings, site: _Site, tmp_path: Path
) -> None:
    urls = site.feed("Gross", ["/big/0.html"])
    body = page_html("Ein aufgeblähter Artikel", load_articles()[0]["text"], urls[0], T0, "de")
    bloat = b"<script>window.__STATE__ = {'teaser': [1, 2, 3]};</script>"
    big = body.replace(b"</body>", bloat * (TRIM_ABOVE // len(bloat) + 1) + b"</body>", 1)
    site.server.add_route("/big/0.html", lambda req: Response(200, big, {"Content-Type": HTML}))
    cfg = _cfg(settings, site, tmp_path)
    stages.init(cfg)
    stages.ingest(cfg, now=T0)
    engine = make_engine(cfg.database_url)
    try:
        with Session(engine) as s:
            art = s.exec(select(Article).where(Article.url == urls[0])).one()
    finally:
        engine.dispose()
    assert art.raw_html is not None
    archived = zlib.decompress(art.raw_html)
    assert len(big) > TRIM_ABOVE and archived == bounded_markup(big) == body
    assert art.text == extract_article(body, urls[0]).text  # the bloat changed nothing
    report = StageReport("reprocess")
    reextract(art, report)
    assert report.counts["articles_reextracted"] == 1
    assert art.text == extract_article(big, urls[0]).text
