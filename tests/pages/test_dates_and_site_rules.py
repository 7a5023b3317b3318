"""Publication dates by signal strength with the feed cross-check; per-site layout rules."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from lxml.html import fromstring

from pipeline.errors import ConfigError
from pipeline.pages.dates import page_date
from pipeline.pages.extract import extract_article
from pipeline.pages.site_rules import apply_site_rules, default_site_rules, parse_site_rules

NOW = datetime(2025, 1, 1, tzinfo=UTC)
BODY = "<p>Kim Jong Un besuchte am Montag eine Fabrik in Pjöngjang, berichteten Staatsmedien.</p>"


def page(head: str = "", body: str = BODY * 6) -> str:
    return f"<html><head>{head}</head><body><article>{body}</article></body></html>"


def test_json_ld_beats_meta_and_keeps_page_offset() -> None:
    html = page(
        '<script type="application/ld+json"><![CDATA[{"@type": "NewsArticle",'
        ' "datePublished": "2024-03-01T23:30:00+09:00"}]]></script>'
        '<meta property="article:published_time" content="2024-03-05T10:00:00Z">'
    )
    found = page_date(fromstring(html), "https://example.org/a", feed_published=None, now=NOW)
    assert found.source == "json-ld"
    assert found.local is not None and found.local.strftime("%Y-%m-%d") == "2024-03-01"
    assert found.utc == datetime(2024, 3, 1, 14, 30, tzinfo=UTC)


def test_meta_then_time_element_then_url() -> None:
    tree = fromstring(page(body=BODY + '<time datetime="2024-02-02T08:00:00+01:00">2.2.</time>'))
    assert page_date(tree, "https://x.org/a", feed_published=None, now=NOW).source == "time-element"
    bare = fromstring(page())
    found = page_date(bare, "https://x.org/2023/11/07/story", feed_published=None, now=NOW)
    assert found.source == "url" and found.utc == datetime(2023, 11, 7, tzinfo=UTC)


def test_page_and_feed_days_apart_is_doubtful_but_kept() -> None:
    html = page('<meta property="article:published_time" content="2019-06-19T10:00:00Z">')
    feed = datetime(2024, 6, 24, 8, 0, tzinfo=UTC)
    found = extract_article(html, "https://example.org/a", feed_published=feed, now=NOW)
    assert found.published_at == datetime(2019, 6, 19, 10, 0, tzinfo=UTC)
    assert found.date_source == "meta" and found.date_doubtful is True
    close = extract_article(
        html, "https://example.org/a", feed_published=datetime(2019, 6, 20, tzinfo=UTC), now=NOW
    )
    assert close.date_doubtful is False


def test_future_page_date_falls_through_to_feed() -> None:
    html = page('<meta property="article:published_time" content="2031-01-01T00:00:00Z">')
    feed = datetime(2024, 12, 30, tzinfo=UTC)
    found = extract_article(html, "https://example.org/a", feed_published=feed, now=NOW)
    assert found.date_source == "feed" and found.published_at == feed


def test_packaged_site_rules_parse_newest_layout_first() -> None:
    rules = default_site_rules()
    for site in ("tagesschau.de", "spiegel.de", "zeit.de", "sueddeutsche.de", "faz.net",
                 "tagesspiegel.de", "welt.de", "yna.co.kr", "koreaherald.com", "kcnawatch.org",
                 "nknews.org", "reuters.com", "apnews.com", "bbc.com"):  # fmt: skip
        layouts = rules[site]
        assert [x.since for x in layouts] == sorted((x.since for x in layouts), reverse=True)


def test_older_layout_used_when_newer_does_not_match() -> None:
    old = "<div class='story-body__inner'>" + BODY * 8 + "</div>"
    match = apply_site_rules(fromstring(page(body=old)), "bbc.com")
    assert match is not None and match.candidate.method == "site:bbc.com@2015-01-01"
    assert "Pjöngjang" in match.candidate.text
    assert apply_site_rules(fromstring(page()), "bbc.com") is None  # no layout fits
    found = extract_article(page(body=old), "https://www.bbc.com/news/x")
    assert found.method == "site:bbc.com@2015-01-01"


def test_site_rules_drop_and_date() -> None:
    html = page(
        body="<header class='ts-article-header'><p class='ts-intro'>Der Vorspann.</p></header>"
        "<time class='ts-meta' datetime='2020-04-29T15:59:39+02:00'>29.4.</time>"
        "<div class='ts-article-body'>" + BODY * 8 + "</div>"
    )
    found = extract_article(html, "https://www.tagesspiegel.de/politik/x.html", now=NOW)
    assert found.method == "site:tagesspiegel.de@2015-01-01"
    assert found.text.startswith("Der Vorspann.")
    assert found.date_source == "site-rule"
    assert found.published_at == datetime(2020, 4, 29, 13, 59, 39, tzinfo=UTC)


@pytest.mark.parametrize(
    "source",
    [
        "x.org: [{since: 2020-01-01, body: '//p[']}]",
        "x.org: [{body: '//p'}]",
        "x.org: [{since: 2020-01-01, body: '//p', colour: red}]",
        "x.org: []",
        "a-very-long-publisher-name.example.org: [{since: 2020-01-01, body: '//p'}]",
    ],
)
def test_bad_site_rules_are_config_errors(source: str) -> None:
    with pytest.raises(ConfigError):
        parse_site_rules(source)


def test_extracted_is_picklable_for_a_process_pool() -> None:
    import pickle

    html = page('<meta property="article:published_time" content="2024-06-01T10:00:00+02:00">')
    found = extract_article(html, "https://example.org/a", now=NOW)
    assert pickle.loads(pickle.dumps(found)) == found
    assert found.published_local is not None and found.published_local.utcoffset() is not None
