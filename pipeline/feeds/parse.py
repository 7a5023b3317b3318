"""Feed bytes + HTTP headers -> entries (feedparser), keeping what a broken feed still offers.

Notes on feedparser that shape this module:

- The body is handed over as a stream (``io.BytesIO``), never as bytes or
  str: given bytes, ``feedparser.parse`` first tries ``open(body)``, so a
  hostile feed whose body is a local path would be read from disk.
- Charset: feedparser applies RFC 3023 (HTTP charset, then BOM and XML
  declaration, with the documented special cases), so we pass the response
  headers unchanged, names lower-cased. Bytes that are invalid in the declared
  charset are decoded first by pipeline.feeds.charset (feedparser's own
  fallback would choose ISO-8859-2 or windows-1252 without a word).
- Entity expansion: feedparser's ``replace_doctype`` misses declarations on
  one line and expat's own amplification limit triggers only after tens of
  MB, so :func:`_defuse_entities` drops every entity declaration with a
  reference or a long value first; the "billion laughs" and quadratic-blowup
  feeds then fail with an undefined entity (bozo) instead of expanding.
  tests/test_feeds.py checks both.
- A malformed (bozo) feed falls back to the loose parser; whatever entries it
  read are kept and the bozo text is returned in ``ParsedFeed.error``.
"""

from __future__ import annotations

import calendar
import io
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urljoin

import feedparser

from pipeline.errors import FeedParseError
from pipeline.feeds.charset import repair_charset
from pipeline.feeds.entries import (
    MAX_TITLE_CHARS,
    FeedEntry,
    ParsedFeed,
    html_to_text,
)
from pipeline.feeds.jsonfeed import looks_like_json_feed, parse_json_feed
from pipeline.net.urls import normalize_url


def _date(entry: dict[str, Any]) -> datetime | None:
    for key in ("published_parsed", "updated_parsed", "created_parsed"):
        # the plain dict lookup: feedparser's own answers "updated_parsed" with the
        # published date (and a DeprecationWarning) when the entry has none, a fallback it
        # will drop; the published date was tried first anyway
        st = dict.get(entry, key)
        if st:
            try:
                return datetime.fromtimestamp(calendar.timegm(st), tz=UTC)
            except (OverflowError, ValueError, OSError, TypeError):
                continue
    return None


def _entry_url(entry: Mapping[str, Any], base: str) -> str | None:
    candidates: list[str] = []
    link = entry.get("link")
    if isinstance(link, str):
        candidates.append(link)
    for lk in entry.get("links") or ():
        href = lk.get("href") if isinstance(lk, Mapping) else None
        if href and lk.get("rel", "alternate") == "alternate":
            candidates.append(href)
    guid = entry.get("id")
    if isinstance(guid, str) and entry.get("guidislink", True):
        candidates.append(guid)
    for cand in candidates:
        cand = cand.strip()
        if not cand:
            continue
        url = normalize_url(cand, base)
        if url.startswith(("http://", "https://")):
            return url
    return None


def _str(value: object) -> str | None:
    return value.strip() or None if isinstance(value, str) else None


_ENTRY_TAG = re.compile(rb"<(?:[\w-]+:)?(?:item|entry)[\s>/]", re.I)
_ROOT_TAG = re.compile(rb"<((?:[\w-]+:)?(rss|feed|RDF))[\s>]", re.I)


def _cap_entries(body: bytes, max_entries: int) -> tuple[bytes, bool]:
    """Cut ``body`` before its (max_entries+1)-th entry and close the document.

    feedparser has no entry limit and needs ~0.3 ms per entry, so a hostile
    100,000-entry feed would cost half a minute; cutting the bytes first keeps a
    pass bounded. Works for ASCII-compatible encodings (UTF-16 feeds are left
    whole; the byte cap bounds them).
    """
    for n, m in enumerate(_ENTRY_TAG.finditer(body)):
        if n == max_entries:
            root = _ROOT_TAG.search(body, 0, _PROLOG_MAX)
            if root is None:
                return body, False
            name, kind = root.group(1), root.group(2).lower()
            tail = b"</channel></" + name + b">" if kind == b"rss" else b"</" + name + b">"
            return body[: m.start()] + tail, True
    return body, False


_PROLOG_MAX = 1 << 20
_ENTITY_DECL = re.compile(rb"<!ENTITY\s[^>]*>")


def _defuse_entities(body: bytes) -> bytes:
    """Drop DTD entity declarations that could amplify (references, %, or long values).

    expat >= 2.4 stops "billion laughs" by itself, but only after expanding
    tens of megabytes; feeds never need such entities, so they go first.
    """
    root = _ROOT_TAG.search(body, 0, _PROLOG_MAX)
    end = root.start() if root else min(len(body), _PROLOG_MAX)
    if b"<!ENTITY" not in body[:end]:
        return body

    def keep_safe(m: re.Match[bytes]) -> bytes:
        decl = m.group(0)
        return b"" if b"&" in decl or b"%" in decl or len(decl) > 1024 else decl

    return _ENTITY_DECL.sub(keep_safe, body[:end]) + body[end:]


def parse_feed(
    body: bytes,
    *,
    url: str,
    headers: Mapping[str, str] | None = None,
    max_entries: int = 2000,
) -> ParsedFeed:
    """Parse RSS/Atom/RDF (or JSON Feed) ``body`` fetched from ``url``.

    Raises FeedParseError when the body is empty or nothing in it is a feed
    (an HTML page, say). Entries without an http(s) link are skipped and
    counted in ``error``; entries repeating a URL are dropped; at most
    ``max_entries`` are returned, in feed order.
    """
    if not body or not body.strip():
        raise FeedParseError(f"empty feed body: {url}")

    if looks_like_json_feed(body):
        return parse_json_feed(body, url=url, max_entries=max_entries)
    hdrs = {k.lower(): v for k, v in (headers or {}).items()}
    hdrs["content-location"] = urljoin(url, hdrs.get("content-location", "")) or url
    # Without a header (a file, a test) let BOM and XML declaration decide, as RFC 3023
    # does for application/xml, instead of flagging every such feed as bozo.
    hdrs.setdefault("content-type", "application/xml")
    # before feedparser, whose fallback would pick a wrong single-byte codec silently
    body, charset_note = repair_charset(body, hdrs)
    if charset_note is not None:
        media = hdrs["content-type"].split(";", 1)[0].strip()
        hdrs["content-type"] = f"{media}; charset=utf-8"
    body, cut = _cap_entries(_defuse_entities(body), max_entries)
    try:
        parsed = feedparser.parse(io.BytesIO(body), response_headers=hdrs)
    except Exception as exc:  # hostile input must never crash a pass
        raise FeedParseError(f"feed parser failed on {url}: {type(exc).__name__}: {exc}") from exc
    bozo = parsed.get("bozo_exception") if parsed.get("bozo") else None
    bozo_text = f"{type(bozo).__name__}: {bozo}"[:500] if bozo is not None else None
    if not parsed.get("version") and not parsed.get("entries"):
        raise FeedParseError(f"not a feed: {url}" + (f" ({bozo_text})" if bozo_text else ""))

    feed = parsed.get("feed") or {}
    base = normalize_url(_str(feed.get("link")) or url, url)
    entries: list[FeedEntry] = []
    seen: set[str] = set()
    no_link = 0
    truncated = False
    for raw in parsed.get("entries") or []:
        if len(entries) >= max_entries:
            truncated = True
            break
        entry_url = _entry_url(raw, url)
        if entry_url is None:
            no_link += 1
            continue
        if entry_url in seen:
            continue
        seen.add(entry_url)
        entries.append(
            FeedEntry(
                url=entry_url,
                title=html_to_text(_str(raw.get("title")), MAX_TITLE_CHARS),
                summary=html_to_text(_str(raw.get("summary"))),
                published_at=_date(raw),
                guid=_str(raw.get("id")),
                author=html_to_text(_str(raw.get("author")), 200),
            )
        )
    notes = [n for n in (charset_note, bozo_text) if n]
    if no_link:
        notes.append(f"{no_link} entries without a usable link skipped")
    if truncated or cut:
        notes.append(f"truncated to {max_entries} entries")
    return ParsedFeed(
        title=html_to_text(_str(feed.get("title")), MAX_TITLE_CHARS),
        link=base,
        entries=tuple(entries),
        error="; ".join(notes) or None,
    )
