"""duplicate_of points at the earliest version, even when a copy is fetched before its original."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlmodel import Session, select

from pipeline.config import SEEDS_DIR, Settings
from pipeline.enrich.steps import Toolkit, enrich_article
from storage.db import make_engine, migrate, session_scope
from storage.models import Article

NOW = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


def _wire_text() -> str:
    # a real agency text (seed 004), so the copies below are realistic rewrites
    raw = (SEEDS_DIR / "004_c9c43821286cbbc7.txt").read_text(encoding="utf-8")
    return "\n".join(line.strip() for line in raw.splitlines() if line.strip())


def _store(cfg: Settings, kit: Toolkit, url: str, text: str, published: datetime) -> int:
    engine = make_engine(cfg.database_url)
    with session_scope(engine) as s:
        a = Article(url=url, canonical_url=url, fetched_at=NOW, published_at=published, text=text)
        s.add(a)
        s.flush()
        enrich_article(s, a, kit, NOW)
        assert a.id is not None
        article_id = a.id
    engine.dispose()
    return article_id


def test_an_original_fetched_after_its_copies_becomes_their_root(settings: Settings) -> None:
    engine = make_engine(settings.database_url)
    migrate(engine)
    engine.dispose()
    kit = Toolkit.load(settings)
    text = _wire_text()
    paragraphs = text.split("\n")
    local_copy = "Eilmeldung aus der Redaktion.\n" + "\n".join(paragraphs[:-1])
    exact_copy = text
    copy_1 = _store(
        settings, kit, "https://b.example/1", local_copy, datetime(2025, 10, 27, 9, tzinfo=UTC)
    )
    copy_2 = _store(
        settings, kit, "https://c.example/2", exact_copy, datetime(2025, 10, 27, 11, tzinfo=UTC)
    )
    original = _store(
        settings, kit, "https://a.example/0", text, datetime(2025, 10, 27, 6, tzinfo=UTC)
    )

    engine = make_engine(settings.database_url)
    with Session(engine) as s:
        rows = {a.id: a for a in s.exec(select(Article))}
    engine.dispose()
    assert rows[original].duplicate_of is None
    assert rows[copy_1].duplicate_of == original and rows[copy_1].duplicate_kind == "near"
    assert rows[copy_1].duplicate_evidence and rows[copy_1].duplicate_evidence.get(
        "superseded_by_earlier"
    )
    assert rows[copy_2].duplicate_of == original and rows[copy_2].duplicate_kind == "exact"
    # one family, one story
    assert rows[original].story_id is not None
    assert rows[copy_1].story_id == rows[original].story_id
