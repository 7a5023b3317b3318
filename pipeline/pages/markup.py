"""Bounding what a huge page costs to parse (pure, bytes or str in, the same type out).

The fetch cap (8 MB) bounds a page's bytes, not its tree: lxml's element tree
is many times the markup's size, and trafilatura copies it twice (about 40x the
markup over one extraction). A page of 7.8 MB of dense article markup (one
corpus page's body repeated) took one extracting process from 184 to 503 MB and
9.5 s of CPU; two pool workers on two such pages would alone exceed the 600 MB
a whole pass may use (docs/ingest.md, round 5). Real pages that big are mostly inline scripts,
styles, SVG and comments, which no extractor keeps.

So a page over ``TRIM_ABOVE`` loses those (JSON-LD scripts stay: they carry the
publication date and metadata), and what is left is cut at ``MAX_MARKUP``, at a
tag's start. No corpus page is affected: the largest of the 168 is 1.46 MB
(308 KB without those parts), so every extraction figure is unchanged; the cap
is three times the largest stripped page. The scan is linear whatever the
markup: an opener without its closer drops the rest of the page (an unclosed
``<script>`` swallows it in a browser too), and no pattern reads more than a tag
name, so none can backtrack across the page.
"""

from __future__ import annotations

import re
from typing import overload

#: Pages up to this size are parsed exactly as fetched.
TRIM_ABOVE = 2 * 1024 * 1024
#: At most this much of a trimmed page's markup is parsed.
MAX_MARKUP = 1024 * 1024

# the name ends where a tag name ends (not at the "-" of a custom element <script-x>);
# the opener's attributes are found with bytes.find, never by a pattern that could
# backtrack over them
_OPENER = re.compile(rb"<(script|style|svg)(?=[\s/>])|<!--", re.IGNORECASE)
_CLOSERS = {
    b"script": re.compile(rb"</script\s*+>", re.IGNORECASE),
    b"style": re.compile(rb"</style\s*+>", re.IGNORECASE),
    b"svg": re.compile(rb"</svg\s*+>", re.IGNORECASE),
}
_COMMENT_END = re.compile(rb"-->")
_JSON_LD = re.compile(rb"ld\+json", re.IGNORECASE)


@overload
def bounded_markup(html: bytes) -> bytes: ...
@overload
def bounded_markup(html: str) -> str: ...
def bounded_markup(html: str | bytes) -> str | bytes:
    """``html`` itself when it is small enough, else its trimmed and capped markup."""
    if len(html) <= TRIM_ABOVE:
        return html
    if isinstance(html, str):
        # the scan works on bytes; surrogates cannot come from a decoded page, but a
        # caller's str might hold them: keep them through the round trip
        return _trim(html.encode("utf-8", "surrogatepass")).decode("utf-8", "surrogatepass")
    return _trim(html)


def _trim(html: bytes) -> bytes:
    kept: list[bytes] = []
    size = 0
    pos = 0
    while size < MAX_MARKUP:
        opener = _OPENER.search(html, pos)
        if opener is None:
            kept.append(html[pos:])
            size += len(html) - pos
            break
        tag = opener.group(1)
        if tag is None:
            keep, body_start = False, opener.end()
        else:
            gt = html.find(b">", opener.end())
            if gt < 0:
                kept.append(html[pos : opener.start()])
                break  # the rest of the page is inside an unfinished tag
            keep = tag.lower() == b"script" and bool(_JSON_LD.search(html, opener.end(), gt))
            body_start = gt + 1
        chunk_end = body_start if keep else opener.start()
        kept.append(html[pos:chunk_end])
        size += chunk_end - pos
        if tag is None:
            # from the comment's own "--", so that "<!-->" ends where a browser ends it
            closer = _COMMENT_END.search(html, opener.start() + 2)
        else:
            closer = _CLOSERS[tag.lower()].search(html, body_start)
        if closer is None:
            break  # unclosed: the rest of the page is inside it
        if keep:
            kept.append(html[body_start : closer.end()])
            size += closer.end() - body_start
        pos = closer.end()
    out = b"".join(kept)
    if len(out) > MAX_MARKUP:
        cut = out.rfind(b"<", 0, MAX_MARKUP)
        out = out[: cut if cut > 0 else MAX_MARKUP]
    return out
