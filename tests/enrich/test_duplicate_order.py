"""duplicate_of points at the earliest version, even when a copy is fetched before its original."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlmodel import Session, select

from pipeline.config import SEEDS_DIR, Settings
from pipeline.enrich.steps import Toolkit, enrich_article
from storage.db import make_engine, migrate, session_scope
from storage.models import Article, Story

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


def _migrated_kit(settings: Settings) -> Toolkit:
    engine = make_engine(settings.database_url)
    migrate(engine)
    engine.dispose()
    return Toolkit.load(settings)


def _rows(settings: Settings) -> tuple[dict[int | None, Article], list[Story]]:
    engine = make_engine(settings.database_url)
    with Session(engine) as s:
        rows = {a.id: a for a in s.exec(select(Article))}
        stories = list(s.exec(select(Story)))
    engine.dispose()
    return rows, stories


def test_an_original_fetched_after_its_copies_becomes_their_root(settings: Settings) -> None:
    kit = _migrated_kit(settings)
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

    rows, _ = _rows(settings)
    assert rows[original].duplicate_of is None
    assert rows[copy_1].duplicate_of == original and rows[copy_1].duplicate_kind == "near"
    assert rows[copy_1].duplicate_evidence and rows[copy_1].duplicate_evidence.get(
        "superseded_by_earlier"
    )
    assert rows[copy_2].duplicate_of == original and rows[copy_2].duplicate_kind == "exact"
    # one family, one story
    assert rows[original].story_id is not None
    assert rows[copy_1].story_id == rows[original].story_id


def test_copies_of_an_article_off_the_beat_open_no_story(settings: Settings) -> None:
    # Stories are the digest's unit for the beat: an article that is not about Korea
    # gets none, and neither does it when a second outlet republishes it (the copy
    # used to open a story for its irrelevant original, with features and index keys)
    kit = _migrated_kit(settings)
    text = "\n".join(
        [
            "Der Stadtrat von Freiburg hat am Dienstag den neuen Radwegeplan beschlossen.",
            "Bis 2030 sollen 40 Kilometer geschützte Radwege entstehen, vor allem im Osten.",
            "Die Opposition kritisierte die Kosten von 25 Millionen Euro als zu hoch.",
            "Der Bürgermeister verwies auf Zuschüsse des Landes Baden-Württemberg.",
            "Anwohner der Habsburgerstraße fürchten den Wegfall von Parkplätzen.",
            "Die ersten Abschnitte sollen im kommenden Frühjahr gebaut werden.",
        ]
    )
    first = _store(
        settings, kit, "https://a.example/rad", text, datetime(2025, 10, 27, 6, tzinfo=UTC)
    )
    copy = _store(
        settings, kit, "https://b.example/rad", text, datetime(2025, 10, 27, 9, tzinfo=UTC)
    )

    rows, stories = _rows(settings)
    assert not rows[first].relevant and rows[copy].duplicate_of == first
    assert rows[first].story_id is None and rows[copy].story_id is None
    assert stories == []
