"""Per-article cost: newsmon's extraction stage versus bare trafilatura, same pages, same process.

newsmon = extract_article (trafilatura with metadata, canonical URL, date checks, boilerplate
rules, language, wire credits) + score_relevance. Bare = trafilatura.bare_extraction(html,
url=url, with_metadata=True). Target (issue 4): newsmon within 1.3x of bare.

Pages: all pages of both halves (tests/support/extraction_corpus.py) from ../shared/corpus when
present (or --corpus DIR), else the copied held-out subset in tests/fixtures/extraction/corpus.
Prints pages/s and the ratio; asserts nothing.
Usage: .venv/bin/python bench/bench_extraction.py [--rounds 3]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import trafilatura

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pipeline.enrich.relevance import load_rules, score_relevance  # noqa: E402
from pipeline.errors import ExtractionError  # noqa: E402
from pipeline.pages.extract import extract_article  # noqa: E402
from tests.support.extraction_corpus import default_root, pages_of  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=None)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    root = args.corpus or default_root()
    pages = [(p.html(), p.url) for half in ("dev", "heldout") for p in pages_of(half, root)]
    rules = load_rules(ROOT / "seeds" / "relevance.yaml")

    def bare() -> None:
        for html, url in pages:
            trafilatura.bare_extraction(html, url=url, with_metadata=True)

    def newsmon() -> None:
        for html, url in pages:
            try:
                found = extract_article(html, url)
            except ExtractionError:
                continue
            score_relevance(found.title, found.text, rules)

    bare()
    newsmon()  # warm-up: model loading, rule compilation
    best = {"bare": float("inf"), "newsmon": float("inf")}
    for _ in range(args.rounds):
        for name, run in (("bare", bare), ("newsmon", newsmon)):
            start = time.perf_counter()
            run()
            best[name] = min(best[name], time.perf_counter() - start)
    print(f"corpus: {root} ({len(pages)} pages, best of {args.rounds} rounds)")
    for name, seconds in best.items():
        print(
            f"{name:8s} {len(pages) / seconds:7.1f} pages/s  "
            f"{seconds / len(pages) * 1000:6.1f} ms/page"
        )
    ratio = best["newsmon"] / best["bare"]
    print(
        f"newsmon / bare cost ratio: {ratio:.2f}x (target <= 1.30x): "
        f"{'OK' if ratio <= 1.3 else 'OVER'}"
    )


if __name__ == "__main__":
    main()
