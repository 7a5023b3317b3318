"""The feed list: YAML and OPML import/export, and feed autodiscovery in HTML.

The YAML file (seeds/feeds.yaml) is the source of truth::

    feeds:
      - name: Tagesschau Ausland
        url: https://www.tagesschau.de/ausland/index~rss2.xml
        language: de
        outlet: Tagesschau
        tags: [world]
        sitemap: https://example.org/news-sitemap.xml   # optional
        poll_minutes: 30                                # optional

A bare top-level list is accepted too, and so are bare URLs as items, a
missing name (the host stands in) and other tools' spellings of the keys
(title, xml_url, lang, ...). OPML is recognised by content (it
starts with ``<``), so NEWSMON_FEEDS may point at either. Every problem is a
one-line ConfigError naming file and line.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from xml.sax.saxutils import quoteattr

import yaml

from pipeline.errors import ConfigError
from pipeline.net.urls import normalize_url


@dataclass(frozen=True)
class FeedSource:
    """One configured feed, as the feed list (YAML or OPML) declares it."""

    name: str
    url: str
    language: str | None
    outlet: str | None
    tags: tuple[str, ...] = ()
    sitemap: str | None = None
    poll_minutes: int | None = None


_FIELDS = {"name", "url", "language", "outlet", "tags", "sitemap", "poll_minutes"}
_KEY_ALIASES = {
    "title": "name",
    "xml_url": "url",
    "xmlUrl": "url",
    "feed": "url",
    "lang": "language",
    "site": "outlet",
    "source": "outlet",
    "categories": "tags",
    "news_sitemap": "sitemap",
}
_LINE = "__line__"


class _LineLoader(yaml.SafeLoader):
    """SafeLoader that remembers the line of every mapping (for error messages)."""


def _mapping_with_line(loader: _LineLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    mapping = loader.construct_mapping(node, deep=True)
    mapping[_LINE] = node.start_mark.line + 1
    return mapping


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping_with_line)


def load_feed_list(path: Path) -> list[FeedSource]:
    """Read a YAML or OPML feed list; raises ConfigError(path=, line=) on any problem,
    an empty list included."""
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise ConfigError(f"cannot read feed list: {exc.strerror or exc}", path=str(path)) from exc
    head = data.lstrip(b"\xef\xbb\xbf \t\r\n")[:1]
    if head == b"<":
        sources = parse_opml(data, str(path))
        what = "OPML file has no feeds (no <outline xmlUrl=...>)"
    else:
        sources = parse_yaml(data, str(path))
        what = "feed list is empty"
    if not sources:
        # YAML and OPML alike: a monitor set up with no feeds would do nothing, silently
        raise ConfigError(
            f"{what}: add at least one feed; newsmon would monitor nothing", path=str(path)
        )
    return sources


def parse_yaml(data: bytes, path: str = "<yaml>") -> list[FeedSource]:
    """The feeds of a YAML document: a list, or a mapping with a ``feeds:`` list.

    A bare URL is a feed, and other feed tools' key spellings are accepted; an unknown key, a bad
    value or a duplicate URL raises ConfigError with its line. An empty list is returned as is
    (load_feed_list rejects it).
    """
    try:
        doc = yaml.load(data.decode("utf-8"), Loader=_LineLoader)
    except UnicodeDecodeError as exc:
        raise ConfigError("not UTF-8 text", path=path) from exc
    except yaml.MarkedYAMLError as exc:
        line = exc.problem_mark.line + 1 if exc.problem_mark else None
        raise ConfigError(f"invalid YAML: {exc.problem or exc}", path=path, line=line) from exc
    except yaml.YAMLError as exc:
        raise ConfigError(f"invalid YAML: {exc}", path=path) from exc
    if isinstance(doc, dict):
        items = doc.get("feeds")
        if items is None:
            raise ConfigError("expected a 'feeds:' list", path=path, line=doc.get(_LINE))
    else:
        items = doc
    if not isinstance(items, list):
        raise ConfigError("expected a list of feeds", path=path, line=1)
    sources: list[FeedSource] = []
    seen: dict[str, int | None] = {}
    for i, item in enumerate(items):
        if isinstance(item, str):  # a bare URL is a feed too
            item = {"url": item}
        if not isinstance(item, dict):
            raise ConfigError(f"feed #{i + 1}: expected a mapping or a URL", path=path)
        line = item.pop(_LINE, None)
        src = _source_from_mapping(item, path, line)
        if src.url in seen:
            raise ConfigError(
                f"duplicate feed url {src.url} (first at line {seen[src.url]})",
                path=path,
                line=line,
            )
        seen[src.url] = line
        sources.append(src)
    return sources


def _source_from_mapping(item: Mapping[str, Any], path: str, line: int | None) -> FeedSource:
    # Spellings other feed tools use for the same fields are accepted as they are.
    item = {_KEY_ALIASES.get(str(k), k): v for k, v in item.items()}
    unknown = set(item) - _FIELDS
    if unknown:
        raise ConfigError(
            f"unknown key(s): {', '.join(sorted(map(str, unknown)))}", path=path, line=line
        )

    def text(key: str, required: bool = False) -> str | None:
        value = item.get(key)
        if value is None or (isinstance(value, str) and not value.strip()):
            if required:
                raise ConfigError(f"feed needs a '{key}'", path=path, line=line)
            return None
        if not isinstance(value, str):
            raise ConfigError(f"'{key}' must be text", path=path, line=line)
        return value.strip()

    url = text("url", True)
    assert url is not None
    name = text("name") or (urlsplit(url).hostname or url)
    if not re.match(r"(?i)^https?://[^/\s]+", url):
        raise ConfigError(f"'url' must be an http(s) URL: {url!r}", path=path, line=line)
    sitemap = text("sitemap")
    if sitemap is not None and not re.match(r"(?i)^https?://", sitemap):
        raise ConfigError(f"'sitemap' must be an http(s) URL: {sitemap!r}", path=path, line=line)
    language = text("language")
    if language is not None and not re.fullmatch(r"[a-zA-Z]{2,3}(-[A-Za-z0-9]+)?", language):
        raise ConfigError(
            f"'language' must be a code like de or en: {language!r}", path=path, line=line
        )
    tags_raw = item.get("tags") or []
    if isinstance(tags_raw, str):
        tags_raw = [t for t in re.split(r"[,\s]+", tags_raw) if t]
    if not isinstance(tags_raw, list) or not all(isinstance(t, str) for t in tags_raw):
        raise ConfigError("'tags' must be a list of words", path=path, line=line)
    poll = item.get("poll_minutes")
    if poll is not None and (isinstance(poll, bool) or not isinstance(poll, int) or poll <= 0):
        raise ConfigError("'poll_minutes' must be a positive whole number", path=path, line=line)
    return FeedSource(
        name=name,
        url=normalize_url(url),
        language=language.lower() if language else None,
        outlet=text("outlet"),
        tags=tuple(dict.fromkeys(t.strip().lower() for t in tags_raw if t.strip())),
        sitemap=normalize_url(sitemap) if sitemap else None,
        poll_minutes=poll,
    )


# --- OPML ---------------------------------------------------------------------------


def parse_opml(data: bytes, path: str = "<opml>") -> list[FeedSource]:
    """Feeds of an OPML document; parent outlines' texts become tags."""
    try:
        root = ET.fromstring(data)
    except ET.ParseError as exc:
        line = exc.position[0] if getattr(exc, "position", None) else None
        raise ConfigError(f"invalid OPML: {exc}", path=path, line=line) from exc
    if root.tag.lower() != "opml":
        raise ConfigError(f"not OPML: root element <{root.tag}>", path=path, line=1)
    body = root.find("body")
    if body is None:
        raise ConfigError("OPML has no <body>", path=path)
    out: list[FeedSource] = []
    seen: set[str] = set()

    def walk(node: ET.Element, tags: tuple[str, ...]) -> None:
        for child in node.findall("outline"):
            a = child.attrib
            xml_url = (a.get("xmlUrl") or a.get("xmlurl") or "").strip()
            label = (a.get("title") or a.get("text") or "").strip()
            if xml_url:
                item: dict[str, Any] = {
                    "name": label or xml_url,
                    "url": xml_url,
                    "language": a.get("language") or None,
                    "outlet": a.get("outlet") or None,
                    "tags": [*tags, *(t.strip("/ ") for t in a.get("category", "").split(","))],
                    "sitemap": a.get("sitemap") or None,
                }
                if a.get("pollMinutes", "").isdigit():
                    item["poll_minutes"] = int(a["pollMinutes"])
                src = _source_from_mapping(item, path, None)
                if src.url not in seen:
                    seen.add(src.url)
                    out.append(src)
            walk(child, (*tags, label.lower()) if not xml_url and label else tags)

    walk(body, ())
    return out


def to_opml(sources: Sequence[FeedSource], title: str = "newsmon feeds") -> str:
    """OPML 2.0 export; extra attributes (outlet, sitemap, pollMinutes) round-trip."""
    lines = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<opml version="2.0">',
        f"  <head><title>{_esc(title)}</title></head>",
        "  <body>",
    ]
    for s in sources:
        attrs = {"type": "rss", "text": s.name, "title": s.name, "xmlUrl": s.url}
        if s.language:
            attrs["language"] = s.language
        if s.outlet:
            attrs["outlet"] = s.outlet
        if s.tags:
            attrs["category"] = ",".join(s.tags)
        if s.sitemap:
            attrs["sitemap"] = s.sitemap
        if s.poll_minutes:
            attrs["pollMinutes"] = str(s.poll_minutes)
        rendered = " ".join(f"{k}={quoteattr(v)}" for k, v in attrs.items())
        lines.append(f"    <outline {rendered}/>")
    lines += ["  </body>", "</opml>", ""]
    return "\n".join(lines)


def _esc(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


# --- autodiscovery ------------------------------------------------------------------

FEED_TYPES = (
    "application/rss+xml",
    "application/atom+xml",
    "application/rdf+xml",
    "application/feed+json",
    "application/json",
    "text/xml",
    "application/xml",
)
_FEEDISH_HREF = re.compile(r"(?i)(\brss\b|\batom\b|/feeds?\b|\.rss$|\.xml$|rss2|rss\.|feed\.)")


class _FeedLinks(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.base: str | None = None
        self.alternates: list[tuple[str, str]] = []  # (href, title)
        self.anchors: list[tuple[str, str]] = []  # (href, text)
        self._anchor: list[str] | None = None
        self._anchor_href = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k.lower(): (v or "") for k, v in attrs}
        if tag == "base" and a.get("href") and self.base is None:
            self.base = a["href"]
        elif tag == "link":
            rels = a.get("rel", "").lower().split()
            ctype = a.get("type", "").lower().split(";")[0].strip()
            if "alternate" in rels and ctype in FEED_TYPES and a.get("href"):
                self.alternates.append((a["href"], a.get("title", "")))
        elif tag == "a" and a.get("href"):
            self._anchor, self._anchor_href = [], a["href"]

    def handle_data(self, data: str) -> None:
        if self._anchor is not None:
            self._anchor.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "a" and self._anchor is not None:
            self.anchors.append((self._anchor_href, "".join(self._anchor).strip()))
            self._anchor = None


def discover_feeds(html: str | bytes, base_url: str) -> list[str]:
    """Feed URLs advertised by a page, best first.

    ``<link rel="alternate" type="application/rss+xml|atom+xml|...">`` first
    (comment feeds last), then ``<a href>`` that look like feeds (rss/atom/feed
    in the path or "RSS" in the link text). Absolute, normalised, unique.
    """
    if isinstance(html, bytes):
        html = html.decode("utf-8", "replace")
    parser = _FeedLinks()
    parser.feed(html[:5_000_000])
    parser.close()
    base = normalize_url(parser.base, base_url) if parser.base else base_url
    alts = sorted(parser.alternates, key=lambda ht: "comment" in (ht[1] + ht[0]).lower())
    found = [href for href, _ in alts]
    for href, text in parser.anchors:
        if _FEEDISH_HREF.search(href.split("?", 1)[0]) or re.search(r"\b(RSS|Atom)\b", text):
            found.append(href)
    out: list[str] = []
    for href in found:
        url = normalize_url(href, base)
        if url.startswith(("http://", "https://")) and url not in out:
            out.append(url)
    return out
