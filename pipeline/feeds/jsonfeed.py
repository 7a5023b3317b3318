"""JSON Feed (https://jsonfeed.org, versions 1 and 1.1) into the same entries as RSS/Atom.

feedparser reads only XML feeds; some sites (and many small blogs) publish
JSON Feed only. Same contract as pipeline.feeds.parse.parse_feed: FeedParseError when
the body is not a JSON Feed, partial results with a note when items are bad.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from pipeline.errors import FeedParseError
from pipeline.feeds.entries import MAX_TITLE_CHARS, FeedEntry, ParsedFeed, html_to_text
from pipeline.net.urls import normalize_url

VERSION_PREFIX = "https://jsonfeed.org/version/"


def looks_like_json_feed(body: bytes) -> bool:
    """Whether the body starts like a JSON object (a BOM and white space skipped)."""
    return body.lstrip(b"\xef\xbb\xbf \t\r\n")[:1] == b"{"


def parse_json_feed(body: bytes, *, url: str, max_entries: int = 2000) -> ParsedFeed:
    """A JSON Feed body as a ParsedFeed; FeedParseError when it is no JSON Feed.

    Items without a usable link and repeated URLs are dropped and at most ``max_entries`` items are
    read; ``error`` notes what was skipped or truncated.
    """
    try:
        doc = json.loads(body.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise FeedParseError(f"not a feed: {url} (invalid JSON: {exc})") from exc
    if not isinstance(doc, dict) or not str(doc.get("version", "")).startswith(VERSION_PREFIX):
        raise FeedParseError(f"not a feed: {url} (JSON without a jsonfeed.org version)")
    base = _text(doc.get("home_page_url")) or url
    items = doc.get("items")
    if not isinstance(items, list):
        raise FeedParseError(f"JSON Feed without an items list: {url}")
    entries: list[FeedEntry] = []
    seen: set[str] = set()
    skipped = 0
    for item in items[:max_entries]:
        entry = _entry(item, base) if isinstance(item, dict) else None
        if entry is None:
            skipped += 1
        elif entry.url not in seen:
            seen.add(entry.url)
            entries.append(entry)
    notes = []
    if skipped:
        notes.append(f"{skipped} entries without a usable link skipped")
    if len(items) > max_entries:
        notes.append(f"truncated to {max_entries} entries")
    return ParsedFeed(
        title=html_to_text(_text(doc.get("title")), MAX_TITLE_CHARS),
        link=normalize_url(base, url),
        entries=tuple(entries),
        error="; ".join(notes) or None,
    )


def _entry(item: dict[str, Any], base: str) -> FeedEntry | None:
    link = _text(item.get("url")) or _text(item.get("external_url"))
    if link is None:
        return None
    try:
        entry_url = normalize_url(link, base)
    except ValueError:
        return None
    if not entry_url.startswith(("http://", "https://")):
        return None
    summary = (
        _text(item.get("summary"))
        or _text(item.get("content_text"))
        or _text(item.get("content_html"))
    )
    return FeedEntry(
        url=entry_url,
        title=html_to_text(_text(item.get("title")), MAX_TITLE_CHARS),
        summary=html_to_text(summary),
        published_at=_date(item.get("date_published")) or _date(item.get("date_modified")),
        guid=_text(item.get("id")),
        author=_author(item),
    )


def _author(item: dict[str, Any]) -> str | None:
    authors = item.get("authors")
    first = authors[0] if isinstance(authors, list) and authors else item.get("author")
    return html_to_text(_text(first.get("name")), 200) if isinstance(first, dict) else None


def _date(value: object) -> datetime | None:
    text = _text(value)
    if text is None:
        return None
    try:
        when = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return (when if when.tzinfo else when.replace(tzinfo=UTC)).astimezone(UTC)


def _text(value: object) -> str | None:
    if isinstance(value, int | float) and not isinstance(value, bool):
        value = str(value)  # JSON Feed ids are sometimes numbers
    return value.strip() or None if isinstance(value, str) else None
