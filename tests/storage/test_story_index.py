"""Term statistics of the story index on both backends (SQLite and PostgreSQL use different SQL)."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlmodel import Session

from storage import story_index
from storage.db import make_engine, migrate
from storage.models import Article


def test_term_statistics_follow_stored_features(db_url: str) -> None:
    engine = make_engine(db_url)
    migrate(engine)
    when = datetime(2026, 1, 1, tzinfo=UTC)
    try:
        with Session(engine) as s:
            ids = []
            for i in range(2):
                a = Article(
                    url=f"https://t.example/{i}",
                    canonical_url=f"https://t.example/{i}",
                    title="t",
                    text="x",
                    published_at=when,
                    fetched_at=when,
                )
                s.add(a)
                s.flush()
                assert a.id is not None
                ids.append(a.id)
            story_index.put_features(s, ids[0], {"v": 1}, ["kim", "hanoi"])
            story_index.put_features(s, ids[1], {"v": 1}, ["kim", "summit"], first=True)
            # a re-run with other terms moves the counts by the difference, not the docs
            story_index.put_features(s, ids[1], {"v": 2}, ["kim", "talks"], ["kim", "summit"])
            s.commit()
            df, docs = story_index.document_frequencies(s, ["kim", "hanoi", "summit", "talks", "x"])
        assert docs == 2
        assert df == {"kim": 2, "hanoi": 1, "summit": 0, "talks": 1}
        # more terms than SQLite's host-parameter chunk
        many = [f"w{i}" for i in range(2000)]
        with Session(engine) as s:
            assert story_index.document_frequencies(s, [*many, "kim"]) == ({"kim": 2}, 2)
    finally:
        engine.dispose()
