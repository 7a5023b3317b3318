"""Storage on both databases: migrations, natural keys, idempotent upserts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from threading import Barrier, Thread

import pytest
from sqlalchemy import inspect, text
from sqlmodel import Session, func, select

from pipeline.errors import DatabaseRefused, DatabaseUnavailable
from storage import repo
from storage.db import check_connection, make_engine, migrate, session_scope
from storage.models import Article, Digest, Entry, Feed

NOW = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)


@dataclass(frozen=True)
class _Src:
    name: str
    url: str
    language: str | None = "de"
    outlet: str | None = None
    tags: tuple[str, ...] = ()
    sitemap: str | None = None
    poll_minutes: int | None = None


def test_migrate_creates_schema_and_is_idempotent(db_url: str) -> None:
    engine = make_engine(db_url)
    migrate(engine)
    migrate(engine)
    tables = set(inspect(engine).get_table_names())
    assert {"feed", "article", "entry", "actor", "mention", "digest", "lsh_band"} <= tables
    with engine.connect() as conn:
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
    engine.dispose()


def test_sqlite_runs_in_wal_mode(sqlite_url: str) -> None:
    engine = make_engine(sqlite_url)
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    engine.dispose()


def test_insert_ignore_keeps_one_row_per_natural_key(db_url: str) -> None:
    engine = make_engine(db_url)
    migrate(engine)
    values = {
        "url": "https://example.org/a",
        "status": "pending",
        "attempts": 0,
        "first_seen_at": NOW,
        "source": "feed",
    }
    with session_scope(engine) as s:
        assert repo.add_entry(s, values) is True
        assert repo.add_entry(s, values) is False
    with session_scope(engine) as s:
        assert repo.add_entry(s, {**values, "title": "other"}) is False
        assert s.exec(select(func.count()).select_from(Entry)).one() == 1
    engine.dispose()


def test_article_url_is_unique(db_url: str) -> None:
    engine = make_engine(db_url)
    migrate(engine)
    with session_scope(engine) as s:
        s.add(Article(url="https://x.org/1", canonical_url="https://x.org/1", fetched_at=NOW))
    with pytest.raises(Exception), session_scope(engine) as s:  # noqa: B017 - IntegrityError per dialect
        s.add(Article(url="https://x.org/1", canonical_url="https://x.org/1", fetched_at=NOW))
    with Session(engine) as s:
        assert s.exec(select(func.count()).select_from(Article)).one() == 1
    engine.dispose()


def test_sync_feeds_keeps_state_and_disables_removed(db_url: str) -> None:
    engine = make_engine(db_url)
    migrate(engine)
    a, b = _Src("A", "https://a.example/rss"), _Src("B", "https://b.example/rss")
    with session_scope(engine) as s:
        repo.sync_feeds(s, [a, b])
    with session_scope(engine) as s:
        feed = s.exec(select(Feed).where(Feed.url == a.url)).one()
        feed.etag = '"v1"'
        s.add(feed)
    with session_scope(engine) as s:
        repo.sync_feeds(s, [_Src("A renamed", a.url)])
    with Session(engine) as s:
        feeds = {f.url: f for f in s.exec(select(Feed))}
    assert len(feeds) == 2
    assert feeds[a.url].name == "A renamed" and feeds[a.url].etag == '"v1"'
    assert not feeds[b.url].enabled and feeds[b.url].disabled_reason == "removed from feed list"
    engine.dispose()


def test_digest_record_is_one_row_under_concurrency(db_url: str) -> None:
    engine = make_engine(db_url)
    migrate(engine)
    barrier = Barrier(4)
    errors: list[BaseException] = []

    def claim() -> None:
        try:
            barrier.wait()
            with session_scope(engine) as s:
                repo.digest_record(s, date(2026, 11, 19), "desk@example.org")
        except BaseException as exc:  # collected and re-raised in the main thread
            errors.append(exc)

    threads = [Thread(target=claim) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    with Session(engine) as s:
        assert s.exec(select(func.count()).select_from(Digest)).one() == 1
    engine.dispose()


def test_unreachable_database_gives_one_line_error() -> None:
    engine = make_engine("postgresql://postgres@127.0.0.1:1/nothing")
    with pytest.raises(DatabaseUnavailable) as info:
        check_connection(engine)
    assert "database unreachable" in str(info.value) and "\n" not in str(info.value)


def test_bad_url_is_a_storage_error() -> None:
    with pytest.raises(DatabaseRefused):
        make_engine("not a url at all")


def test_enrichment_lock_serialises_workers_on_postgresql(pg_url: str) -> None:
    """A second worker's duplicate/story decisions wait for the first one's commit."""
    import threading
    import time

    engine = make_engine(pg_url)
    migrate(engine)
    first_locked = threading.Event()
    order: list[str] = []

    def first() -> None:
        with session_scope(engine) as s:
            repo.serialize_enrichment(s)
            first_locked.set()
            time.sleep(0.3)  # the second worker is blocked meanwhile, whatever this costs
            order.append("first commits")

    def second() -> None:
        first_locked.wait(10)
        with session_scope(engine) as s:
            repo.serialize_enrichment(s)
            order.append("second decides")

    threads = [Thread(target=first), Thread(target=second)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(20)
    engine.dispose()
    assert order == ["first commits", "second decides"]


def test_date_doubtful_is_stored_and_exported(db_url: str) -> None:
    from storage.export import export_row

    engine = make_engine(db_url)
    migrate(engine)
    with session_scope(engine) as s:
        for url, doubtful in (("https://example.org/d1", True), ("https://example.org/d2", False)):
            s.add(
                Article(
                    url=url,
                    canonical_url=url,
                    fetched_at=NOW,
                    published_at=NOW,
                    date_source="meta",
                    date_doubtful=doubtful,
                )
            )
    with session_scope(engine) as s:
        rows = {a.url: export_row(a, [], with_text=False) for a in s.exec(select(Article)).all()}
    assert rows["https://example.org/d1"]["date_doubtful"] is True
    assert rows["https://example.org/d2"]["date_doubtful"] is False
    with engine.connect() as conn:  # the migration's server default fills rows written by SQL
        conn.execute(
            text(
                "INSERT INTO article (url, canonical_url, fetched_at, is_seed, text, text_chars,"
                " text_hash, wire_agencies, relevant, relevance_score, relevance_evidence)"
                " VALUES ('https://example.org/d3', 'https://example.org/d3', :now, false, '', 0,"
                " '', '[]', false, 0, '[]')"
            ),
            {"now": NOW},
        )
        conn.commit()
        value = conn.execute(
            text("SELECT date_doubtful FROM article WHERE url = 'https://example.org/d3'")
        ).scalar()
    assert value in (False, 0)
    engine.dispose()
