"""The page half of an ingest pass: fetch the queued links and store them as articles.

The pass itself streams (pipeline.ingest.stream): pages are claimed in a fair
order, fetched concurrently, spooled, prepared in a process pool and handed
to one writer. This module is that writer: each page is stored in one short
transaction together with its enrichment, so a crash never leaves a
half-written article behind, and a failed page is scheduled for its retry
(honouring the server's Retry-After, within a cap).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from sqlmodel import Session, col, func, select

from pipeline.enrich.analysis import Analysis
from pipeline.enrich.steps import Toolkit, enrich_article
from pipeline.errors import HostBackoff, NewsmonError
from pipeline.pages.articles import apply_extraction
from pipeline.pages.extracted import Extracted
from pipeline.report import StageReport
from storage import repo
from storage.models import Article, Entry
from storage.statuses import EntryStatus

log = logging.getLogger(__name__)

#: Base delay before a failed page is tried again; doubled per attempt.
PAGE_RETRY_BASE = timedelta(minutes=15)


@dataclass(frozen=True)
class PageOutcome:
    """What fetching and preparing one entry's page gave: an extraction or an error."""

    extracted: Extracted | None
    raw_html_z: bytes | None  # zlib-compressed page, as stored in Article.raw_html
    error: NewsmonError | None
    analysis: Analysis | None = None


def store_page(
    session: Session,
    kit: Toolkit,
    entry: Entry,
    page: PageOutcome,
    outlet: str | None,
    now: datetime,
    report: StageReport,
) -> None:
    """Store one fetched page and its enrichment in one transaction (or record its failure).

    The queue row is locked first, so a concurrent writer of the same page waits and then
    finds it done instead of inserting it twice.
    """
    # Lock the queue row: a concurrent run storing the same page waits here and
    # then sees "done", instead of racing to insert the same article (PostgreSQL;
    # SQLite writers are already serialised by BEGIN IMMEDIATE).
    row = session.get(Entry, entry.id, with_for_update=True, populate_existing=True)
    if row is None or row.status == EntryStatus.DONE:
        return  # another worker got here first
    row.claimed_by, row.claimed_until = None, None
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
        article.raw_html = page.raw_html_z
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
    # inserted (a new one) by enrich_article, once its own fields are set
    session.add(article)
    outcome = enrich_article(session, article, kit, now, pre=page.analysis)
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
    cap = kit.settings.fetch.max_retry_after
    if isinstance(exc, HostBackoff):
        # never sent: the host asked everyone to wait; not an attempt of this page
        row.next_attempt_at = now + timedelta(seconds=min(exc.retry_after or 0.0, cap))
        row.status = EntryStatus.FAILED if row.attempts else EntryStatus.PENDING
        report.add("pages_deferred")
        return True
    row.attempts += 1
    row.last_error = f"{exc.kind}: {exc}"[:500]
    report.error(exc.kind, row.url, str(exc))
    if exc.transient and row.attempts < kit.settings.fetch.max_page_attempts:
        row.status = EntryStatus.FAILED
        delay = PAGE_RETRY_BASE * (2 ** (row.attempts - 1))
        if exc.retry_after:
            # the server's own word, within a sane cap, and never sooner than our back-off
            delay = max(delay, timedelta(seconds=min(exc.retry_after, cap)))
        row.next_attempt_at = now + delay
        report.add("pages_failed")
        return True
    row.status = EntryStatus.GAVE_UP
    report.add("pages_given_up")
    return False


def pending_count(session: Session) -> int:
    """Pages still to fetch (pending, or failed and waiting for a retry)."""
    stmt = select(func.count()).select_from(Entry)
    return int(session.exec(stmt.where(col(Entry.status).in_(("pending", "failed")))).one())
