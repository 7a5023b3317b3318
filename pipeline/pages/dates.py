"""Publication date of a page: strongest signal first, cross-checked with the feed.

Order (see docs/extraction.md): a per-site date selector, JSON-LD ``datePublished``, the
``article:published_time`` family of meta tags, ``<time datetime>`` inside the article, a
date in the URL, htmldate's original date (extensive search), the feed entry's date. The
first signal that parses to a plausible instant wins. A page date more than
``DOUBT_AFTER`` away from the feed's date is kept but marked doubtful: one of them is wrong
(a republished archive page, a feed that stamps the crawl time), and a reader should know.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from lxml.html import HtmlElement

#: Online news predates 1990 only in archives, where a date is a parsing error.
EARLIEST_DATE = datetime(1990, 1, 1, tzinfo=UTC)
#: Feeds and servers in other time zones can be a few hours "ahead".
FUTURE_TOLERANCE = timedelta(days=1)
#: Page and feed dates further apart than this make the date doubtful. Time zones and a
#: feed's "updated" stamp explain a day or two; beyond that one of the dates is wrong.
DOUBT_AFTER = timedelta(days=3)

_DATE_FORMAT = "%Y-%m-%dT%H:%M:%S%z"
_PUBLISHED_META = (
    "article:published_time",
    "og:article:published_time",
    "og:published_time",
    "datepublished",
    "pubdate",
    "publishdate",
    "publish-date",
    "date",
    "dc.date",
    "dc.date.issued",
    "dcterms.date",
    "sailthru.date",
    "parsely-pub-date",
    "article.published",
    "published-date",
)
_ARTICLE_TYPES = re.compile(r"(?:News|Blog|Report|Opinion|Analysis)?Article|Posting|Report|WebPage")
# CMSs wrap JSON-LD in CDATA sections or HTML comments, which json.loads refuses.
_JSON_WRAPPERS = re.compile(r"^\s*(?://\s*)?(?:<!\[CDATA\[|<!--)|(?://\s*)?(?:\]\]>|-->)\s*$")
_URL_DATE = re.compile(
    r"/((?:19|20)\d{2})[/-](0[1-9]|1[0-2])[/-](0[1-9]|[12]\d|3[01])(?:/|-|\.|_|$)"
    r"|/((?:19|20)\d{2})(0[1-9]|1[0-2])(0[1-9]|[12]\d|3[01])/"
)


@dataclass(frozen=True)
class PageDate:
    """The chosen date, the signal it came from, and whether the feed contradicts it."""

    local: datetime | None  # as the page states it (its own offset; UTC when it gives none)
    source: str | None  # site-rule | json-ld | meta | time-element | url | htmldate | feed
    doubtful: bool = False

    @property
    def utc(self) -> datetime | None:
        """The chosen date in UTC (None when no date was found)."""
        return self.local.astimezone(UTC) if self.local else None


def parse_instant(raw: object) -> datetime | None:
    """An ISO-8601-ish string as an aware datetime (naive values taken as UTC), else None."""
    if not isinstance(raw, str):
        return None
    text = raw.strip()
    if not text or not text[:4].isdigit():
        return None
    text = text.replace("Z", "+00:00").replace(" ", "T", 1)
    for candidate in (text, text[:25], text[:19], text[:10]):
        try:
            value = datetime.fromisoformat(candidate)
        except ValueError:
            continue
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    return None


def plausible(value: datetime | None, now: datetime) -> datetime | None:
    """``value`` when it is after 1990 and not more than a day in the future."""
    if value is None:
        return None
    if value < EARLIEST_DATE or value > _aware(now) + FUTURE_TOLERANCE:
        return None
    return value


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _json_ld_objects(tree: HtmlElement) -> Iterator[dict[str, Any]]:
    for script in tree.xpath('//script[contains(translate(@type,"LDJSON","ldjson"),"ld+json")]'):
        raw = _JSON_WRAPPERS.sub("", script.text_content() or "")
        try:
            data = json.loads(raw, strict=False)  # strict=False: raw newlines inside strings
        except ValueError:
            continue
        stack = [data]
        while stack:
            item = stack.pop(0)
            if isinstance(item, list):
                stack.extend(item)
            elif isinstance(item, dict):
                yield item
                stack.extend(v for k, v in item.items() if k in ("@graph", "mainEntity"))


def json_ld_date(tree: HtmlElement) -> str | None:
    """``datePublished`` of the page's article object (the first one that has it)."""
    fallback = None
    for obj in _json_ld_objects(tree):
        raw = obj.get("datePublished")
        if not isinstance(raw, str):
            continue
        kind = obj.get("@type")
        kinds = kind if isinstance(kind, list) else [kind]
        if any(isinstance(k, str) and _ARTICLE_TYPES.fullmatch(k) for k in kinds):
            return raw
        fallback = fallback or raw
    return fallback


def meta_date(tree: HtmlElement) -> str | None:
    """The first published-time meta tag, in the order of ``_PUBLISHED_META``."""
    found: dict[str, str] = {}
    for meta in tree.iter("meta"):
        name = (meta.get("property") or meta.get("name") or meta.get("itemprop") or "").lower()
        content = meta.get("content")
        if name in _PUBLISHED_META and content and name not in found:
            found[name] = content
    for name in _PUBLISHED_META:
        if name in found:
            return found[name]
    return None


def time_element_date(tree: HtmlElement) -> str | None:
    """``<time datetime>`` inside the article (datePublished/pubdate ones first)."""
    scopes = tree.xpath("//article") or tree.xpath("//main")
    for scope in scopes[:1]:
        marked = scope.xpath(".//time[@datetime][@itemprop='datePublished' or @pubdate]")
        times = marked or scope.xpath(".//time[@datetime]")
        if times:
            return str(times[0].get("datetime"))
    return None


def url_date(url: str) -> datetime | None:
    """A full date in the URL path (``/2019/10/16/``, ``/20191016/``); day precision."""
    match = _URL_DATE.search(url)
    if not match:
        return None
    groups = [g for g in match.groups() if g]
    try:
        return datetime(int(groups[0]), int(groups[1]), int(groups[2]), tzinfo=UTC)
    except ValueError:
        return None


def htmldate_date(tree: HtmlElement, url: str, now: datetime) -> datetime | None:
    """htmldate's original date with its extensive text search (the weakest page signal)."""
    import htmldate

    raw = htmldate.find_date(
        tree,
        extensive_search=True,
        original_date=True,
        outputformat=_DATE_FORMAT,
        url=url,
        min_date=EARLIEST_DATE.strftime("%Y-%m-%d"),
        max_date=(_aware(now) + FUTURE_TOLERANCE).strftime("%Y-%m-%d"),
    )
    return parse_instant(raw)


def page_date(
    tree: HtmlElement | None,
    url: str,
    *,
    feed_published: datetime | None,
    now: datetime,
    site_date: str | None = None,
    strongest_first: bool = True,
) -> PageDate:
    """The publication date from the strongest plausible signal, checked against the feed.

    ``strongest_first=False`` leaves the page's date to htmldate alone (the ablation baseline).
    """
    found: tuple[datetime, str] | None = None
    if tree is not None and strongest_first:
        for source, raw in (
            ("site-rule", site_date),
            ("json-ld", json_ld_date(tree)),
            ("meta", meta_date(tree)),
            ("time-element", time_element_date(tree)),
        ):
            value = plausible(parse_instant(raw), now)
            if value is not None:
                found = (value, source)
                break
    if found is None and strongest_first:
        value = plausible(url_date(url), now)
        if value is not None:
            found = (value, "url")
    if found is None and tree is not None:
        value = plausible(htmldate_date(tree, url, now), now)
        if value is not None:
            found = (value, "htmldate")
    feed = plausible(_aware(feed_published), now) if feed_published else None
    if found is None:
        return PageDate(feed, "feed") if feed else PageDate(None, None)
    value, source = found
    doubtful = feed is not None and abs(value - feed) > DOUBT_AFTER
    return PageDate(value, source, doubtful)
