"""Ingest cross-checks a page's date with its feed entry's and records the doubt (issue 18)."""

from __future__ import annotations

import html
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

import pytest
from sqlmodel import Session, select

from pipeline import stages
from pipeline.config import IngestSettings, Settings
from storage.db import make_engine
from storage.models import Article
from tests.support.faulty_site import load_articles, page_html, rss_feed, write_feed_list
from tests.support.http_server import LoopbackServer

T0 = datetime(2026, 3, 2, 6, 0, tzinfo=UTC)


@pytest.fixture
def server() -> Iterator[LoopbackServer]:
    with LoopbackServer() as srv:
        srv.add_file("/robots.txt", b"User-agent: *\nAllow: /\n", content_type="text/plain")
        yield srv


def test_page_date_far_from_the_feed_date_is_stored_as_doubtful(
    settings: Settings, server: LoopbackServer, tmp_path: Path
) -> None:
    articles = load_articles()
    # (path, the page's own date); every feed entry says T0
    pages = [("/a/same.html", T0 - timedelta(hours=2)), ("/a/old.html", T0 - timedelta(days=30))]
    items = []
    for i, (path, published) in enumerate(pages):
        url = server.url(path)
        body = page_html(f"{articles[i]['title']} ({i})", articles[i]["text"], url, published, "de")
        server.add_file(path, body, content_type="text/html; charset=utf-8")
        items.append(
            f"<item><title>{html.escape(articles[i]['title'])}</title><link>{url}</link>"
            f"<guid>{url}</guid><pubDate>{format_datetime(T0)}</pubDate></item>"
        )
    feed = rss_feed("F", server.url("/"), items)
    server.add_file("/feed.xml", feed, content_type="application/rss+xml")
    feeds = write_feed_list(tmp_path / "feeds.yaml", [("F", server.url("/feed.xml"))])
    cfg = settings.with_overrides(feeds_path=feeds, ingest=IngestSettings(workers=1))
    stages.init(cfg)
    stages.ingest(cfg, now=T0)
    engine = make_engine(cfg.database_url)
    try:
        with Session(engine) as s:
            rows = {a.url: a for a in s.exec(select(Article)).all()}
    finally:
        engine.dispose()
    same, old = rows[server.url("/a/same.html")], rows[server.url("/a/old.html")]
    # the page's own date is kept in both cases; only the far one is doubtful
    assert same.date_doubtful is False and same.date_source == "meta"
    assert old.date_doubtful is True and old.date_source == "meta"
    assert old.published_at is not None
    assert old.published_at.replace(tzinfo=UTC).date() == (T0 - timedelta(days=30)).date()
