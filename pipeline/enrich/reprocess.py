"""Re-run extraction and enrichment on stored articles (after rules or the gazetteer changed).

Works from the stored raw page, never the network. Each article is its own
transaction, and one article that fails is recorded and skipped, so a single
odd page cannot stop a reprocess of months.
"""

from __future__ import annotations

import logging
import zlib
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.engine import Engine
from sqlmodel import col, func, select

from pipeline.enrich.steps import Toolkit, enrich_article
from pipeline.errors import ExtractionError, NewsmonError
from pipeline.pages.articles import apply_extraction
from pipeline.pages.extract import extract_article
from pipeline.report import StageReport
from storage.db import session_scope
from storage.models import Article

log = logging.getLogger(__name__)


def article_ids_in_window(engine: Engine, since: datetime, until: datetime) -> list[int]:
    """Non-seed articles first fetched (or published) in [since, until), oldest first.

    Oldest first matters: duplicate detection points at the earliest version,
    so the originals must be re-enriched before their copies.
    """
    when = func.coalesce(Article.fetched_at, Article.published_at)
    with session_scope(engine) as session:
        ids = session.exec(
            select(Article.id)
            .where(when >= since, when < until, col(Article.is_seed).is_(False))
            .order_by(when, col(Article.id))
        ).all()
    return [i for i in ids if i is not None]


def reprocess_articles(
    engine: Engine,
    kit: Toolkit,
    ids: Sequence[int],
    steps: Sequence[str],
    now: datetime,
    report: StageReport,
) -> None:
    """Re-extract (if ``steps`` has "extract") and re-enrich each article in its own transaction.

    An article that fails is logged, recorded in ``report`` and skipped; a NewsmonError
    (database trouble) propagates, so the task is retried as a whole. Ids no longer stored
    are skipped.
    """
    for article_id in ids:
        try:
            with session_scope(engine) as session:
                article = session.get(Article, article_id)
                if article is None:
                    continue
                if "extract" in steps:
                    reextract(article, report)
                enrich_article(session, article, kit, now, steps)
            report.add("articles_reprocessed")
        except NewsmonError:
            raise  # database trouble: let the task fail and be retried as a whole
        except Exception as exc:
            log.exception("reprocess failed for article %s", article_id)
            report.error(type(exc).__name__, f"article {article_id}", str(exc))


def reextract(article: Article, report: StageReport) -> None:
    """Extract again from the stored page; keeps the old text if that fails."""
    if not article.raw_html:
        return
    try:
        ex = extract_article(
            zlib.decompress(article.raw_html),
            article.url,
            feed_title=article.title,
            feed_summary=article.feed_summary,
        )
    except ExtractionError as exc:
        report.error(exc.kind, article.url, str(exc))
        return
    apply_extraction(article, ex, fallback_title=article.title, outlet=article.source)
    report.add("articles_reextracted")
