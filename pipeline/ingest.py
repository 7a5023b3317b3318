"""One ingest pass: poll feeds, queue their links, fetch and store the pages.

Order of work and why:
1. Feeds are fetched concurrently (pipeline.fetch); each outcome updates the
   feed's health in its own short transaction.
2. New links are queued as Entry rows keyed by normalised URL, so a link seen
   in five feeds is fetched once, and a re-run queues nothing twice.
3. Due entries are fetched concurrently; each page is extracted and stored in
   one transaction together with its enrichment, so a crash never leaves a
   half-written article behind.
"""

from __future__ import annotations

import logging
import time
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, func, or_, select

from pipeline import feed_health
from pipeline.articles import apply_extraction
from pipeline.enrich import Toolkit, enrich_article
from pipeline.errors import ExtractionError, FeedParseError, FetchError, NewsmonError
from pipeline.extract import Extracted, extract_article
from pipeline.feeds import FeedEntry, parse_feed
from pipeline.fetch import FetchRequest, FetchResult, fetch_all
from pipeline.report import StageReport
from pipeline.urls import normalize_url
from storage import repo
from storage.db import session_scope
from storage.models import Article, Entry, Feed, FeedAttempt

log = logging.getLogger(__name__)

#: Base delay before a failed page is tried again; doubled per attempt.
PAGE_RETRY_BASE = timedelta(minutes=15)


@dataclass(frozen=True)
class _FeedJob:
    feed_id: int
    url: str
    etag: str | None
    last_modified: str | None
    content_hash: str | None


def due_feeds(session: Session, now: datetime, shard: int, shards: int) -> list[_FeedJob]:
    feeds = session.exec(
        select(Feed)
        .where(
            Feed.enabled,
            col(Feed.id) % shards == shard,
            or_(col(Feed.next_poll_at).is_(None), col(Feed.next_poll_at) <= now),
        )
        .order_by(col(Feed.id))
    )
    return [
        _FeedJob(f.id, f.url, f.etag, f.last_modified, f.content_hash)
        for f in feeds
        if f.id is not None
    ]


def poll_feeds(
    engine: Engine, kit: Toolkit, jobs: Sequence[_FeedJob], now: datetime, report: StageReport
) -> list[int]:
    """Fetch the feeds, record each attempt, queue new entries. Returns polled feed ids."""
    requests = [
        FetchRequest(
            url=j.url,
            kind="feed",
            etag=j.etag,
            last_modified=j.last_modified,
            previous_hash=j.content_hash,
            key=j.feed_id,
        )
        for j in jobs
    ]
    started = time.monotonic()
    results = fetch_all(kit.settings.fetch, requests) if requests else []
    elapsed_ms = int((time.monotonic() - started) * 1000)
    for job, result in zip(jobs, results, strict=True):
        report.add("feeds_polled")
        with session_scope(engine) as session:
            feed = session.get(Feed, job.feed_id)
            if feed is None:
                continue
            _record_feed_outcome(session, feed, result, now, elapsed_ms, report)
    return [j.feed_id for j in jobs]


def _record_feed_outcome(
    session: Session,
    feed: Feed,
    result: FetchResult | FetchError,
    now: datetime,
    elapsed_ms: int,
    report: StageReport,
) -> None:
    state = feed_health.HealthState(
        feed.failure_score, feed.consecutive_failures, feed.poll_interval_s
    )
    attempt = FeedAttempt(feed_id=feed.id or 0, started_at=now, status="ok")
    feed.last_polled_at = now
    if isinstance(result, FetchError):
        _feed_failed(feed, attempt, state, now, result, report)
    elif result.not_modified or (
        feed.content_hash is not None and result.content_hash == feed.content_hash
    ):
        attempt.status = "not-modified" if result.not_modified else "unchanged"
        attempt.http_status = result.status
        attempt.duration_ms = int(result.elapsed * 1000)
        report.add("feeds_unchanged")
        _feed_succeeded(feed, state, now, 0)
    else:
        attempt.http_status = result.status
        attempt.duration_ms = int(result.elapsed * 1000)
        try:
            parsed = parse_feed(result.body, url=result.url, headers=result.headers)
        except FeedParseError as exc:
            _feed_failed(feed, attempt, state, now, exc, report)
        else:
            if parsed.error:
                # keep what could be read, but record that the feed is malformed
                attempt.error_class = "MalformedFeed"
                attempt.error_message = parsed.error[:500]
                report.add("feeds_malformed")
            new = queue_entries(session, feed, parsed.entries, now)
            attempt.entries_found = len(parsed.entries)
            attempt.entries_new = new
            report.add("entries_new", new)
            feed.etag, feed.last_modified = result.etag, result.last_modified
            feed.content_hash = result.content_hash
            _feed_succeeded(feed, state, now, new)
    if attempt.duration_ms == 0:
        attempt.duration_ms = elapsed_ms
    session.add(feed)
    session.add(attempt)


def _feed_succeeded(
    feed: Feed, state: feed_health.HealthState, now: datetime, new_entries: int
) -> None:
    update = feed_health.after_success(state, now, new_entries=new_entries)
    feed.failure_score = update.state.failure_score
    feed.consecutive_failures = 0
    feed.poll_interval_s = update.state.poll_interval_s
    feed.next_poll_at = update.next_poll_at
    feed.last_success_at = now
    feed.last_error = None
    if new_entries:
        feed.last_new_entry_at = now


def _feed_failed(
    feed: Feed,
    attempt: FeedAttempt,
    state: feed_health.HealthState,
    now: datetime,
    exc: NewsmonError,
    report: StageReport,
) -> None:
    message = str(exc) or exc.kind
    attempt.status = "error"
    attempt.error_class = exc.kind
    attempt.error_message = message[:500]
    attempt.http_status = getattr(exc, "status", None)
    update = feed_health.after_failure(
        state,
        now,
        transient=exc.transient,
        error=f"{exc.kind}: {message}"[:300],
        retry_after=getattr(exc, "retry_after", None),
    )
    feed.failure_score = update.state.failure_score
    feed.consecutive_failures = update.state.consecutive_failures
    feed.next_poll_at = update.next_poll_at
    feed.last_error = f"{exc.kind}: {message}"[:500]
    if update.disable_reason:
        feed.enabled = False
        feed.disabled_reason = update.disable_reason
        report.add("feeds_disabled")
    report.error(exc.kind, feed.url, message)
    report.add("feeds_failed")


def queue_entries(
    session: Session, feed: Feed, entries: Sequence[FeedEntry], now: datetime, source: str = "feed"
) -> int:
    new = 0
    for e in entries:
        try:
            url = normalize_url(e.url)
        except ValueError:
            continue
        if not url.startswith(("http://", "https://")):
            continue
        if repo.article_by_url(session, url) is not None:
            continue
        new += repo.add_entry(
            session,
            {
                "url": url,
                "feed_id": feed.id,
                "guid": (e.guid or "")[:2048] or None,
                "title": e.title,
                "summary": e.summary,
                "published_at": e.published_at,
                "source": source,
                "status": "pending",
                "attempts": 0,
                "first_seen_at": now,
            },
        )
    return new


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
    if row is None or row.status == "done":
        return  # another worker got here first
    if page.error is not None and _page_failed(row, page.error, kit, now, report):
        return  # retried on a later pass
    extracted = page.extracted
    if extracted is None and not (row.summary or row.title):
        row.status = "gave-up"
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
    row.status = "done"
    row.article_id = article.id
    session.add(row)
    report.add("articles_stored")
    if outcome["relevant"]:
        report.add("articles_relevant")
    if outcome["duplicate"]:
        report.add(f"duplicates_{outcome['duplicate']}")


def _page_failed(
    row: Entry, exc: NewsmonError, kit: Toolkit, now: datetime, report: StageReport
) -> bool:
    """Record a failed page; True if it will be retried later, False if given up."""
    row.attempts += 1
    row.last_error = f"{exc.kind}: {exc}"[:500]
    report.error(exc.kind, row.url, str(exc))
    if exc.transient and row.attempts < kit.settings.fetch.max_page_attempts:
        row.status = "failed"
        row.next_attempt_at = now + PAGE_RETRY_BASE * (2 ** (row.attempts - 1))
        report.add("pages_failed")
        return True
    row.status = "gave-up"
    report.add("pages_given_up")
    return False


def pending_count(session: Session) -> int:
    stmt = select(func.count()).select_from(Entry)
    return int(session.exec(stmt.where(col(Entry.status).in_(("pending", "failed")))).one())
