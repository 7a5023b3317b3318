"""Two ingest runs at once over one database: no duplicates, no failed run.

Airflow may start a second ingest while the first still runs (a slow pass
overlapping the next schedule, a manual trigger, two shards of one feed list
after a config change). Both runs poll the same feeds, queue the same links
and race to store the same pages. On PostgreSQL they run truly in parallel;
on SQLite the second writer waits for the first (BEGIN IMMEDIATE with a busy
timeout). Either way both runs must succeed and every page is stored once.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlmodel import Session, col, select

from pipeline import stages
from pipeline.config import Settings
from pipeline.report import StageReport
from storage.db import make_engine
from storage.models import Article, Entry
from tests.support.faulty_site import FaultySite, store_problems
from tests.support.http_server import LoopbackServer
from tests.support.paths import ROOT

T0 = datetime(2026, 3, 2, 6, 0, tzinfo=UTC)


def _check_store(cfg: Settings, site: FaultySite) -> int:
    engine = make_engine(cfg.database_url)
    try:
        assert store_problems(engine) == []
        with Session(engine) as s:
            urls = sorted(
                a.url for a in s.exec(select(Article).where(col(Article.is_seed).is_(False)))
            )
            assert all(e.status == "done" for e in s.exec(select(Entry)))
    finally:
        engine.dispose()
    assert urls == sorted(site.page_urls)
    return len(urls)


@pytest.mark.slow
def test_two_ingest_runs_at_once_in_threads(
    settings: Settings, db_url: str, tmp_path: Path
) -> None:
    with LoopbackServer() as srv:
        site = FaultySite(srv, feeds=2, pages_per_feed=6, fault_rate=0.0)
        cfg = settings.with_overrides(
            database_url=db_url,
            feeds_path=site.write_feed_list(tmp_path / "feeds.yaml"),
            fetch=replace(settings.fetch, per_host_connections=8),
        )
        stages.init(cfg)
        barrier = threading.Barrier(2)
        reports: list[StageReport] = []
        failures: list[BaseException] = []

        def run() -> None:
            barrier.wait()
            try:
                reports.append(stages.ingest(cfg, now=T0))
            except BaseException as exc:
                failures.append(exc)

        threads = [threading.Thread(target=run) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=300)
        assert not failures, failures
        assert len(reports) == 2
        for r in reports:
            assert not [e for e in r.errors if "Database" in e["kind"]], r.errors
        stored = sum(r.counts.get("articles_stored", 0) for r in reports)
        n = _check_store(cfg, site)
    assert stored == n  # each page stored by exactly one of the two runs
    print(
        f"\nFIGURES concurrent-threads: db={db_url.split(':')[0]} pages={n} "
        f"stored={[r.counts.get('articles_stored', 0) for r in reports]}"
    )


@pytest.mark.slow
def test_two_ingest_processes_at_once_on_sqlite(
    settings: Settings, sqlite_url: str, tmp_path: Path
) -> None:
    """Two `python -m pipeline ingest` processes on one SQLite file: the second waits."""
    db_url = sqlite_url
    with LoopbackServer() as srv:
        site = FaultySite(srv, feeds=2, pages_per_feed=6, fault_rate=0.0)
        feeds = site.write_feed_list(tmp_path / "feeds.yaml")
        env = {
            **os.environ,
            "NEWSMON_HOME": str(tmp_path / "home"),
            "NEWSMON_DATABASE_URL": db_url,
            "NEWSMON_FEEDS": str(feeds),
            "NEWSMON_ALLOW_PRIVATE_NETWORKS": "127.0.0.1/32",
            "NEWSMON_PER_HOST_DELAY": "0",
        }
        cfg = Settings.from_env(env)
        stages.init(cfg)
        procs = [
            subprocess.Popen(
                [sys.executable, "-m", "pipeline", "ingest"],
                cwd=ROOT,
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for _ in range(2)
        ]
        outs = [p.communicate(timeout=300) for p in procs]
        for p, (_, err) in zip(procs, outs, strict=True):
            assert p.returncode == 0, err
            assert "Traceback" not in err, err
        n = _check_store(cfg, site)
    print(
        f"\nFIGURES concurrent-processes: db={db_url.split(':')[0]} pages={n} "
        f"summaries={[e.strip().splitlines()[-1] for _, e in outs]}"
    )


def test_two_writers_meeting_the_same_new_actor(pg_url: str) -> None:
    """Regression: sync_actors inserted blindly, so the second of two concurrent
    transactions naming the same new actor failed with a unique violation."""
    from dataclasses import dataclass

    from storage import repo
    from storage.db import migrate, session_scope
    from storage.models import Actor

    @dataclass(frozen=True)
    class A:
        id: str
        name: str
        type: str
        country: str | None

    engine = make_engine(pg_url)
    migrate(engine)
    errors: list[BaseException] = []
    first_inserted = threading.Event()
    release_first = threading.Event()

    def first() -> None:
        with session_scope(engine) as s:
            repo.sync_actors(s, [A("kim-jong-un", "Kim Jong Un", "person", "PRK")])
            first_inserted.set()
            release_first.wait(10)

    def second() -> None:
        first_inserted.wait(10)
        try:
            with session_scope(engine) as s:  # blocks on the first's uncommitted row
                repo.sync_actors(
                    s,
                    [
                        A("moon-jae-in", "Moon Jae-in", "person", "KOR"),
                        A("kim-jong-un", "Kim Jong Un", "person", "PRK"),
                    ],
                )
        except BaseException as exc:
            errors.append(exc)

    t1, t2 = threading.Thread(target=first), threading.Thread(target=second)
    t1.start()
    t2.start()
    first_inserted.wait(10)
    threading.Event().wait(0.5)  # let the second writer reach the conflicting row
    release_first.set()
    t1.join(30)
    t2.join(30)
    with Session(engine) as s:
        ids = sorted(a.id for a in s.exec(select(Actor)))
    engine.dispose()
    assert not errors, errors
    assert ids == ["kim-jong-un", "moon-jae-in"]
