"""The date vote (pipeline/pages/dates.py) on markup taken from dev corpus pages.

Each page's snippets are the date-bearing markup of the real page, as found in
../shared/corpus; ``htmldate`` is the original date trafilatura's pass returned on that page.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from lxml.html import fromstring

from pipeline.pages.date_signals import Proposal, page_proposals, proposal
from pipeline.pages.dates import WEIGHTS, choose_date, in_page_offset, page_date

NOW = datetime(2026, 1, 1, tzinfo=UTC)
TEXT = "<p>Der Text des Artikels, lang genug für einen Artikel und ohne Datum darin.</p>" * 4

# trafilatura-eval/cache/reuters.com.parasite.html: gold 2020-01-19; htmldate took the
# revision stamp (sailthru.date = og:article:modified_time).
REUTERS = (
    '<html><head><script type="application/ld+json">{"@context":"http://schema.org",'
    '"@type":"NewsArticle","datePublished":"2020-01-19T12:25:36Z",'
    '"dateModified":"2020-01-20T09:49:32Z"}</script>'
    '<meta name="sailthru.date" content="2020-01-20T09:49:32Z"/>'
    '<meta property="og:article:published_time" content="2020-01-19T12:25:36Z"/>'
    '<meta property="og:article:modified_time" content="2020-01-20T09:49:32Z"/>'
    f"</head><body><article>{TEXT}</article></body></html>"
)
REUTERS_URL = "https://www.reuters.com/article/us-awards-sag/parasite-idUSKBN1ZI0EH"

# trafilatura-eval/eval/0a29620f9c4347758c146ed06dab6f3e.html (tagblatt.ch): gold 2019-10-19;
# the itemprop meta says the 18th (day only) and htmldate copies it.
TAGBLATT = (
    '<html><head><meta name="last-modified" content="2019-10-18T20:00:25.850Z">'
    '<meta name="date" content="2019-10-18T20:00:25.850Z">'
    '<meta itemprop="datePublished" content="2019-10-18">'
    '<script type="application/ld+json">{"@type":"NewsArticle",'
    '"datePublished":"2019-10-19T03:00:00.000Z","dateModified":"2019-10-18T20:00:25.850Z"}'
    "</script></head><body><article>"
    '<time class="metainfo__date" datetime="2019-10-19T03:00:00.000Z">19.10.2019</time>'
    f"{TEXT}</article></body></html>"
)
TAGBLATT_URL = "https://www.tagblatt.ch/kultur/mit-allen-wassern-gewaschen-ld.1161246"

# mozilla-readability/schema-org-context-object (nbcnews.com): gold 2024-12-06; the
# article:published_time meta and the <time> both carry JSON-LD's dateModified.
NBC = (
    '<html><head><meta property="article:published_time" content="2024-12-07T12:43:39.889Z" />'
    '<meta property="article:modified_time" content="2024-12-07T12:43:46.379Z" />'
    '<script type="application/ld+json">{"@context":{"@vocab":"http://schema.org/"},'
    '"@type":"NewsArticle","dateModified":"2024-12-07T12:43:39.889Z",'
    '"datePublished":"2024-12-06T22:00:40.000Z"}</script></head><body><article>'
    '<time class="relative z-1" datetime="2024-12-07T12:43:39.889Z">Dec. 7, 2024</time>'
    f"{TEXT}</article></body></html>"
)


def day(found: object) -> str | None:
    local = getattr(found, "local", None)
    return local.strftime("%Y-%m-%d") if local else None


def test_published_signals_outvote_htmldate_taking_the_revision_stamp() -> None:
    found = page_date(
        fromstring(REUTERS), REUTERS_URL, feed_published=None, now=NOW,
        htmldate="2020-01-20T09:49:32+0000",
    )  # fmt: skip
    assert (day(found), found.source) == ("2020-01-19", "json-ld")
    # The vote, not position: without the two published signals htmldate's day would win.
    alone = page_date(
        fromstring(REUTERS), REUTERS_URL, feed_published=None, now=NOW,
        htmldate="2020-01-20T09:49:32+0000", combine=False,
    )  # fmt: skip
    assert (day(alone), alone.source) == ("2020-01-20", "htmldate")


def test_two_agreeing_signals_beat_a_meta_tag_that_htmldate_only_copies() -> None:
    tree = fromstring(TAGBLATT)
    found = page_date(
        tree, TAGBLATT_URL, feed_published=None, now=NOW, htmldate="2019-10-18T00:00:00"
    )
    assert day(found) == "2019-10-19" and found.source == "json-ld"
    # Counting htmldate's copy of the itemprop meta as a second witness gets it wrong.
    proposals = [*page_proposals(tree, TAGBLATT_URL, None)]
    proposals.append(Proposal("htmldate", datetime(2019, 10, 18, tzinfo=UTC), day_only=True))
    from pipeline.pages.date_signals import modified_dates

    counted = choose_date(proposals, modified_dates(tree), copies="count")
    assert counted is not None and counted.value.strftime("%Y-%m-%d") == "2019-10-18"


def test_published_tag_equal_to_the_modified_date_is_demoted() -> None:
    tree = fromstring(NBC)
    found = page_date(
        tree, "http://fakehost/schema-org-context-object/", feed_published=None, now=NOW,
        htmldate="2024-12-06T22:00:40+0000",
    )  # fmt: skip
    assert day(found) == "2024-12-06"
    # Without the declared modified dates the two stand-ins (meta + <time>) outvote JSON-LD.
    proposals = page_proposals(tree, "http://fakehost/x/", None)
    undemoted = choose_date(proposals, modified=[])
    assert undemoted is not None and undemoted.value.day == 7


def test_weak_signals_do_not_override_htmldate() -> None:
    teaser = proposal("time-first", "2019-10-17T09:00:00+02:00")
    generic = proposal("meta-generic", "2019-10-21T18:00:00+02:00")
    htmldate = proposal("htmldate", "2019-10-19T00:00:00")
    assert teaser and generic and htmldate and htmldate.day_only
    assert WEIGHTS["time-first"] < WEIGHTS["htmldate"] and WEIGHTS["meta-generic"] < 1
    assert choose_date([teaser, htmldate]) == htmldate
    assert choose_date([generic, htmldate]) == htmldate
    # ...but an explicit published-time tag does, and a second weak one adds to it.
    explicit = proposal("meta", "2019-10-17T09:00:00+02:00")
    assert explicit is not None
    assert choose_date([explicit, htmldate]) == explicit


def test_utc_stamp_is_read_in_the_page_offset_near_midnight() -> None:
    # 22:30Z is the 20th in Berlin: the page's own day, which the gold (and a reader) mean.
    utc = proposal("json-ld", "2019-10-19T22:30:00Z")
    local = proposal("meta", "2019-10-20T00:30:00+02:00")
    assert utc and local
    restated = in_page_offset([utc, local])
    assert restated[0].value.utcoffset() == timedelta(hours=2)
    assert restated[0].days() == {"2019-10-20", "2019-10-19"}
    chosen = choose_date([utc, proposal("htmldate", "2019-10-20T00:00:00") or utc, local])
    assert chosen is not None and chosen.value.strftime("%Y-%m-%d") == "2019-10-20"
    assert chosen.value.tzinfo == timezone(timedelta(hours=2))


def test_day_only_values_keep_their_day_and_times_prefer_a_timed_value() -> None:
    url_day = Proposal("url", datetime(2023, 11, 8, tzinfo=UTC), day_only=True)
    stamp = proposal("json-ld", "2023-11-08T21:56:18Z")
    assert stamp is not None
    assert url_day.days() == {"2023-11-08"}
    # Same day: the stored value is the one that says when in the day.
    assert choose_date([url_day, stamp]) == stamp
    assert choose_date([]) is None


def test_implausible_proposals_are_dropped_before_the_vote() -> None:
    html = (
        '<html><head><meta property="article:published_time" content="2031-05-01T10:00:00Z">'
        f"</head><body><article>{TEXT}</article></body></html>"
    )
    found = page_date(
        fromstring(html), "https://example.org/a", feed_published=None, now=NOW,
        htmldate="2024-06-01T00:00:00",
    )  # fmt: skip
    assert (day(found), found.source) == ("2024-06-01", "htmldate")
