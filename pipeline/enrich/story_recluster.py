"""Repair of a recent window's stories: merge stories that are one, split ones that diverged.

Online assignment sees each article once, in arrival order; two early reports
of one event may open two stories before the vocabulary that joins them is
known, and the profile of a story may drift. Europe Media Monitor re-clusters
its recent articles every few minutes for this reason. Here the repair keeps
ids stable: in a merge the older story survives (the newer one keeps its row,
marked merged_into, and a story_event records which articles moved); in a
split the members that no longer fit the rest of their story move to new
stories (recorded likewise). Profiles are rebuilt from the stored features.
Called at the end of ingest and by ``newsmon reprocess --steps stories``.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from pipeline.enrich import story_link
from pipeline.enrich import story_profile as sp
from pipeline.enrich import story_similarity as similarity
from pipeline.enrich.story_assign import when_of
from storage import repo, story_index
from storage.db import session_scope
from storage.models import Article, Story


@dataclass
class ReclusterReport:
    """What one re-clustering of a window did: stories looked at, merged, split off."""

    stories: int = 0
    merged: int = 0
    split: int = 0


Member = tuple[int, similarity.StoryFeatures]


def recluster(session: Session, since: datetime, until: datetime, now: datetime) -> ReclusterReport:
    """Merge and split the live stories that have original articles in [since, until)."""
    report = ReclusterReport()
    moment = func.coalesce(Article.published_at, Article.fetched_at)
    story_ids = sorted(
        {
            int(s)
            for s in session.exec(
                select(Article.story_id).where(
                    col(Article.story_id).is_not(None),
                    col(Article.duplicate_of).is_(None),
                    moment >= since,
                    moment < until,
                )
            ).all()
            if s is not None
        }
    )
    report.stories = len(story_ids)
    members = _members(session, story_ids)
    idf = _window_idf(session, members)
    for sid in story_ids:
        report.split += _split(session, sid, members, idf, now)
    live = sorted(s for s in members if _live(session, s))
    report.merged += _merge(session, live, members, idf, now)
    return report


def recluster_window(
    engine: Engine, since: datetime, until: datetime, now: datetime
) -> ReclusterReport:
    """recluster() in its own transaction, holding the enrichment lock (one writer at a time)."""
    with session_scope(engine) as session:
        repo.serialize_enrichment(session)
        return recluster(session, since, until, now)


def _members(session: Session, story_ids: list[int]) -> dict[int, list[Member]]:
    out: dict[int, list[Member]] = defaultdict(list)
    if not story_ids:
        return out
    rows = session.exec(
        select(Article).where(
            col(Article.story_id).in_(story_ids), col(Article.duplicate_of).is_(None)
        )
    ).all()
    stored = story_index.features_of(session, [a.id for a in rows if a.id is not None])
    for a in sorted(rows, key=lambda r: (when_of(r), r.id or 0)):
        if a.id in stored and a.story_id is not None:
            out[a.story_id].append((a.id, similarity.features_from_json(stored[a.id])))
    return out


def _window_idf(session: Session, members: dict[int, list[Member]]) -> sp.Idf:
    terms: set[str] = set()
    for ms in members.values():
        for _, f in ms:
            terms |= sp.stat_terms(f)
    df, docs = story_index.document_frequencies(session, terms)
    return sp.idf_from(df, docs)


def _profile(ms: list[Member], idf: sp.Idf) -> sp.Profile:
    return sp.build((f, sp.vector(f, idf)) for _, f in ms)


def _save(session: Session, sid: int, ms: list[Member], idf: sp.Idf) -> None:
    story = session.get(Story, sid)
    if story is None or not ms:
        return
    profile = _profile(ms, idf)
    story.profile = profile.to_json()
    story.members = profile.members
    times = [f.when for _, f in ms if f.when is not None]
    if times:
        story.first_seen_at, story.last_seen_at = min(times), max(times)
    session.add(story)


def _split(
    session: Session, sid: int, members: dict[int, list[Member]], idf: sp.Idf, now: datetime
) -> int:
    ms = members.get(sid, [])
    if len(ms) < 3:
        _save(session, sid, ms, idf)
        return 0
    keep: list[Member] = []
    out: list[Member] = []
    for i, (aid, f) in enumerate(ms):
        rest = [m for j, m in enumerate(ms) if j != i]
        m = sp.match(f, sp.vector(f, idf), _profile(rest, idf), idf)
        # the oldest member anchors the story: it never leaves its own id
        (keep if i == 0 or m.score >= sp.SPLIT_THRESHOLD else out).append((aid, f))
    members[sid] = keep
    _save(session, sid, keep, idf)
    if not out:
        return 0
    # the outliers regroup among themselves (online, as assignment would)
    groups: list[list[Member]] = []
    for aid, f in out:
        vec = sp.vector(f, idf)
        best = max(
            ((sp.match(f, vec, _profile(g, idf), idf), g) for g in groups),
            key=lambda x: x[0].score,
            default=None,
        )
        if best is not None and best[0].joins:
            best[1].append((aid, f))
        else:
            groups.append([(aid, f)])
    for g in groups:
        first = session.get(Article, g[0][0])
        assert first is not None
        story = Story(
            first_article_id=first.id,
            title=first.title,
            first_seen_at=when_of(first),
            last_seen_at=when_of(first),
        )
        session.add(story)
        session.flush()
        assert story.id is not None
        moved = [aid for aid, _ in g]
        for aid in moved:
            art = session.get(Article, aid)
            if art is not None:
                art.story_id = story.id
                session.add(art)
        # duplicates follow their originals
        for dup in session.exec(select(Article).where(col(Article.duplicate_of).in_(moved))):
            dup.story_id = story.id
            session.add(dup)
        members[story.id] = g
        _save(session, story.id, g, idf)
        keys = []
        for _, f in g:
            vec = sp.vector(f, idf)
            keys += [sp.key_hash(k) for k in sp.index_keys(f, vec, idf)]
        story_index.add_keys(session, story.id, keys)
        story_index.record(session, "split", sid, story.id, moved, now)
    session.flush()
    return len(groups)


def _live(session: Session, sid: int) -> bool:
    story = session.get(Story, sid)
    return story is not None and story.merged_into is None


def _absorb(
    session: Session,
    older: int,
    newer: int,
    members: dict[int, list[Member]],
    idf: sp.Idf,
    now: datetime,
    score: float,
) -> None:
    """Merge story ``newer`` into ``older``: the older id survives, the move is recorded."""
    moved = story_index.move_story(session, newer, older)
    story = session.get(Story, newer)
    assert story is not None
    story.merged_into = older
    story.members = 0
    session.add(story)
    story_index.record(session, "merge", older, newer, moved, now, score)
    members[older] = sorted(
        members[older] + members.pop(newer), key=lambda m: (m[1].when or now, m[0])
    )
    _save(session, older, members[older], idf)


def _merge(
    session: Session, live: list[int], members: dict[int, list[Member]], idf: sp.Idf, now: datetime
) -> int:
    """Merge the stories that turn out to report one event, in one language or across
    languages (story_link.merges: greedy average linkage over story profiles; candidates
    share two index keys and come within two days of each other)."""
    profiles = {s: _profile(members[s], idf) for s in live if members.get(s)}
    spans = {s: _span(members[s]) for s in profiles}
    pairs = [
        (a, b)
        for a, b in story_index.sharing_pairs(session, sorted(profiles))
        if story_link.near(spans[a], spans[b])
    ]
    links = story_link.merges(profiles, idf, sp.PARAMS, pairs)
    for older, newer, score in links:
        _absorb(session, older, newer, members, idf, now, score)
    session.flush()
    return len(links)


def _span(ms: list[Member]) -> tuple[datetime, datetime] | None:
    times = [f.when for _, f in ms if f.when is not None]
    return (min(times), max(times)) if times else None
