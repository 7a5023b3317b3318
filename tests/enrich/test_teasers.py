"""Articles kept only from a feed summary never enter duplicate or story decisions."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlmodel import select

from pipeline.config import Settings
from pipeline.enrich.steps import Toolkit, enrich_article
from storage.db import make_engine, migrate, session_scope
from storage.models import Article, LshBand

NOW = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)
TEXT = (
    "Nordkorea hat nach Angaben des südkoreanischen Generalstabs erneut eine ballistische "
    "Rakete in Richtung Japanisches Meer abgefeuert. Die Rakete flog rund 600 Kilometer weit, "
    "teilte das Militär in Seoul mit. Machthaber Kim Jong Un hatte zuvor weitere Tests "
    "angekündigt. Die USA, Japan und Südkorea verurteilten den Start scharf und beriefen "
    "eine Dringlichkeitssitzung des UN-Sicherheitsrats ein."
)


def _article(n: int, method: str) -> Article:
    return Article(
        url=f"https://news.example/{n}",
        canonical_url=f"https://news.example/{n}",
        title="Nordkorea feuert erneut Rakete ab",
        language="de",
        fetched_at=NOW,
        text=TEXT,
        extraction_method=method,
    )


def test_teaser_is_neither_a_duplicate_nor_a_story_member(settings: Settings) -> None:
    engine = make_engine(settings.database_url)
    migrate(engine)
    kit = Toolkit.load(settings)
    with session_scope(engine) as s:
        full = _article(1, "trafilatura")
        s.add(full)
        s.flush()
        enrich_article(s, full, kit, NOW)
    with session_scope(engine) as s:
        copy = _article(2, "trafilatura")
        s.add(copy)
        s.flush()
        enrich_article(s, copy, kit, NOW)
        teaser = _article(3, "feed-summary")
        s.add(teaser)
        s.flush()
        outcome = enrich_article(s, teaser, kit, NOW)
    with session_scope(engine) as s:
        rows = {a.id: a for a in s.exec(select(Article))}
        banded = {b.article_id for b in s.exec(select(LshBand))}
    engine.dispose()
    # the same text as a full page is recognised as a copy ...
    assert rows[2].duplicate_of == 1 and rows[2].duplicate_kind == "exact"
    # ... as a teaser it is no copy, joins no story, and is not indexed for later ones
    assert rows[3].duplicate_of is None and rows[3].story_id is None
    assert outcome.duplicate is None and outcome.story_id is None
    assert 3 not in banded and 1 in banded
    assert rows[3].relevant  # it still counts as about Korea and is tagged
