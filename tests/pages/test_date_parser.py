"""htmldate's fallback date parser in the beat's languages (pipeline/pages/date_parser.py)."""

from __future__ import annotations

from datetime import date

import htmldate.extractors as hx
import pytest

from pipeline.pages import date_parser
from pipeline.pages.extract import extract_article


def test_same_settings_as_htmldate_s_own_parser() -> None:
    # only the languages differ: a new htmldate that changes its parser shows up here
    own = hx.get_external_parser()
    assert vars(date_parser.parser()._settings) == vars(own._settings)
    assert own.languages is None
    assert date_parser.parser().languages == list(date_parser.LANGUAGES)


@pytest.mark.parametrize(
    "text",
    ["3. Januar 2020", "January 3, 2020", "3 janvier 2020", "2020년 1월 3일", "3 stycznia 2020"],
)
def test_reads_the_beat_s_languages(text: str) -> None:
    assert date_parser.parser().get_date_data(text)["date_obj"].date() == date(2020, 1, 3)


def test_scoped_to_the_block_and_restored_after_an_error() -> None:
    own = hx.get_external_parser
    with pytest.raises(RuntimeError), date_parser.beat_languages():
        assert hx.get_external_parser is date_parser.parser
        raise RuntimeError
    assert hx.get_external_parser is own


def test_extraction_dates_a_page_and_leaves_htmldate_as_it_was() -> None:
    # a date only htmldate's text search finds ("am 3. Januar 2020" in the body), and a text
    # long enough to be an article
    body = "<p>" + "Die Regierung in Seoul äußerte sich am Freitag zu den Gesprächen. " * 12
    page = (
        "<html><head><title>Gespräche</title></head><body><article>"
        f"<h1>Gespräche in Seoul</h1><p>Seoul, Veröffentlicht am 3. Januar 2020</p>{body}</p>"
        "</article></body></html>"
    )
    before = hx.get_external_parser
    found = extract_article(page, "https://news.example.org/politik/gespraeche")
    assert found.published_local is not None
    assert found.published_local.date() == date(2020, 1, 3)
    assert hx.get_external_parser is before
