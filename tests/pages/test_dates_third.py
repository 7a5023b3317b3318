"""The third date set's labels are well formed and stay outside both halves' date gold."""

from __future__ import annotations

import csv
import re

from tests.support.extraction_corpus import THIRD, all_pages, default_root, read_split, read_third

DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


def _rows() -> list[dict[str, str]]:
    with THIRD.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(line for line in handle if not line.startswith("#")))


def test_every_label_is_a_day_or_none_with_its_visible_evidence() -> None:
    rows = _rows()
    assert len({row["key"] for row in rows}) == len(rows)
    for row in rows:
        assert row["gold"] == "none" or DAY.fullmatch(row["gold"]), row
        if row["gold"] != "none":
            assert row["evidence"].strip(), row


def test_the_set_is_large_enough_and_its_pages_are_corpus_pages() -> None:
    labels = read_third()
    assert sum(gold != "none" for gold in labels.values()) >= 40
    split = read_split()
    assert set(labels) <= set(split)


def test_no_page_of_the_set_carries_date_gold_in_either_half() -> None:
    dated = {page.key for page in all_pages(default_root()) if page.date}
    assert not dated & set(read_third())
