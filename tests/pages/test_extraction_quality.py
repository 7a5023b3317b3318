"""Issue 18's targets, asserted on the held-out half of the corpus (pages no rule was written from).

The held-out pages are copied into tests/fixtures/extraction/corpus, so this runs without
../shared. Bare = trafilatura.bare_extraction(with_metadata=True) on the same pages, same run.
"""

from __future__ import annotations

import pytest

from tests.support.extraction_corpus import SUBSET, Figures, evaluate, pages_of, read_split


@pytest.fixture(scope="module")
def heldout() -> dict[str, Figures]:
    pages = pages_of("heldout", SUBSET)
    assert len(pages) >= 80, "held-out fixture pages missing"
    return evaluate(pages)


def test_split_is_by_site_and_balanced() -> None:
    import csv

    from tests.support.extraction_corpus import SPLIT

    with SPLIT.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    halves: dict[str, set[str]] = {}
    for row in rows:
        halves.setdefault(row["domain"], set()).add(row["half"])
    assert all(len(h) == 1 for h in halves.values()), "a site is on both sides"
    counts = {h: sum(1 for r in rows if r["half"] == h) for h in ("dev", "heldout")}
    assert min(counts.values()) >= 0.4 * len(rows)
    assert set(read_split().values()) == {"dev", "heldout"}


def test_snippet_f1_beats_bare_trafilatura_by_a_point(heldout: dict[str, Figures]) -> None:
    assert heldout["newsmon"].snippets.f1 >= heldout["bare"].snippets.f1 + 0.01


def test_boilerplate_exclusion_beats_bare_by_two_points(heldout: dict[str, Figures]) -> None:
    assert heldout["newsmon"].snippets.exclusion >= heldout["bare"].snippets.exclusion + 0.02


def test_body_f1_not_worse_than_bare(heldout: dict[str, Figures]) -> None:
    assert heldout["newsmon"].mean_body_f1 >= heldout["bare"].mean_body_f1


@pytest.mark.xfail(
    strict=True,
    reason="not reached: held-out date accuracy 0.878 (36/41) vs bare 0.927 (38/41) with the "
    "date vote + visible byline chosen on dev (dev LOO-site: 0.962 vs 0.885, dev's ceiling); "
    "third set 0.948 vs 0.897 (labels from visible bylines); see docs/extraction.md",
)
def test_date_accuracy_beats_bare_by_three_points(heldout: dict[str, Figures]) -> None:
    assert heldout["newsmon"].date_accuracy >= heldout["bare"].date_accuracy + 0.03
