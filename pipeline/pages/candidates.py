"""Candidate main texts of one page, each from a different extractor.

- ``precision`` / ``recall`` (and the default): trafilatura's own modes; the pipeline uses
  the default as its base and recall mode for short texts (fast path: its internal
  readability/jusText fallback is replaced by the candidates here, which are cheaper and
  chosen by recorded signals instead);
- ``justext``: jusText's stop-word paragraph classifier (German + English stop lists);
- ``structural``: a readability-style heuristic: the element whose direct paragraphs hold
  the most text with the least link text, and its paragraphs in document order;
- ``site``: a per-publisher body selector (see site_rules.py).

Every candidate is plain text with one block per line, not yet cleaned of boilerplate.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from lxml.html import HtmlElement

_SPACE = re.compile(r"\s+")
_BLOCK_TAGS = ("p", "h2", "h3", "h4", "li", "blockquote", "pre")
_SKIP_ANCESTORS = {"nav", "footer", "header", "aside", "form", "figcaption", "figure", "noscript"}
_NEGATIVE = re.compile(
    r"comment|footer|footnote|related|share|social|sidebar|teaser|promo|newsletter|"
    r"advert|banner|breadcrumb|cookie|consent|subscribe|recommend|popular|navigation|menu",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Candidate:
    """One extractor's text and the method name it is recorded under."""

    method: str
    text: str


def trafilatura_text(tree: HtmlElement, url: str, *, mode: str) -> str:
    """trafilatura's main text in ``precision`` or ``recall`` mode (fast path, no metadata)."""
    import trafilatura

    doc = trafilatura.bare_extraction(
        tree,
        url=url,
        fast=True,
        include_comments=False,
        favor_precision=mode == "precision",
        favor_recall=mode == "recall",
        with_metadata=False,
    )
    return (getattr(doc, "text", None) or "") if doc is not None else ""


@lru_cache(maxsize=1)
def _stoplist() -> frozenset[str]:
    import justext

    return frozenset(justext.get_stoplist("German")) | frozenset(justext.get_stoplist("English"))


def justext_text(html: bytes | str) -> str:
    """jusText's non-boilerplate paragraphs (its classification, run by justext_fast)."""
    from pipeline.pages.justext_fast import justext_paragraphs

    try:
        paragraphs = justext_paragraphs(html, _stoplist())
    except Exception:  # jusText raises bare exceptions on odd markup
        return ""
    return "\n".join(p.text for p in paragraphs if not p.is_boilerplate)


def block_text(element: HtmlElement) -> str:
    """Whitespace-normalised text of one element."""
    return _SPACE.sub(" ", element.text_content()).strip()


def _link_chars(element: HtmlElement) -> int:
    return sum(len(a.text_content()) for a in element.iter("a"))


def _excluded(element: HtmlElement) -> bool:
    for node in element.iterancestors():
        if node.tag in _SKIP_ANCESTORS:
            return True
        marker = f"{node.get('class', '')} {node.get('id', '')}"
        if marker.strip() and _NEGATIVE.search(marker):
            return True
    return False


def structural_text(tree: HtmlElement) -> str:
    """Readability-style: the container whose paragraphs carry most non-link text."""
    scores: dict[HtmlElement, float] = {}
    for p in tree.iter("p"):
        text = block_text(p)
        if len(text) < 25:
            continue
        parent = p.getparent()
        if parent is None:
            continue
        density = _link_chars(p) / max(len(text), 1)
        gain = (len(text) + 40 * text.count(",")) * (1.0 - density)
        scores[parent] = scores.get(parent, 0.0) + gain
        grand = parent.getparent()
        if grand is not None:
            scores[grand] = scores.get(grand, 0.0) + gain / 2
    if not scores:
        return ""
    best = max(scores, key=lambda e: scores[e])
    if _excluded(best) and len(scores) > 1:
        allowed = [e for e in scores if not _excluded(e)]
        if allowed:
            best = max(allowed, key=lambda e: scores[e])
    lines = []
    for block in best.iter(*_BLOCK_TAGS):
        if any(a.tag in _BLOCK_TAGS for a in block.iterancestors() if a is not best):
            continue
        text = block_text(block)
        if not text or _link_chars(block) > 0.6 * len(text):
            continue
        lines.append(text)
    return "\n".join(lines)


def selector_text(tree: HtmlElement, xpath: str) -> str:
    """Text of the blocks an XPath selects, one per line (empty on a bad expression)."""
    try:
        found = tree.xpath(xpath)
    except Exception:  # lxml raises XPathEvalError and friends
        return ""
    lines = []
    for node in found:
        text = block_text(node) if isinstance(node, HtmlElement) else _SPACE.sub(" ", str(node))
        if text.strip():
            lines.append(text.strip())
    return "\n".join(lines)
