"""The digest's values: what one day's data looks like going in, and the digest coming out.

Plain frozen dataclasses, shared by pipeline.digest.collect (which fills
DayInput), pipeline.digest.build (which builds DailyDigest) and
pipeline.digest.render (which turns it into text and HTML).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime

# --- input -----------------------------------------------------------------------


@dataclass(frozen=True)
class ActorRef:
    """An actor as the digest shows it."""

    id: str
    name: str  # in the digest's language where the gazetteer has one
    type: str
    country: str | None = None


@dataclass(frozen=True)
class ArticleItem:
    """One relevant article of the day, with its enrichment."""

    id: int
    title: str
    url: str
    source: str
    fetched_at: datetime
    published_at: datetime | None = None
    language: str | None = None
    text: str = ""
    description: str | None = None
    feed_summary: str | None = None
    story_id: int | None = None
    duplicate_of: int | None = None
    duplicate_kind: str | None = None
    wire_agencies: tuple[str, ...] = ()
    relevance_score: float = 0.0
    actors: tuple[ActorRef, ...] = ()
    is_seed: bool = False
    #: kept only from the feed's summary: the page itself could not be read
    teaser: bool = False

    @property
    def when(self) -> datetime:
        """Publication time if known, else fetch time."""
        return self.published_at or self.fetched_at


@dataclass(frozen=True)
class KnownRef:
    """What was known before the day: the earliest earlier (or seed) article."""

    article_id: int
    title: str
    url: str | None
    when: datetime
    is_seed: bool
    seed_name: str | None = None
    earlier_articles: int = 1


@dataclass(frozen=True)
class ActorCount:
    """How many of the day's articles name an actor, against its usual daily level."""

    actor: ActorRef
    today: int  # distinct original articles of the day naming the actor
    baseline: float  # mean daily articles over the previous baseline_days


@dataclass(frozen=True)
class NewName:
    """A name first seen that day that looks like an actor but is not in the gazetteer yet."""

    name: str
    mentions: int
    evidence: str | None = None
    example_title: str | None = None


@dataclass(frozen=True)
class FeedProblem:
    """A feed with a problem (failing, quiet, unextracted pages, backlog) for the health section."""

    name: str
    url: str
    detail: str  # technical detail (logs, JSON); the email shows ``error`` as a sentence
    error: str | None = None  # error class name (kind), e.g. HostNotFound
    http_status: int | None = None
    count: int = 0  # failed attempts in the window


@dataclass(frozen=True)
class Health:
    """How the monitor itself fared in the day's window: counts, failing feeds, state."""

    seen: int = 0  # articles stored in the window, relevant or not
    kept: int = 0  # relevant ones
    duplicates: int = 0  # relevant ones that repeat another article
    failed_feeds: tuple[FeedProblem, ...] = ()
    quiet_feeds: tuple[FeedProblem, ...] = ()
    not_extracted: int = 0
    not_extracted_examples: tuple[FeedProblem, ...] = ()
    runs: int = 0
    run_errors: int = 0
    #: pages first seen before the day's end and still not fetched (when the digest was built)
    backlog: int = 0
    #: the feeds with the longest such backlog; detail = their number of waiting pages
    backlog_feeds: tuple[FeedProblem, ...] = ()
    #: ok | failed (see ``failures``) | not-started (before the first successful poll)
    state: str = "ok"
    #: why the day failed: no-ingest | no-poll | most-feeds | outage | database
    failures: tuple[str, ...] = ()
    #: the last successful feed poll before the day's end (None: never)
    last_success: datetime | None = None
    #: the first successful feed poll ever (None: never)
    first_success: datetime | None = None
    feeds_polled: int = 0  # enabled feeds with an attempt in the window
    feeds_failing: int = 0  # of those, the ones whose last attempt failed

    @property
    def failed(self) -> bool:
        """Whether the day counts as failed (see ``failures``)."""
        return self.state == "failed"

    @property
    def not_started(self) -> bool:
        """Whether the day ended before newsmon's first successful poll."""
        return self.state == "not-started"


@dataclass(frozen=True)
class DayInput:
    """Everything the digest of one day is built from (filled by pipeline.digest.collect)."""

    day: date
    timezone: str
    start: datetime  # UTC, inclusive
    end: datetime  # UTC, exclusive
    articles: tuple[ArticleItem, ...]
    known_stories: Mapping[int, KnownRef] = field(default_factory=dict)
    known_articles: Mapping[int, KnownRef] = field(default_factory=dict)
    actors: tuple[ActorCount, ...] = ()
    candidates: tuple[NewName, ...] = ()
    health: Health = field(default_factory=Health)
    baseline_days: int = 28


# --- output ------------------------------------------------------------------------


@dataclass(frozen=True)
class SourceLink:
    """One article as a story lists it: outlet, time, link."""

    outlet: str
    when: datetime
    url: str
    title: str
    language: str | None = None
    kind: str | None = None  # for "also ran": url | exact | near | wire
    article_id: int | None = None
    teaser: bool = False  # only the feed's summary: "teaser only", not a full article


@dataclass(frozen=True)
class StoryBlock:
    """One story of the digest: headline, lead, actors and its sources."""

    key: str
    headline: str
    lead: str
    actors: tuple[ActorRef, ...]
    sources: tuple[SourceLink, ...]
    also_ran: tuple[SourceLink, ...]
    independent_sources: int
    score: float
    latest: datetime
    follow_up: KnownRef | None = None
    #: The first sources an editor shows: one per independent outlet (wire copies
    #: folded into their agency), earliest first; the rest are counted in more_sources.
    top_sources: tuple[SourceLink, ...] = ()
    more_sources: int = 0
    #: Id of the member whose headline and lead represent the story.
    representative_id: int | None = None


@dataclass(frozen=True)
class ActorLine:
    """An actor of the day with its count, baseline and trend."""

    actor: ActorRef
    today: int
    baseline: float
    trend: str  # new | spike | up | steady | down


@dataclass(frozen=True)
class DailyDigest:
    """One day's digest, ready to render as text, HTML and JSON."""

    day: date
    timezone: str
    stories: tuple[StoryBlock, ...]
    follow_ups: tuple[StoryBlock, ...]
    actors: tuple[ActorLine, ...]
    candidates: tuple[NewName, ...]
    health: Health
    articles: int  # relevant articles shown (sources + also ran)
    repeats_hidden: int  # copies of earlier articles with nothing new that day
    baseline_days: int = 28
    teasers: int = 0  # of the articles shown, the ones kept only from a feed summary

    @property
    def story_count(self) -> int:
        """New stories and follow-ups together."""
        return len(self.stories) + len(self.follow_ups)

    @property
    def quiet(self) -> bool:
        """Nothing to report on a day the monitor worked (a failed day is never quiet)."""
        return self.story_count == 0 and self.health.state == "ok"

    @property
    def full_articles(self) -> int:
        """Articles shown that were read in full, not kept from a feed summary only."""
        return self.articles - self.teasers

    @property
    def top_headline(self) -> str | None:
        """The headline of the highest-scoring story, follow-ups included; None without stories."""
        ranked = sorted(self.stories + self.follow_ups, key=lambda s: -s.score)
        return ranked[0].headline if ranked else None
