"""News sitemaps (sitemaps.org + Google News extension) as a date-aware source.

Design for sitemap indexes: :func:`parse_sitemap` returns both kinds of
content in one value, :class:`Sitemap` with ``entries`` (from a ``<urlset>``)
and ``children`` (from a ``<sitemapindex>``, each with its ``lastmod``). The
caller fetches children itself, so fetching stays in pipeline.net.client and a
backfill can pick only children whose lastmod falls in its window.
:func:`parse_news_sitemap` is the entries-only shortcut (an index yields []).

Parsing uses ElementTree's expat: no external entities, and expat >= 2.4
aborts entity-amplification ("billion laughs") documents.
"""

from __future__ import annotations

import io
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import UTC, datetime

from pipeline.errors import FeedParseError
from pipeline.feeds.entries import MAX_TITLE_CHARS, FeedEntry, html_to_text
from pipeline.net.urls import normalize_url

MAX_SITEMAP_URLS = 50_000  # the sitemaps.org limit per file


@dataclass(frozen=True)
class SitemapRef:
    """A child sitemap named by a sitemap index, with its last change if given."""

    url: str
    lastmod: datetime | None


@dataclass(frozen=True)
class Sitemap:
    """A parsed sitemap: entries of a ``<urlset>``, children of a ``<sitemapindex>``."""

    entries: tuple[FeedEntry, ...]
    children: tuple[SitemapRef, ...]
    error: str | None = None  # set when the XML broke off after some entries


def parse_w3c_datetime(value: str | None) -> datetime | None:
    """W3C datetime (YYYY, YYYY-MM-DD, full timestamps with Z or offset) -> aware UTC."""
    if not value:
        return None
    value = value.strip()
    if len(value) == 4 and value.isdigit():
        value += "-01-01"
    elif len(value) == 7 and value[4] == "-":
        value += "-01"
    try:
        dt = datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        return None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt.astimezone(UTC)


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1].lower()


def _child_text(elem: ET.Element, *path: str) -> str | None:
    node: ET.Element | None = elem
    for name in path:
        if node is None:
            return None
        node = next((c for c in node if _local(c.tag) == name), None)
    if node is None or node.text is None:
        return None
    return node.text.strip() or None


def parse_sitemap(body: bytes, *, url: str, max_urls: int = MAX_SITEMAP_URLS) -> Sitemap:
    """Parse a urlset or sitemapindex; raises FeedParseError when it is neither."""
    if not body.strip():
        raise FeedParseError(f"empty sitemap: {url}")
    entries: list[FeedEntry] = []
    children: list[SitemapRef] = []
    root_tag: str | None = None
    error: str | None = None
    try:
        for event, elem in ET.iterparse(io.BytesIO(body), events=("start", "end")):
            name = _local(elem.tag)
            if event == "start":
                if root_tag is None:
                    root_tag = name
                    if name not in ("urlset", "sitemapindex"):
                        raise FeedParseError(f"not a sitemap (<{name}>): {url}")
                continue
            if name == "url" and root_tag == "urlset":
                entry = _entry(elem, url)
                if entry is not None and len(entries) < max_urls:
                    entries.append(entry)
                elem.clear()
            elif name == "sitemap" and root_tag == "sitemapindex":
                loc = _child_text(elem, "loc")
                if loc:
                    absolute = normalize_url(loc, url)
                    if absolute.startswith(("http://", "https://")):
                        lastmod = parse_w3c_datetime(_child_text(elem, "lastmod"))
                        children.append(SitemapRef(absolute, lastmod))
                elem.clear()
    except ET.ParseError as exc:
        if root_tag is None or not (entries or children):
            raise FeedParseError(f"invalid sitemap XML: {url}: {exc}") from exc
        error = f"ParseError: {exc}"
    if root_tag is None:
        raise FeedParseError(f"not a sitemap: {url}")
    return Sitemap(tuple(entries), tuple(children), error)


def _entry(elem: ET.Element, base: str) -> FeedEntry | None:
    loc = _child_text(elem, "loc")
    if not loc:
        return None
    link = normalize_url(loc, base)
    if not link.startswith(("http://", "https://")):
        return None
    published = parse_w3c_datetime(_child_text(elem, "news", "publication_date"))
    published = published or parse_w3c_datetime(_child_text(elem, "lastmod"))
    title = _child_text(elem, "news", "title")
    return FeedEntry(
        url=link,
        title=html_to_text(title, MAX_TITLE_CHARS),
        summary=None,
        published_at=published,
        guid=loc,
        author=_child_text(elem, "news", "publication", "name"),
    )


def parse_news_sitemap(body: bytes, *, url: str) -> list[FeedEntry]:
    """Entries of a (news) sitemap urlset; an index yields [] (use parse_sitemap)."""
    return list(parse_sitemap(body, url=url).entries)
