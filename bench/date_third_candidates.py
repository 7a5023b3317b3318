"""Visible date strings of the pages without date gold, for labelling the third date set by hand.

For every corpus page that neither half's date gold covers (Scrapinghub AEB, Mozilla pages
without ``publishedTime``, trafilatura pages htmldate-eval and evaldata give no date), prints
the headline and each date-like string of the *rendered text* with its context and its
distance from the headline. Scripts, styles, ``<head>``, ``<noscript>`` and attributes are not
read: meta tags, JSON-LD and ``datetime`` attributes are the signals under test, a label read
from them would score them against themselves. The label is decided by a person reading this
output (tests/fixtures/extraction/dates_third.csv); nothing here picks one.

Usage: .venv/bin/python bench/date_third_candidates.py [--corpus DIR] [--only KEY-PART]
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from lxml import html as lxml_html  # noqa: E402
from trafilatura.utils import decode_file  # noqa: E402

from tests.support.extraction_corpus import Page, all_pages, default_root  # noqa: E402

_EN = (
    r"(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec)[a-z]*\.?"
)  # fmt: skip
_DE_FR = (
    r"(?:Januar|Jänner|Februar|März|April|Mai|Juni|Juli|August|September|Oktober|November|"
    r"Dezember|janvier|février|mars|avril|mai|juin|juillet|août|septembre|octobre|novembre|"
    r"décembre)"
)
DATE = re.compile(
    "|".join(
        (
            rf"{_EN} \d{{1,2}}(?:st|nd|rd|th)?,? \d{{4}}",
            rf"(?<!\d)\d{{1,2}}(?:st|nd|rd|th)? {_EN},? \d{{4}}",
            rf"(?<!\d)\d{{1,2}}\.? {_DE_FR} \d{{4}}",
            r"(?<!\d)\d{1,2}\.\d{1,2}\.(?:\d{4}|\d{2})\b",
            r"(?<!\d)\d{4}[-/.]\d{1,2}[-/.]\d{1,2}\b",
            r"(?<!\d)\d{1,2}/\d{1,2}/\d{2,4}\b",
            r"\d{4}\s*년\s*\d{1,2}\s*월\s*\d{1,2}\s*일",
        )
    ),
    re.IGNORECASE,
)
_WS = re.compile(r"\s+")


def unlabelled_pages(root: Path) -> list[Page]:
    """Corpus pages without date gold: the pool the third set is labelled from."""
    return [p for p in all_pages(root) if not p.date]


def visible_text(raw: bytes) -> tuple[str, str]:
    """The page's rendered text (whitespace collapsed) and its headline."""
    tree = lxml_html.fromstring(decode_file(raw))  # the page's own charset, not latin-1
    for bad in tree.xpath("//script|//style|//noscript|//head|//template|//svg"):
        bad.drop_tree()
    heads = [_WS.sub(" ", h.text_content()).strip() for h in tree.iter("h1")]
    headline = next((h for h in heads if len(h) > 15), heads[0] if heads else "")
    return _WS.sub(" ", tree.text_content()), headline


def candidates(text: str, headline: str, width: int = 70) -> list[tuple[int, str]]:
    """(characters from the headline, context) for each date-like string."""
    anchor = text.find(headline[:40]) if headline else -1
    out = []
    for found in DATE.finditer(text):
        start, end = found.span()
        context = text[max(0, start - width) : end + width]
        out.append((start - anchor if anchor >= 0 else start, context))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=None)
    parser.add_argument("--only", default="")
    parser.add_argument("--limit", type=int, default=12, help="strings per page, nearest first")
    parser.add_argument("--lead", type=int, default=0, help="also print this much text after h1")
    args = parser.parse_args()
    for page in unlabelled_pages(args.corpus or default_root()):
        if args.only not in page.key:
            continue
        text, headline = visible_text(page.html())
        found = sorted(candidates(text, headline), key=lambda c: abs(c[0]))
        print(f"\n== {page.key}\n   {page.url}\n   h1: {headline[:100]!r}  ({len(found)} dates)")
        if args.lead:
            start = max(0, text.find(headline[:40]) if headline else 0)
            print(f"   lead: {text[start : start + args.lead]!r}")
        for offset, context in found[: args.limit]:
            print(f"   {offset:+7d}  {context!r}")


if __name__ == "__main__":
    main()
