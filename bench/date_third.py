"""The date designs on the third date set, in one run, and the design the pre-registered rule ships.

Dev (52 pages) cannot separate the designs that reach its ceiling and the held-out half was
scored once, so a third set labelled from the pages' visible bylines
(tests/fixtures/extraction/dates_third.csv, pages neither half has date gold for) decides.
The rule was written into docs/extraction.md before this ran: the design with the best accuracy
here ships; ties go to the current vote. Every design uses the weights of ``dates.DEV_COUNTS``
as they stand; nothing is fitted on these pages.

A page counts as right when its gold day is one of the days the chosen date stands for (its own
offset's and UTC's), as in the halves' figures. Designs:

- bare trafilatura: ``bare_extraction(html, url=url, with_metadata=True)``'s date;
- htmldate alone: htmldate's original date from the pass extract_article runs (its date with
  the vote switched off);
- the current vote, the conservative variant and first-signal-wins of bench/date_design.py;
- newsmon ``extract_article``: what the pipeline stores (must equal the current vote).

Usage: .venv/bin/python bench/date_third.py [--corpus DIR] [--show]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.date_design import (  # noqa: E402
    Case,
    Design,
    case_of,
    conservative,
    first_wins,
    htmldate_only,
    vote,
)
from pipeline.pages import dates  # noqa: E402
from tests.support.extraction_corpus import (  # noqa: E402
    bare_result,
    default_root,
    newsmon_result,
    read_split,
    third_pages,
)

CURRENT = "vote (current)"
DESIGNS: dict[str, Design] = {
    "htmldate alone": htmldate_only,
    CURRENT: vote(demote=True),
    "conservative (htmldate unless 2 agree against)": conservative,
    "first signal wins (old)": first_wins,
}


def chosen_days(case: Case, design: Design) -> set[str]:
    """The days ``design``'s date stands for on ``case`` (empty when it finds none)."""
    chosen = design(case, dict(dates.DEV_COUNTS))
    return set(chosen.days()) if chosen else set()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=None)
    parser.add_argument("--show", action="store_true", help="every page's days per design")
    args = parser.parse_args()
    pages = third_pages(args.corpus or default_root())
    half = read_split()
    names = ["bare trafilatura", *DESIGNS, "newsmon extract_article"]
    right = {name: 0 for name in names}
    by_half: dict[str, dict[str, int]] = {}
    rows = []
    for page in pages:
        case = case_of(page)
        found = {"bare trafilatura": bare_result(page)[1]}
        found.update({name: chosen_days(case, design) for name, design in DESIGNS.items()})
        found["newsmon extract_article"] = newsmon_result(page)[1]
        side = by_half.setdefault(half.get(page.key, "?"), {"pages": 0} | dict.fromkeys(names, 0))
        side["pages"] += 1
        for name in names:
            hit = page.date in found[name]
            right[name] += hit
            side[name] += hit
        rows.append((page, case, found))
    total = len(pages)
    print(f"third date set: {total} dated pages (tests/fixtures/extraction/dates_third.csv)")
    print(f"{'design':<48} right  accuracy  vs bare")
    for name in names:
        gain = (right[name] - right["bare trafilatura"]) / total
        print(f"{name:<48} {right[name]:3}/{total}  {right[name] / total:.3f}  {gain:+.3f}")
    print("\nby the split half of the page's site (not part of the rule; weights are per signal):")
    for side, counts in sorted(by_half.items()):
        cells = "  ".join(f"{name.split(' (')[0]} {counts[name]}" for name in names)
        print(f"  {side:<8} {counts['pages']:3} pages: {cells}")
    ranked = [name for name in DESIGNS if right[name] == max(right[n] for n in DESIGNS)]
    winner = CURRENT if CURRENT in ranked else ranked[0]
    print(f"\nrule (best accuracy, ties to the current vote) ships: {winner}")
    if args.show:
        for page, case, found in rows:
            marks = " ".join(
                f"{p.source}={'ok' if page.date in p.days() else 'XX'}" for p in case.proposals
            )
            wrong = [name for name in names if page.date not in found[name]]
            print(f"  {page.key[-50:]:<50} {page.date} {marks}")
            if wrong:
                print(f"      wrong: {', '.join(wrong)}; bare={sorted(found['bare trafilatura'])}")


if __name__ == "__main__":
    main()
