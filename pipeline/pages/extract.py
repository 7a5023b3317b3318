"""HTML page -> article text and metadata.

trafilatura does the heavy lifting (main-text detection, metadata, htmldate
for dates). Around it this module adds what a news monitor needs and bare
trafilatura does not give: a recorded fallback chain (precision first, then
trafilatura's recall mode, then the feed entry's summary), the source of the
publication date with sanity bounds, an absolute canonical URL, language,
wire-agency credits and per-site boilerplate cleanup.
"""

from __future__ import annotations

import html as html_lib
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urljoin, urlsplit

import trafilatura
from lxml.html import HtmlElement
from trafilatura.utils import load_html

from pipeline.errors import ExtractionError
from pipeline.pages.boilerplate import clean_text
from pipeline.pages.language import detect_language
from pipeline.pages.wire import detect_wire_agencies

#: Shorter page text than this is treated as a failed extraction and retried
#: in recall mode (a teaser or a cookie wall is rarely longer).
MIN_TEXT_CHARS = 250
#: The shortest text (page or feed summary) worth storing at all.
MIN_USABLE_CHARS = 40
#: Online news predates 1990 only in archives, where a date is a parsing error.
EARLIEST_DATE = datetime(1990, 1, 1, tzinfo=UTC)
#: Feeds and servers in other time zones can be a few hours "ahead".
FUTURE_TOLERANCE = timedelta(days=1)

_DATE_FORMAT = "%Y-%m-%dT%H:%M:%S%z"
_TAG = re.compile(r"<[^>]+>")
_BLOCK_TAG = re.compile(r"</?(?:p|br|div|li|h[1-6]|blockquote)\b[^>]*>", re.IGNORECASE)
_SPACES = re.compile(r"[ \t\r\f\v\u00a0]+")


@dataclass(frozen=True)
class Extracted:
    """What extraction learned about one page."""

    text: str
    title: str | None
    author: str | None
    published_at: datetime | None  # tz-aware UTC
    date_source: str | None  # "page-metadata" (htmldate inside trafilatura) | "feed"
    site_name: str | None
    language: str | None
    description: str | None
    categories: tuple[str, ...]
    tags: tuple[str, ...]
    canonical_url: str | None
    method: str  # "trafilatura" | "trafilatura-fallback" | "feed-summary"
    wire_agencies: tuple[str, ...]


def extract_article(
    html: str | bytes,
    url: str,
    *,
    feed_title: str | None = None,
    feed_summary: str | None = None,
    feed_published: datetime | None = None,
    now: datetime | None = None,
) -> Extracted:
    """Extract text and metadata of the article at ``url`` from its HTML.

    Raises ExtractionError when neither the page nor the feed summary yields
    usable text.
    """
    now = now or datetime.now(UTC)
    site = site_of(url)
    tree = load_html(html) if html else None

    doc: Any = None
    text = ""
    method = "trafilatura"
    canonical: str | None = None
    if tree is not None:
        canonical = canonical_url(tree, url)
        doc = _trafilatura(tree, url, now, recall=False)
        text = _clean(doc, site)
        if len(text) < MIN_TEXT_CHARS:
            # Text only: the metadata (and its date search) of the first run stand.
            retry = _trafilatura(tree, url, now, recall=True, metadata=False)
            retry_text = _clean(retry, site)
            if len(retry_text) > len(text):
                text, method = retry_text, "trafilatura-fallback"

    if len(text) < MIN_TEXT_CHARS and feed_summary:
        summary = clean_text(summary_text(feed_summary), site=site)
        if len(summary) > len(text):
            text, method = summary, "feed-summary"
    if len(text) < MIN_USABLE_CHARS:
        raise ExtractionError(f"no usable text in page or feed summary: {url}")

    published_at, date_source = _publication_date(doc, feed_published, now)
    language = detect_language(text)
    return Extracted(
        text=text,
        title=_first(getattr(doc, "title", None), feed_title),
        author=_first(getattr(doc, "author", None)),
        published_at=published_at,
        date_source=date_source,
        site_name=_first(getattr(doc, "sitename", None)),
        language=language,
        description=_first(getattr(doc, "description", None)),
        categories=tuple(getattr(doc, "categories", None) or ()),
        tags=tuple(getattr(doc, "tags", None) or ()),
        canonical_url=canonical,
        method=method,
        wire_agencies=detect_wire_agencies(text),
    )


def _trafilatura(
    tree: HtmlElement, url: str, now: datetime, *, recall: bool, metadata: bool = True
) -> Any:
    # Comments are never article text; tables often are (results, polls).
    # The one date search of the page: htmldate inside trafilatura, metadata
    # first, then the extensive text scan; a second htmldate run over the same
    # tree only repeated that work (issue 14).
    return trafilatura.bare_extraction(
        tree,
        url=url,
        with_metadata=metadata,
        include_comments=False,
        favor_recall=recall,
        date_extraction_params={
            "original_date": True,
            "extensive_search": True,
            "outputformat": _DATE_FORMAT,
            "min_date": EARLIEST_DATE.strftime("%Y-%m-%d"),
            "max_date": (now + FUTURE_TOLERANCE).strftime("%Y-%m-%d"),
        },
    )


def _clean(doc: Any, site: str | None) -> str:
    raw = getattr(doc, "text", None) or ""
    return clean_text(raw, site=site) if raw else ""


def _publication_date(
    doc: Any, feed_published: datetime | None, now: datetime
) -> tuple[datetime | None, str | None]:
    """The page's date (htmldate inside trafilatura), else the feed's date."""
    found = _valid_date(parse_date(getattr(doc, "date", None)), now)
    if found:
        return found, "page-metadata"
    found = _valid_date(_as_utc(feed_published) if feed_published else None, now)
    if found:
        return found, "feed"
    return None, None


def parse_date(raw: str | None) -> datetime | None:
    """htmldate's output (with or without offset) as a tz-aware UTC datetime."""
    if not raw:
        return None
    for fmt in (_DATE_FORMAT, "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d"):
        try:
            return _as_utc(datetime.strptime(raw, fmt))
        except ValueError:
            continue
    return None


def _as_utc(value: datetime) -> datetime:
    # A date without zone is taken as UTC: the error is at most a day, and
    # a guessed local zone would be no better.
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def _valid_date(value: datetime | None, now: datetime) -> datetime | None:
    if value is None:
        return None
    if value < EARLIEST_DATE or value > _as_utc(now) + FUTURE_TOLERANCE:
        return None
    return value


def canonical_url(tree: HtmlElement, url: str) -> str | None:
    """Absolute URL from <link rel=canonical>, else og:url, else None."""
    candidates = [
        *tree.xpath("//link[translate(@rel, 'CANONICAL', 'canonical')='canonical']/@href"),
        *tree.xpath("//meta[@property='og:url' or @name='og:url']/@content"),
    ]
    for href in candidates:
        href = str(href).strip()
        if not href:
            continue
        try:
            absolute = urljoin(url, href)
            parts = urlsplit(absolute)
        except ValueError:  # e.g. "http://[::1" — a broken href is just not a canonical URL
            continue
        if parts.scheme in ("http", "https") and parts.netloc:
            return absolute
    return None


def summary_text(summary: str) -> str:
    """Plain text of a feed entry's (often HTML) summary."""
    text = _BLOCK_TAG.sub("\n", summary)
    text = html_lib.unescape(_TAG.sub("", text))
    lines = (_SPACES.sub(" ", line).strip() for line in text.splitlines())
    return "\n".join(line for line in lines if line)


def site_of(url: str) -> str | None:
    """Host of ``url`` without a leading "www.", used to pick site rules."""
    host = (urlsplit(url).hostname or "").lower()
    return host.removeprefix("www.") or None


def _first(*values: str | None) -> str | None:
    for value in values:
        if value and value.strip():
            return value.strip()
    return None
