"""Rows for ``newsmon export``: one JSON-ready dict per article (README: the export fields)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, func, select

from storage import repo, story_index
from storage.models import Article, Story

BATCH = 500


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def export_row(
    article: Article,
    actors: list[Any],
    *,
    with_text: bool,
    story: Story | None = None,
    history: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """One article's export dict (README: the export fields); ``text`` only if ``with_text``."""
    row: dict[str, Any] = {
        "id": article.id,
        "url": article.url,
        "canonical_url": article.canonical_url,
        "title": article.title,
        "source": article.source or urlsplit(article.url).hostname,
        "language": article.language,
        "published_at": _iso(article.published_at),
        "fetched_at": _iso(article.fetched_at),
        "is_seed": article.is_seed,
        "seed_name": article.seed_name,
        "relevant": article.relevant,
        "relevance_score": article.relevance_score,
        "relevance_evidence": article.relevance_evidence,
        "duplicate_of": article.duplicate_of,
        "duplicate_kind": article.duplicate_kind,
        "story_id": article.story_id,
        "actors": [
            {"id": a.id, "name": a.name, "type": a.type, "country": a.country} for a in actors
        ],
        "wire_agencies": article.wire_agencies,
        "extraction_method": article.extraction_method,
        "date_source": article.date_source,
        "date_doubtful": article.date_doubtful,
        "text_chars": article.text_chars,
        # story repair and follow-ups (issue 13): the quiet story this one continues,
        # and the merges/splits/follow-up links that touched the article's story
        "story_follow_up_of": story.follow_up_of if story else None,
        "story_history": history or [],
    }
    if with_text:
        row["text"] = article.text
    return row


def iter_export_rows(
    engine: Engine,
    since: datetime,
    until: datetime,
    *,
    relevant_only: bool = True,
    with_text: bool = False,
) -> Iterator[dict[str, Any]]:
    """Articles whose publication (or fetch) time falls in [since, until), by id."""
    when = func.coalesce(Article.published_at, Article.fetched_at)
    last_id = 0
    while True:
        with Session(engine) as session:
            stmt = (
                select(Article)
                .where(when >= since, when < until, col(Article.id) > last_id)
                .order_by(col(Article.id))
                .limit(BATCH)
            )
            if relevant_only:
                stmt = stmt.where(col(Article.relevant).is_(True))
            batch = list(session.exec(stmt))
            if not batch:
                return
            actors = repo.actors_of(session, [a.id for a in batch if a.id is not None])
            sids = sorted({a.story_id for a in batch if a.story_id is not None})
            stories = {s.id: s for s in session.exec(select(Story).where(col(Story.id).in_(sids)))}
            history = story_index.history(session, sids)
            for article in batch:
                assert article.id is not None
                sid = article.story_id
                yield export_row(
                    article,
                    actors.get(article.id, []),
                    with_text=with_text,
                    story=stories.get(sid) if sid is not None else None,
                    history=history.get(sid, []) if sid is not None else None,
                )
            last_id = batch[-1].id or last_id
