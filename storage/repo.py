"""Repository functions: idempotent writes and the queries the stages need.

Every write that can be repeated by a retried task goes through
``insert_ignore`` (INSERT ... ON CONFLICT DO NOTHING on the natural key), so a
second run, or a concurrent one, finds the row instead of adding another.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, date, datetime
from typing import Any, Protocol

from sqlalchemy import bindparam, func, or_, text
from sqlmodel import Session, col, delete, select
from sqlmodel.sql.expression import SelectOfScalar

from pipeline.errors import UsageError
from storage.models import (
    Actor,
    ActorCandidate,
    Article,
    Digest,
    Entry,
    Feed,
    Mention,
)
from storage.upsert import insert_ignore, insert_ignore_many, insert_skipping


class FeedSpec(Protocol):
    """What storage needs of a configured feed (pipeline.feeds.feedlist.FeedSource has it).

    A protocol rather than an import keeps storage below pipeline.
    """

    @property
    def url(self) -> str:
        """The feed's URL (its key in the feed table)."""

    @property
    def name(self) -> str:
        """Display name."""

    @property
    def language(self) -> str | None:
        """Language of the feed's articles, if known."""

    @property
    def outlet(self) -> str | None:
        """The publisher, if given."""

    @property
    def tags(self) -> Sequence[str]:
        """Free-form tags."""

    @property
    def sitemap(self) -> str | None:
        """News sitemap URL that backfills re-read the feed's past from, if any."""

    @property
    def poll_minutes(self) -> int | None:
        """Polling interval in minutes; None keeps the stored one."""


class ActorSpec(Protocol):
    """What storage needs of a gazetteer actor (pipeline.enrich.gazetteer.Actor has it)."""

    @property
    def id(self) -> str:
        """Gazetteer id (the actor table's key)."""

    @property
    def name(self) -> str:
        """Canonical name."""

    @property
    def type(self) -> str:
        """Actor type: person, state, organisation or place."""

    @property
    def country(self) -> str | None:
        """Country code ("KOR"), if any."""


def utcnow() -> datetime:
    """The current time, aware, in UTC."""
    return datetime.now(UTC)


# --- feeds -------------------------------------------------------------------


def sync_feeds(session: Session, sources: Iterable[FeedSpec]) -> list[Feed]:
    """Mirror the configured feed list into the feed table, keeping polling state.

    Feeds no longer configured are disabled,
    not deleted: their history stays.
    """
    now = utcnow()
    urls: list[str] = []
    for src in sources:
        urls.append(src.url)
        insert_ignore(
            session,
            Feed,
            {"url": src.url, "name": src.name, "tags": list(src.tags), "created_at": now},
            ["url"],
        )
        feed = session.exec(select(Feed).where(Feed.url == src.url)).one()
        feed.name = src.name
        feed.language = src.language
        feed.outlet = src.outlet
        feed.tags = list(src.tags)
        feed.sitemap_url = src.sitemap
        if src.poll_minutes:
            feed.poll_interval_s = int(src.poll_minutes) * 60
        if feed.disabled_reason == "removed from feed list":
            feed.enabled, feed.disabled_reason = True, None
        session.add(feed)
    stale = session.exec(select(Feed).where(col(Feed.url).not_in(urls), Feed.enabled)).all()
    for feed in stale:
        feed.enabled, feed.disabled_reason = False, "removed from feed list"
        session.add(feed)
    session.flush()
    return list(session.exec(select(Feed).where(col(Feed.url).in_(urls)).order_by(col(Feed.id))))


def set_feed_enabled(
    session: Session, which: str, *, enabled: bool, reason: str | None, now: datetime
) -> Feed:
    """Enable or disable the feed whose URL or name (case-insensitive) is ``which``.

    Enabling starts the feed afresh (no failure debt, polled on the next pass);
    disabling records the reason with the time, so ``feeds check`` says who and why.
    """
    feed = session.exec(select(Feed).where(Feed.url == which)).first()
    if feed is None:
        named = session.exec(select(Feed).where(func.lower(Feed.name) == which.lower())).all()
        if len(named) > 1:
            raise UsageError(f"{len(named)} feeds are named {which!r}: give the URL instead")
        if not named:
            raise UsageError(f"no feed named or at {which!r} (see 'newsmon feeds check')")
        feed = named[0]
    if enabled:
        feed.enabled, feed.disabled_reason = True, None
        feed.failure_score, feed.consecutive_failures = 0.0, 0
        feed.next_poll_at, feed.last_error = None, None
    else:
        why = (reason or "").strip() or "no reason given"
        feed.enabled = False
        feed.disabled_reason = f"by hand on {now:%Y-%m-%d %H:%M} UTC: {why}"[:500]
    session.add(feed)
    session.flush()
    return feed


# --- entries (the page queue) --------------------------------------------------


def add_entry(session: Session, values: Mapping[str, Any]) -> bool:
    """Queue a link for fetching; False if the URL was already known."""
    return insert_ignore(session, Entry, values, ["url"])


def due_entries(
    session: Session, now: datetime, *, feed_ids: Sequence[int] | None = None, limit: int = 500
) -> list[Entry]:
    """Open (pending or failed) entries due at ``now``, lowest id first, at most ``limit``."""
    stmt = select(Entry).where(
        col(Entry.status).in_(("pending", "failed")),
        or_(col(Entry.next_attempt_at).is_(None), col(Entry.next_attempt_at) <= now),
    )
    if feed_ids is not None:
        stmt = stmt.where(col(Entry.feed_id).in_(feed_ids))
    return list(session.exec(stmt.order_by(col(Entry.id)).limit(limit)))


# --- articles ------------------------------------------------------------------


def article_by_url(session: Session, url: str) -> Article | None:
    """The article stored under exactly this URL, if any."""
    return session.exec(_article_stmt("url", False), params={"value": url}).first()


def earliest_by_canonical(
    session: Session, canonical_url: str, exclude: int | None
) -> Article | None:
    """The earliest known article (seeds first) with this canonical URL, other than ``exclude``."""
    stmt = _article_stmt("canonical_url", exclude is not None)
    return session.exec(stmt, params={"value": canonical_url, "exclude": exclude}).first()


def earliest_by_text_hash(session: Session, text_hash: str, exclude: int | None) -> Article | None:
    """The earliest known article (seeds first) with this text hash, other than ``exclude``."""
    if not text_hash:
        return None
    stmt = _article_stmt("text_hash", exclude is not None)
    return session.exec(stmt, params={"value": text_hash, "exclude": exclude}).first()


@functools.cache
def _article_stmt(column: str, excluding: bool) -> SelectOfScalar[Article]:
    """The article with ``column`` = :value (the earliest, other than :exclude, unless by URL).

    Built once: building the statement cost twice as much as running it (each page
    looks up three).
    """
    stmt = select(Article).where(getattr(Article, column) == bindparam("value"))
    if excluding:
        stmt = stmt.where(Article.id != bindparam("exclude"))
    if column == "url":  # unique
        return stmt
    return stmt.order_by(*_earliest_order()).limit(1)


def _earliest_order() -> tuple[Any, ...]:
    """Seeds first (they are what is known), then by time, then id (stable)."""
    return (
        col(Article.is_seed).desc(),
        func.coalesce(Article.published_at, Article.fetched_at),
        Article.id,
    )


def original_of(session: Session, article: Article) -> Article:
    """Follow duplicate_of to the root (bounded, in case of a bad cycle)."""
    seen = {article.id}
    current = article
    for _ in range(20):
        if current.duplicate_of is None:
            return current
        nxt = session.get(Article, current.duplicate_of)
        if nxt is None or nxt.id in seen:
            return current
        seen.add(nxt.id)
        current = nxt
    return current


# --- actors ------------------------------------------------------------------------


def sync_actors(session: Session, actors: Iterable[ActorSpec]) -> int:
    """Mirror gazetteer actors into the actor table.

    One SELECT finds which are stored already (and as what), one INSERT adds the
    others. Two concurrent ingest runs may meet the same new actor at once: ON
    CONFLICT DO NOTHING makes the second wait and skip the row instead of failing
    on the key, and the sorted order keeps the row locks of two writers in one
    order (no deadlock).
    """
    wanted = {
        str(a.id): {
            "id": a.id,
            "name": a.name,
            "type": a.type,
            "country": a.country,
            "name_de": getattr(a, "name_de", None),
            "name_ko": getattr(a, "name_ko", None),
        }
        for a in actors
    }
    if wanted:
        stored = {row.id: row for row in session.exec(_ACTORS, params={"ids": list(wanted)})}
        insert_ignore_many(
            session, Actor, [wanted[k] for k in sorted(wanted) if k not in stored], ["id"]
        )
        for key in sorted(stored):
            row, values = stored[key], wanted[key]
            if any(getattr(row, k) != v for k, v in values.items()):
                for k, v in values.items():
                    setattr(row, k, v)
                session.add(row)
    session.flush()
    return len(wanted)


def replace_mentions(
    session: Session, article_id: int, mentions: Iterable[Mapping[str, Any]]
) -> int:
    """Replace an article's actor mentions with ``mentions``; returns how many were given."""
    # mention rows are written by Core statements only (the session never holds one), so
    # these go to the session's connection: no autoflush, no ORM bookkeeping per statement
    conn = session.connection()
    conn.execute(_DELETE_MENTIONS, {"article_id": article_id})
    rows = [{"article_id": article_id, **m} for m in mentions]
    if rows:
        # one executemany, not a compiled INSERT per mention
        keys = ("article_id", "actor_id", "start")
        conn.execute(insert_skipping(conn.dialect.name, Mention, keys), rows)
    return len(rows)


# built once: building a statement cost about as much as running it
_ACTORS = select(Actor).where(col(Actor.id).in_(bindparam("ids", expanding=True)))
_MENTION_TABLE: Any = Mention.__table__  # type: ignore[attr-defined]
_DELETE_MENTIONS = delete(_MENTION_TABLE).where(
    _MENTION_TABLE.c.article_id == bindparam("article_id")
)


def record_candidates(
    session: Session, article_id: int, candidates: Iterable[tuple[str, str]], now: datetime
) -> None:
    """Count the actor candidates (name, evidence) seen in an article, one row per name.

    A new name gets a row; a known name one mention more, keeping the evidence and
    example article of its first sighting.
    """
    for name, evidence in candidates:
        inserted = insert_ignore(
            session,
            ActorCandidate,
            {
                "name": name,
                "evidence": evidence,
                "mentions": 1,
                "first_seen_at": now,
                "last_seen_at": now,
                "example_article_id": article_id,
            },
            ["name"],
        )
        if not inserted:
            row = session.exec(select(ActorCandidate).where(ActorCandidate.name == name)).one()
            row.mentions += 1
            row.last_seen_at = now
            session.add(row)


def actors_of(session: Session, article_ids: Sequence[int]) -> dict[int, list[Actor]]:
    """Distinct actors per article, in order of first mention."""
    out: dict[int, list[Actor]] = {i: [] for i in article_ids}
    if not article_ids:
        return out
    rows = session.exec(
        select(Mention.article_id, Actor)
        .join(Actor, col(Actor.id) == col(Mention.actor_id))
        .where(col(Mention.article_id).in_(article_ids))
        .order_by(col(Mention.article_id), col(Mention.start))
    ).all()
    for article_id, actor in rows:
        if all(a.id != actor.id for a in out[article_id]):
            out[article_id].append(actor)
    return out


# --- digests -------------------------------------------------------------------------


def digest_record(session: Session, day: date, recipient: str) -> Digest:
    """The (day, recipient) row, created if missing; safe under concurrent callers."""
    insert_ignore(
        session,
        Digest,
        {
            "day": day,
            "recipient": recipient,
            "status": "pending",
            "created_at": utcnow(),
            "stories": 0,
            "articles": 0,
            "send_count": 0,
        },
        ["day", "recipient"],
    )
    return session.exec(
        select(Digest).where(Digest.day == day, Digest.recipient == recipient)
    ).one()


# --- cross-worker serialisation ---------------------------------------------------------

#: Arbitrary constant naming newsmon's enrichment lock (PostgreSQL advisory locks are ints).
ENRICHMENT_LOCK = 0x6E65_7773  # "news"


def serialize_enrichment(session: Session) -> None:
    """Hold newsmon's enrichment lock until this transaction ends.

    Duplicate and story decisions read what other articles are stored: two
    workers deciding at the same moment would each miss the other's article
    and open two roots or two stories for one event. On PostgreSQL a
    transaction-scoped advisory lock makes those few milliseconds one at a
    time across all workers; SQLite already serialises writers (BEGIN
    IMMEDIATE), so there it is a no-op.
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": ENRICHMENT_LOCK})
