"""justext_fast gives jusText's own paragraphs and classes, on every corpus page."""

from __future__ import annotations

from typing import Any

import justext
import pytest

from pipeline.pages.candidates import _stoplist, justext_text
from pipeline.pages.justext_fast import justext_paragraphs
from tests.support.extraction_corpus import all_pages, default_root


def _described(paragraphs: list[Any]) -> list[tuple[Any, ...]]:
    return [
        (p.text, p.class_type, p.cf_class, p.heading, p.dom_path, p.chars_count_in_links)
        for p in paragraphs
    ]


def test_same_paragraphs_as_justext_on_the_corpus() -> None:
    pages = all_pages(default_root())
    assert len(pages) >= 20
    for page in pages:
        html = page.html()
        mine = _described(justext_paragraphs(html, _stoplist()))
        assert mine == _described(justext.justext(html, _stoplist())), page.key


@pytest.mark.parametrize(
    "html",
    [
        # a paragraph holding only a <br>'s space is dropped, as jusText drops it
        b"<html><body><div><br></div><p>Erster Absatz mit genug Text, um zu "
        b"zaehlen, und noch mehr Woerter dazu.</p><div> <br> </div></body></html>",
        b"<html><head><title>t</title></head><body><p>kurz</p><br><br>"
        b"<a href='/x'>Link</a> und <b>fett</b><h2>Titel</h2></body></html>",
    ],
)
def test_same_paragraphs_on_edge_markup(html: bytes) -> None:
    assert _described(justext_paragraphs(html, _stoplist())) == _described(
        justext.justext(html, _stoplist())
    )


def test_justext_text_keeps_the_good_paragraphs() -> None:
    body = " ".join(["Die Regierung hat am Montag in der Hauptstadt erklaert, dass sie"] * 8)
    html = f"<html><body><nav><a href='/'>Start</a></nav><p>{body}</p></body></html>"
    assert justext_text(html.encode()) == body
