"""Story assignment benchmark: assign_story p50/p95 with 1k, 10k and 100k relevant articles.

The window is filled directly in the real schema (storage.db.migrate) with
what assignment reads: story rows with their stored profiles, the story_key
index and term_stat. Synthetic articles come from real texts: each is one of
the SemEval/seed texts of tests/fixtures/dedup (features computed once by
the real code) plus the distinctive words and names of its synthetic event
(ten articles per event), so stories share the real Korea vocabulary and
differ by their event words, as real stories do. Then real articles (real
text + an event's words, half of them of a stored event, half new) go
through story_assign.assign_story, each timed. The same probes run against
the previous design (compare with the 400 most recent articles, features
recomputed from text) at 1k as the baseline. Prints figures; asserts nothing.

With --statements, also counts the SQL statements each assignment sends
(cursor executions: load-independent), prints the costliest kinds with their
mean time per assignment, and the CPU time of an assignment: this process's
plus, on PostgreSQL, the server backend's (Linux /proc/<pid>/schedstat). On a
machine shared with other work the wall times grow with the load; the CPU
times much less, and wall time on an idle machine is about CPU time plus
the round trips' latency.

Usage: .venv/bin/python bench/bench_stories.py [--sizes 1000,10000,100000]
       [--backends sqlite,postgresql] [--pg postgresql://postgres@127.0.0.1:5432/test]
       [--statements]
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import event, insert, text
from sqlalchemy.engine import Engine
from sqlmodel import Session

from pipeline.enrich import story_assign
from pipeline.enrich import story_profile as sp
from pipeline.enrich import story_similarity as similarity
from storage.db import make_engine, migrate
from storage.models import Article, Story, StoryKey, TermStat

ROOT = Path(__file__).resolve().parents[1]
T0 = datetime(2026, 1, 1, tzinfo=UTC)
PER_EVENT = 10
PROBES = 100


def base_texts() -> list[tuple[str, str, str]]:
    docs = json.loads((ROOT / "tests/fixtures/dedup/articles.json").read_text("utf-8"))
    return [(d["title"] or "", d["text"], d["lang"] or "en") for d in docs if len(d["text"]) > 800]


def event_words(e: int) -> str:
    # four invented rare words and a two-part name per event
    return f" Evword{e}a evword{e}b Evword{e}c evword{e}d Ort{e}burg Minister Name{e}son. "


def with_event(base: similarity.StoryFeatures, e: int) -> similarity.StoryFeatures:
    """features(title + event_words(e), text + event_words(e)) from the base text's features.

    The event words are separate tokens, so the features of the whole are those of the
    base text plus those of the words (twice in the body, once in the title): computing
    them this way makes the 100k fill take minutes instead of hours.
    """
    ew = event_words(e)
    extra = similarity.features(ew, ew, lang=base.lang)
    terms = Counter(base.terms)
    terms.update(extra.terms)
    return similarity.StoryFeatures(
        terms=dict(terms),
        names=base.names | extra.names,
        numbers=base.numbers | extra.numbers,
        title=base.title | extra.title,
        lang=base.lang,
    )


_ROWS: dict[tuple[int, int], Any] = {}


def rows_for(start: int, stop: int, bases: list[Any]) -> Any:
    """Story rows, key rows and term counts of synthetic articles start..stop-1 (memoised:
    each backend gets the same rows)."""
    if (start, stop) in _ROWS:
        return _ROWS[(start, stop)]
    feats = [similarity.features(t, x, lang=lang) for t, x, lang in bases]
    df: Counter[str] = Counter()
    stories: list[dict[str, Any]] = []
    keys: set[tuple[int, int]] = set()
    idf = sp.idf_from({}, 10**6)  # the filler's weights: rare everywhere (cheap, deterministic)
    for e in range(start // PER_EVENT, stop // PER_EVENT):
        profile = sp.Profile()
        sid = e + 1
        for m in range(PER_EVENT):
            f = with_event(feats[(e * 7 + m) % len(bases)], e)
            vec = sp.vector(f, idf)
            profile = sp.add(profile, f, vec)
            df.update(sp.stat_terms(f))
            keys.update((sp.key_hash(k), sid) for k in sp.index_keys(f, vec, idf))
        when = T0 + timedelta(minutes=(e * 4) % (3 * 24 * 60))
        stories.append(
            {
                "id": sid,
                "title": f"event {e}",
                "first_seen_at": when,
                "last_seen_at": when,
                "members": PER_EVENT,
                "profile": profile.to_json(),
            }
        )
    df[""] = stop - start
    _ROWS[(start, stop)] = (stories, keys, df)
    return _ROWS[(start, stop)]


def fill(engine: Engine, start: int, stop: int, bases: list[Any]) -> None:
    """Stories (and their keys, statistics) for synthetic articles start..stop-1."""
    stories, keys, df = rows_for(start, stop, bases)
    with Session(engine) as s:
        s.execute(insert(Story), stories)
        rows = [{"key": k, "story_id": sid} for k, sid in sorted(keys)]
        for i in range(0, len(rows), 20_000):
            s.execute(insert(StoryKey), rows[i : i + 20_000])
        table = TermStat.__table__  # type: ignore[attr-defined]
        existing = {t: d for t, d in s.execute(text("SELECT term, df FROM term_stat")).all()}
        s.execute(text("DELETE FROM term_stat"))
        merged = Counter(existing) + df
        s.execute(insert(table), [{"term": t[:200], "df": d} for t, d in merged.items()])
        if engine.dialect.name == "postgresql":  # explicit ids: move the sequence past them
            s.execute(
                text(
                    "SELECT setval(pg_get_serial_sequence('story', 'id'),"
                    " (SELECT max(id) FROM story))"
                )
            )
        s.commit()
    with engine.begin() as c:
        # what autovacuum does after a bulk insert: without it PostgreSQL plans the probes of a
        # freshly filled window from the empty tables' statistics (sequential scans)
        c.execute(text("ANALYZE"))


def backend_cpu_ns(dbapi_conn: Any) -> int:
    """CPU time so far of the PostgreSQL backend behind a DB-API connection (0 for SQLite)."""
    pid = getattr(getattr(dbapi_conn, "info", None), "backend_pid", None)
    stat = Path(f"/proc/{pid}/schedstat")
    return int(stat.read_text().split()[0]) if pid and stat.exists() else 0


class StatementLog:
    """Cursor executions during the timed assignments: count, wall and server CPU time per
    statement kind."""

    def __init__(self, engine: Engine) -> None:
        self.on = False
        self.count = 0
        self.kinds: dict[str, list[tuple[float, float]]] = {}
        self.cpu: list[tuple[float, float]] = []  # (client, server) ms per assignment
        self._start = 0.0
        self._server = 0
        event.listen(engine, "before_cursor_execute", self._before)
        event.listen(engine, "after_cursor_execute", self._after)

    def _before(self, conn: Any, cursor: Any, *_: Any) -> None:
        if self.on:
            self._server = backend_cpu_ns(cursor.connection)
            self._start = time.perf_counter()

    def _after(self, conn: Any, cursor: Any, statement: str, *_: Any) -> None:
        if self.on:
            wall = (time.perf_counter() - self._start) * 1000
            server = (backend_cpu_ns(cursor.connection) - self._server) / 1e6
            self.count += 1
            kind = " ".join(statement.split())[:80]
            self.kinds.setdefault(kind, []).append((wall, server))

    def close(self, engine: Engine) -> None:
        event.remove(engine, "before_cursor_execute", self._before)
        event.remove(engine, "after_cursor_execute", self._after)

    def report(self, assignments: int) -> str:
        lines = [f"  {self.count / assignments:.1f} statements per assignment"]
        if self.cpu:
            total = [c + s for c, s in self.cpu]
            lines.append(
                f"  CPU per assignment: p50 {pct(total, 0.5):.1f} ms  p95 {pct(total, 0.95):.1f} ms"
                f"  (client mean {statistics.mean(c for c, _ in self.cpu):.1f} ms,"
                f" server mean {statistics.mean(s for _, s in self.cpu):.1f} ms)"
            )
        lines.append("  per statement kind: runs, wall ms, server CPU ms per assignment")
        top = sorted(self.kinds.items(), key=lambda kv: -sum(w for w, _ in kv[1]))[:12]
        for kind, ms in top:
            wall, server = (sum(x[i] for x in ms) / assignments for i in (0, 1))
            lines.append(f"  {len(ms) / assignments:5.2f}x {wall:6.2f} {server:6.2f}  {kind}")
        return "\n".join(lines)


def server_cpu_ns(session: Session) -> int:
    """CPU time so far of the PostgreSQL backend serving ``session`` (0 for SQLite)."""
    return backend_cpu_ns(session.connection().connection.dbapi_connection)


def probe(
    engine: Engine, bases: list[Any], n_events: int, seq: int, log: StatementLog | None = None
) -> list[float]:
    times = []
    rules = story_assign.StoryRules()
    for i in range(PROBES):
        t, x, lang = bases[(i * 13 + 5) % len(bases)]
        e = (i * 37) % n_events if i % 2 == 0 else 10**7 + seq * PROBES + i  # stored / new
        with Session(engine) as s:
            when = T0 + timedelta(days=1, minutes=i)
            a = Article(
                url=f"https://bench.example/{seq}/{i}",
                canonical_url=f"https://bench.example/{seq}/{i}",
                title=t + event_words(e),
                text=x + event_words(e),
                language=lang,
                published_at=when,
                fetched_at=when,
                relevant=True,
            )
            s.add(a)
            s.flush()
            if log is not None:
                log.on = True
                server, client = server_cpu_ns(s), time.process_time()
            start = time.perf_counter()
            story_assign.assign_story(s, a, rules=rules)
            times.append((time.perf_counter() - start) * 1000)
            if log is not None:
                log.on = False
                log.cpu.append(
                    ((time.process_time() - client) * 1000, (server_cpu_ns(s) - server) / 1e6)
                )
            s.rollback()  # keep the window at its size
    return times


def pct(values: list[float], q: float) -> float:
    return sorted(values)[min(len(values) - 1, int(q * len(values)))]


def baseline(bases: list[Any]) -> list[float]:
    """The previous design's cost: features of 400 neighbours recomputed, pairwise scores."""
    neighbours = [bases[i % len(bases)] for i in range(400)]
    out = []
    for i in range(20):
        t, x, lang = bases[i % len(bases)]
        start = time.perf_counter()
        mine = similarity.features(t, x, lang=lang)
        theirs = [similarity.features(a, b, lang=c) for a, b, c in neighbours]
        bg = similarity.background([mine, *theirs])
        for f in theirs:
            similarity.similarity(mine, f, bg)
        out.append((time.perf_counter() - start) * 1000)
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="1000,10000,100000")
    ap.add_argument("--backends", default="sqlite,postgresql")
    ap.add_argument("--pg", default="postgresql://postgres@127.0.0.1:5432/test")
    ap.add_argument("--statements", action="store_true", help="count and time SQL statements")
    ap.add_argument("--no-baseline", action="store_true", help="skip the previous design")
    args = ap.parse_args()
    sizes = [int(x) for x in args.sizes.split(",")]
    bases = base_texts()
    if not args.no_baseline:
        old = baseline(bases)
        print(f"previous design (400 neighbours, features recomputed): p50 {pct(old, 0.5):.0f} ms")
    for backend in args.backends.split(","):
        with tempfile.TemporaryDirectory() as tmp:
            schema = f"bench_{uuid.uuid4().hex[:8]}"
            if backend == "postgresql":
                admin = make_engine(args.pg)
                with admin.begin() as c:
                    c.execute(text(f'CREATE SCHEMA "{schema}"'))
                engine = make_engine(f"{args.pg}?options=-csearch_path%3D{schema}")
            else:
                engine = make_engine(f"sqlite:///{Path(tmp) / 'bench.db'}")
            migrate(engine)
            filled = 0
            try:
                for seq, size in enumerate(sizes):
                    t0 = time.perf_counter()
                    fill(engine, filled, size, bases)
                    filled = size
                    fill_s = time.perf_counter() - t0
                    log = StatementLog(engine) if args.statements else None
                    times = probe(engine, bases, size // PER_EVENT, seq, log)
                    print(
                        f"{backend:10} {size:>7} articles ({size // PER_EVENT} stories): "
                        f"assign p50 {pct(times, 0.5):.1f} ms  p95 {pct(times, 0.95):.1f} ms  "
                        f"mean {statistics.mean(times):.1f} ms  (fill {fill_s:.0f} s)"
                    )
                    if log is not None:
                        print(log.report(PROBES))
                        log.close(engine)
            finally:
                engine.dispose()
                if backend == "postgresql":
                    with admin.begin() as c:
                        c.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
                    admin.dispose()


if __name__ == "__main__":
    main()
