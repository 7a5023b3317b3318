"""Collect one day's digest input from the database.

The day is [local midnight, next local midnight) in the configured time zone,
converted to UTC, so a DST day is 23 or 25 hours long. An article belongs to the
day by ``fetched_at`` (when newsmon first saw it: a late-published backfill does
not reshuffle past digests), except seeds, which belong to the day they were
published. The result is a plain pipeline.digest.build.DayInput; no ORM object leaks out.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import and_, case, func, or_
from sqlmodel import Session, col, select

from pipeline.digest.day_state import STORAGE_KINDS, day_state
from pipeline.digest.model import (
    ActorCount,
    ActorRef,
    ArticleItem,
    DayInput,
    FeedProblem,
    Health,
    KnownRef,
    NewName,
)
from pipeline.feeds.health import is_quiet
from pipeline.windows import day_window
from storage.models import (
    Actor,
    ActorCandidate,
    Article,
    Entry,
    Feed,
    FeedAttempt,
    Mention,
    PipelineRun,
)
from storage.queue import backlog_by_feed
from storage.repo import actors_of

MAX_EXAMPLES = 10
MAX_BACKLOG_FEEDS = 5


def _day_time() -> Any:
    """The instant that places an article in a day: publication for seeds, else fetch."""
    return case(
        (and_(col(Article.is_seed), col(Article.published_at).is_not(None)), Article.published_at),
        else_=Article.fetched_at,
    )


def _aware(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def collect_day(
    session: Session,
    day: date,
    timezone: str,
    *,
    baseline_days: int = 28,
    language: str = "en",
) -> DayInput:
    """Everything build_digest needs for ``day``; actors named in ``language``."""
    start, end = day_window(day, timezone)
    when = _day_time()
    in_day = and_(when >= start, when < end)
    rows = list(session.exec(select(Article).where(in_day).order_by(col(Article.id))))
    relevant = [a for a in rows if a.relevant]
    ids = [a.id for a in relevant if a.id is not None]
    actor_map = actors_of(session, ids)
    items = tuple(_item(a, actor_map.get(a.id or 0, []), language) for a in relevant)

    story_ids = sorted({a.story_id for a in relevant if a.story_id is not None})
    copied = {a.duplicate_of for a in relevant if a.duplicate_of is not None}
    dup_targets = sorted(copied - set(ids))
    health = Health(
        seen=len(rows),
        kept=len(relevant),
        duplicates=sum(1 for a in relevant if a.duplicate_of is not None),
        **_feed_health(session, start, end),
    )
    return DayInput(
        day=day,
        timezone=timezone,
        start=start,
        end=end,
        articles=items,
        known_stories=_known_stories(session, story_ids, start),
        known_articles=_known_articles(session, dup_targets, start),
        actors=_actor_counts(session, day, timezone, baseline_days, language),
        candidates=_candidates(session, start, end),
        health=health,
        baseline_days=baseline_days,
    )


def actor_ref(a: Actor, language: str) -> ActorRef:
    """The actor as the reader knows it: German or Korean name where the gazetteer has one."""
    local = {"de": a.name_de, "ko": a.name_ko}.get(language[:2].lower())
    return ActorRef(a.id, local or a.name, a.type, a.country)


def _item(a: Article, actors: list[Actor], language: str) -> ArticleItem:
    assert a.id is not None
    return ArticleItem(
        id=a.id,
        title=a.title or "",
        url=a.canonical_url or a.url,
        source=a.source or _host(a.url),
        fetched_at=_aware(a.fetched_at) or datetime.now(UTC),
        published_at=_aware(a.published_at),
        language=a.language,
        text=a.text or "",
        description=a.description,
        feed_summary=a.feed_summary,
        story_id=a.story_id,
        duplicate_of=a.duplicate_of,
        duplicate_kind=a.duplicate_kind,
        wire_agencies=tuple(a.wire_agencies or ()),
        relevance_score=a.relevance_score or 0.0,
        actors=tuple(actor_ref(x, language) for x in actors),
        is_seed=a.is_seed,
        teaser=a.extraction_method == "feed-summary",
    )


def _host(url: str) -> str:
    from urllib.parse import urlsplit

    return (urlsplit(url).hostname or url).removeprefix("www.")


def _ref(a: Article, count: int = 1) -> KnownRef:
    assert a.id is not None
    return KnownRef(
        article_id=a.id,
        title=a.title or a.seed_name or a.url,
        url=None if a.is_seed else a.url,
        when=_aware(a.published_at) or _aware(a.fetched_at) or datetime.now(UTC),
        is_seed=a.is_seed,
        seed_name=a.seed_name,
        earlier_articles=count,
    )


def _known_stories(session: Session, story_ids: list[int], start: datetime) -> dict[int, KnownRef]:
    """For each story, its earliest article from before the day (seeds count as known)."""
    if not story_ids:
        return {}
    when = _day_time()
    earlier = list(
        session.exec(
            select(Article)
            .where(col(Article.story_id).in_(story_ids), or_(col(Article.is_seed), when < start))
            .order_by(col(Article.is_seed).desc(), when, col(Article.id))
        )
    )
    grouped: dict[int, list[Article]] = defaultdict(list)
    for a in earlier:
        assert a.story_id is not None
        grouped[a.story_id].append(a)
    return {sid: _ref(arts[0], len(arts)) for sid, arts in grouped.items()}


def _known_articles(session: Session, ids: list[int], start: datetime) -> dict[int, KnownRef]:
    if not ids:
        return {}
    arts = session.exec(select(Article).where(col(Article.id).in_(ids)))
    return {a.id: _ref(a) for a in arts if a.id is not None}


def _actor_counts(
    session: Session, day: date, timezone: str, baseline_days: int, language: str
) -> tuple[ActorCount, ...]:
    """Distinct original relevant articles per actor: today, and the mean of the days before."""
    start, end = day_window(day, timezone)
    base_start, _ = day_window(day - timedelta(days=baseline_days), timezone)
    when = _day_time()

    stmt = (
        select(
            Mention.actor_id,
            func.count(func.distinct(case((when >= start, Mention.article_id)))),
            func.count(func.distinct(case((when < start, Mention.article_id)))),
        )
        .join(Article, col(Article.id) == col(Mention.article_id))
        .where(
            col(Article.relevant),
            col(Article.duplicate_of).is_(None),
            when >= base_start,
            when < end,
        )
        .group_by(Mention.actor_id)
    )
    counts = {actor_id: (int(t), int(b)) for actor_id, t, b in session.exec(stmt).all()}
    if not counts:
        return ()
    actors = session.exec(select(Actor).where(col(Actor.id).in_(list(counts))))
    return tuple(
        ActorCount(
            actor_ref(a, language),
            today=counts[a.id][0],
            baseline=counts[a.id][1] / baseline_days,
        )
        for a in actors
    )


def _candidates(session: Session, start: datetime, end: datetime) -> tuple[NewName, ...]:
    rows = session.exec(
        select(ActorCandidate, Article.title)
        .join(Article, col(Article.id) == col(ActorCandidate.example_article_id), isouter=True)
        .where(ActorCandidate.first_seen_at >= start, ActorCandidate.first_seen_at < end)
        .order_by(col(ActorCandidate.mentions).desc(), col(ActorCandidate.name))
        .limit(MAX_EXAMPLES)
    ).all()
    return tuple(NewName(c.name, c.mentions, c.evidence, title) for c, title in rows)


def _feed_health(session: Session, start: datetime, end: datetime) -> dict[str, Any]:
    feeds = list(session.exec(select(Feed).where(col(Feed.enabled)).order_by(col(Feed.name))))
    attempts = session.exec(
        select(FeedAttempt)
        .where(FeedAttempt.started_at >= start, FeedAttempt.started_at < end)
        .order_by(col(FeedAttempt.feed_id), col(FeedAttempt.started_at))
    ).all()
    last: dict[int, FeedAttempt] = {}
    att: FeedAttempt | None
    errors: dict[int, int] = defaultdict(int)
    for att in attempts:
        last[att.feed_id] = att
        if att.status == "error":
            errors[att.feed_id] += 1
    failed: list[FeedProblem] = []
    quiet: list[FeedProblem] = []
    for f in feeds:
        assert f.id is not None
        att = last.get(f.id)
        if att is not None and att.status == "error":
            detail = f"{att.error_class or 'error'}: {att.error_message or ''}".strip()
            failed.append(
                FeedProblem(
                    f.name,
                    f.url,
                    detail.rstrip(":"),
                    error=att.error_class,
                    http_status=att.http_status,
                    count=errors[f.id],
                )
            )
            continue
        newest = _aware(f.last_new_entry_at)
        created = _aware(f.created_at) or end
        # the same rule as `newsmon feeds check`: far longer than this feed's usual gap
        if is_quiet(newest, created, f.poll_interval_s, end):
            since = newest.date().isoformat() if newest else "-"
            quiet.append(FeedProblem(f.name, f.url, since))

    bad = col(Entry.status).in_(("failed", "gave-up"))
    window = and_(col(Entry.first_seen_at) >= start, col(Entry.first_seen_at) < end)
    n_bad = session.exec(select(func.count()).select_from(Entry).where(bad, window)).one()
    examples = session.exec(
        select(Entry).where(bad, window).order_by(col(Entry.id)).limit(MAX_EXAMPLES)
    ).all()
    runs = session.exec(
        select(PipelineRun).where(
            PipelineRun.started_at >= start,
            PipelineRun.started_at < end,
            # ingest, its shards "ingest[i/n]", "ingest-window", "pending", "reprocess"
            col(PipelineRun.stage) != "digest",
            col(PipelineRun.stage) != "init",
        )
    ).all()
    enabled = {f.id for f in feeds}
    polled = [fid for fid in last if fid in enabled]
    verdict = day_state(
        start=start,
        end=end,
        first_attempt=_aware(session.exec(select(func.min(FeedAttempt.started_at))).one()),
        first_success=_success_bound(session, first=True),
        last_success=_success_bound(session, first=False, before=end),
        ok_attempts=sum(1 for a in attempts if a.status != "error"),
        feeds_polled=len(polled),
        feeds_failing=sum(1 for fid in polled if last[fid].status == "error"),
        ingest_runs=sum(1 for r in runs if r.stage.startswith("ingest")),
        outage=any((r.counts or {}).get("local_outage") for r in runs),
        database_errors=sum(
            1 for r in runs for e in (r.errors or []) if str(e.get("kind", "")) in STORAGE_KINDS
        ),
    )
    return {
        "failed_feeds": tuple(failed),
        "quiet_feeds": tuple(quiet),
        "not_extracted": int(n_bad),
        "not_extracted_examples": tuple(
            _entry_problem(e.title or _host(e.url), e.url, e.last_error or e.status)
            for e in examples
        ),
        "runs": len(runs),
        "run_errors": sum(len(r.errors or []) for r in runs),
        **_backlog(session, feeds, end),
        **verdict,
    }


def _backlog(session: Session, feeds: list[Feed], end: datetime) -> dict[str, Any]:
    """Pages queued before ``end`` and not fetched yet, in all and for the worst feeds."""
    counts = backlog_by_feed(session, end, seen_before=end)
    names = {f.id: f for f in feeds}
    worst = sorted(
        ((b.total, fid) for fid, b in counts.items() if fid in names and b.total),
        key=lambda t: (-t[0], names[t[1]].name),
    )[:MAX_BACKLOG_FEEDS]
    return {
        "backlog": sum(b.total for b in counts.values()),
        "backlog_feeds": tuple(
            FeedProblem(names[fid].name, names[fid].url, str(n)) for n, fid in worst
        ),
    }


def _entry_problem(name: str, url: str, last_error: str) -> FeedProblem:
    # page errors are stored as "Kind: message"
    kind, sep, _ = last_error.partition(":")
    return FeedProblem(name, url, last_error, error=kind.strip() if sep else None)


def _success_bound(
    session: Session, *, first: bool, before: datetime | None = None
) -> datetime | None:
    """The first (or last before ``before``) feed poll that did not fail."""
    agg = func.min if first else func.max
    stmt = select(agg(FeedAttempt.started_at)).where(col(FeedAttempt.status) != "error")
    if before is not None:
        stmt = stmt.where(FeedAttempt.started_at < before)
    return _aware(session.exec(stmt).one())
