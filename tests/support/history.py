"""A monitor's past, written straight into its database for tests that need one."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import select

from storage.db import make_engine, session_scope
from storage.models import Feed, FeedAttempt


def record_successful_poll(database_url: str, when: datetime) -> None:
    """One successful feed poll at ``when``: the monitor was running by then.

    A digest for a day before the monitor's first successful poll is written but never
    emailed, so tests that email digests of past days first give the monitor that past.
    """
    engine = make_engine(database_url)
    try:
        with session_scope(engine) as s:
            feed = s.exec(select(Feed)).first()
            assert feed is not None and feed.id is not None, "run newsmon init first"
            s.add(FeedAttempt(feed_id=feed.id, started_at=when, status="ok"))
    finally:
        engine.dispose()
