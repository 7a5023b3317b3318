"""Which feeds are due: the one question every ingest asks, also when nothing is due.

Kept apart from pipeline.ingest.poll (HTTP client, feed parsers) so that an
ingest pass with nothing to do imports only the storage layer.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

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
