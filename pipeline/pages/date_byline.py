"""The date a reader sees: a date written in the visible byline near the headline.

Many pages carry their publication date only as text ("Von Moritz Wichmann 29.04.2020, 12:01
Uhr", "Written: 2023-11-07 15:03:30 / Updated: ...", "Published January 1, 2020"), which no
meta tag or JSON-LD repeats. This reader walks the page's visible text in document order from
a little before the headline (the ``<h1>`` that shares most of the page title) to a little
after it, skipping navigation, link lists and other furniture, and proposes one date there
that is not marked as an update: the first after a "published" word, else the first unmarked
one after the headline. Day precision only: the byline's day is the page's local day, which
is what a reader (and the gold) means.

German and English month names and the numeric forms of both (``29.04.2020``, ``2020-04-29``,
``April 29, 2020``, ``29. April 2020``, ``4/29/2020``) are read; a date without a year is not.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime

from lxml.html import HtmlElement

#: Visible text read before the headline (kickers, datelines above it) and after it.
BEFORE_HEADLINE = 200
AFTER_HEADLINE = 600
#: A marker word ("Aktualisiert", "Published") must end this close before the date.
MARK_REACH = 32

_SKIP_TAGS = frozenset(
    {"script", "style", "noscript", "template", "nav", "footer", "aside", "form", "select",
     "button", "svg", "figure", "figcaption", "iframe"}
)  # fmt: skip
#: A list with this many links is a teaser or "more stories" list, whose dates are other
#: articles'; a byline may be a short list itself (dev: nd's ``ul.Infoline``).
LINK_LIST = 3
_SKIP_MARK = re.compile(
    r"related|teaser-list|recommend|sidebar|breadcrumb|comment|newsletter|trending|popular|"
    r"most-?read|navigation|navbar|\bmenu|footer|ticker|weitere|more-stories|social|share",
    re.IGNORECASE,
)
_WORD = re.compile(r"\w{3,}")
_MONTHS = {
    "januar": 1, "jänner": 1, "january": 1, "jan": 1,
    "februar": 2, "february": 2, "feb": 2,
    "märz": 3, "maerz": 3, "march": 3, "mär": 3, "mrz": 3, "mar": 3,
    "april": 4, "apr": 4,
    "mai": 5, "may": 5,
    "juni": 6, "june": 6, "jun": 6,
    "juli": 7, "july": 7, "jul": 7,
    "august": 8, "aug": 8,
    "september": 9, "sept": 9, "sep": 9,
    "oktober": 10, "october": 10, "okt": 10, "oct": 10,
    "november": 11, "nov": 11,
    "dezember": 12, "december": 12, "dez": 12, "dec": 12,
}  # fmt: skip
_MONTH = "(?P<month>" + "|".join(sorted(_MONTHS, key=len, reverse=True)) + r")\.?"
_YEAR = r"(?P<year>(?:19|20)\d\d)"
_DAY = r"(?P<day>[0-3]?\d)"
_FORMS = [
    rf"\b{_YEAR}-(?P<mon>[01]\d)-(?P<day>[0-3]\d)\b",
    rf"\b{_YEAR}[./](?P<mon>[01]\d)[./](?P<day>[0-3]\d)\b",
    rf"\b{_DAY}\.\s?(?P<mon>[01]?\d)\.\s?{_YEAR}\b",
    rf"\b{_DAY}\.\s*{_MONTH}\s+{_YEAR}\b",
    rf"\b{_DAY}(?:st|nd|rd|th)?\s+(?:of\s+)?{_MONTH},?\s+{_YEAR}\b",
    rf"\b{_MONTH}\s+{_DAY}(?:st|nd|rd|th)?,?\s+{_YEAR}\b",
    rf"\b(?P<first>[0-3]?\d)/(?P<second>[0-3]?\d)/{_YEAR}\b",
]
_PATTERNS = [re.compile(form, re.IGNORECASE) for form in _FORMS]
_UPDATED = re.compile(
    r"\b(?:aktualisiert|update[ds]?|geändert|stand|modified|editiert|edited|revised|zuletzt)"
    r"\W*(?:am|on|um|:)?\W*$",
    re.IGNORECASE,
)
_PUBLISHED = re.compile(
    r"\b(?:veröffentlicht|publiziert|erschienen|erstellt|published|posted|written|created|"
    r"datum|date)\W*(?:am|on|:)?\W*$",
    re.IGNORECASE,
)


def _link_list(node: HtmlElement) -> bool:
    if node.tag not in ("ul", "ol"):
        return False
    return any(links >= LINK_LIST for links, _ in enumerate(node.iter("a"), 1))


def headline(tree: HtmlElement) -> HtmlElement | None:
    """The article's ``<h1>``: the one sharing most words with the page title (at least half of
    its own), else the first non-empty one. A site's logo is often an ``<h1>`` too, and the
    title names the site as well (dev: Deutschlandfunk)."""
    title = " ".join(tree.xpath("//title//text()|//meta[@property='og:title']/@content"))
    words = set(_WORD.findall(title.lower()))
    first, best, best_shared = None, None, 0
    for node in tree.iter("h1"):
        mine = set(_WORD.findall(node.text_content().lower()))
        if not mine:
            continue
        first = first if first is not None else node
        shared = len(mine & words)
        if shared * 2 >= len(mine) and shared > best_shared:
            best, best_shared = node, shared
    return best if best is not None else first


def _visible_text(root: HtmlElement, head: HtmlElement) -> Iterator[tuple[str, bool]]:
    """(text, is_headline) pieces in document order, furniture skipped."""
    stack: list[tuple[HtmlElement, bool]] = [(root, False)]
    while stack:
        node, tail_only = stack.pop()
        if tail_only:
            if node.tail:
                yield node.tail, False
            continue
        tag = node.tag if isinstance(node.tag, str) else ""
        marks = node.get("class"), node.get("id")
        marked = (marks[0] or marks[1]) and _SKIP_MARK.search(f"{marks[0] or ''} {marks[1] or ''}")
        if tag in _SKIP_TAGS or not tag or marked or _link_list(node):
            if node.tail:
                yield node.tail, False
            continue
        if node is head:
            yield " ".join(node.itertext()), True
            if node.tail:
                yield node.tail, False
            continue
        if node.text:
            yield node.text, False
        stack.append((node, True))
        for child in reversed(node):
            stack.append((child, False))


def _window(tree: HtmlElement, reach: int = AFTER_HEADLINE) -> tuple[str, int] | None:
    """The visible text around the first non-empty headline and the headline's end in it."""
    bodies = tree.xpath("//body")
    head = headline(tree)
    if not bodies or head is None:
        return None
    pieces: list[str] = []  # raw text before the headline, normalised only where it is kept
    before = ""
    after: list[str] = []
    seen = 0
    found = False
    for text, is_head in _visible_text(bodies[0], head):
        if not found and not is_head:
            pieces.append(text)
            continue
        text = " ".join(text.split())
        if not text:
            continue
        if is_head and not found:
            found = True
            before = _tail(pieces, BEFORE_HEADLINE) + " " + text
            continue
        after.append(text)
        seen += len(text) + 1
        if seen >= reach:
            break
    if not found:
        return None
    return before + " " + " ".join(after)[:reach], len(before)


def _tail(pieces: list[str], size: int) -> str:
    """The last ``size`` characters of the pieces normalised and joined, each after a space."""
    kept: list[str] = []
    length = 0
    for raw in reversed(pieces):
        text = " ".join(raw.split())
        if text:
            kept.append(" " + text)
            length += len(text) + 1
            if length >= size:
                break
    return "".join(reversed(kept))[-size:]


def _parse(match: re.Match[str], us: bool) -> datetime | None:
    found = match.groupdict()
    if found.get("first"):  # d/m/y or m/d/y
        first, second = int(found["first"]), int(found["second"])
        if (us and first <= 12) or second > 12:
            first, second = second, first
        found["day"], found["mon"] = str(first), str(second)
    month = _MONTHS.get(found["month"].lower()) if found.get("month") else int(found["mon"])
    try:
        return datetime(int(found["year"]), month or 0, int(found["day"]), tzinfo=UTC)
    except ValueError:
        return None


def dates_in(text: str, us: bool = False) -> list[tuple[int, datetime, str]]:
    """(position, date, ``published`` | ``updated`` | ``plain``) of every date in ``text``."""
    hits: dict[int, tuple[int, datetime]] = {}
    for pattern in _PATTERNS:
        for match in pattern.finditer(text):
            value = _parse(match, us)
            if value is not None and not any(s <= match.start() < e for s, (e, _) in hits.items()):
                hits[match.start()] = (match.end(), value)
    out = []
    previous_end = 0
    for start in sorted(hits):
        end, value = hits[start]
        lead = text[max(previous_end, start - MARK_REACH) : start]
        kind = (
            "updated"
            if _UPDATED.search(lead)
            else "published"
            if _PUBLISHED.search(lead)
            else "plain"
        )
        out.append((start, value, kind))
        previous_end = end
    return out


def byline_dates(tree: HtmlElement, reach: int = AFTER_HEADLINE) -> list[tuple[str, datetime]]:
    """Every date near the headline as (``published`` | ``after`` | ``before`` | ``updated``,
    date), in text order; ``after``/``before``: unmarked, after or before the headline."""
    window = _window(tree, reach)
    if window is None:
        return []
    text, headline_end = window
    us = _us_order(tree)
    out = []
    for pos, value, kind in dates_in(text, us):
        if kind == "plain":
            kind = "after" if pos >= headline_end else "before"
        out.append((kind, value))
    return out


def byline_date(tree: HtmlElement) -> tuple[str, datetime] | None:
    """The page's visible publication date, with its kind: the first date marked "published",
    else the first unmarked one after the headline (day precision).

    An unmarked date above the headline is not proposed: it is as often the site header's
    "today" as a dateline, and on dev it was never the only right signal but once the only
    wrong one (Deutschlandfunk's header against htmldate and the page's date tag).
    """
    found = byline_dates(tree)
    for wanted in ("published", "after"):
        for kind, value in found:
            if kind == wanted:
                return kind, value
    return None


def _us_order(tree: HtmlElement) -> bool:
    """Whether ``4/11/2023`` is April 11th: an English page not marked as British etc."""
    lang = (tree.get("lang") or tree.get("xml:lang") or "").lower()
    return lang.startswith("en") and lang[3:5] not in ("gb", "uk", "ie", "au", "nz", "in", "za")
