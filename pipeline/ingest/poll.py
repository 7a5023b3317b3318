"""The feed half of an ingest pass: poll the due feeds and queue their links.

1. Feeds are fetched concurrently (pipeline.net.client); each outcome updates the
   feed's health in its own short transaction.
2. New links are queued as Entry rows keyed by normalised URL, so a link seen
   in five feeds is fetched once, and a re-run queues nothing twice.

The page half (fetching the queued links into articles) is pipeline.ingest.store.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.engine import Engine
from sqlmodel import Session

from pipeline.enrich.toolkit import Toolkit
from pipeline.errors import (
    FeedParseError,
    FetchError,
    HostNotFound,
    NewsmonError,
    TransientFetchError,
)
from pipeline.feeds import health as feed_health
from pipeline.feeds.entries import FeedEntry
from pipeline.feeds.parse import parse_feed
from pipeline.ingest.due import FeedJob as _FeedJob
from pipeline.net.client import FetchRequest, FetchResult, fetch_all
from pipeline.net.urls import normalize_url
from pipeline.report import StageReport
from storage import repo
from storage.db import session_scope
from storage.models import Feed, FeedAttempt
from storage.statuses import AttemptStatus

log = logging.getLogger(__name__)


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
    outage = feed_health.is_local_outage([_network_failure(r) for r in results])
    if outage:
        # Our own network is down (DNS included): no feed is to blame, none is disabled.
        first = next(r for r in results if isinstance(r, FetchError))
        log.warning(
            "local outage: all %d feeds failed at the network level (e.g. %s); "
            "feed health left unchanged",
            len(results),
            first,
        )
        report.add("local_outage")
        report.error("LocalOutage", "network", f"all {len(results)} feeds unreachable: {first}")
    for job, result in zip(jobs, results, strict=True):
        report.add("feeds_polled")
        with session_scope(engine) as session:
            feed = session.get(Feed, job.feed_id)
            if feed is None:
                continue
            _record_feed_outcome(session, feed, result, now, elapsed_ms, report, outage=outage)
    return [j.feed_id for j in jobs]


def _network_failure(result: FetchResult | FetchError) -> bool | None:
    """None: the network answered; True: no answer at all (DNS, connect, timeout)."""
    if not isinstance(result, FetchError):
        return None
    if result.status is not None:
        return None
    return isinstance(result, TransientFetchError)


def _record_feed_outcome(
    session: Session,
    feed: Feed,
    result: FetchResult | FetchError,
    now: datetime,
    elapsed_ms: int,
    report: StageReport,
    *,
    outage: bool = False,
) -> None:
    state = feed_health.HealthState(
        feed.failure_score, feed.consecutive_failures, feed.poll_interval_s
    )
    attempt = FeedAttempt(feed_id=feed.id or 0, started_at=now, status=AttemptStatus.OK)
    feed.last_polled_at = now
    if isinstance(result, FetchError):
        _feed_failed(feed, attempt, state, now, result, report, outage=outage)
    elif result.not_modified or (
        feed.content_hash is not None and result.content_hash == feed.content_hash
    ):
        attempt.status = (
            AttemptStatus.NOT_MODIFIED if result.not_modified else AttemptStatus.UNCHANGED
        )
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
    *,
    outage: bool = False,
) -> None:
    message = str(exc) or exc.kind
    attempt.status = AttemptStatus.ERROR
    attempt.error_class = exc.kind
    attempt.error_message = message[:500]
    attempt.http_status = getattr(exc, "status", None)
    update = feed_health.after_failure(
        state,
        now,
        transient=exc.transient,
        error=f"{exc.kind}: {message}"[:300],
        retry_after=exc.retry_after,
        host_not_found=isinstance(exc, HostNotFound),
        outage=outage,
    )
    feed.failure_score = update.state.failure_score
    feed.consecutive_failures = update.state.consecutive_failures
    feed.next_poll_at = update.next_poll_at
    feed.last_error = (
        f"local outage ({exc.kind}: {message})" if outage else f"{exc.kind}: {message}"
    )[:500]
    if update.disable_reason:
        feed.enabled = False
        feed.disabled_reason = update.disable_reason
        report.add("feeds_disabled")
    if not outage:  # an outage is reported once, not once per feed
        report.error(exc.kind, feed.url, message)
    report.add("feeds_failed")


def queue_entries(
    session: Session, feed: Feed, entries: Sequence[FeedEntry], now: datetime, source: str = "feed"
) -> int:
    """Queue the feed's new links (normalised URLs, known ones skipped); how many were new."""
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
