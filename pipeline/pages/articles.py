"""Extraction results onto Article rows: one mapping for ingest and reprocess."""

from __future__ import annotations

from urllib.parse import urlsplit

from pipeline.net.urls import normalize_url
from pipeline.pages.extracted import Extracted
from storage.models import Article


def apply_extraction(
    article: Article, ex: Extracted, *, fallback_title: str | None, outlet: str | None
) -> None:
    """Copy what extraction found (already boilerplate-cleaned) into ``article``."""
    canonical = article.url
    if ex.canonical_url:
        try:
            canonical = normalize_url(ex.canonical_url)
        except ValueError:
            canonical = article.url
    article.canonical_url = canonical
    article.title = ex.title or fallback_title
    article.author = ex.author
    article.description = ex.description
    article.language = ex.language
    # keep an earlier date when a re-extraction finds none (the feed's, say)
    if ex.published_at is not None or article.published_at is None:
        article.published_at = ex.published_at
        article.date_source = ex.date_source
        article.date_doubtful = ex.date_doubtful
    article.text = ex.text
    article.extraction_method = ex.method
    article.wire_agencies = list(ex.wire_agencies)
    # the page's own site name first: aggregator feeds list other outlets' pages
    article.source = ex.site_name or outlet or urlsplit(article.url).hostname
