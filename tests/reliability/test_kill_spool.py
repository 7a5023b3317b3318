"""SIGKILL an ingest between download and store: the re-run fetches only what was in flight.

The database's write lock is held by the test while the run is fetching, so
its writer (and its claimer) wait while downloads carry on into the spool;
then the run is killed. Every page whose body had reached the spool must be
stored by the next run without being requested again, the killed run's claims
must not hold the next run back (its process is gone), and in all at most the
pages in flight (the fetch concurrency) are downloaded twice.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlmodel import Session, col, select

from pipeline import stages
from pipeline.config import Settings
from storage.db import make_engine
from storage.models import Article, Entry
from tests.support.faulty_site import FaultySite, store_problems
from tests.support.http_server import LoopbackServer
from tests.support.paths import ROOT
from tests.support.polling import wait_until

CONCURRENCY = 3


@pytest.mark.slow
def test_kill_between_fetch_and_store_loses_only_pages_in_flight(
    sqlite_url: str, tmp_path: Path
) -> None:
    db_path = sqlite_url.removeprefix("sqlite:///")
    feeds = tmp_path / "feeds.yaml"
    home = tmp_path / "home"
    spool_dir = home / "spool"
    with LoopbackServer() as srv:
        site = FaultySite(srv, feeds=2, pages_per_feed=6, fault_rate=0.0)
        site.write_feed_list(feeds)
        env = {
            **os.environ,
            "NEWSMON_HOME": str(home),
            "NEWSMON_DATABASE_URL": sqlite_url,
            "NEWSMON_FEEDS": str(feeds),
            "NEWSMON_ALLOW_PRIVATE_NETWORKS": "127.0.0.1/32",
            "NEWSMON_PER_HOST_DELAY": "0",
            "NEWSMON_WORKERS": "1",
            "NEWSMON_PAGE_CONCURRENCY": str(CONCURRENCY),
        }
        cfg = Settings.from_env(env)
        stages.init(cfg)
        proc = subprocess.Popen(
            [sys.executable, "-m", "pipeline", "ingest"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        lock = sqlite3.connect(db_path, isolation_level=None, timeout=30)
        try:
            assert wait_until(lambda: site.page_requests >= 1, 60), "the run fetched nothing"
            lock.execute("BEGIN IMMEDIATE")  # the run's writer waits from here on
            assert wait_until(lambda: len(list(spool_dir.glob("*.page"))) >= 2, 30)
            time.sleep(0.3)  # let downloads in flight land, or not: either is fine
            proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=30)
            spooled = {int(p.stem) for p in spool_dir.glob("*.page")}
        finally:
            if lock.in_transaction:
                lock.rollback()
            lock.close()
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        requests_before = dict(site._seen)

        # the next scheduled pass, at once: the killed run's claims must not block it
        later = datetime.now(UTC) + timedelta(minutes=30)
        report = stages.ingest(cfg, now=later)
        engine = make_engine(sqlite_url)
        try:
            assert store_problems(engine) == []
            with Session(engine) as s:
                urls = sorted(
                    a.url for a in s.exec(select(Article).where(col(Article.is_seed).is_(False)))
                )
                entries = {e.id: e for e in s.exec(select(Entry))}
        finally:
            engine.dispose()
    assert urls == sorted(site.page_urls)
    assert {e.status for e in entries.values()} == {"done"}
    assert report.counts["pages_from_spool"] == len(spooled)
    for entry_id in spooled:
        path = "/" + entries[entry_id].url.split("/", 3)[3]
        assert site._seen[path] == 1, f"{path} was fetched again although spooled"
    refetched = sum(site._seen.values()) - len(site.page_urls)
    assert refetched <= CONCURRENCY, (refetched, requests_before)
    assert list(spool_dir.glob("*.page")) == []
    print(
        f"\nFIGURES kill-spool: pages={len(site.page_urls)} spooled_at_kill={len(spooled)} "
        f"refetched={refetched}"
    )
