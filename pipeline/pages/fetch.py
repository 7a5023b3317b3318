"""The page half of an ingest pass: fetch the queued links and store them as articles.

Due entries are fetched concurrently; each page is extracted outside any
transaction, then stored in one transaction together with its enrichment, so a
crash never leaves a half-written article behind.
"""

from __future__ import annotations

import logging
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, func, select

from pipeline.enrich.steps import Toolkit, enrich_article
from pipeline.errors import ExtractionError, FetchError, NewsmonError
from pipeline.net.client import FetchRequest, FetchResult, fetch_all
from pipeline.pages.articles import apply_extraction
from pipeline.pages.extract import Extracted, extract_article
from pipeline.report import StageReport
from storage import repo
from storage.db import session_scope
from storage.models import Article, Entry, Feed
from storage.statuses import EntryStatus

log = logging.getLogger(__name__)

#: Base delay before a failed page is tried again; doubled per attempt.
PAGE_RETRY_BASE = timedelta(minutes=15)


def fetch_pages(
    engine: Engine,
    kit: Toolkit,
    now: datetime,
    report: StageReport,
    *,
    feed_ids: Sequence[int] | None = None,
    limit: int = 500,
) -> None:
    """Fetch due entries and store each page as an article."""
    with session_scope(engine) as session:
        entries = repo.due_entries(session, now, feed_ids=feed_ids, limit=limit)
        outlets = {f.id: f.outlet or f.name for f in session.exec(select(Feed))}
    if not entries:
        return
    requests = [FetchRequest(url=e.url, kind="page", key=e.id) for e in entries]
    results = fetch_all(kit.settings.fetch, requests)
    for entry, result in zip(entries, results, strict=True):
        # Extraction is the expensive part: done before the transaction, so a
        # writer lock (SQLite) or row lock (PostgreSQL) is held for milliseconds.
        page = _extract(entry, result, now)
        try:
            with session_scope(engine) as session:
                _store_page(session, kit, entry, page, outlets.get(entry.feed_id), now, report)
        except NewsmonError as exc:
            report.error(exc.kind, entry.url, str(exc))


@dataclass(frozen=True)
class _Page:
    """What fetching and extracting one entry's page gave: an extraction or an error."""

    extracted: Extracted | None
    html: bytes | None
    error: NewsmonError | None


def _extract(entry: Entry, result: FetchResult | FetchError, now: datetime) -> _Page:
    if isinstance(result, FetchError):
        return _Page(None, None, result)
    try:
        extracted = extract_article(
            result.body,
            result.url,
            feed_title=entry.title,
            feed_summary=entry.summary,
            feed_published=entry.published_at,
            now=now,
        )
    except ExtractionError as exc:
        return _Page(None, result.body, exc)
    except Exception as exc:
        # A page that crashes the extractor would otherwise stay pending and
        # abort every future pass (a poison pill): record it and give up on it.
        log.warning("extraction crashed on %s", entry.url, exc_info=True)
        crash = ExtractionError(f"extractor crashed: {type(exc).__name__}: {exc}")
        return _Page(None, result.body, crash)
    return _Page(extracted, result.body, None)


def _store_page(
    session: Session,
    kit: Toolkit,
    entry: Entry,
    page: _Page,
    outlet: str | None,
    now: datetime,
    report: StageReport,
) -> None:
    # Lock the queue row: a concurrent run storing the same page waits here and
    # then sees "done", instead of racing to insert the same article (PostgreSQL;
    # SQLite writers are already serialised by BEGIN IMMEDIATE).
    row = session.get(Entry, entry.id, with_for_update=True, populate_existing=True)
    if row is None or row.status == EntryStatus.DONE:
        return  # another worker got here first
    if page.error is not None and _page_failed(row, page.error, kit, now, report):
        return  # retried on a later pass
    extracted = page.extracted
    if extracted is None and not (row.summary or row.title):
        row.status = EntryStatus.GAVE_UP
        session.add(row)
        return
    url = row.url
    article = repo.article_by_url(session, url)
    if article is None:
        article = Article(url=url, canonical_url=url, fetched_at=now, feed_id=row.feed_id)
    if extracted is not None:
        apply_extraction(article, extracted, fallback_title=row.title, outlet=outlet)
        article.raw_html = zlib.compress(page.html, 6) if page.html else None
        report.add("pages_extracted")
    else:
        # gave up on the page: keep what the feed said about it
        article.title = row.title
        article.text = row.summary or ""
        article.published_at = row.published_at
        article.date_source = "feed" if row.published_at else None
        article.extraction_method = "feed-summary"
        article.source = outlet or urlsplit(url).hostname
        report.add("pages_feed_only")
    article.feed_summary = row.summary
    session.add(article)
    session.flush()
    outcome = enrich_article(session, article, kit, now)
    row.status = EntryStatus.DONE
    row.article_id = article.id
    session.add(row)
    report.add("articles_stored")
    if outcome.relevant:
        report.add("articles_relevant")
    if outcome.duplicate:
        report.add(f"duplicates_{outcome.duplicate}")


def _page_failed(
    row: Entry, exc: NewsmonError, kit: Toolkit, now: datetime, report: StageReport
) -> bool:
    """Record a failed page; True if it will be retried later, False if given up."""
    row.attempts += 1
    row.last_error = f"{exc.kind}: {exc}"[:500]
    report.error(exc.kind, row.url, str(exc))
    if exc.transient and row.attempts < kit.settings.fetch.max_page_attempts:
        row.status = EntryStatus.FAILED
        row.next_attempt_at = now + PAGE_RETRY_BASE * (2 ** (row.attempts - 1))
        report.add("pages_failed")
        return True
    row.status = EntryStatus.GAVE_UP
    report.add("pages_given_up")
    return False


def pending_count(session: Session) -> int:
    stmt = select(func.count()).select_from(Entry)
    return int(session.exec(stmt.where(col(Entry.status).in_(("pending", "failed")))).one())
