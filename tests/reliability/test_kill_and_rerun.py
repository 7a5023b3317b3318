"""SIGKILL an ingest process at seeded random moments, then re-run: nothing lost, doubled or torn.

Each round runs ``python -m pipeline ingest`` as a real subprocess against a
loopback site (each round adds one feed, so it has fresh work), kills it with
SIGKILL at a seeded random point (during start-up, after k pages were served,
or after k articles were stored) and checks what a reader sees right then:
no duplicate rows, no article whose text and hash disagree or that lacks
its enrichment, no 'done' entry without its article, no mention of a
missing article. Then the next scheduled pass runs
(ingest + process_pending, as the Airflow DAG does, an hour later) and every
page must be stored exactly once.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from pipeline import stages
from pipeline.config import Settings
from storage.db import make_engine
from storage.models import Article, Entry
from tests.support.faulty_site import FaultySite, store_problems
from tests.support.http_server import LoopbackServer
from tests.support.paths import ROOT

FEEDS, PAGES = 4, 5
#: Kill points per round, drawn from a seeded generator: ("start", seconds after
#: launch), ("fetch", pages served), ("store", articles stored in this round).
SEEDS = {"sqlite": 5, "postgresql": 6}
PLANS = {"sqlite": ("fetch", "store", "store"), "postgresql": ("start", "store")}


def _kill_point(rng: random.Random, kind: str) -> tuple[str, float]:
    if kind == "start":
        return kind, round(rng.uniform(0.3, 3.0), 2)
    return kind, rng.randint(1, PAGES - 1)


def _stored(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(
            conn.execute(text("SELECT COUNT(*) FROM article WHERE NOT is_seed")).scalar_one()
        )


def _run_and_kill(
    env: dict[str, str], point: tuple[str, float], site: FaultySite, engine: Engine, base: int
) -> tuple[bool, int]:
    """Start `python -m pipeline ingest`; SIGKILL it at ``point``. (killed?, stored then)."""
    kind, value = point
    served = site.page_requests
    proc = subprocess.Popen(
        [sys.executable, "-m", "pipeline", "ingest"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    started = time.monotonic()
    killed = False
    try:
        while proc.poll() is None:
            if kind == "start":
                hit = time.monotonic() - started >= value
            elif kind == "fetch":
                hit = site.page_requests - served >= value
            else:
                hit = _stored(engine) - base >= value
            if hit:
                proc.send_signal(signal.SIGKILL)
                killed = True
                break
            time.sleep(0.02)
        proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.stderr is not None
    err = proc.stderr.read().decode("utf-8", "replace")
    proc.stderr.close()
    assert killed or proc.returncode == 0, err
    assert "Traceback" not in err, err
    return killed, _stored(engine)


def _write_feeds(site: FaultySite, path: Path, n: int) -> None:
    lines = ["feeds:"]
    for i, url in enumerate(site.feed_urls[:n]):
        lines += [f"  - name: Testzeitung {i}", f"    url: {url}"]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


@pytest.mark.slow
def test_sigkill_during_ingest_then_rerun(db_url: str, tmp_path: Path) -> None:
    kind = "sqlite" if db_url.startswith("sqlite") else "postgresql"
    rng = random.Random(SEEDS[kind])
    plan = [_kill_point(rng, k) for k in PLANS[kind]]
    feeds = tmp_path / "feeds.yaml"
    log: list[tuple[tuple[str, float], bool, int]] = []
    with LoopbackServer() as srv:
        site = FaultySite(srv, feeds=FEEDS, pages_per_feed=PAGES, fault_rate=0.0)
        env = {
            **os.environ,
            "NEWSMON_HOME": str(tmp_path / "home"),
            "NEWSMON_DATABASE_URL": db_url,
            "NEWSMON_FEEDS": str(feeds),
            "NEWSMON_ALLOW_PRIVATE_NETWORKS": "127.0.0.1/32",
            "NEWSMON_PER_HOST_DELAY": "0",
        }
        _write_feeds(site, feeds, 1)
        cfg = Settings.from_env(env)
        stages.init(cfg)
        engine = make_engine(db_url)
        # the watcher reads without newsmon's SQLite BEGIN IMMEDIATE hook, so that
        # polling for progress never takes the write lock from the process under test
        watcher = create_engine(db_url)
        try:
            for r, point in enumerate(plan):
                # each round adds a feed, so the killed run has fresh work (new feeds are due)
                _write_feeds(site, feeds, min(r + 1, FEEDS))
                base = _stored(watcher)
                killed, stored = _run_and_kill(env, point, site, watcher, base)
                log.append((point, killed, stored))
                assert store_problems(engine) == [], (point, stored)

            # the next scheduled pass, an hour later, over the whole feed list
            _write_feeds(site, feeds, FEEDS)
            later = datetime.now(UTC) + timedelta(hours=1)
            stages.ingest(cfg, now=later)
            stages.process_pending(cfg, now=later)
            assert store_problems(engine) == []
            with Session(engine) as s:
                urls = sorted(
                    a.url for a in s.exec(select(Article).where(col(Article.is_seed).is_(False)))
                )
                statuses = {e.status for e in s.exec(select(Entry))}
        finally:
            engine.dispose()
            watcher.dispose()
    assert urls == sorted(site.page_urls)
    assert statuses == {"done"}
    assert sum(1 for _, killed, _ in log if killed) >= len(plan) - 1, log
    print(
        f"\nFIGURES kill: db={kind} rounds={log} pages={len(site.page_urls)} "
        "lost=0 duplicates=0 torn=0"
    )
