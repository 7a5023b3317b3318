"""newsmon's tables (SQLModel over SQLAlchemy 2).

Natural keys carry unique constraints so that every write can be an
idempotent upsert: feeds by URL, entries and articles by normalised URL,
mentions by (article, actor, offset), digests by (day, recipient). Times are
timezone-aware UTC datetimes (SQLModel's UTCDateTime): naive values are
refused at bind time, so a local time can never slip in unnoticed.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Column, LargeBinary, UniqueConstraint
from sqlalchemy import false as sa_false
from sqlmodel import Field, SQLModel

from storage.statuses import (
    AttemptStatus,
    DigestStatus,
    DuplicateKind,
    EntrySource,
    EntryStatus,
    EnumText,
)


# pydantic asks inspect.signature of a field's default_factory on every construction
# (~0.13 ms for a builtin like ``list``, whose signature is parsed from text; a Python
# function's is read directly): twice per Article, once per stored page
def _empty_list() -> list[Any]:
    return []


def _empty_dict() -> dict[str, Any]:
    return {}


class Feed(SQLModel, table=True):
    """A configured feed and its polling state."""

    id: int | None = Field(default=None, primary_key=True)
    url: str = Field(unique=True, max_length=2048)
    name: str = Field(max_length=300)
    language: str | None = Field(default=None, max_length=16)
    outlet: str | None = Field(default=None, max_length=300)
    tags: list[str] = Field(default_factory=_empty_list, sa_column=Column(JSON, nullable=False))
    sitemap_url: str | None = Field(default=None, max_length=2048)
    enabled: bool = True
    disabled_reason: str | None = None
    # HTTP caching state for conditional GET
    etag: str | None = Field(default=None, max_length=1024)
    last_modified: str | None = Field(default=None, max_length=128)
    content_hash: str | None = Field(default=None, max_length=64)
    # health and scheduling
    poll_interval_s: int = 1800
    next_poll_at: datetime | None = Field(default=None, index=True)
    last_polled_at: datetime | None = None
    last_success_at: datetime | None = None
    last_new_entry_at: datetime | None = None
    failure_score: float = 0.0
    consecutive_failures: int = 0
    last_error: str | None = None
    created_at: datetime


class FeedAttempt(SQLModel, table=True):
    """One poll of one feed, successful or not (the feed's health history)."""

    __tablename__ = "feed_attempt"

    id: int | None = Field(default=None, primary_key=True)
    feed_id: int = Field(foreign_key="feed.id", index=True)
    started_at: datetime = Field(index=True)
    duration_ms: int = 0
    status: AttemptStatus = Field(sa_type=EnumText(AttemptStatus, 32))
    http_status: int | None = None
    error_class: str | None = Field(default=None, max_length=100)
    error_message: str | None = None
    entries_found: int = 0
    entries_new: int = 0


class Entry(SQLModel, table=True):
    """A link seen in a feed or sitemap; the work queue of page fetches.

    The feed's title and summary are kept here so that nothing is lost when the
    page itself cannot be fetched; failed fetches are retried a bounded number
    of times (attempts, next_attempt_at).
    """

    id: int | None = Field(default=None, primary_key=True)
    url: str = Field(unique=True, max_length=2048)
    feed_id: int | None = Field(default=None, foreign_key="feed.id", index=True)
    guid: str | None = Field(default=None, max_length=2048)
    title: str | None = None
    summary: str | None = None
    published_at: datetime | None = None
    source: EntrySource = Field(default=EntrySource.FEED, sa_type=EnumText(EntrySource))
    status: EntryStatus = Field(
        default=EntryStatus.PENDING, sa_type=EnumText(EntryStatus), index=True
    )
    attempts: int = 0
    last_error: str | None = None
    next_attempt_at: datetime | None = None
    article_id: int | None = Field(default=None, foreign_key="article.id")
    first_seen_at: datetime = Field(index=True)
    # A run fetching this page holds it until claimed_until (a lease): a
    # concurrent run or another shard skips it; a crashed run's claim lapses.
    claimed_by: str | None = Field(default=None, max_length=100)
    claimed_until: datetime | None = None


class Article(SQLModel, table=True):
    """A stored article: page, clean text, metadata and enrichment."""

    id: int | None = Field(default=None, primary_key=True)
    url: str = Field(unique=True, max_length=2048)
    canonical_url: str = Field(index=True, max_length=2048)
    feed_id: int | None = Field(default=None, foreign_key="feed.id")
    title: str | None = None
    source: str | None = Field(default=None, max_length=300)
    author: str | None = None
    description: str | None = None
    language: str | None = Field(default=None, max_length=16)
    published_at: datetime | None = Field(default=None, index=True)
    date_source: str | None = Field(default=None, max_length=32)
    #: the page's date and the feed's disagree by more than a few days (pipeline/pages/dates.py)
    date_doubtful: bool = Field(default=False, sa_column_kwargs={"server_default": sa_false()})
    fetched_at: datetime = Field(index=True)
    is_seed: bool = False
    seed_name: str | None = Field(default=None, max_length=300)
    raw_html: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))
    raw_text: str | None = None  # seeds: the file exactly as given
    feed_summary: str | None = None
    text: str = ""
    text_chars: int = 0
    text_hash: str = Field(default="", index=True, max_length=64)
    extraction_method: str | None = Field(default=None, max_length=32)
    wire_agencies: list[str] = Field(
        default_factory=_empty_list, sa_column=Column(JSON, nullable=False)
    )
    relevant: bool = Field(default=False, index=True)
    relevance_score: float = 0.0
    relevance_evidence: list[dict[str, Any]] = Field(
        default_factory=_empty_list, sa_column=Column(JSON, nullable=False)
    )
    duplicate_of: int | None = Field(default=None, foreign_key="article.id", index=True)
    duplicate_kind: DuplicateKind | None = Field(default=None, sa_type=EnumText(DuplicateKind))
    duplicate_evidence: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))
    story_id: int | None = Field(default=None, foreign_key="story.id", index=True)
    enriched_at: datetime | None = None


class Story(SQLModel, table=True):
    """A group of articles about one event; its id is stable once assigned."""

    id: int | None = Field(default=None, primary_key=True)
    # no FK: article.story_id already points here, and a cycle breaks table ordering
    first_article_id: int | None = None
    title: str | None = None
    first_seen_at: datetime = Field(index=True)
    last_seen_at: datetime = Field(index=True)
    #: Distinct original articles (duplicates share their original's story and do not count).
    members: int = 0
    #: The stored representation (centroid of weighted terms, names, actors, numbers,
    #: languages), maintained by pipeline.enrich.story_assign; never recomputed per call.
    profile: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))
    #: Set when a re-clustering merged this story into an older one (the older id survives).
    merged_into: int | None = Field(default=None, index=True)
    #: An earlier, quiet story this one continues (a follow-up, not the same event).
    follow_up_of: int | None = Field(default=None, index=True)


class ArticleStoryFeatures(SQLModel, table=True):
    """One article's story features, stored once per enrichment (never recomputed per call)."""

    __tablename__ = "story_features"

    article_id: int = Field(foreign_key="article.id", primary_key=True)
    data: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))


class StoryKey(SQLModel, table=True):
    """Candidate index: a distinctive key (rare term, name, actor id, number) of a story."""

    __tablename__ = "story_key"

    key: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    story_id: int = Field(primary_key=True, index=True)


class TermStat(SQLModel, table=True):
    """Document frequency of a story feature over all stored articles ('' holds the count)."""

    __tablename__ = "term_stat"

    term: str = Field(primary_key=True, max_length=200)
    df: int = 0


class StoryEvent(SQLModel, table=True):
    """The history of story ids: merges, splits and follow-up links (shown in export)."""

    __tablename__ = "story_event"

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=16)  # merge | split | follow_up
    story_id: int = Field(index=True)  # the surviving / parent / earlier story
    other_story_id: int = Field(index=True)  # the merged / split-off / follow-up story
    article_ids: list[int] = Field(
        default_factory=_empty_list, sa_column=Column(JSON, nullable=False)
    )
    score: float | None = None
    at: datetime


class Fingerprint(SQLModel, table=True):
    """MinHash signature of an article's normalised text."""

    article_id: int = Field(foreign_key="article.id", primary_key=True)
    signature: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    shingles: int = 0


class LshBand(SQLModel, table=True):
    """One LSH band key of one article: the shared, persistent near-dup index."""

    __tablename__ = "lsh_band"

    # The band number is folded into the key, so a lookup is one probe of the
    # primary-key index per band; article_id is second so bands never collide.
    band_key: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    article_id: int = Field(foreign_key="article.id", primary_key=True, index=True)


class Actor(SQLModel, table=True):
    """A gazetteer entry, mirrored into the database for joins and exports."""

    id: str = Field(primary_key=True, max_length=64)
    name: str = Field(max_length=300)
    type: str = Field(max_length=32)
    country: str | None = Field(default=None, max_length=8)
    # the digest names an actor in its reader's language (None: as ``name``)
    name_de: str | None = Field(default=None, max_length=300)
    name_ko: str | None = Field(default=None, max_length=300)


class Mention(SQLModel, table=True):
    """An actor named in an article, with character offsets into Article.text."""

    __table_args__ = (UniqueConstraint("article_id", "actor_id", "start", name="uq_mention"),)

    id: int | None = Field(default=None, primary_key=True)
    article_id: int = Field(foreign_key="article.id", index=True)
    actor_id: str = Field(foreign_key="actor.id", index=True, max_length=64)
    start: int
    end: int
    surface: str = Field(max_length=300)
    method: str = Field(default="alias", max_length=32)


class ActorCandidate(SQLModel, table=True):
    """A name that looks like an actor but is not in the gazetteer yet."""

    __tablename__ = "actor_candidate"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(unique=True, max_length=300)
    evidence: str | None = None
    mentions: int = 0
    first_seen_at: datetime = Field(index=True)
    last_seen_at: datetime
    example_article_id: int | None = Field(default=None, foreign_key="article.id")


class Digest(SQLModel, table=True):
    """The record that a day's digest went to one recipient (or was written)."""

    __table_args__ = (UniqueConstraint("day", "recipient", name="uq_digest_day_recipient"),)

    id: int | None = Field(default=None, primary_key=True)
    day: date = Field(index=True)
    recipient: str = Field(max_length=320)  # "" for the file-only digest
    status: DigestStatus = Field(default=DigestStatus.PENDING, sa_type=EnumText(DigestStatus))
    message_id: str | None = Field(default=None, max_length=300)
    stories: int = 0
    articles: int = 0
    created_at: datetime
    sent_at: datetime | None = None
    last_error: str | None = None
    send_count: int = 0


class PipelineRun(SQLModel, table=True):
    """Counters of one stage run, for task logs and the digest's health section."""

    __tablename__ = "pipeline_run"

    id: int | None = Field(default=None, primary_key=True)
    stage: str = Field(max_length=32, index=True)  # ingest | reprocess | digest
    started_at: datetime = Field(index=True)
    finished_at: datetime | None = None
    counts: dict[str, Any] = Field(
        default_factory=_empty_dict, sa_column=Column(JSON, nullable=False)
    )
    errors: list[dict[str, Any]] = Field(
        default_factory=_empty_list, sa_column=Column(JSON, nullable=False)
    )
