"""pipeline.feeds.feedlist (feed list, OPML, autodiscovery) and pipeline.feeds.sitemaps."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from pipeline.config import SEEDS_DIR
from pipeline.errors import ConfigError, FeedParseError
from pipeline.feeds.feedlist import FeedSource, discover_feeds, load_feed_list, parse_opml, to_opml
from pipeline.feeds.sitemaps import parse_news_sitemap, parse_sitemap


def test_shipped_feed_list_loads_and_round_trips_through_opml(tmp_path: Path) -> None:
    sources = load_feed_list(SEEDS_DIR / "feeds.yaml")
    assert len(sources) >= 20
    assert {s.language for s in sources} == {"de", "en"}
    outlets = {s.outlet for s in sources}
    for expected in (
        "Tagesschau",
        "DER SPIEGEL",
        "Deutsche Welle",
        "Yonhap News Agency",
        "KBS World",
        "NK News",
        "38 North",
    ):
        assert expected in outlets
    opml = tmp_path / "feeds.opml"
    opml.write_text(to_opml(sources), encoding="utf-8")
    assert load_feed_list(opml) == sources  # detected as OPML by content


@pytest.mark.parametrize(
    ("text", "line", "fragment"),
    [
        ("feeds:\n  - name: A\n    url: https://a.example/rss\n  - name: B\n", 4, "needs a 'url'"),
        ("feeds:\n  - name: A\n    url: ftp://a.example/rss\n", 2, "http(s)"),
        ("feeds:\n  - name: A\n    url: https://a.example/\n    langauge: de\n", 2, "unknown key"),
        ("feeds:\n  - name: A\n    url: [unclosed\n", 4, "invalid YAML"),
        (
            "feeds:\n  - name: A\n    url: https://a.example/\n  - name: B\n    url: https://a.example/\n",
            4,
            "duplicate",
        ),
        ("feeds:\n  - name: A\n    url: https://a.example/\n    poll_minutes: -5\n", 2, "poll"),
    ],
)
def test_malformed_yaml_gives_one_line_error_with_file_and_line(
    tmp_path: Path, text: str, line: int, fragment: str
) -> None:
    path = tmp_path / "feeds.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_feed_list(path)
    err = info.value
    assert err.path == str(path) and err.line == line
    assert fragment in str(err) and "\n" not in str(err) and str(err).startswith(f"{path}:{line}:")


def test_missing_file_and_broken_opml(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        load_feed_list(tmp_path / "nope.yaml")
    assert info.value.path and "nope.yaml" in str(info.value)
    bad = tmp_path / "bad.opml"
    bad.write_text('<?xml version="1.0"?>\n<opml>\n<body>\n<outline xmlUrl="x"\n</body></opml>')
    with pytest.raises(ConfigError) as info:
        load_feed_list(bad)
    assert info.value.line is not None and "invalid OPML" in str(info.value)


def test_opml_nested_folders_become_tags() -> None:
    opml = b"""<?xml version="1.0"?><opml version="1.0"><head/><body>
      <outline text="Korea">
        <outline text="NK News" type="rss" xmlUrl="https://www.nknews.org/feed/?utm_source=x"/>
        <outline text="Sub"><outline title="38N" xmlUrl="https://www.38north.org/feed/"/></outline>
      </outline>
      <outline text="Loose" xmlUrl="http://example.org/rss" language="en"/>
    </body></opml>"""
    got = parse_opml(opml)
    assert got == [
        FeedSource("NK News", "https://www.nknews.org/feed/", None, None, ("korea",)),
        FeedSource("38N", "https://www.38north.org/feed/", None, None, ("korea", "sub")),
        FeedSource("Loose", "http://example.org/rss", "en", None, ()),
    ]


def test_discover_feeds_link_alternates_first_then_anchors() -> None:
    html = """<html><head><base href="https://www.example.org/news/">
      <link rel="alternate" type="application/rss+xml" title="Comments" href="/comments/feed/">
      <link rel="Alternate" type="application/atom+xml" href="atom.xml?utm_source=home">
      <link rel="alternate" type="text/html" href="/de/">
      <link rel="stylesheet" href="/s.css"></head><body>
      <a href="/politik/index.rss">Politik</a> <a href="/impressum">Impressum</a>
      <a href="https://feeds.example.org/x">RSS</a> <a href="javascript:void(0)">RSS</a>
    </body></html>"""
    assert discover_feeds(html, "https://www.example.org/") == [
        "https://www.example.org/news/atom.xml",
        "https://www.example.org/comments/feed/",
        "https://www.example.org/politik/index.rss",
        "https://feeds.example.org/x",
    ]
    assert discover_feeds(b"<html><body>no feeds</body></html>", "https://x.org/") == []


NEWS_SITEMAP = b"""<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"
        xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">
  <url><loc>https://www.example.org/politik/korea-gipfel-100.html?utm_source=sm</loc>
    <news:news><news:publication><news:name>Example</news:name><news:language>de</news:language>
      </news:publication><news:publication_date>2018-06-12T09:00:00+08:00</news:publication_date>
      <news:title>Kim und Trump treffen sich in Singapur</news:title></news:news></url>
  <url><loc>/relative/plain.html</loc><lastmod>2024-05-01</lastmod></url>
  <url><loc>javascript:alert(1)</loc></url>
</urlset>"""


def test_news_sitemap_entries_are_date_aware() -> None:
    entries = parse_news_sitemap(NEWS_SITEMAP, url="https://www.example.org/news-sitemap.xml")
    assert [e.url for e in entries] == [
        "https://www.example.org/politik/korea-gipfel-100.html",
        "https://www.example.org/relative/plain.html",
    ]
    assert entries[0].title == "Kim und Trump treffen sich in Singapur"
    assert entries[0].published_at == datetime(2018, 6, 12, 1, 0, tzinfo=UTC)
    assert entries[0].author == "Example"
    assert entries[1].published_at == datetime(2024, 5, 1, tzinfo=UTC)


def test_sitemap_index_lists_children() -> None:
    index = b"""<?xml version="1.0"?><sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
      <sitemap><loc>https://x.org/sm-2024-05.xml</loc><lastmod>2024-05-31T23:00:00Z</lastmod></sitemap>
      <sitemap><loc>sm-2024-06.xml.gz</loc></sitemap></sitemapindex>"""
    sm = parse_sitemap(index, url="https://x.org/index.xml")
    assert sm.entries == () and [c.url for c in sm.children] == [
        "https://x.org/sm-2024-05.xml",
        "https://x.org/sm-2024-06.xml.gz",
    ]
    assert sm.children[0].lastmod == datetime(2024, 5, 31, 23, tzinfo=UTC)
    assert parse_news_sitemap(index, url="https://x.org/index.xml") == []


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"<html><body>hi</body></html>",
        b"<urlset><url><loc>",
        b'<?xml version="1.0"?><!DOCTYPE urlset [<!ENTITY a "aaaaaaaaaa">'
        + b"".join(
            b'<!ENTITY a%d "%s">' % (i, b"&a%d;" % (i - 1) * 10 if i else b"&a;" * 10)
            for i in range(10)
        )
        + b"]><urlset><url><loc>&a9;</loc></url></urlset>",
    ],
)
def test_bad_sitemaps_raise_feed_parse_error(body: bytes) -> None:
    with pytest.raises(FeedParseError):
        parse_sitemap(body, url="https://x.org/s.xml")


def test_yaml_accepts_other_tools_spellings_and_bare_urls(tmp_path: Path) -> None:
    path = tmp_path / "feeds.yaml"
    path.write_text(
        "- https://a.example/rss\n"
        "- title: B\n  xml_url: https://b.example/feed?utm_source=x\n  lang: en\n",
        encoding="utf-8",
    )
    a, b = load_feed_list(path)
    assert (a.name, a.url) == ("a.example", "https://a.example/rss")
    assert (b.name, b.url, b.language) == ("B", "https://b.example/feed", "en")
