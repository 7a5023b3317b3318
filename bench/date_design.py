"""Choosing the date combination on the development half only, by leave-one-site-out folds.

For every dated dev page: each signal's proposal (pipeline/pages/date_signals.py, htmldate's
original date as trafilatura's pass finds it) and whether it names the gold day. Then several
designs are scored: each fold holds out one site's pages, counts every signal's right/wrong on
the other sites, turns them into vote weights and dates the held-out site's pages. The counts
over all dev pages are what ``dates.DEV_COUNTS`` records. The held-out half is never read here.

Usage: .venv/bin/python bench/date_design.py [--corpus DIR] [--show]
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from trafilatura.utils import load_html  # noqa: E402

from pipeline.pages import dates  # noqa: E402
from pipeline.pages.date_signals import (  # noqa: E402
    Proposal,
    modified_dates,
    page_proposals,
    proposal,
)
from pipeline.pages.extract import _trafilatura, site_of  # noqa: E402
from pipeline.pages.site_rules import apply_site_rules  # noqa: E402
from tests.support.extraction_corpus import (  # noqa: E402
    Page,
    default_root,
    pages_of,
    site_of_page,
)

NOW = datetime(2026, 1, 1, tzinfo=UTC)


@dataclass
class Case:
    """One dated page's proposals, declared modified dates and gold day."""

    key: str
    site: str
    gold: str
    proposals: list[Proposal]
    modified: list[datetime]


def case_of(page: Page) -> Case:
    """A dated page's proposals as extract_article gathers them (htmldate from the one pass)."""
    assert page.date, page.key
    tree = load_html(page.html())
    match = apply_site_rules(tree, site_of(page.url))
    found = page_proposals(tree, page.url, match.date if match else None)
    doc = _trafilatura(load_html(page.html()), page.url, NOW)
    from_htmldate = proposal("htmldate", getattr(doc, "date", None))
    if from_htmldate is not None:
        found.append(from_htmldate)
    found = [p for p in found if dates.plausible(p.value, NOW) is not None]
    return Case(page.key, site_of_page(page), page.date, found, modified_dates(tree))


def cases(root: Path) -> list[Case]:
    """Every dated dev page as a Case."""
    return [case_of(page) for page in pages_of("dev", root) if page.date]


def counts(train: list[Case]) -> dict[str, tuple[int, int]]:
    """Signal -> (right, wrong) over ``train``."""
    out: dict[str, list[int]] = {name: [0, 0] for name in dates.DEV_COUNTS}
    for case in train:
        for p in dates.in_page_offset(case.proposals):
            out.setdefault(p.source, [0, 0])[0 if case.gold in p.days() else 1] += 1
    if out["site-rule"] == [0, 0]:  # as dates.DEV_COUNTS: pooled with marked <time> elements
        out["site-rule"] = out["time-marked"]
    return {name: (r, w) for name, (r, w) in out.items()}


Design = Callable[[Case, dict[str, tuple[int, int]]], Proposal | None]

#: The previous fixed order (issue 18's list), finer signals in their old places.
FIRST_WINS = ("site-rule", "json-ld", "meta", "meta-generic", "time-marked", "time-first", "url",
              "byline", "htmldate")  # fmt: skip
#: The signals added after the vote was first chosen (visible byline, date_byline.py).
BYLINE = ("byline",)


def first_wins(case: Case, _: dict[str, tuple[int, int]]) -> Proposal | None:
    """Strongest signal first (the design this replaces)."""
    ranked = sorted(case.proposals, key=lambda p: FIRST_WINS.index(p.source))
    return ranked[0] if ranked else None


def htmldate_only(case: Case, _: dict[str, tuple[int, int]]) -> Proposal | None:
    """What bare trafilatura reports."""
    return next((p for p in case.proposals if p.source == "htmldate"), None)


def without_byline(case: Case) -> Case:
    """``case`` as the signals were before the visible byline was read."""
    kept = [p for p in case.proposals if p.source not in BYLINE]
    return Case(case.key, case.site, case.gold, kept, case.modified)


def vote(
    demote: bool, equal: bool = False, copies: dates.Copies = "zero", byline: bool = True
) -> Design:
    """Weighted vote; ``demote`` modified-date stand-ins; ``equal`` weights (majority);
    ``copies``: how htmldate counts when it repeats another signal (dates.vote_weights);
    ``byline``: with the visible byline's proposals."""

    def run(case: Case, train: dict[str, tuple[int, int]]) -> Proposal | None:
        weights = {n: 1.0 for n in train} if equal else dates.weights_from(train)
        modified = case.modified if demote else []
        case = case if byline else without_byline(case)
        return dates.choose_date(case.proposals, modified, weights, copies=copies)

    return run


def conservative(case: Case, train: dict[str, tuple[int, int]]) -> Proposal | None:
    """htmldate's day unless two other signals agree against it or it is a modified stand-in."""
    chosen = vote(demote=True)(case, train)
    htmldate = htmldate_only(case, train)
    if chosen is None or htmldate is None or chosen.days() & htmldate.days():
        return chosen
    against = [p for p in case.proposals if p.source != "htmldate" and p.days() & chosen.days()]
    demoted = any(abs(htmldate.value - m) < dates.SAME_INSTANT for m in case.modified)
    return chosen if len(against) >= 2 or (demoted and not htmldate.day_only) else htmldate


DESIGNS: dict[str, Design] = {
    "first signal wins (old)": first_wins,
    "htmldate only (bare)": htmldate_only,
    "majority, equal weights": vote(demote=True, equal=True),
    "vote, htmldate copies counted": vote(demote=False, copies="count"),
    "vote + demote, copies counted": vote(demote=True, copies="count"),
    "vote, copies not counted": vote(demote=False),
    "vote + demote, copies not counted": vote(demote=True),
    "htmldate unless 2 agree against": conservative,
    "vote + demote, no byline (round 2)": vote(demote=True, byline=False),
    "vote + demote, copies top up": vote(demote=True, copies="top-up"),
    "  same, no byline": vote(demote=True, copies="top-up", byline=False),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=None)
    parser.add_argument("--show", action="store_true", help="print every page's proposals")
    args = parser.parse_args()
    every = cases(args.corpus or default_root())
    print(f"dev: {len(every)} dated pages, {len({c.site for c in every})} sites")
    print("signal counts over all dev pages (dates.DEV_COUNTS):")
    for name, (right, wrong) in counts(every).items():
        print(f"  {name:<14} right {right:3}  wrong {wrong:3}")
    print(f"\n{'design':<34} leave-one-site-out  in-sample")
    for name, design in DESIGNS.items():
        cv = 0
        for case in every:
            train = counts([c for c in every if c.site != case.site])
            chosen = design(case, train)
            cv += chosen is not None and case.gold in chosen.days()
        full = counts(every)
        fit = sum((c := design(case, full)) is not None and case.gold in c.days() for case in every)
        print(f"{name:<34} {cv:3}/{len(every)} = {cv / len(every):.3f}  {fit / len(every):.3f}")
    if args.show:
        for case in every:
            marks = " ".join(
                f"{p.source}={'ok' if case.gold in p.days() else 'XX'}" for p in case.proposals
            )
            print(f"  {case.key[-45:]:<45} {case.gold} {marks}")


if __name__ == "__main__":
    main()
