"""The persistent story index: stored article features, term statistics, candidate keys.

Like storage/neardup.py for LSH bands, candidate stories come from one
``key IN (...)`` probe of story_key's primary key, grouped by story and
restricted to stories seen recently: the cost follows the number of stories
sharing an article's distinctive keys, not the size of the window. Keys so
common that they would match a large part of the stored articles are left
out of the probe (they still count in the score).

Storage does not import pipeline: callers pass JSON-ready features, key
strings and key hashes that pipeline.enrich.story_profile computed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col

from storage import story_index_pg
from storage.models import Article, ArticleStoryFeatures, Story, StoryEvent, StoryKey
from storage.story_index_pg import FirstWrite as FirstWrite

#: Most candidate stories returned per lookup (most shared keys first).
MAX_CANDIDATES = 25
#: A key found in more than this share of stored articles is too common to probe.
COMMON_KEY_SHARE = 0.02
COMMON_KEY_FLOOR = 50
#: ... and a key in more than this many stored articles is never probed: at 100,000 articles
#: the share alone let keys through whose story_key postings made the probe the largest cost
#: (bench/bench_stories.py, docs/dedup.md "Cost"); an event's rarer keys still find its story.
#: Only windows of more than COMMON_KEY_CAP / COMMON_KEY_SHARE (25,000) articles are affected.
COMMON_KEY_CAP = 500
#: term_stat's row for the number of articles counted; terms are cut to MAX_TERM characters.
DOCS = story_index_pg.DOCS
MAX_TERM = story_index_pg.MAX_TERM


def _pg(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def _dialect_insert(session: Session, table: Any) -> Any:
    if _pg(session):
        return postgresql.insert(table)
    return sqlite.insert(table)


def stored_features(session: Session, article_id: int) -> dict[str, Any] | None:
    """One article's stored story features, None if it has none."""
    # a SELECT, not session.get: rows are written with core upserts, which the
    # session's identity map would not see
    data = session.execute(
        select(ArticleStoryFeatures.data).where(  # type: ignore[call-overload]
            col(ArticleStoryFeatures.article_id) == article_id
        )
    ).scalar_one_or_none()
    return None if data is None else dict(data)


def features_of(session: Session, article_ids: Sequence[int]) -> dict[int, dict[str, Any]]:
    """Stored story features by article id; articles without features are left out."""
    out: dict[int, dict[str, Any]] = {}
    ids = list(article_ids)
    for i in range(0, len(ids), 500):
        rows = session.execute(
            select(ArticleStoryFeatures.article_id, ArticleStoryFeatures.data).where(  # type: ignore[call-overload]
                col(ArticleStoryFeatures.article_id).in_(ids[i : i + 500])
            )
        ).all()
        out.update({int(a): dict(d) for a, d in rows})
    return out


def put_features(
    session: Session,
    article_id: int,
    data: Mapping[str, Any],
    terms: Iterable[str],
    old_terms: Iterable[str] = (),
    *,
    first: bool | None = None,
) -> None:
    """Store an article's features and move the term statistics by the difference.

    ``first`` says whether the article had no stored features (looked up if None).
    """
    new, old = {t[:MAX_TERM] for t in terms}, {t[:MAX_TERM] for t in old_terms}
    if first is None:
        first = stored_features(session, article_id) is None
    stmt = _dialect_insert(session, ArticleStoryFeatures.__table__)  # type: ignore[attr-defined]
    session.execute(
        stmt.values(article_id=article_id, data=dict(data)).on_conflict_do_update(
            index_elements=["article_id"], set_={"data": dict(data)}
        )
    )
    deltas = {t: 1 for t in new - old} | {t: -1 for t in old - new}
    if first:
        deltas[DOCS] = 1
    _bump(session, deltas)


def put_first_features(
    session: Session, article_id: int, data: Mapping[str, Any], terms: Iterable[str]
) -> FirstWrite:
    """Store the features of an article that has none and count its terms (+1 each, +1 article).

    Returns the document frequencies of ``terms`` after the count, as
    ``document_frequencies`` would now. If the article has stored features,
    nothing is written (``inserted`` False, the stored ones in ``old``).
    """
    if _pg(session):  # one statement (storage/story_index_pg.py)
        return story_index_pg.put_first_features(session, article_id, data, terms)
    old = stored_features(session, article_id)
    if old is not None:
        return FirstWrite(False, old, {}, 0)
    terms = list(terms)
    put_features(session, article_id, data, terms, first=True)
    df, docs = document_frequencies(session, terms)
    return FirstWrite(True, None, df, docs)


def _bump(session: Session, deltas: Mapping[str, int]) -> None:
    if not deltas:
        return
    rows = sorted(deltas.items())  # one order for all writers: no deadlock on PostgreSQL
    conn = session.connection()
    if conn.dialect.name == "postgresql":
        # one statement for all rows: psycopg's executemany cost a round trip per term
        # (~15 ms an article in bench/bench_stories.py)
        conn.exec_driver_sql(
            "INSERT INTO term_stat (term, df) SELECT * FROM unnest(%s::varchar[], %s::int[])"
            " ON CONFLICT (term) DO UPDATE SET df = term_stat.df + excluded.df",
            ([t for t, _ in rows], [d for _, d in rows]),
        )
        return
    # the DB-API's executemany: SQLAlchemy's took ~20 us a row in parameter handling
    # (a new article counts a few hundred terms), the SQL itself a fraction of that
    conn.exec_driver_sql(
        "INSERT INTO term_stat (term, df) VALUES (?, ?)"
        " ON CONFLICT (term) DO UPDATE SET df = term_stat.df + excluded.df",
        rows,
    )


#: Up to this many terms, PostgreSQL looks document frequencies up one index probe per term.
PROBED_TERMS = 2000


def document_frequencies(session: Session, terms: Iterable[str]) -> tuple[dict[str, int], int]:
    """(df per term, number of articles counted)."""
    wanted = sorted({t[:MAX_TERM] for t in terms} | {DOCS})
    out: dict[str, int] = {}
    conn = session.connection()
    # the DB-API directly: SQLAlchemy's expansion of a few hundred IN parameters cost more
    # than the query (cProfile of bench/bench_stories.py: 8 ms a call of which ~1 ms SQL)
    if conn.dialect.name == "postgresql":
        # one array parameter (psycopg parses each %s), and one index probe per term: for a
        # few hundred terms the planner chose a sequential scan of term_stat, whose cost grows
        # with the table and its dead rows (every article updates a few hundred counts): 9 ms
        # a call at 100,000 articles in bench/bench_stories.py, against ~1 ms by the index.
        # LIMIT 1 keeps the subquery from being flattened into a (hash) join. The
        # re-clustering's window-wide lookups (thousands of terms) leave the plan to PostgreSQL.
        sql = (
            "SELECT u.term, t.df FROM unnest(%s::varchar[]) AS u(term) CROSS JOIN LATERAL"
            " (SELECT df FROM term_stat WHERE term = u.term LIMIT 1) AS t"
            if len(wanted) <= PROBED_TERMS
            else "SELECT term, df FROM term_stat WHERE term = ANY(%s::varchar[])"
        )
        rows = conn.exec_driver_sql(sql, (wanted,))
        out.update({str(t): int(d) for t, d in rows.all()})
    else:  # SQLite's limit on host parameters
        for c in (wanted[i : i + 900] for i in range(0, len(wanted), 900)):
            rows = conn.exec_driver_sql(
                f"SELECT term, df FROM term_stat WHERE term IN ({', '.join(['?'] * len(c))})",
                tuple(c),
            )
            out.update({str(t): int(d) for t, d in rows.all()})
    docs = out.pop(DOCS, 0)
    return out, docs


def probe_keys(keys: Mapping[str, int], df: Mapping[str, int], docs: int) -> list[int]:
    """The key hashes worth probing: drop keys common to a large share of articles."""
    limit = min(max(COMMON_KEY_FLOOR, COMMON_KEY_SHARE * docs), COMMON_KEY_CAP)
    return sorted({h for k, h in keys.items() if df.get(k[:MAX_TERM], 0) <= limit})


def candidates(
    session: Session,
    key_hashes: Sequence[int],
    *,
    since: datetime,
    exclude: Iterable[int] = (),
    limit: int = MAX_CANDIDATES,
) -> list[Story]:
    """Live stories seen since ``since`` sharing a key, most shared keys first."""
    if not key_hashes:
        return []
    if _pg(session):  # one statement (storage/story_index_pg.py)
        return story_index_pg.candidates(
            session, key_hashes, since=since, exclude=exclude, limit=limit
        )
    # two index-driven steps instead of one join: with a join, PostgreSQL with stale
    # statistics (a freshly filled window) walked every story for each key (35 ms at 10,000
    # stories); the postings of probed keys are short (COMMON_KEY_CAP), so the counting and
    # the ordering are cheap here
    shared: dict[int, int] = {}
    for sid, n in session.execute(
        select(col(StoryKey.story_id), func.count())
        .where(col(StoryKey.key).in_(sorted(set(key_hashes))))
        .group_by(col(StoryKey.story_id))
    ).all():
        shared[int(sid)] = int(n)
    for sid in exclude:
        shared.pop(sid, None)
    live: set[int] = set()
    ids = sorted(shared)
    for i in range(0, len(ids), 500):
        live.update(
            int(r)
            for r in session.execute(
                select(col(Story.id)).where(
                    col(Story.id).in_(ids[i : i + 500]),
                    col(Story.last_seen_at) >= since,
                    col(Story.merged_into).is_(None),
                )
            ).scalars()
        )
    top = sorted(live, key=lambda sid: (-shared[sid], sid))[:limit]
    if not top:
        return []
    stories = {s.id: s for s in session.scalars(select(Story).where(col(Story.id).in_(top)))}
    return [stories[i] for i in top if i in stories]


def add_story(session: Session, story: Story, key_hashes: Iterable[int]) -> None:
    """Insert a new story (its id set, the session tracking it) with its candidate keys."""
    if _pg(session):  # one statement (storage/story_index_pg.py)
        story_index_pg.insert_story(session, story, key_hashes)
        return
    session.add(story)
    session.flush()
    assert story.id is not None
    add_keys(session, story.id, key_hashes)


def sharing_pairs(
    session: Session, story_ids: Sequence[int], *, min_shared: int = 2, max_posting: int = 50
) -> list[tuple[int, int]]:
    """Pairs (older, newer) of the given stories sharing ``min_shared`` distinctive keys."""
    postings: dict[int, list[int]] = {}
    ids = list(story_ids)
    for i in range(0, len(ids), 500):
        rows = session.execute(
            select(StoryKey.key, StoryKey.story_id).where(  # type: ignore[call-overload]
                col(StoryKey.story_id).in_(ids[i : i + 500])
            )
        ).all()
        for key, sid in rows:
            postings.setdefault(int(key), []).append(int(sid))
    shared: dict[tuple[int, int], int] = {}
    for sids in postings.values():
        if len(sids) > max_posting:
            continue  # a key half the window shares says nothing about one event
        sids.sort()
        for a in range(len(sids)):
            for b in range(a + 1, len(sids)):
                pair = (sids[a], sids[b])
                shared[pair] = shared.get(pair, 0) + 1
    return sorted(p for p, n in shared.items() if n >= min_shared)


def add_keys(session: Session, story_id: int, key_hashes: Iterable[int]) -> None:
    """Add candidate keys to a story; keys it already has are skipped."""
    if _pg(session):  # one statement, not one per key
        story_index_pg.add_keys(session, story_id, key_hashes)
        return
    rows = [{"key": k, "story_id": story_id} for k in sorted(set(key_hashes))]
    if rows:
        stmt = _dialect_insert(session, StoryKey.__table__)  # type: ignore[attr-defined]
        session.execute(stmt.on_conflict_do_nothing(), rows)


def move_story(session: Session, source: int, target: int) -> list[int]:
    """Point every article and key of ``source`` at ``target``; the moved article ids."""
    moved = [
        int(i)
        for i in session.execute(
            select(Article.id).where(col(Article.story_id) == source)  # type: ignore[call-overload]
        ).scalars()
    ]
    session.execute(update(Article).where(col(Article.story_id) == source).values(story_id=target))
    keys = session.execute(
        select(StoryKey.key).where(col(StoryKey.story_id) == source)  # type: ignore[call-overload]
    ).scalars()
    add_keys(session, target, [int(k) for k in keys])
    session.execute(delete(StoryKey).where(col(StoryKey.story_id) == source))
    return sorted(moved)


def record(
    session: Session,
    kind: str,
    story_id: int,
    other_story_id: int,
    article_ids: Sequence[int],
    at: datetime,
    score: float | None = None,
) -> None:
    """Append an event (merge, split, follow_up) to the story history that export shows."""
    session.add(
        StoryEvent(
            kind=kind,
            story_id=story_id,
            other_story_id=other_story_id,
            article_ids=list(article_ids),
            score=score,
            at=at,
        )
    )


def history(session: Session, story_ids: Iterable[int]) -> dict[int, list[dict[str, Any]]]:
    """Merges, splits and follow-up links touching each story, oldest first."""
    ids = sorted(set(story_ids))
    out: dict[int, list[dict[str, Any]]] = {i: [] for i in ids}
    if not ids:
        return out
    rows = session.scalars(
        select(StoryEvent)
        .where(col(StoryEvent.story_id).in_(ids) | col(StoryEvent.other_story_id).in_(ids))
        .order_by(col(StoryEvent.at), col(StoryEvent.id))
    ).all()
    for e in rows:
        item = {
            "kind": e.kind,
            "story_id": e.story_id,
            "other_story_id": e.other_story_id,
            "articles": len(e.article_ids),
            "at": e.at.isoformat(),
        }
        for sid in {e.story_id, e.other_story_id} & set(ids):
            out[sid].append(item)
    return out
