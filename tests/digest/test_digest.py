"""The digest's content: stories from real corpus articles and the seeds in a real SQLite DB."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest

from pipeline.config import SEEDS_DIR, Settings
from pipeline.digest.build import build_digest, lead_of, sentences, trend_of
from pipeline.digest.collect import collect_day
from pipeline.digest.deliver import run_digest, write_atom_feed
from pipeline.digest.model import ArticleItem, DayInput
from pipeline.digest.render import render_html, render_text, subject
from pipeline.windows import day_window
from storage.db import make_engine, migrate, session_scope
from storage.models import Digest
from tests.fixtures.digest import scenario as sc
from tests.support.paths import FIXTURES as FIXTURES_DIR

FIXTURES = FIXTURES_DIR / "digest"


@pytest.fixture()
def env(tmp_path: Path):
    engine = make_engine(f"sqlite:///{tmp_path / 'newsmon.db'}")
    migrate(engine)
    loader = sc.load_scenario(engine, SEEDS_DIR)
    settings = Settings(
        home=tmp_path, database_url=str(engine.url), feeds_path=tmp_path, actors_path=tmp_path
    )
    yield settings, engine, loader
    engine.dispose()


# --- pure parts --------------------------------------------------------------------


def test_trend_compares_with_usual_level() -> None:
    assert trend_of(5, 0.0) == "new"
    assert trend_of(12, 1.0) == "spike"
    assert trend_of(2, 1.0) == "up"
    assert trend_of(3, 3.0) == "steady"
    assert trend_of(0, 4.0) == "down"
    assert trend_of(2, 0.5) != "spike"  # small numbers never shout


def test_sentences_keep_abbreviations_and_ordinals() -> None:
    got = sentences("Die U.S. Navy kam am 3. Januar. Kim sagte „Nein.“ Dann ging er.")
    assert got == ["Die U.S. Navy kam am 3. Januar.", "Kim sagte „Nein.“", "Dann ging er."]


def test_lead_of_seed_skips_dateline_caption_and_bullets() -> None:
    for name in ("000_ed4648256f407bbd.txt", "001_5c9c65ed078379a1.txt"):
        text = (SEEDS_DIR / name).read_text(encoding="utf-8")
        item = ArticleItem(1, "t", "https://x/", "x", datetime(2019, 1, 1, tzinfo=UTC), text=text)
        lead = lead_of(item)
        assert 2 <= len(sentences(lead)) <= 3, lead
        assert not lead.startswith(("date", "Washington")), lead
        assert "(Foto" not in lead and "•" not in lead
        assert len(lead) <= 480


def _item(i: int, source: str, story: int | None, **kw) -> ArticleItem:
    when = datetime(2020, 1, 1, 8, tzinfo=UTC) + timedelta(minutes=i)
    return ArticleItem(
        i,
        f"Title {i}",
        f"https://{source}/{i}",
        source,
        when,
        story_id=story,
        text="Kim Jong Un spoke to the party. He warned the world. It was cold.",
        **kw,
    )


def test_wire_copies_count_once_and_copies_are_also_ran() -> None:
    start, end = day_window(date(2020, 1, 1), "Europe/Berlin")
    arts = (
        # story 1: three outlets printing one agency text + one copy = 1 independent source
        _item(1, "a.de", 1, wire_agencies=("dpa",)),
        _item(2, "b.de", 1, wire_agencies=("dpa",)),
        _item(3, "c.de", 1, wire_agencies=("dpa",)),
        _item(4, "d.de", 1, duplicate_of=1, duplicate_kind="exact"),
        # story 2: two own reports = 2 independent sources -> ranks first
        _item(5, "e.de", 2),
        _item(6, "f.de", 2),
        # a copy of something from an earlier day: nothing new
        _item(7, "g.de", None, duplicate_of=999, duplicate_kind="near"),
    )
    d = build_digest(DayInput(date(2020, 1, 1), "Europe/Berlin", start, end, arts))
    assert [s.key for s in d.stories] == ["s2", "s1"]
    s1 = d.stories[1]
    assert s1.independent_sources == 1
    assert [x.url for x in s1.also_ran] == ["https://d.de/4"]
    assert s1.also_ran[0].kind == "exact"
    assert d.repeats_hidden == 1
    shown = [x.article_id for s in d.stories for x in (*s.sources, *s.also_ran)]
    assert len(shown) == len(set(shown)) == 6  # each article once


# --- from the database ---------------------------------------------------------------


def test_collect_and_build_from_corpus(env) -> None:
    _settings, engine, loader = env
    with session_scope(engine) as s:
        data = collect_day(s, sc.DAY, sc.TIMEZONE)
    d = build_digest(data, language="de")
    ids = {a.id for a in data.articles}
    assert loader.ids["1484277409"] not in ids  # fetched the next day
    assert loader.ids["1483806234"] not in ids  # not about Korea
    assert loader.ids["1483833868"] not in ids  # an earlier day
    assert data.health.seen == 21 and data.health.kept == 19 and data.health.duplicates == 1

    top = d.stories[0]
    assert top.headline == "Nordkorea beendet Verzicht auf Atom- und Raketentests"  # German first
    assert top.independent_sources == 7
    assert [a.outlet for a in top.also_ran] == ["morgenweb.de"]
    assert "Moratorium" in top.lead and len(sentences(top.lead)) >= 2
    assert top.actors[0].id == "kim-jong-un"
    assert [s.score for s in d.stories] == sorted((s.score for s in d.stories), reverse=True)

    follow = {f.key: f.follow_up for f in d.follow_ups}
    seed_story = f"s{loader.stories['seed-letters']}"
    econ = f"s{loader.stories['korea-economy']}"
    assert set(follow) == {seed_story, econ}
    assert follow[seed_story].is_seed and follow[seed_story].earlier_articles == 3
    assert follow[seed_story].when.date() == date(2019, 1, 2)
    assert not follow[econ].is_seed and follow[econ].url.startswith("https://finance.yahoo.com")

    every = [x.article_id for s in (*d.stories, *d.follow_ups) for x in (*s.sources, *s.also_ran)]
    assert len(every) == len(set(every)) == d.articles == 19

    trends = {a.actor.id: a for a in d.actors}
    assert d.actors[0].actor.id in ("kim-jong-un", "kp")
    assert trends["kr"].trend == "spike" and trends["kr"].baseline > 0
    assert [c.name for c in d.candidates] == ["Lee Ju-yeol"]  # Mark Esper is not new today
    assert [f.name for f in d.health.failed_feeds] == ["Yonhap North Korea"]
    assert [f.name for f in d.health.quiet_feeds] == ["KCNA Watch"]
    assert d.health.not_extracted == 1 and d.health.run_errors == 1


def test_text_and_html_in_both_languages(env) -> None:
    _settings, engine, _ = env
    with session_scope(engine) as s:
        d = build_digest(collect_day(s, sc.DAY, sc.TIMEZONE))
    de_txt, en_txt = render_text(d, "de"), render_text(d, "en")
    assert "Mittwoch, 1. Januar 2020" in de_txt and "Fortsetzungen" in de_txt
    assert "Wednesday, 1 January 2020" in en_txt and "Follow-ups" in en_txt
    assert "Schließt an" in de_txt and "Continues" in en_txt
    assert "Stille Feeds" in de_txt and "Quiet feeds" in en_txt
    # the plain-text part must read on its own: one actor per line
    actor_lines = [line for line in de_txt.splitlines() if "(üblich" in line]
    assert len(actor_lines) == len(d.actors) and all(
        line.count("(üblich") == 1 for line in actor_lines
    )
    assert all(len(line) <= 998 for line in de_txt.splitlines())  # RFC 5322 line limit
    html = render_html(d, "en")
    assert html.startswith("<!DOCTYPE html>") and 'lang="en"' in html
    assert "prefers-color-scheme: dark" in html and "<img" not in html
    assert "src=" not in html and "@import" not in html  # no external resources
    assert subject(d, "de").startswith("Korea-Lage 01.01.2020: 7 Meldungen, 19 Artikel – ")


def test_run_digest_writes_files_and_atom(env) -> None:
    settings, engine, _ = env
    rep = run_digest(settings, engine, sc.DAY)
    out = settings.home / "digests"
    assert {p.name for p in rep.written} == {
        "2020-01-01.html",
        "2020-01-01.txt",
        "2020-01-01.json",
        "feed.atom",
    }
    payload = json.loads((out / "2020-01-01.json").read_text(encoding="utf-8"))
    assert payload["story_count"] == rep.stories == 7 and payload["articles"] == 19
    # a day without any ingest run still gets a digest, and it warns instead of calming
    blind = run_digest(settings, engine, date(2020, 1, 5))
    assert blind.stories == 0
    text = (out / "2020-01-05.txt").read_text(encoding="utf-8")
    assert text.startswith("!!! WARNUNG") and "ruhig" not in text
    ns = {"a": "http://www.w3.org/2005/Atom"}
    feed = ET.parse(out / "feed.atom").getroot()
    ids = [e.findtext("a:id", namespaces=ns) for e in feed.findall("a:entry", ns)]
    assert ids == ["urn:newsmon:digest:2020-01-05", "urn:newsmon:digest:2020-01-01"]
    assert write_atom_feed(out, sc.TIMEZONE, limit=1)
    assert len(ET.parse(out / "feed.atom").getroot().findall("a:entry", ns)) == 1
    with session_scope(engine) as s:
        row = s.get(Digest, 1)
        assert row is not None and row.recipient == "" and row.status == "written"
        assert row.stories == 7


def test_send_without_smtp_writes_and_records(env) -> None:
    settings, engine, _ = env
    rep = run_digest(settings, engine, sc.DAY, send=True, recipients=["a@example.org"])
    assert rep.sent_to == () and rep.failed == ()
    assert any("SMTP not configured" in n for n in rep.notes)
    with session_scope(engine) as s:
        from sqlmodel import select

        row = s.exec(select(Digest).where(Digest.recipient == "a@example.org")).one()
        assert row.status == "written" and row.send_count == 0
