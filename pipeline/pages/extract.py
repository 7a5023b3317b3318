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
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urljoin, urlsplit

import trafilatura
from lxml.html import HtmlElement
from trafilatura.utils import load_html

from pipeline.errors import ExtractionError
from pipeline.pages import date_parser
from pipeline.pages.boilerplate import clean_text
from pipeline.pages.candidates import Candidate, justext_text, structural_text, trafilatura_text
from pipeline.pages.dates import EARLIEST_DATE, FUTURE_TOLERANCE, page_date
from pipeline.pages.extracted import Extracted
from pipeline.pages.language import detect_language
from pipeline.pages.markup import bounded_markup
from pipeline.pages.select import choose, signals_of
from pipeline.pages.site_rules import MIN_SITE_CHARS, apply_site_rules
from pipeline.pages.wire import detect_wire_agencies

#: Shorter page text than this is treated as a failed extraction and retried
#: in recall mode (a teaser or a cookie wall is rarely longer).
MIN_TEXT_CHARS = 250
#: The shortest text (page or feed summary) worth storing at all.
MIN_USABLE_CHARS = 40

#: The parts of extraction beyond bare trafilatura (fast path); all on in production.
COMPONENTS = frozenset({"site-rules", "selection", "boilerplate", "date-signals"})

_DATE_FORMAT = "%Y-%m-%dT%H:%M:%S%z"
_TAG = re.compile(r"<[^>]+>")
_BLOCK_TAG = re.compile(r"</?(?:p|br|div|li|h[1-6]|blockquote)\b[^>]*>", re.IGNORECASE)
_SPACES = re.compile(r"[ \t\r\f\v\u00a0]+")


def extract_article(
    html: str | bytes,
    url: str,
    *,
    feed_title: str | None = None,
    feed_summary: str | None = None,
    feed_published: datetime | None = None,
    now: datetime | None = None,
    components: frozenset[str] = COMPONENTS,
) -> Extracted:
    """Extract text and metadata of the article at ``url`` from its HTML.

    Pure: no I/O, inputs and output are picklable (a process pool may run it). Raises
    ExtractionError when neither the page nor the feed summary yields usable text.
    ``components`` switches parts off for the ablation in bench/eval_extraction.py only.
    """
    now = now or datetime.now(UTC)
    rules = "boilerplate" in components
    site = site_of(url)
    html = bounded_markup(html)  # a huge page's scripts and styles cost a tree, not text
    tree = load_html(html) if html else None

    doc: Any = None
    text = ""
    method = "trafilatura"
    canonical: str | None = None
    site_date: str | None = None
    if tree is not None:
        canonical = canonical_url(tree, url)
        doc = _trafilatura(tree, url, now)
        # A publisher's own layout rule beats every general heuristic when it fits.
        match = apply_site_rules(tree, site) if "site-rules" in components else None
        if match is not None:
            site_date = match.date
            text, method = _clean(match.candidate.text, site, rules), match.candidate.method
        if len(text) < MIN_SITE_CHARS:
            chosen = _choose_text(tree, html, url, site, doc, "selection" in components)
            text, method = _clean(chosen.text, site, rules), chosen.method

    if len(text) < MIN_TEXT_CHARS and feed_summary:
        summary = clean_text(summary_text(feed_summary), site=site)
        if len(summary) > len(text):
            text, method = summary, "feed-summary"
    if len(text) < MIN_USABLE_CHARS:
        raise ExtractionError(f"no usable text in page or feed summary: {url}")

    found = page_date(
        tree,
        url,
        feed_published=feed_published,
        now=now,
        site_date=site_date,
        htmldate=getattr(doc, "date", None),
        combine="date-signals" in components,
    )
    language = detect_language(text)
    return Extracted(
        text=text,
        title=_first(getattr(doc, "title", None), feed_title),
        author=_first(getattr(doc, "author", None)),
        published_at=found.utc,
        date_source=found.source,
        site_name=_first(getattr(doc, "sitename", None)),
        language=language,
        description=_first(getattr(doc, "description", None)),
        categories=tuple(getattr(doc, "categories", None) or ()),
        tags=tuple(getattr(doc, "tags", None) or ()),
        canonical_url=canonical,
        method=method,
        wire_agencies=detect_wire_agencies(text),
        date_doubtful=found.doubtful,
        published_local=found.local,
    )


def _trafilatura(tree: HtmlElement, url: str, now: datetime) -> Any:
    # One pass for metadata and the base text, on trafilatura's fast path: its internal
    # readability/jusText fallback is replaced by choose() over our own candidates.
    # Comments are never article text; tables often are (results, polls). htmldate's search
    # here (original date, extensive, as bare trafilatura runs it) is the page's only one:
    # dates.page_date reuses its result as one vote among the cheaper signals.
    with date_parser.beat_languages():  # the fallback parser in the beat's languages
        return trafilatura.bare_extraction(
            tree,
            url=url,
            with_metadata=True,
            fast=True,
            include_comments=False,
            date_extraction_params={
                "original_date": True,
                "extensive_search": True,
                "outputformat": _DATE_FORMAT,
                "min_date": EARLIEST_DATE.strftime("%Y-%m-%d"),
                "max_date": (now + FUTURE_TOLERANCE).strftime("%Y-%m-%d"),
            },
        )


def _choose_text(
    tree: HtmlElement, html: str | bytes, url: str, site: str | None, doc: Any, select: bool
) -> Candidate:
    """The base text, or a better candidate when the signals doubt it (select.py)."""
    base = Candidate("trafilatura", getattr(doc, "text", None) or "")
    if len(_clean(base.text, site)) < MIN_TEXT_CHARS:
        recall = Candidate("trafilatura-fallback", trafilatura_text(tree, url, mode="recall"))
        if len(recall.text) > len(base.text):
            base = recall
    description = getattr(doc, "description", None)
    title = getattr(doc, "title", None)
    if not select or not signals_of(base.text, description, title).doubtful():
        return base
    others = [
        Candidate("justext", justext_text(html)),
        Candidate("structural", structural_text(tree)),
    ]
    return choose(base, others, description, title)


def _clean(raw: str, site: str | None, rules: bool = True) -> str:
    if not rules:
        return raw.strip()
    return clean_text(raw, site=site) if raw else ""


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
