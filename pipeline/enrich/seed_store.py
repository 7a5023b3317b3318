"""Store the seed corpus as articles (is_seed=True); loading twice changes nothing."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.engine import Engine

from pipeline.config import Settings
from pipeline.enrich.seed_corpus import load_seeds
from pipeline.enrich.steps import Toolkit, enrich_article
from pipeline.pages.boilerplate import clean_text
from pipeline.pages.wire import detect_wire_agencies
from pipeline.report import StageReport
from storage import repo
from storage.db import session_scope
from storage.models import Article


def load_seed_articles(engine: Engine, settings: Settings) -> StageReport:
    """Store each seed as an enriched article (or update it); an unchanged seed is left alone."""
    report = StageReport("seeds")
    kit = Toolkit.load(settings)
    now = datetime.now(UTC)
    for seed in load_seeds(settings.seeds_dir):
        text = clean_text(seed.body, language=seed.language)
        title = seed.title
        with session_scope(engine) as session:
            article = repo.article_by_url(session, seed.url)
            created = article is None
            if article is None:
                article = Article(
                    url=seed.url,
                    canonical_url=seed.url,
                    # a seed is "known" from its own date on, so it never shows
                    # up in a digest as the news of the day it was loaded
                    fetched_at=seed.published_at or now,
                )
            unchanged = (
                not created
                and article.text == text
                and article.raw_text == seed.raw_text
                and article.title == title
            )
            if unchanged:
                report.add("seeds_unchanged")
                continue
            article.is_seed = True
            article.seed_name = seed.name
            article.title = title
            article.source = seed.outlet
            article.language = seed.language
            article.published_at = seed.published_at
            article.date_source = "seed" if seed.published_at else None
            article.wire_agencies = list(detect_wire_agencies(seed.raw_text))
            article.raw_text = seed.raw_text
            article.text = text
            article.extraction_method = "seed"
            session.add(article)
            session.flush()
            enrich_article(session, article, kit, now)
            report.add("seeds_loaded" if created else "seeds_updated")
    return report
