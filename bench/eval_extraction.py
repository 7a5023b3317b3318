"""Extraction quality: newsmon's extract_article versus bare trafilatura, by half, same run.

The corpus pages are split by site (tests/fixtures/extraction/split.csv, bench/make_split.py)
into a development half (rules and thresholds were chosen on it) and a held-out half (only
scored). For each half, printed (nothing asserted):

- snippet precision / recall / F1 and boilerplate exclusion, trafilatura's own method on its
  evaluation pages (`with` snippets must be in the text, `without` snippets must not);
- mean bag-of-words body F1 on Mozilla Readability and Scrapinghub AEB pages;
- publication-date accuracy (day) against htmldate-eval / evaldata / Readability gold.

``--half third`` (also run by default): date accuracy only, on the third date set
(tests/fixtures/extraction/dates_third.csv: pages no half has date gold for, labelled from
their visible bylines; bench/date_third.py scores every date design on it).

Bare = ``trafilatura.bare_extraction(html, url=url, with_metadata=True)`` (text and date).
Data: ../shared/corpus (or --corpus DIR); without it the copied subset in
tests/fixtures/extraction/corpus, which holds the held-out half only.

Usage: .venv/bin/python bench/eval_extraction.py [--corpus DIR] [--half dev|heldout]
       [--half third] [--show-misses] [--ablation]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pipeline.pages.extract import COMPONENTS  # noqa: E402
from tests.support.extraction_corpus import (  # noqa: E402
    Figures,
    Runner,
    bare_result,
    default_root,
    evaluate,
    newsmon_result,
    pages_of,
    third_pages,
)


def ablation(half: str, root: Path) -> None:
    """Each component's gain on one half: newsmon without it, and trafilatura's fast path alone."""
    pages = pages_of(half, root)
    runners: dict[str, Runner] = {"newsmon": newsmon_result, "bare": bare_result}
    for part in sorted(COMPONENTS):
        runners[f"without {part}"] = lambda p, part=part: newsmon_result(p, COMPONENTS - {part})
    runners["fast path only"] = lambda p: newsmon_result(p, frozenset())
    figures = evaluate(pages, runners)
    print(f"\nablation, {half}: {len(pages)} pages")
    print(f"{'variant':<26} snip-F1  exclus  body-F1  dates")
    for name, fig in figures.items():
        print(f"{name:<26} {_row(fig)}")


def _row(fig: Figures) -> str:
    s = fig.snippets
    return f"{s.f1:7.3f} {s.exclusion:7.3f} {fig.mean_body_f1:7.3f} {fig.date_accuracy:7.3f}"


def report(half: str, root: Path, show: bool) -> None:
    """Print one half's table (the third set has dates only)."""
    pages = third_pages(root) if half == "third" else pages_of(half, root)
    if not pages:
        print(f"\n{half}: no pages in {root}")
        return
    figures = evaluate(pages)
    mine, bare = figures["newsmon"], figures["bare"]
    n_snip = sum(1 for p in pages if p.with_ or p.without)
    n_body = len(mine.body_f1)
    rows = [
        (f"snippet precision ({n_snip} pages)", mine.snippets.precision, bare.snippets.precision),
        ("snippet recall", mine.snippets.recall, bare.snippets.recall),
        ("snippet F1", mine.snippets.f1, bare.snippets.f1),
        ("boilerplate exclusion", mine.snippets.exclusion, bare.snippets.exclusion),
        (f"body F1 ({n_body} Readability/AEB pages)", mine.mean_body_f1, bare.mean_body_f1),
        (f"date accuracy ({mine.dates_total} pages)", mine.date_accuracy, bare.date_accuracy),
    ]
    if half == "third":
        rows = rows[-1:]
    print(f"\n{half}: {len(pages)} pages ({root})")
    width = max(len(r[0]) for r in rows)
    print(f"{'figure':<{width}}  newsmon    bare    diff")
    for label, a, b in rows:
        print(f"{label:<{width}}  {a:7.3f} {b:7.3f} {a - b:+7.3f}")
    if show:
        for name, fig in figures.items():
            for miss in fig.misses:
                print(f"  {name} miss: {miss}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=None)
    parser.add_argument("--half", choices=("dev", "heldout", "third"), action="append")
    parser.add_argument("--show-misses", action="store_true")
    parser.add_argument("--ablation", action="store_true", help="each component's gain")
    args = parser.parse_args()
    root = args.corpus or default_root()
    for half in args.half or ("dev", "heldout", "third"):
        if args.ablation and half != "third":
            ablation(half, root)
        else:
            report(half, root, args.show_misses)


if __name__ == "__main__":
    main()
