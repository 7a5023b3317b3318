"""Which feeds are due: the one question every ingest asks, also when nothing is due.

Kept apart from pipeline.ingest.poll (HTTP client, feed parsers) so that an
ingest pass with nothing to do imports only the storage layer.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlmodel import Session, col, or_, select

from storage.models import Feed


@dataclass(frozen=True)
class FeedJob:
    """A feed to poll, with its validators for a conditional GET."""

    feed_id: int
    url: str
    etag: str | None
    last_modified: str | None
    content_hash: str | None


def due_feeds(session: Session, now: datetime, shard: int, shards: int) -> list[FeedJob]:
    """Enabled feeds of shard ``shard`` (of ``shards``) whose next poll is due at ``now``."""
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
        FeedJob(f.id, f.url, f.etag, f.last_modified, f.content_hash)
        for f in feeds
        if f.id is not None
    ]


def why_no_feed_due(session: Session, now: datetime, shard: int, shards: int) -> str:
    """Why a pass polls nothing: no enabled feed, or when the next one is due and why it waits."""
    feeds = list(session.exec(select(Feed).where(Feed.enabled, col(Feed.id) % shards == shard)))
    if not feeds:
        return "no enabled feed (see 'newsmon feeds check')"
    waiting = sorted((f for f in feeds if f.next_poll_at), key=lambda f: f.next_poll_at or now)
    if not waiting:
        return "no feed due"
    nxt = waiting[0].next_poll_at
    assert nxt is not None
    backed_off = sum(1 for f in feeds if f.consecutive_failures)
    when = (
        nxt.astimezone(UTC).strftime("%H:%M UTC")
        if nxt.date() == now.date()
        else (nxt.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC"))
    )
    line = f"no feed due: next poll at {when}"
    if backed_off:
        line += f"; {backed_off} of {len(feeds)} feeds backed off after failures"
    return line
