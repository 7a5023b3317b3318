"""Date-aware sources for backfills: news sitemaps.

A feed only lists its latest items, so a backfill of a past window reads the
feeds' configured news sitemaps and queues the links published in that window.
A sitemap index is followed one level deep, only into children whose lastmod
is not before the window (a child last changed before the window cannot list
articles published in it). Links already known (queued or stored) are skipped
by the Entry natural key, so a repeated backfill fetches nothing again.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.engine import Engine
from sqlmodel import col, select

from pipeline.enrich.toolkit import Toolkit
from pipeline.errors import FetchError, NewsmonError
from pipeline.feeds.entries import FeedEntry
from pipeline.feeds.sitemaps import parse_sitemap
from pipeline.ingest.poll import queue_entries
from pipeline.net.client import FetchRequest, fetch_all
from pipeline.report import StageReport
from storage.db import session_scope
from storage.models import Feed

#: Children of one sitemap index read per backfill window (big sites keep years).
MAX_CHILD_SITEMAPS = 20


def queue_sitemap_entries(
    engine: Engine,
    kit: Toolkit,
    start: datetime,
    end: datetime,
    now: datetime,
    report: StageReport,
) -> list[int]:
    """Queue sitemap links published in [start, end); returns the feeds that had any."""
    with session_scope(engine) as session:
        feeds = list(
            session.exec(select(Feed).where(Feed.enabled, col(Feed.sitemap_url).is_not(None)))
        )
    jobs = [(f.id, f.sitemap_url) for f in feeds if f.id is not None and f.sitemap_url]
    touched: list[int] = []
    for feed_id, url in jobs:
        entries = _read_sitemap(kit, url, start, report)
        in_window = [
            e for e in entries if e.published_at is not None and start <= e.published_at < end
        ]
        with session_scope(engine) as session:
            feed = session.get(Feed, feed_id)
            if feed is None:
                continue
            new = queue_entries(session, feed, in_window, now, source="sitemap")
        report.add("sitemap_entries_new", new)
        if new:
            touched.append(feed_id)
    return touched


def _read_sitemap(kit: Toolkit, url: str, start: datetime, report: StageReport) -> list[FeedEntry]:
    entries: list[FeedEntry] = []
    pending: Sequence[str] = [url]
    for depth in range(2):
        results = fetch_all(
            kit.settings.fetch, [FetchRequest(url=u, kind="sitemap") for u in pending]
        )
        children: list[str] = []
        for u, result in zip(pending, results, strict=True):
            report.add("sitemaps_read")
            if isinstance(result, FetchError):
                report.error(result.kind, u, str(result))
                continue
            try:
                sitemap = parse_sitemap(result.body, url=result.url)
            except NewsmonError as exc:
                report.error(exc.kind, u, str(exc))
                continue
            entries.extend(sitemap.entries)
            if depth == 0:
                children.extend(
                    c.url for c in sitemap.children if c.lastmod is None or c.lastmod >= start
                )
        pending = children[:MAX_CHILD_SITEMAPS]
        if not pending:
            break
    return entries
