"""The page queue on both databases: per-feed cut, claims with a lease, backlog."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime, timedelta
from threading import Barrier, Thread

from sqlalchemy.engine import Engine
from sqlmodel import select

from storage import queue, repo
from storage.db import session_scope
from storage.models import Entry, Feed

NOW = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)
LEASE = timedelta(minutes=15)


def _feeds_with_entries(engine: Engine, sizes: dict[str, int]) -> dict[str, int]:
    """One feed per name with ``n`` pending entries each; returns feed ids by name."""
    ids: dict[str, int] = {}
    with session_scope(engine) as s:
        for name, n in sizes.items():
            feed = Feed(url=f"https://{name}.example/rss", name=name, created_at=NOW)
            s.add(feed)
            s.flush()
            assert feed.id is not None
            ids[name] = feed.id
            for i in range(n):
                repo.add_entry(
                    s,
                    {
                        "url": f"https://{name}.example/a{i}",
                        "feed_id": feed.id,
                        "status": "pending",
                        "attempts": 0,
                        "source": "feed",
                        "first_seen_at": NOW,
                    },
                )
    return ids


def test_due_candidates_cut_each_feed_at_its_budget(engine: Engine) -> None:
    ids = _feeds_with_entries(engine, {"flood": 500, "small": 3})
    with session_scope(engine) as s:
        cands = queue.due_candidates(s, NOW, per_feed=20)
    by_feed = {fid: [c for c in cands if c.feed_id == fid] for fid in ids.values()}
    assert len(by_feed[ids["flood"]]) == 20
    assert len(by_feed[ids["small"]]) == 3
    # oldest first within a feed, ranks 1..n
    assert [c.rank for c in by_feed[ids["flood"]]] == list(range(1, 21))


def test_a_claimed_entry_is_skipped_until_its_lease_lapses(engine: Engine) -> None:
    _feeds_with_entries(engine, {"a": 4})
    with session_scope(engine) as s:
        all_ids = [c.id for c in queue.due_candidates(s, NOW, per_feed=10)]
        won = queue.claim(s, all_ids[:2], "host:1:one", NOW, NOW + LEASE)
    assert [e.id for e in won] == all_ids[:2]
    with session_scope(engine) as s:
        # a second run sees only the unclaimed ones, and cannot claim the others
        assert [c.id for c in queue.due_candidates(s, NOW, per_feed=10)] == all_ids[2:]
        second = queue.claim(s, all_ids, "host:2:two", NOW, NOW + LEASE)
        assert [e.id for e in second] == all_ids[2:]
        assert {e.claimed_by for e in s.exec(select(Entry))} == {"host:1:one", "host:2:two"}
    later = NOW + LEASE + timedelta(seconds=1)
    with session_scope(engine) as s:
        # the first run's lease lapsed: its pages can be taken over
        taken = queue.claim(s, all_ids[:2], "host:3:three", later, later + LEASE)
    assert [e.id for e in taken] == all_ids[:2]


def test_two_concurrent_claimers_never_win_the_same_entry(engine: Engine) -> None:
    _feeds_with_entries(engine, {"a": 60})
    with session_scope(engine) as s:
        ids = [c.id for c in queue.due_candidates(s, NOW, per_feed=100)]
    barrier = Barrier(2)
    won: dict[str, list[int]] = {}

    def run(owner: str) -> None:
        barrier.wait()
        got: list[int] = []
        for i in range(0, len(ids), 7):
            with session_scope(engine) as s:
                got += [e.id or 0 for e in queue.claim(s, ids[i : i + 7], owner, NOW, NOW + LEASE)]
        won[owner] = got

    threads = [Thread(target=run, args=(f"host:{n}:x",)) for n in (1, 2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    a, b = won["host:1:x"], won["host:2:x"]
    assert not set(a) & set(b)
    assert sorted(a + b) == sorted(ids)


def test_claims_of_a_dead_local_process_are_freed(engine: Engine) -> None:
    _feeds_with_entries(engine, {"a": 3})
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        check=True,
        capture_output=True,
        text=True,
    )
    dead_owner = queue.owner_name().rsplit(":", 2)[0] + f":{int(dead.stdout)}:gone"
    alive_owner = queue.owner_name() + "mine"
    with session_scope(engine) as s:
        ids = [c.id for c in queue.due_candidates(s, NOW, per_feed=10)]
        queue.claim(s, ids[:2], dead_owner, NOW, NOW + LEASE)
        queue.claim(s, ids[2:], alive_owner, NOW, NOW + LEASE)
    with session_scope(engine) as s:
        assert queue.release_dead_local_claims(s, NOW) == 2
    with session_scope(engine) as s:
        claimed = {e.id: e.claimed_by for e in s.exec(select(Entry))}
    assert claimed == {ids[0]: None, ids[1]: None, ids[2]: alive_owner}


def test_backlog_counts_due_and_waiting_pages_per_feed(engine: Engine) -> None:
    ids = _feeds_with_entries(engine, {"a": 5, "b": 2})
    with session_scope(engine) as s:
        rows = list(s.exec(select(Entry).where(Entry.feed_id == ids["a"]).order_by(Entry.id)))
        rows[0].status = "done"
        rows[1].status, rows[1].next_attempt_at = "failed", NOW + timedelta(hours=2)
        for r in rows[:2]:
            s.add(r)
    with session_scope(engine) as s:
        backlog = queue.backlog_by_feed(s, NOW)
        assert queue.open_count(s, NOW) == 6
        assert queue.open_count(s, NOW, due_only=True) == 5
    assert (backlog[ids["a"]].due, backlog[ids["a"]].waiting) == (3, 1)
    assert backlog[ids["b"]].total == 2
