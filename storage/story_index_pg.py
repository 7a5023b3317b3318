"""PostgreSQL's story-index statements: one server round trip where SQLite takes several.

On PostgreSQL every statement is a round trip to the server plus the driver's
and SQLAlchemy's work on both ends (0.2-1 ms each in bench/bench_stories.py,
more on a busy machine), and an assignment sent eleven of them (docs/dedup.md,
"Fifth round"). The statements here compose the same reads and writes with
data-modifying CTEs, so an assignment sends five. Each reads and writes what
the generic statements of storage/story_index.py (which SQLite keeps: it has
no round trips to save and no data-modifying CTEs) would, so assignments do
not change; the tests of tests/storage/test_story_index.py run on both.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Integer, String, bindparam, column, text
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import make_transient_to_detached
from sqlmodel import Session, select

from storage.models import ArticleStoryFeatures, Story

#: term_stat's row for the number of articles counted (re-exported by storage.story_index),
#: and the length terms are cut to (term_stat.term is a VARCHAR(200)).
DOCS = ""
MAX_TERM = 200
_STORY = Story.__table__  # type: ignore[attr-defined]
_FEATURES = ArticleStoryFeatures.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True)
class FirstWrite:
    """What storing an article's features for the first time found and wrote."""

    #: False: the article had stored features (``old``), nothing was written
    inserted: bool
    old: dict[str, Any] | None
    #: document frequencies of the article's terms after counting it (DOCS left out)
    df: dict[str, int]
    docs: int


# `old` sees the table as it was when the statement began, so it holds the stored features
# (if any) and not the row `ins` writes; term_stat is counted only if `ins` did insert (a
# concurrent writer of the same article makes it skip). RETURNING gives the counts after the
# increment, which a SELECT after the upsert returned before (and it probes term_stat by its
# key, where the planner chose a sequential scan for the SELECT at 100,000 articles).
_FIRST_FEATURES = """
WITH old AS (SELECT data FROM story_features WHERE article_id = :id),
ins AS (
    INSERT INTO story_features (article_id, data)
    SELECT :id, :data WHERE NOT EXISTS (SELECT 1 FROM old)
    ON CONFLICT (article_id) DO NOTHING
    RETURNING article_id
),
bump AS (
    INSERT INTO term_stat (term, df)
    SELECT u.term, 1 FROM unnest(:terms) AS u(term)
    WHERE EXISTS (SELECT 1 FROM ins)
    ON CONFLICT (term) DO UPDATE SET df = term_stat.df + excluded.df
    RETURNING term, df
)
SELECT (SELECT count(*) FROM ins) AS inserted, o.data AS old, b.terms, b.dfs
FROM (SELECT array_agg(term) AS terms, array_agg(df) AS dfs FROM bump) AS b
LEFT JOIN old AS o ON true
"""


# typed binds: the values go through the same conversions as the ORM's (JSON, UTCDateTime)
_FIRST_FEATURES_STMT = (
    text(_FIRST_FEATURES)
    .bindparams(
        bindparam("id", type_=Integer),
        bindparam("data", type_=_FEATURES.c.data.type),
        bindparam("terms", type_=postgresql.ARRAY(String)),
    )
    .columns(
        column("inserted", Integer),
        column("old", _FEATURES.c.data.type),
        column("terms", postgresql.ARRAY(String)),
        column("dfs", postgresql.ARRAY(Integer)),
    )
)


def put_first_features(
    session: Session, article_id: int, data: Mapping[str, Any], terms: Iterable[str]
) -> FirstWrite:
    """Store the features of an article that has none and count its terms, in one statement.

    If it has stored features, nothing is written and they come back in ``old``.
    """
    # one order for all writers (no deadlock), as storage.story_index._bump
    wanted = sorted({t[:MAX_TERM] for t in terms} | {DOCS})
    row = session.execute(
        _FIRST_FEATURES_STMT, {"id": article_id, "data": dict(data), "terms": wanted}
    ).one()
    inserted, old, names, counts = row
    df = {str(t): int(d) for t, d in zip(names or (), counts or (), strict=True)}
    docs = df.pop(DOCS, 0)
    return FirstWrite(bool(inserted), None if old is None else dict(old), df, docs)


# Three steps in one statement, each driven by an index as the two-step version in
# storage.story_index.candidates was (a plain join was planned as a walk over every story
# with stale statistics): count shared keys in story_key; keep the live stories among them,
# found by primary key (`= ANY(ARRAY(...))`); load the top ones. The document frequencies of
# their names and actors are not read here: extracting the keys from 25 profiles in SQL
# (json_object_keys) cost the server more (~7 ms) than the round trip it saves.
_CANDIDATES = """
WITH shared AS MATERIALIZED (
    SELECT story_id, count(*) AS n FROM story_key
    WHERE key = ANY(:keys) GROUP BY story_id
),
top AS MATERIALIZED (
    SELECT s.id, sh.n FROM story AS s JOIN shared AS sh ON sh.story_id = s.id
    WHERE s.id = ANY(ARRAY(SELECT story_id FROM shared))
      AND s.last_seen_at >= :since AND s.merged_into IS NULL
      AND NOT (s.id = ANY(:exclude))
    ORDER BY sh.n DESC, s.id LIMIT :limit
)
SELECT story.* FROM story JOIN top ON top.id = story.id
WHERE story.id = ANY(ARRAY(SELECT id FROM top))
ORDER BY top.n DESC, story.id
"""
_CANDIDATES_STMT = select(Story).from_statement(
    text(_CANDIDATES)
    .bindparams(
        bindparam("keys", type_=postgresql.ARRAY(BigInteger)),
        bindparam("since", type_=_STORY.c.last_seen_at.type),
        bindparam("exclude", type_=postgresql.ARRAY(Integer)),
        bindparam("limit", type_=Integer),
    )
    .columns(*_STORY.c)
)


def candidates(
    session: Session,
    key_hashes: Sequence[int],
    *,
    since: datetime,
    exclude: Iterable[int],
    limit: int,
) -> list[Story]:
    """storage.story_index.candidates in one statement."""
    params = {
        "keys": sorted(set(key_hashes)),
        "since": since,
        "exclude": sorted(set(exclude)),
        "limit": limit,
    }
    return list(session.scalars(_CANDIDATES_STMT, params))


_INSERT_STORY = """
WITH s AS (
    INSERT INTO story (first_article_id, title, first_seen_at, last_seen_at, members, profile,
                       merged_into, follow_up_of)
    VALUES (:first_article_id, :title, :first_seen_at, :last_seen_at, :members, :profile,
            :merged_into, :follow_up_of)
    RETURNING id
),
k AS (
    INSERT INTO story_key (key, story_id)
    SELECT u.key, s.id FROM unnest(:keys) AS u(key) CROSS JOIN s
    ON CONFLICT DO NOTHING
)
SELECT id FROM s
"""


_STORY_COLUMNS = (
    "first_article_id",
    "title",
    "first_seen_at",
    "last_seen_at",
    "members",
    "profile",
    "merged_into",
    "follow_up_of",
)
_INSERT_STORY_STMT = (
    text(_INSERT_STORY)
    .bindparams(
        *(bindparam(c, type_=_STORY.c[c].type) for c in _STORY_COLUMNS),
        bindparam("keys", type_=postgresql.ARRAY(BigInteger)),
    )
    .columns(column("id", Integer))
)


def insert_story(session: Session, story: Story, key_hashes: Iterable[int]) -> None:
    """INSERT the new story and its keys in one statement; the story joins the session."""
    values: dict[str, Any] = {c: getattr(story, c) for c in _STORY_COLUMNS}
    values["keys"] = sorted(set(key_hashes))
    story.id = int(session.execute(_INSERT_STORY_STMT, values).scalar_one())
    # as if loaded: the session tracks later changes (an UPDATE) without reading it back
    make_transient_to_detached(story)
    session.add(story)


def add_keys(session: Session, story_id: int, key_hashes: Iterable[int]) -> None:
    """storage.story_index.add_keys in one statement (executemany sends one per key)."""
    keys = sorted(set(key_hashes))
    if keys:
        session.connection().exec_driver_sql(
            "INSERT INTO story_key (key, story_id) SELECT unnest(%s::bigint[]), %s"
            " ON CONFLICT DO NOTHING",
            (keys, story_id),
        )
