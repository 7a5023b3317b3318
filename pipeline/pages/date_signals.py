"""What a page says about its own dates: one proposal per signal, and its declared modified dates.

Readers only; ``dates.py`` weighs the proposals against each other. Each reader is cheap
(a pass over ``<meta>``, the JSON-LD scripts, the article's ``<time>`` elements, the URL):
htmldate's search, the one expensive signal, is run once by trafilatura's pass and handed in.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from lxml.html import HtmlElement

from pipeline.pages.date_byline import byline_date

#: Meta names that say "published" and nothing else.
PUBLISHED_META = (
    "article:published_time",
    "og:article:published_time",
    "og:published_time",
    "datepublished",
    "pubdate",
    "publishdate",
    "publish-date",
    "published-date",
    "article.published",
    "parsely-pub-date",
    "dc.date.issued",
)
#: Meta names that only say "a date": CMSs fill them with the last edit as often as not
#: (dev: NZZ's and Tagblatt's ``date`` is the modified time, SWR's a later republication).
GENERIC_META = ("date", "dc.date", "dcterms.date", "sailthru.date")
#: Meta names for the last edit; a "published" value equal to one of these is suspect.
MODIFIED_META = (
    "article:modified_time",
    "og:article:modified_time",
    "og:updated_time",
    "datemodified",
    "last-modified",
    "dc.date.modified",
    "dcterms.modified",
    "revision_date",
)
_ARTICLE_TYPES = re.compile(r"(?:News|Blog|Report|Opinion|Analysis)?Article|Posting|Report|WebPage")
# CMSs wrap JSON-LD in CDATA sections or HTML comments, which json.loads refuses.
_JSON_WRAPPERS = re.compile(r"^\s*(?://\s*)?(?:<!\[CDATA\[|<!--)|(?://\s*)?(?:\]\]>|-->)\s*$")
_URL_DATE = re.compile(
    r"/((?:19|20)\d{2})[/-](0[1-9]|1[0-2])[/-](0[1-9]|[12]\d|3[01])(?:/|-|\.|_|$)"
    r"|/((?:19|20)\d{2})(0[1-9]|1[0-2])(0[1-9]|[12]\d|3[01])/"
)
_UPDATED_CLASS = re.compile(r"updat|modif|aktualisiert", re.IGNORECASE)
_PUBLISHED_CLASS = re.compile(r"publish", re.IGNORECASE)
_DAY_ONLY = re.compile(r"^\d{4}-\d{2}-\d{2}(?:[T ]00:00(?::00)?)?$")


@dataclass(frozen=True)
class Proposal:
    """One signal's date: ``value`` as the page states it, ``day_only`` when it has no time."""

    source: str  # a date_source value or a finer signal name (see dates.SIGNALS)
    value: datetime
    day_only: bool = False

    def days(self) -> frozenset[str]:
        """The calendar days this value can stand for: its own offset's and UTC's."""
        local = self.value.strftime("%Y-%m-%d")
        if self.day_only:
            return frozenset({local})
        return frozenset({local, self.value.astimezone(UTC).strftime("%Y-%m-%d")})


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


def proposal(source: str, raw: object) -> Proposal | None:
    """``raw`` parsed as a proposal of ``source``, or None when it is no date."""
    value = parse_instant(raw)
    if value is None:
        return None
    day_only = isinstance(raw, str) and bool(_DAY_ONLY.match(raw.strip()))
    return Proposal(source, value, day_only)


def json_ld_objects(tree: HtmlElement) -> Iterator[dict[str, Any]]:
    """Every JSON object in the page's ld+json scripts, ``@graph``/``mainEntity`` unpacked."""
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


def _is_article(obj: dict[str, Any]) -> bool:
    kind = obj.get("@type")
    kinds = kind if isinstance(kind, list) else [kind]
    return any(isinstance(k, str) and _ARTICLE_TYPES.fullmatch(k) for k in kinds)


def json_ld_date(tree: HtmlElement) -> str | None:
    """``datePublished`` of the page's article object (the first one that has it)."""
    fallback = None
    for obj in json_ld_objects(tree):
        raw = obj.get("datePublished")
        if not isinstance(raw, str):
            continue
        if _is_article(obj):
            return raw
        fallback = fallback or raw
    return fallback


def _metas(tree: HtmlElement) -> dict[str, str]:
    found: dict[str, str] = {}
    for meta in tree.iter("meta"):
        name = (meta.get("property") or meta.get("name") or meta.get("itemprop") or "").lower()
        content = meta.get("content")
        if name and content and name not in found:
            found[name] = content
    return found


def _first_of(found: dict[str, str], names: tuple[str, ...]) -> str | None:
    return next((found[n] for n in names if n in found), None)


def time_element_date(tree: HtmlElement) -> tuple[str, str] | None:
    """``<time datetime>`` inside the article: (``marked`` | ``first``, value).

    ``marked`` is one that says it is the publication time (itemprop, pubdate, a "publish"
    class); ``first`` the first one that does not say it is an update.
    """
    scopes = tree.xpath("//article") or tree.xpath("//main")
    for scope in scopes[:1]:
        times = scope.xpath(".//time[@datetime]")
        for node in times:
            mark = f"{node.get('itemprop', '')} {node.get('class', '')}"
            if node.get("pubdate") is not None or "datePublished" in mark:
                return "marked", str(node.get("datetime"))
            if _PUBLISHED_CLASS.search(mark) and not _UPDATED_CLASS.search(mark):
                return "marked", str(node.get("datetime"))
        for node in times:
            if not _UPDATED_CLASS.search(f"{node.get('itemprop', '')} {node.get('class', '')}"):
                return "first", str(node.get("datetime"))
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


def page_proposals(tree: HtmlElement, url: str, site_date: str | None) -> list[Proposal]:
    """Every page signal's date proposal (htmldate's is added by the caller)."""
    metas = _metas(tree)
    raws: list[tuple[str, object]] = [
        ("site-rule", site_date),
        ("json-ld", json_ld_date(tree)),
        ("meta", _first_of(metas, PUBLISHED_META)),
        ("meta-generic", _first_of(metas, GENERIC_META)),
    ]
    timed = time_element_date(tree)
    if timed:
        raws.append((f"time-{timed[0]}", timed[1]))
    found = [p for source, raw in raws if (p := proposal(source, raw)) is not None]
    in_url = url_date(url)
    if in_url is not None:
        found.append(Proposal("url", in_url, day_only=True))
    visible = byline_date(tree)
    if visible is not None:
        found.append(Proposal("byline", visible[1], day_only=True))
    return found


def modified_dates(tree: HtmlElement) -> list[datetime]:
    """The instants the page declares as its last edit (JSON-LD ``dateModified``, meta tags)."""
    metas = _metas(tree)
    raws: list[object] = [metas.get(name) for name in MODIFIED_META]
    raws += [obj.get("dateModified") for obj in json_ld_objects(tree)]
    return [v for raw in raws if (v := parse_instant(raw)) is not None]
