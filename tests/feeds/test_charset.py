"""Feeds whose bytes are not valid in their declared charset (issue 16): decoded with a
charset guess or replacement characters, never a silently wrong single-byte codec."""

from __future__ import annotations

import codecs
import io
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import feedparser

from pipeline.feeds.charset import declared_charset, repair_charset
from pipeline.feeds.parse import parse_feed
from tests.support.demo_site import E2E, PLACEHOLDER, serve_site, write_feed_list
from tests.support.http_server import LoopbackServer

TITLES = [
    "Südkorea: Präsident trifft Kim Jong Un in Panmunjom",
    "김정은 위원장, 트럼프 대통령과 회담",
    "Außenministerin äußert sich zur Lage auf der koreanischen Halbinsel",
]


def _rss(titles: list[str], encoding: str = "utf-8", declare: str | None = None) -> bytes:
    items = "".join(
        f"<item><title>{t}</title><link>https://example.org/{i}</link></item>"
        for i, t in enumerate(titles)
    )
    decl = f'<?xml version="1.0" encoding="{declare or encoding}"?>\n'
    doc = f'{decl}<rss version="2.0"><channel><title>Korea</title>{items}</channel></rss>'
    return doc.encode(encoding)


def test_stray_byte_in_utf8_keeps_every_correct_character() -> None:
    body = _rss(TITLES).replace(b"Panmunjom", b"Panmun\xffjom")
    # the control: feedparser alone falls back to a single-byte codec for the whole feed
    alone = feedparser.parse(io.BytesIO(body), response_headers={"content-type": "text/xml"})
    assert alone.get("encoding") in ("iso-8859-2", "windows-1252")
    assert alone.entries[0].title != TITLES[0]

    parsed = parse_feed(body, url="https://example.org/feed", headers={})
    titles = [e.title for e in parsed.entries]
    assert titles[0] == "Südkorea: Präsident trifft Kim Jong Un in Panmun\ufffdjom"
    assert titles[1:] == TITLES[1:]
    assert parsed.error and "not valid utf-8" in parsed.error
    assert "1 replacement character" in parsed.error


def test_http_charset_wins_and_is_repaired_alike() -> None:
    body = _rss(TITLES, declare="iso-8859-1") + b"\xc3"  # UTF-8 bytes; trailing junk
    parsed = parse_feed(
        body,
        url="https://example.org/feed",
        headers={"Content-Type": "application/rss+xml; charset=UTF-8"},
    )
    assert [e.title for e in parsed.entries] == TITLES
    assert parsed.error and "decoded as utf-8" in parsed.error


def test_latin1_declared_as_utf8_is_guessed_and_said() -> None:
    german = [
        "Südkorea und Nordkorea: Gespräche über Abrüstung in Panmunjom",
        "Außenministerin äußert sich zur Lage; Grüße aus Pjöngjang",
        "Präsident Moon trifft Kim Jong Un – Überraschung für Beobachter",
        "Wirtschaftliche Öffnung? Südkoreas Regierung prüft Hilfen",
    ]
    body = _rss(german, encoding="cp1252", declare="utf-8")
    parsed = parse_feed(body, url="https://example.org/feed", headers={})
    assert [e.title for e in parsed.entries] == german
    assert parsed.error and "(guessed)" in parsed.error


def test_valid_feeds_pass_untouched() -> None:
    for body, headers in [
        (_rss(TITLES), {}),
        (_rss(TITLES[::2], encoding="iso-8859-1"), {}),
        (codecs.BOM_UTF16_LE + _rss(TITLES, encoding="utf-16-le", declare="utf-16"), {}),
        (_rss(TITLES), {"content-type": "application/xml; charset=utf-8"}),
    ]:
        assert repair_charset(body, headers) == (body, None)
    parsed = parse_feed(_rss([TITLES[0]], "iso-8859-1"), url="https://example.org/f", headers={})
    assert parsed.entries[0].title == TITLES[0] and parsed.error is None


def test_declared_charset_order_and_unknown_names() -> None:
    assert (
        declared_charset(codecs.BOM_UTF8 + b"<rss/>", {"content-type": "text/xml; charset=latin-1"})
        == "utf-8"
    )
    assert declared_charset(b"<rss/>", {"content-type": "text/xml; charset=latin-1"}) == "iso8859-1"
    assert declared_charset(b'<?xml version="1.0" encoding="windows-1252"?><rss/>', {}) == "cp1252"
    assert declared_charset(b'<?xml version="1.0" encoding="x-bogus"?><rss/>', {}) == "utf-8"


def test_newsmon_ingest_stores_the_right_titles(tmp_path: Path) -> None:
    """Through the real command: a served UTF-8 feed with one broken byte."""
    with LoopbackServer() as site:
        serve_site(site)
        name = "tagesschau-feed.xml"
        xml = (E2E / name).read_text(encoding="utf-8").replace(PLACEHOLDER, site.base_url)
        xml = xml.replace(
            "Kim Jong-un: Neue Bilder von Nordkoreas Machthaber aufgetaucht",
            "Südkorea: Präsident über Kim Jong-un \x00BROKEN\x00",
        )
        body = xml.encode("utf-8").replace(b"\x00BROKEN\x00", b"\xff")
        site.add_file(f"/feeds/{name}", body, content_type="application/rss+xml", etag="")
        env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSMON_")}
        env.update(
            NEWSMON_HOME=str(tmp_path / "home"),
            NEWSMON_FEEDS=str(write_feed_list(site, tmp_path / "feeds.yaml")),
            NEWSMON_ALLOW_PRIVATE_NETWORKS="127.0.0.0/8",
            NEWSMON_PER_HOST_DELAY="0",
        )
        for args in (["init"], ["ingest"]):
            proc = subprocess.run(
                [sys.executable, "-m", "pipeline", *args],
                env=env,
                cwd=tmp_path,
                capture_output=True,
                text=True,
                timeout=300,
            )
            assert proc.returncode == 0, proc.stderr
    with sqlite3.connect(tmp_path / "home" / "newsmon.db") as conn:
        titles = {t for (t,) in conn.execute("SELECT title FROM entry")}
        notes = [m for (m,) in conn.execute("SELECT error_message FROM feed_attempt") if m]
    assert "Südkorea: Präsident über Kim Jong-un \ufffd" in titles
    assert "Trump: Brief von Kim Jong-un erhalten" in titles
    assert not any("Ã" in t or "Ă" in t for t in titles if t)  # no mojibake anywhere
    assert any("not valid utf-8" in n for n in notes), notes
