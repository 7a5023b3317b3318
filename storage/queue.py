"""The page queue: due entries, claims with a lease, backlog per feed.

A run that is about to fetch pages claims them first (``claim``): it writes
its owner name and a lease end onto the entry rows, and only rows that are
unclaimed, or whose lease has lapsed, can be claimed. A concurrent run or
another shard therefore skips pages already in someone's hands, and a run
killed mid-pass holds its pages only until the lease ends (or at once, when a
later run on the same machine sees that the owner process is gone).
"""

from __future__ import annotations

import os
import socket
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, case, func, or_, update
from sqlmodel import Session, col, select

from storage.models import Entry

OPEN_STATUSES = ("pending", "failed")


@dataclass(frozen=True)
class Candidate:
    """A due, unclaimed entry: just what fair ordering needs."""

    id: int
    feed_id: int | None
    url: str
    rank: int  # 1 = the feed's oldest due entry


@dataclass(frozen=True)
class Backlog:
    """Open pages of one feed: due now, and waiting for a later retry."""

    due: int
    waiting: int
    oldest: datetime | None

    @property
    def total(self) -> int:
        """All open pages of the feed, due or waiting."""
        return self.due + self.waiting


def owner_name() -> str:
    """``host:pid:`` prefix of this process's claims (a token is appended per run)."""
    return f"{socket.gethostname()[:60]}:{os.getpid()}:"


def _due(now: datetime) -> Any:
    return or_(col(Entry.next_attempt_at).is_(None), col(Entry.next_attempt_at) <= now)


def _claimable(now: datetime, owner: str | None = None) -> Any:
    free = or_(col(Entry.claimed_until).is_(None), col(Entry.claimed_until) <= now)
    return or_(free, col(Entry.claimed_by) == owner) if owner else free


def due_candidates(
    session: Session,
    now: datetime,
    *,
    feed_ids: Sequence[int] | None = None,
    per_feed: int,
) -> list[Candidate]:
    """Due, unclaimed entries, at most ``per_feed`` of each feed (oldest first).

    The cut per feed happens in SQL (a window function), so a feed with a
    backlog of 100,000 links costs no more than one with ``per_feed``.
    """
    rank = (
        func.row_number()
        .over(partition_by=col(Entry.feed_id), order_by=col(Entry.id))
        .label("rank")
    )
    inner = select(col(Entry.id), col(Entry.feed_id), col(Entry.url), rank).where(
        col(Entry.status).in_(OPEN_STATUSES), _due(now), _claimable(now)
    )
    if feed_ids is not None:
        inner = inner.where(col(Entry.feed_id).in_(list(feed_ids)))
    sub = inner.subquery()
    rows = session.exec(
        select(sub.c.id, sub.c.feed_id, sub.c.url, sub.c.rank)
        .where(sub.c.rank <= per_feed)
        .order_by(sub.c.rank, sub.c.feed_id)
    ).all()
    return [Candidate(int(r[0]), r[1], str(r[2]), int(r[3])) for r in rows]


def claim(
    session: Session, ids: Iterable[int], owner: str, now: datetime, until: datetime
) -> list[Entry]:
    """Claim the given entries for ``owner`` until ``until``; returns the rows won.

    One conditional UPDATE: on PostgreSQL a concurrent claimer waits for the
    row lock and then re-checks the condition (so it loses), on SQLite writers
    are serialised anyway. Rows claimed by someone else are left out.
    """
    wanted = list(ids)
    if not wanted:
        return []
    stmt = (
        update(Entry)
        .where(
            col(Entry.id).in_(wanted),
            col(Entry.status).in_(OPEN_STATUSES),
            _claimable(now, owner),
        )
        .values(claimed_by=owner, claimed_until=until)
        .returning(col(Entry.id))
    )
    won = {int(r[0]) for r in session.execute(stmt)}
    if not won:
        return []
    rows = session.exec(select(Entry).where(col(Entry.id).in_(won))).all()
    order = {i: n for n, i in enumerate(wanted)}
    return sorted(rows, key=lambda e: order.get(e.id or 0, 0))


def release(session: Session, owner: str, ids: Iterable[int] | None = None) -> int:
    """Give up ``owner``'s claims (all of them, or those in ``ids``)."""
    stmt = update(Entry).where(col(Entry.claimed_by) == owner)
    if ids is not None:
        stmt = stmt.where(col(Entry.id).in_(list(ids)))
    result = session.execute(stmt.values(claimed_by=None, claimed_until=None))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def release_dead_local_claims(session: Session, now: datetime) -> int:
    """Free live-looking claims of processes on this machine that no longer exist.

    A killed run's lease would otherwise keep its pages from the next run for
    the whole lease; on the same host the owner's pid tells whether it is gone.
    """
    host = socket.gethostname()[:60]
    owners = session.exec(
        select(col(Entry.claimed_by))
        .where(
            col(Entry.claimed_by).startswith(f"{host}:"),
            col(Entry.claimed_until) > now,
        )
        .distinct()
    ).all()
    freed = 0
    for owner in owners:
        if owner and not _alive(owner):
            freed += release(session, owner)
    return freed


def _alive(owner: str) -> bool:
    try:
        pid = int(owner.split(":")[1])
    except (IndexError, ValueError):
        return True  # not ours to judge
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def backlog_by_feed(
    session: Session, now: datetime, *, seen_before: datetime | None = None
) -> dict[int | None, Backlog]:
    """Open pages per feed id: due at ``now``, waiting for a retry, oldest first-seen time.

    ``seen_before`` counts only entries first seen before that instant.
    """
    due = func.sum(case((_due(now), 1), else_=0))
    stmt = select(col(Entry.feed_id), func.count(), due, func.min(col(Entry.first_seen_at))).where(
        col(Entry.status).in_(OPEN_STATUSES)
    )
    if seen_before is not None:
        stmt = stmt.where(col(Entry.first_seen_at) < seen_before)
    rows = session.exec(stmt.group_by(col(Entry.feed_id))).all()
    out: dict[int | None, Backlog] = {}
    for feed_id, total, n_due, oldest in rows:
        n_due = int(n_due or 0)
        out[feed_id] = Backlog(n_due, int(total) - n_due, oldest)
    return out


def open_count(session: Session, now: datetime, *, due_only: bool = False) -> int:
    """Open pages in the queue (all, or only those due at ``now``)."""
    stmt = select(func.count()).select_from(Entry).where(col(Entry.status).in_(OPEN_STATUSES))
    if due_only:
        stmt = stmt.where(and_(_due(now)))
    return int(session.exec(stmt).one())
