"""Date-aware sources for backfills: news sitemaps.

A feed only lists its latest items, so a backfill of a past window reads the
feeds' configured news sitemaps and queues the links published in that window.
Links already known (queued or stored) are skipped by the Entry natural key.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.engine import Engine
from sqlmodel import col, select

from pipeline.enrich import Toolkit
from pipeline.errors import FetchError, NewsmonError
from pipeline.fetch import FetchRequest, fetch_all
from pipeline.ingest import queue_entries
from pipeline.report import StageReport
from pipeline.sitemaps import parse_news_sitemap
from storage.db import session_scope
from storage.models import Feed


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
    if not jobs:
        return []
    results = fetch_all(
        kit.settings.fetch, [FetchRequest(url=url, kind="sitemap", key=fid) for fid, url in jobs]
    )
    touched: list[int] = []
    for (feed_id, url), result in zip(jobs, results, strict=True):
        report.add("sitemaps_read")
        if isinstance(result, FetchError):
            report.error(result.kind, url, str(result))
            continue
        try:
            entries = parse_news_sitemap(result.body, url=result.url)
        except NewsmonError as exc:
            report.error(exc.kind, url, str(exc))
            continue
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
