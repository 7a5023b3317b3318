"""Story assignment over the database: which event an article reports.

A duplicate shares its original's story; any other article is compared with
the already-assigned articles of its time window (pure similarity in
pipeline.enrich.story_similarity) and joins the best matching story, or opens
a new one. Story ids are stable: a re-run never moves an article.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from pipeline.enrich import story_similarity as stories
from storage import repo
from storage.models import Article, Mention, Story

#: Most already-assigned articles a new article is compared with for its story.
STORY_CANDIDATES = 400


def _when(a: Article) -> datetime:
    return a.published_at or a.fetched_at


def _actor_ids(session: Session, ids: list[int]) -> dict[int, set[str]]:
    out: dict[int, set[str]] = {i: set() for i in ids}
    if ids:
        rows = session.exec(
            select(Mention.article_id, Mention.actor_id).where(col(Mention.article_id).in_(ids))
        ).all()
        for article_id, actor_id in rows:
            out[article_id].add(actor_id)
    return out


def _features(session: Session, a: Article, actors: set[str]) -> stories.StoryFeatures:
    # Cached on the session (a stage run handles many articles of one window in
    # one session); the key covers everything the features depend on.
    cache: dict[tuple[Any, ...], stories.StoryFeatures] = session.info.setdefault(
        "newsmon_story_features", {}
    )
    key = (a.id, a.title, a.text_hash or a.text, a.language, _when(a), frozenset(actors))
    feats = cache.get(key)
    if feats is None:
        feats = stories.features(
            a.title, a.text, lang=a.language, when=_when(a), actor_ids=sorted(actors)
        )
        if len(cache) > 20_000:  # bound memory in a long-lived session
            cache.clear()
        cache[key] = feats
    return feats


def assign_story(session: Session, article: Article, *, window_days: int = 3) -> int | None:
    """Give the article a stable story id: its original's, a matching story's, or a new one."""
    assert article.id is not None, "assign_story needs a flushed article"
    if article.duplicate_of is not None:
        root = repo.original_of(session, article)
        if root.id != article.id:
            story_id = root.story_id or assign_story(session, root, window_days=window_days)
            article.story_id = story_id
            _touch_story(session, story_id, _when(article))
            return story_id
    if article.story_id is not None and session.get(Story, article.story_id) is not None:
        return article.story_id  # stable: a re-run never moves an article

    when = _when(article)
    span = timedelta(days=window_days)
    moment = func.coalesce(Article.published_at, Article.fetched_at)
    neighbours = list(
        session.exec(
            select(Article)
            .where(
                col(Article.story_id).is_not(None),
                col(Article.id) != article.id,
                col(Article.duplicate_of).is_(None),
                moment >= when - span,
                moment <= when + span,
            )
            .order_by(col(Article.id).desc())
            .limit(STORY_CANDIDATES)
        )
    )
    actors = _actor_ids(session, [article.id, *(n.id for n in neighbours if n.id is not None)])
    mine = _features(session, article, actors[article.id])
    theirs = [(n, _features(session, n, actors[n.id or 0])) for n in neighbours]
    bg = stories.background([mine, *(f for _, f in theirs)])
    best: tuple[float, int] | None = None
    for n, f in theirs:
        sim = stories.similarity(mine, f, bg, window_days=window_days)
        if sim.same_story and n.story_id is not None and (best is None or sim.score > best[0]):
            best = (sim.score, n.story_id)
    if best is not None:
        article.story_id = best[1]
        _touch_story(session, best[1], when)
    else:
        story = Story(
            first_article_id=article.id,
            title=article.title,
            first_seen_at=when,
            last_seen_at=when,
        )
        session.add(story)
        session.flush()
        article.story_id = story.id
    session.add(article)
    return article.story_id


def _touch_story(session: Session, story_id: int | None, when: datetime) -> None:
    story = session.get(Story, story_id) if story_id is not None else None
    if story is None:
        return
    story.first_seen_at = min(story.first_seen_at, when)
    story.last_seen_at = max(story.last_seen_at, when)
    session.add(story)
