"""A digest never lies: failed days warn, days before the first run are not reported as calm,
actors carry the reader's language, counts their right plural. Real SQLite/PostgreSQL rows."""

from __future__ import annotations

import functools
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from pipeline.config import SEEDS_DIR, Settings
from pipeline.digest.build import build_digest
from pipeline.digest.collect import collect_day
from pipeline.digest.deliver import run_digest
from pipeline.digest.model import DailyDigest, Health
from pipeline.digest.render import digest_to_json, render_html, render_text, subject
from pipeline.digest.wording import CALM_WORDS
from pipeline.enrich.gazetteer import Gazetteer
from storage import repo
from storage.db import make_engine, migrate, session_scope
from storage.models import Article, Feed, FeedAttempt, Mention, PipelineRun

TZ = "Europe/Berlin"
DAY = date(2026, 3, 10)
NOON = datetime(2026, 3, 10, 11, 0, tzinfo=UTC)


@functools.cache
def _gazetteer() -> Gazetteer:
    return Gazetteer.load(SEEDS_DIR / "actors.yaml")


@pytest.fixture
def engine(db_url: str) -> Engine:
    eng = make_engine(db_url)
    migrate(eng)
    with session_scope(eng) as s:
        repo.sync_actors(s, _gazetteer().actors.values())
        for i in range(4):
            s.add(Feed(url=f"https://feed{i}.example/rss", name=f"Feed {i}", created_at=NOON))
    yield eng
    eng.dispose()


def _polls(engine: Engine, when: datetime, *, failing: int = 0, kind: str = "HostNotFound") -> None:
    """One ingest pass at ``when``: ``failing`` of the four feeds fail, the rest answer."""
    with session_scope(engine) as s:
        for fid in range(1, 5):
            if fid <= failing:
                s.add(
                    FeedAttempt(
                        feed_id=fid,
                        started_at=when,
                        status="error",
                        error_class=kind,
                        error_message=f"host not found: feed{fid}.example",
                    )
                )
            else:
                s.add(FeedAttempt(feed_id=fid, started_at=when, status="not-modified"))
        counts = {"feeds_polled": 4, "local_outage": int(failing == 4 and kind == "HostNotFound")}
        s.add(PipelineRun(stage="ingest", started_at=when, counts=counts, errors=[]))


def _article(engine: Engine, when: datetime, actor_ids: list[str], *, teaser: bool = False) -> None:
    with session_scope(engine) as s:
        n = len(list(s.exec(Article.__table__.select()))) + 1  # type: ignore[attr-defined]
        art = Article(
            url=f"https://news.example/{n}",
            canonical_url=f"https://news.example/{n}",
            title=f"Kim trifft Moon zum {n}. Mal",
            source="news.example",
            language="de",
            fetched_at=when,
            text="Nordkorea und Südkorea sprechen wieder.",
            relevant=True,
            relevance_score=0.9,
            extraction_method="feed-summary" if teaser else "trafilatura",
        )
        s.add(art)
        s.flush()
        for i, aid in enumerate(actor_ids):
            s.add(Mention(article_id=art.id, actor_id=aid, start=i, end=i + 1, surface=aid))


def _digest(engine: Engine, day: date, language: str = "de") -> DailyDigest:
    with session_scope(engine) as s:
        return build_digest(collect_day(s, day, TZ, language=language), language=language)


def _no_calm_words(*texts: str) -> None:
    for text in texts:
        for word in CALM_WORDS:
            assert word.lower() not in text.lower(), word


def test_quiet_day_is_quiet_only_when_the_monitor_worked(engine: Engine) -> None:
    for h in (6, 12, 18):
        _polls(engine, NOON.replace(hour=h))
    d = _digest(engine, DAY)
    assert d.health.state == "ok" and d.quiet
    assert subject(d, "de") == "Korea-Lage 10.03.2026: ruhiger Tag, keine Meldungen"
    assert render_text(d, "de").splitlines()[3].startswith("Ein ruhiger Tag: newsmon lief")


def test_all_feeds_failing_is_a_failed_day_with_since_when(engine: Engine) -> None:
    _polls(engine, datetime(2026, 3, 9, 17, 0, tzinfo=UTC))  # the last good pass: 18:00 Berlin
    for h in (6, 12, 18):
        _polls(engine, NOON.replace(hour=h), failing=4)
    d = _digest(engine, DAY)
    assert d.health.state == "failed"
    assert set(d.health.failures) == {"no-poll", "most-feeds", "outage"}
    subj = subject(d, "de")
    assert subj.startswith("WARNUNG: Korea-Lage 10.03.2026 unvollständig")
    assert "seit 09.03.2026 18:00" in subj
    text, html = render_text(d, "de"), render_html(d, "de")
    assert text.splitlines()[0] == (
        "!!! WARNUNG: Die Überwachung war an diesem Tag gestört – dieser Bericht ist unvollständig."
    )
    assert "Lokale Netzstörung" in text and "Letzter erfolgreicher Abruf: 09.03.2026 18:00" in text
    assert "Server nicht gefunden" in text  # a sentence, not the class name
    assert "HostNotFound" not in text and "HostNotFound" not in html
    assert 'role="alert"' in html
    _no_calm_words(subj, text, html)
    en = subject(d, "en")
    assert en.startswith("WARNING: Korea briefing 2026-03-10 incomplete") and "quiet" not in en
    assert digest_to_json(d, "de")["state"] == "failed"


def test_a_monitor_that_never_reached_a_feed_says_so_not_since_never(engine: Engine) -> None:
    for h in (6, 12, 18):
        _polls(engine, NOON.replace(hour=h), failing=4)
    d = _digest(engine, DAY)
    assert d.health.last_success is None and "outage" in d.health.failures
    subj = subject(d, "de")
    assert subj.endswith("lokale Netzstörung, noch nie ein Feed erreicht")
    assert subject(d, "en").endswith("local network outage, no feed reached yet")
    for text in (subj, subject(d, "en")):
        assert "seit nie" not in text and "since never" not in text


def test_most_feeds_failing_warns_even_with_stories(engine: Engine) -> None:
    _polls(engine, NOON, failing=3, kind="TransientFetchError")
    _article(engine, NOON, ["Q423"])
    d = _digest(engine, DAY)
    assert d.health.failures == ("most-feeds",) and d.story_count == 1
    assert "3 von 4 Feeds gestört" in subject(d, "de")
    text = render_text(d, "de")
    assert "3 von 4 abgefragten Feeds lieferten Fehler." in text
    assert "weitere können fehlen" in text
    _no_calm_words(text)


def test_no_ingest_run_on_the_day_is_a_failed_day(engine: Engine) -> None:
    _polls(engine, NOON - timedelta(days=2))
    d = _digest(engine, DAY)
    assert d.health.state == "failed" and "no-ingest" in d.health.failures
    assert "Die Abfrage der Feeds lief an diesem Tag nicht." in render_text(d, "de")


def test_day_before_the_first_run_is_not_reported_and_never_sent(
    engine: Engine, tmp_path: Path
) -> None:
    _polls(engine, NOON + timedelta(days=1))  # newsmon's very first pass: the next day
    d = _digest(engine, DAY)
    assert d.health.state == "not-started"
    assert subject(d, "de") == "Korea-Lage 10.03.2026: kein Bericht – newsmon lief noch nicht"
    text = render_text(d, "de")
    assert text.startswith("!!! newsmon lief an diesem Tag noch nicht")
    assert "Zustand der Pipeline" not in text
    _no_calm_words(text, render_html(d, "de"), subject(d, "en"), render_text(d, "en"))
    settings = Settings(
        home=tmp_path,
        database_url=str(engine.url),
        feeds_path=tmp_path,
        actors_path=tmp_path,
        smtp_url="smtp://127.0.0.1:1",  # never contacted
    )
    rep = run_digest(settings, engine, DAY, send=True, recipients=["desk@example.org"])
    assert rep.sent_to == () and rep.failed == () and "not running yet" in rep.notes[0]
    assert (tmp_path / "digests" / "2026-03-10.txt").exists()


def test_first_day_says_when_monitoring_began(engine: Engine) -> None:
    _polls(engine, NOON)
    d = _digest(engine, DAY)
    assert d.health.state == "ok"
    assert "newsmon startete am 10.03.2026 12:00" in render_text(d, "de")


def test_actors_in_the_readers_language(engine: Engine) -> None:
    _polls(engine, NOON)
    ids = ["Q423", "Q884", "Q30", "Q1065", "place:dmz", "org:kor-unification-ministry"]
    _article(engine, NOON, ids)
    de, en = _digest(engine, DAY, "de"), _digest(engine, DAY, "en")
    want_de = [
        "Nordkorea",
        "Südkorea",
        "USA",
        "Vereinte Nationen",
        "Entmilitarisierte Zone",
        "Vereinigungsministerium",
    ]
    assert [a.name for a in de.stories[0].actors] == want_de
    assert "Akteure: " + ", ".join(want_de) in render_text(de, "de")
    assert sorted(a.actor.name for a in de.actors) == sorted(want_de)
    assert [a.name for a in en.stories[0].actors] == [
        "North Korea",
        "South Korea",
        "United States",
        "United Nations",
        "Korean Demilitarized Zone",
        "Ministry of Unification",
    ]
    with session_scope(engine) as s:
        korean = collect_day(s, DAY, TZ, language="ko").articles[0].actors
    assert korean[0].name == "북한"  # Korean stays available


def test_every_gazetteer_entry_with_a_german_alias_has_a_german_name() -> None:
    gaz = _gazetteer()
    for actor in gaz.actors.values():
        if actor.type in ("organisation", "place") and actor.name_de:
            assert actor.name_de != actor.name or actor.name_de in actor.aliases
    assert gaz.actors["Q423"].name_de == "Nordkorea" and gaz.actors["Q884"].name_de == "Südkorea"


@pytest.mark.parametrize(
    ("n", "de", "en"),
    [
        (0, "0 Läufe, 0 Fehler.", "0 runs, 0 errors."),
        (1, "1 Lauf, 1 Fehler.", "1 run, 1 error."),
        (3, "3 Läufe, 3 Fehler.", "3 runs, 3 errors."),
    ],
)
def test_plurals_for_zero_one_and_many(n: int, de: str, en: str) -> None:
    health = Health(seen=n, kept=n, duplicates=n, runs=n or 1, run_errors=n)
    if n == 0:
        de, en = "1 Lauf, 0 Fehler.", "1 run, 0 errors."
    d = DailyDigest(DAY, TZ, (), (), (), (), health, articles=0, repeats_hidden=n)
    text_de, text_en = render_text(d, "de"), render_text(d, "en")
    assert de in text_de and en in text_en
    seen_de = {0: "0 Artikel gesehen", 1: "1 Artikel gesehen", 3: "3 Artikel gesehen"}[n]
    dups_de = {0: "0 Duplikate", 1: "1 Duplikat", 3: "3 Duplikate"}[n]
    assert f"{seen_de}, {n} zum Thema behalten, {dups_de}." in text_de
    dups_en = {0: "0 duplicates", 1: "1 duplicate", 3: "3 duplicates"}[n]
    assert dups_en in text_en
    if n == 1:
        assert "1 Wiederholung eines älteren Artikels" in text_de


def test_story_and_article_counts_agree_in_number(engine: Engine) -> None:
    _polls(engine, NOON)
    _article(engine, NOON, ["Q423"])
    one = _digest(engine, DAY)
    assert "1 Meldung aus 1 Artikel." in render_text(one, "de")
    assert subject(one, "de").startswith("Korea-Lage 10.03.2026: 1 Meldung, 1 Artikel")
    assert "1 story from 1 article." in render_text(one, "en")
    _article(engine, NOON + timedelta(minutes=5), ["Q884"])
    _article(engine, NOON + timedelta(minutes=9), ["Q30"], teaser=True)
    many = _digest(engine, DAY)
    assert "3 Meldungen aus 2 Artikeln (dazu 1 nur als Anreißer)." in render_text(many, "de")


def test_teasers_are_marked_and_not_counted_as_articles(engine: Engine) -> None:
    _polls(engine, NOON)
    _article(engine, NOON, ["Q423"], teaser=True)
    d = _digest(engine, DAY)
    assert d.teasers == 1 and d.full_articles == 0
    [link] = d.stories[0].sources
    assert link.teaser
    text, html = render_text(d, "de"), render_html(d, "de")
    assert "[nur Anreißer]" in text and "nur Anreißer" in html
    assert "[teaser only]" in render_text(d, "en")
