"""The units of work that the CLI and the Airflow DAGs both call.

Each function takes the Settings, opens its own engine, does one idempotent
unit of work and returns a StageReport. Running one twice changes nothing
that the first run already did.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy.engine import Engine
from sqlmodel import select

from pipeline.config import ENRICH_STEPS, Settings
from pipeline.ops.dirs import ensure_writable_dir
from pipeline.report import StageReport
from storage.db import check_connection, make_engine, migrate, session_scope
from storage.models import Feed, PipelineRun

if TYPE_CHECKING:
    from pipeline.enrich.toolkit import Toolkit

log = logging.getLogger(__name__)


@contextmanager
def _engine(settings: Settings) -> Iterator[Engine]:
    engine = make_engine(settings.database_url)
    try:
        check_connection(engine)
        yield engine
    finally:
        engine.dispose()


def _now(now: datetime | None) -> datetime:
    return (now or datetime.now(UTC)).astimezone(UTC)


def _save_run(engine: Engine, report: StageReport, started: datetime) -> StageReport:
    with session_scope(engine) as session:
        session.add(
            PipelineRun(
                stage=report.stage,
                started_at=started,
                finished_at=datetime.now(UTC),
                counts=dict(report.counts),
                errors=list(report.errors),
            )
        )
    # the caller (CLI, DAG task) prints the summary: logged here too, it showed twice
    log.debug(report.summary_line())
    return report


def init(settings: Settings) -> StageReport:
    """Create or migrate the schema, load seeds, sync feeds and actors."""
    from pipeline.enrich.seed_store import load_seed_articles
    from pipeline.feeds.feedlist import load_feed_list
    from storage import repo

    report = StageReport("init")
    ensure_writable_dir(settings.home, "NEWSMON_HOME")
    sources = load_feed_list(settings.feeds_path)
    with _engine(settings) as engine:
        migrate(engine)
        with session_scope(engine) as session:
            report.add("feeds", len(repo.sync_feeds(session, sources)))
        report.merge(load_seed_articles(engine, settings))
    return report


def plan_shards(settings: Settings, shard_count: int) -> list[int]:
    """Shard numbers that have at least one enabled feed; also syncs the feed list."""
    from pipeline.feeds.feedlist import load_feed_list
    from storage import repo

    sources = load_feed_list(settings.feeds_path)
    with _engine(settings) as engine, session_scope(engine) as session:
        repo.sync_feeds(session, sources)
        ids = session.exec(select(Feed.id).where(Feed.enabled)).all()
    return sorted({i % shard_count for i in ids if i is not None})


def ingest(
    settings: Settings,
    *,
    shard: int = 0,
    shards: int = 1,
    now: datetime | None = None,
    sync_feeds: bool | None = None,
) -> StageReport:
    """Poll the due feeds of one shard and store their new articles.

    The page half streams (pipeline.ingest.stream); a pass with nothing due
    returns before starting a worker pool.
    """
    # Only what an empty pass needs is imported up front; the HTTP client, the
    # parsers, the extractor and numpy come in once something is due.
    from pipeline.feeds.feedlist import load_feed_list
    from pipeline.ingest.due import due_feeds, why_no_feed_due
    from pipeline.ops.startup import long_lived
    from storage import queue, repo

    if shards < 1 or not 0 <= shard < shards:
        raise ValueError(f"bad shard {shard}/{shards}")
    started = _now(now)
    report = StageReport("ingest" if shards == 1 else f"ingest[{shard}/{shards}]")
    # loaded even for an empty pass: a broken actor file must fail every run
    # loudly, before the database; from the compiled cache it costs milliseconds
    with long_lived():
        kit = _toolkit(settings)
    with _engine(settings) as engine:
        if sync_feeds if sync_feeds is not None else shards == 1:
            sources = load_feed_list(settings.feeds_path)
            with session_scope(engine) as session:
                repo.sync_feeds(session, sources)
        with session_scope(engine) as session:
            jobs = due_feeds(session, started, shard, shards)
            due_pages = queue.open_count(session, started, due_only=True)
            if not jobs:
                report.notes.append(why_no_feed_due(session, started, shard, shards))
        if not jobs and not due_pages:
            return _save_run(engine, report, started)
        with long_lived():
            from pipeline.ingest.poll import poll_feeds
            from pipeline.ingest.pool import HostShare
            from pipeline.ingest.stream import run_pass

        # registered before polling: shards started together all count each other
        # by the time the first of them starts its CPU pool
        with HostShare(settings.ingest.share_dir) as share:
            feed_ids = poll_feeds(engine, kit, jobs, started, report)
            # A whole pass (the CLI) also picks up retries and what an interrupted
            # run left queued; a shard keeps to its own feeds (the DAG runs
            # process_pending for the rest).
            run_pass(
                engine,
                kit,
                started,
                report,
                feed_ids=None if shards == 1 else feed_ids,
                share=share,
            )
        _recluster(
            engine,
            settings,
            started - timedelta(hours=settings.story_recluster_hours),
            started + timedelta(seconds=1),
            started,
            report,
        )
        return _save_run(engine, report, started)


def _toolkit(settings: Settings) -> Toolkit:
    from pipeline.enrich.toolkit import Toolkit

    # the compiled gazetteer is cached under NEWSMON_HOME: an unusable home is the
    # one error to report, not a cache warning before it
    ensure_writable_dir(settings.home, "NEWSMON_HOME")
    return Toolkit.load(settings)


def process_pending(settings: Settings, *, now: datetime | None = None) -> StageReport:
    """Retry page fetches that failed or were left over by an interrupted run."""
    from pipeline.ops.startup import long_lived
    from storage import queue

    started = _now(now)
    report = StageReport("pending")
    with _engine(settings) as engine:
        with session_scope(engine) as session:
            due_pages = queue.open_count(session, started, due_only=True)
        if due_pages:
            with long_lived():
                from pipeline.ingest.stream import run_pass

                kit = _toolkit(settings)
            run_pass(engine, kit, started, report)
        return _save_run(engine, report, started)


def reprocess(
    settings: Settings,
    since: datetime,
    until: datetime,
    *,
    steps: Sequence[str] = ENRICH_STEPS,
    now: datetime | None = None,
) -> StageReport:
    """Re-run extraction and enrichment on stored articles fetched in [since, until)."""
    from pipeline.enrich.reprocess import article_ids_in_window, reprocess_articles
    from pipeline.enrich.steps import ALL_STEPS, Toolkit

    unknown = set(steps) - set(ALL_STEPS)
    if unknown:
        raise ValueError(f"unknown steps: {', '.join(sorted(unknown))}")
    started = _now(now)
    report = StageReport("reprocess")
    kit = Toolkit.load(settings)
    with _engine(settings) as engine:
        ids = article_ids_in_window(engine, since, until)
        reprocess_articles(engine, kit, ids, steps, started, report)
        if "stories" in steps:
            _recluster(engine, settings, since, until, started, report)
        return _save_run(engine, report, started)


def _recluster(
    engine: Engine,
    settings: Settings,
    since: datetime,
    until: datetime,
    now: datetime,
    report: StageReport,
) -> None:
    """Merge/split the window's stories (pipeline.enrich.story_recluster); counts in the report."""
    from pipeline.enrich.story_recluster import recluster_window

    if since >= until:
        return
    done = recluster_window(engine, since, until, now)
    report.add("stories_merged", done.merged)
    report.add("stories_split", done.split)


def ingest_window(
    settings: Settings, start: datetime, end: datetime, *, now: datetime | None = None
) -> StageReport:
    """Backfill of a past window: news sitemaps for the window, then reprocess what is stored.

    A feed shows only its latest items, so a backfill cannot re-read the past
    from feeds; sitemaps are date-aware. Known pages are never fetched again.
    """
    from pipeline.enrich.toolkit import Toolkit
    from pipeline.ingest.backfill import queue_sitemap_entries
    from pipeline.ingest.stream import run_pass

    started = _now(now)
    report = StageReport("ingest-window")
    kit = Toolkit.load(settings)
    with _engine(settings) as engine:
        feed_ids = queue_sitemap_entries(engine, kit, start, end, started, report)
        if feed_ids:
            run_pass(engine, kit, started, report, feed_ids=feed_ids)
        _save_run(engine, report, started)
    report.merge(reprocess(settings, start, end, now=now))
    return report


def digest(
    settings: Settings,
    day: date,
    *,
    send: bool = False,
    recipients: Sequence[str] | None = None,
    resend: bool = False,
    smtp_url: str | None = None,
    out_dir: Path | None = None,
) -> StageReport:
    """Rebuild the digest of ``day`` from stored articles; send it only when asked.

    Raises DeliveryError (transient) when any recipient could not be reached;
    recipients already served are recorded and skipped on the retry.
    """

    from pipeline.digest.deliver import run_digest

    report = StageReport("digest")
    if out_dir is not None:
        ensure_writable_dir(out_dir, "--out")
    else:
        ensure_writable_dir(settings.digests_dir, "NEWSMON_HOME")
    with _engine(settings) as engine:
        result = run_digest(
            settings,
            engine,
            day,
            send=send,
            recipients=recipients,
            resend=resend,
            out_dir=out_dir,
            smtp_url=smtp_url,
        )
        report.add("stories", result.stories)
        report.add("articles", result.articles)
        report.add("written", len(result.written))
        report.add("sent", len(result.sent_to))
        report.add("already_sent", len(result.skipped))
        report.add("being_sent_elsewhere", len(result.busy))
        for rcpt, reason, _transient in result.reasons:
            report.error("DeliveryError", rcpt, reason)
        report.outputs.extend(str(p) for p in result.written)
        _save_run(engine, report, datetime.now(UTC))
    # after the run is recorded: a failed delivery must fail the task (and be
    # retried), never pass as a quiet success
    result.raise_for_failures()
    return report
