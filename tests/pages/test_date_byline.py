"""The visible-byline date (pipeline/pages/date_byline.py) and its place in the vote.

Markup is modelled on dev corpus pages (named per test); the held-out half and the third date
set were not read to write these.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from lxml.html import fromstring

from pipeline.pages.date_byline import byline_date, dates_in
from pipeline.pages.date_signals import Proposal, page_proposals
from pipeline.pages.dates import choose_date, page_date

NOW = datetime(2026, 1, 1, tzinfo=UTC)
BODY = "<p>Der Text des Artikels, lang genug für einen Artikel und ohne Datum darin.</p>" * 3


def page(head: str, after: str, *, lang: str = "de", before: str = "") -> str:
    return (
        f'<html lang="{lang}"><head><title>{head} | Zeitung</title></head><body>'
        f"<header><h1>Zeitung</h1></header>{before}<article><h1>{head}</h1>{after}{BODY}"
        "</article></body></html>"
    )


def day(tree_html: str) -> tuple[str, str] | None:
    found = byline_date(fromstring(tree_html))
    return (found[0], found[1].strftime("%Y-%m-%d")) if found else None


# neues-deutschland.de (dev): the byline is a short list, the page's only right date.
ND = page(
    "Einfach kein Geld mehr, um die Miete zu zahlen",
    '<ul class="Infoline"><li>Von Moritz Wichmann</li>'
    '<li class="Date"><time>29.04.2020, 12:01 Uhr</time></li><li>Lesedauer: 8 Min.</li></ul>',
)


@pytest.mark.parametrize(
    ("after", "lang", "want"),
    [
        ("<p>Von Moritz Wichmann 29.04.2020, 12:01 Uhr</p>", "de", ("after", "2020-04-29")),
        ("<p>Veröffentlicht am 1. Januar 2020</p>", "de", ("published", "2020-01-01")),
        ("<p>19. Okt. 2019, 19:08 Uhr</p>", "de", ("after", "2019-10-19")),
        # world.kbs.co.kr (dev): "Written: ... / Updated: ..."
        (
            "<p>Written: 2023-11-07 15:03:30 / Updated: 2023-11-08</p>",
            "en",
            ("published", "2023-11-07"),
        ),
        (
            "<p>Updated March 3, 2020. Published March 1, 2020</p>",
            "en",
            ("published", "2020-03-01"),
        ),
        ("<p>By Jane Doe Nov. 9th, 2023 5:50 PM</p>", "en", ("after", "2023-11-09")),
        # Ostbelgiendirekt (dev, German): day first; an American page: month first.
        ("<p>06/11/2023</p>", "de", ("after", "2023-11-06")),
        ("<p>06/11/2023</p>", "en-US", ("after", "2023-06-11")),
        ("<p>25/11/2023</p>", "en-US", ("after", "2023-11-25")),
    ],
)
def test_byline_forms(after: str, lang: str, want: tuple[str, str]) -> None:
    assert day(page("Ein Titel für die Seite", after, lang=lang)) == want


def test_byline_in_a_short_list_is_read_but_a_teaser_list_is_not() -> None:
    assert day(ND) == ("after", "2020-04-29")
    teasers = "".join(f'<li><a href="/{i}">Alt {i}</a> 0{i}.01.2019</li>' for i in range(1, 5))
    assert day(page("Ein Titel für die Seite", f"<ul>{teasers}</ul>")) is None
    related = '<div class="related-articles"><p>Am 02.02.2019</p></div>'
    assert day(page("Ein Titel für die Seite", related)) is None


def test_updated_and_stand_dates_are_not_publication_dates() -> None:
    assert day(page("Ein Titel für die Seite", "<p>Stand: 21.04.2021, 16:41 Uhr</p>")) is None
    assert day(page("Ein Titel für die Seite", "<p>Aktualisiert am 3. März 2020</p>")) is None


def test_dates_above_the_title_h1_are_not_proposed() -> None:
    # deutschlandfunk.de (dev): the site header's "today" sits above the article's <h1>; the
    # site logo is an <h1> too, so the headline is the <h1> that shares most of the title.
    html = page(
        "Wir dekorieren auf der Titanic", "<p>Ohne Datum.</p>", before="<p>Mittwoch, 26.02.2020</p>"
    )
    assert day(html) is None
    below = html.replace("<p>Ohne Datum.</p>", "<p>Von A. Autor, 01.05.2017</p>")
    assert day(below) == ("after", "2017-05-01")


def test_dates_far_after_the_headline_and_without_year_are_not_read() -> None:
    far = "<p>" + "Wort " * 200 + "am 3. Oktober 2019</p>"
    assert day(page("Ein Titel für die Seite", far)) is None
    assert dates_in("[06月24日 11時30分] am 24. Juni") == []


def test_byline_decides_when_htmldate_is_the_only_other_signal() -> None:
    # nd (dev): htmldate and the generic date meta give the 28th, the byline the 29th.
    html = ND.replace("<head>", '<head><meta name="date" content="2020-04-28T20:00:00Z">')
    found = page_date(fromstring(html), "https://nd.example/a.html", feed_published=None,
                      now=NOW, htmldate="2020-04-28")  # fmt: skip
    assert found.local is not None and found.local.strftime("%Y-%m-%d") == "2020-04-29"
    assert found.source == "byline"


def test_htmldate_repeating_a_weak_tag_keeps_its_own_weight() -> None:
    # A generic date tag that htmldate repeats against the article's first <time>: the copy
    # adds no second witness, but the pair is worth at least htmldate alone (copies="top-up");
    # counting the copy as nothing would let the weak <time> win.
    html = (
        page("Ein Titel für die Seite", "<p>Ohne Datum.</p>")
        .replace("<head>", '<head><meta name="date" content="2017-05-01">')
        .replace("<article>", '<article><time datetime="2017-05-03T10:00:00+02:00">x</time>')
    )
    tree = fromstring(html)
    found = page_date(tree, "https://x.example/a.html", feed_published=None, now=NOW,
                      htmldate="2017-05-01")  # fmt: skip
    assert found.local is not None and found.local.strftime("%Y-%m-%d") == "2017-05-01"
    proposals = [*page_proposals(tree, "https://x.example/a.html", None)]
    proposals.append(Proposal("htmldate", datetime(2017, 5, 1, tzinfo=UTC), day_only=True))
    zero = choose_date(proposals, [], copies="zero")
    assert zero is not None and zero.value.strftime("%Y-%m-%d") == "2017-05-03"
