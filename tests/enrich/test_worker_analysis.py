"""The worker's text-only analysis (story features included) stores what the writer would.

The same real articles (tests/fixtures/dedup: the seed texts and SemEval reports, one of
them twice under another URL) are enriched into two fresh databases: once with the
Analysis a pool worker ships (pipeline.enrich.analysis.analyse), once without, where
enrich_article computes everything itself. Every stored row that enrichment writes must
be equal.
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import text as sql
from sqlmodel import Session

from pipeline.config import Settings
from pipeline.enrich.analysis import analyse
from pipeline.enrich.steps import Toolkit, enrich_article
from storage.db import make_engine, migrate, session_scope
from storage.models import Article
from tests.support.paths import FIXTURES
from tests.support.row_dump import comparable

T0 = datetime(2020, 1, 1, 9, 0, tzinfo=UTC)
TABLES = ("article", "story", "story_features", "story_key", "term_stat", "mention", "lsh_band")


def _docs() -> list[dict[str, Any]]:
    docs = json.loads((FIXTURES / "dedup" / "articles.json").read_text(encoding="utf-8"))
    picked = docs[:12]
    return [*picked, {**picked[5], "id": picked[5]["id"] + "-copy"}]


def _store(url: str, kit: Toolkit, with_pre: bool) -> tuple[dict[str, list[Any]], int]:
    engine = make_engine(url)
    migrate(engine)
    with_story = 0
    with session_scope(engine) as s:
        for i, doc in enumerate(_docs()):
            when = T0 + timedelta(hours=i)
            a = Article(
                url=f"https://x.example/{doc['id']}",
                canonical_url=f"https://x.example/{doc['id']}",
                title=doc["title"],
                text=doc["text"],
                language=doc.get("lang"),
                published_at=when if i % 3 else None,
                fetched_at=when,
            )
            s.add(a)
            s.flush()
            pre = None
            if with_pre:
                pre = analyse(kit.gazetteer, kit.rules, a.title, a.text, a.language)
                with_story += pre.story is not None
            enrich_article(s, a, kit, when, pre=pre)
    rows = _rows(engine)
    engine.dispose()
    return rows, with_story


def _rows(engine: Any) -> dict[str, list[Any]]:
    out: dict[str, list[Any]] = {}
    with session_scope(engine) as s:
        assert isinstance(s, Session)
        for table in TABLES:
            result = s.execute(sql(f"SELECT * FROM {table} ORDER BY 1, 2"))
            out[table] = [tuple(comparable(v) for v in r) for r in result]
    return out


def test_worker_analysis_stores_the_same_rows(settings: Settings, tmp_path: Any) -> None:
    kit = Toolkit.load(settings)
    with_pre, stories = _store(f"sqlite:///{tmp_path / 'pre.db'}", kit, with_pre=True)
    without, _ = _store(f"sqlite:///{tmp_path / 'plain.db'}", kit, with_pre=False)
    assert stories >= 3, "the worker's story features were not exercised"
    assert with_pre["story"], "no story was opened"
    for table in TABLES:
        assert with_pre[table] == without[table], table


def test_story_features_only_for_the_language_and_actors_they_were_made_of(
    settings: Settings,
) -> None:
    kit = Toolkit.load(settings)
    doc = _docs()[0]
    pre = analyse(kit.gazetteer, kit.rules, doc["title"], doc["text"], "de")
    assert pre.story is not None and pre.relevance.relevant
    actors = frozenset(m.actor_id for m in pre.mentions)
    assert pre.story_features("de", actors) is pre.story
    assert pre.story_features("en", actors) is None
    assert pre.story_features("de", actors | {"Q-other"}) is None
    assert replace(pre, story=None).story_features("de", actors) is None
