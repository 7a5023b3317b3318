"""What a feed yields in any format: entries, the parsed feed, and title/summary cleaning.

RSS/Atom (pipeline.feeds.parse), JSON Feed (pipeline.feeds.jsonfeed) and news
sitemaps all produce these values, so the polling pass handles one shape.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from html.parser import HTMLParser

MAX_TITLE_CHARS = 1000
MAX_SUMMARY_CHARS = 5000


@dataclass(frozen=True)
class FeedEntry:
    """One item of a feed, whatever its format: the link to fetch and what the feed says of it."""

    url: str  # normalised absolute http(s) URL
    title: str | None
    summary: str | None  # plain text (HTML stripped)
    published_at: datetime | None  # aware, UTC
    guid: str | None
    author: str | None = None


@dataclass(frozen=True)
class ParsedFeed:
    """A feed as read: its title and link, the usable entries, and any parse trouble."""

    title: str | None
    link: str | None
    entries: tuple[FeedEntry, ...]
    error: str | None  # bozo text when malformed but partially read; notes on dropped entries


class _TextOnly(HTMLParser):
    """Collects text content; drops script/style bodies."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style"):
            self._skip += 1
        elif tag in ("br", "p", "div", "li"):
            self.parts.append(" ")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style") and self._skip:
            self._skip -= 1

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)


_WS = re.compile(r"\s+")


def html_to_text(value: str | None, limit: int = MAX_SUMMARY_CHARS) -> str | None:
    """Plain text of an HTML fragment, whitespace collapsed, cut at ``limit`` chars."""
    if not value:
        return None
    if "<" in value or "&" in value:
        p = _TextOnly()
        p.feed(value[: limit * 20])
        p.close()
        value = "".join(p.parts)
    text = _WS.sub(" ", value).strip()
    if len(text) > limit:
        text = text[: limit - 1].rstrip() + "…"
    return text or None
