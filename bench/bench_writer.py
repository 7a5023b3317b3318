"""CPU of the two halves of a page, on fixed inputs: the pool worker's prepare and the writer.

The bench_ingest pages (trafilatura-eval pages repeated under distinct URLs, so
repeats are stored as duplicates) are queued as entries of one feed in a fresh
SQLite home, spooled, prepared in this process (work.prepare, as a pool worker
does) and then stored by the streaming pass's writer (batches of
stream.WRITE_BATCH) with a fixed clock, so two runs store the same rows.

Prints process CPU per page of each half (``time.process_time``, this process
only: no network, no pool). ``--dump FILE`` writes every stored row of the
tables ingest writes (ids included, JSON), to compare the output of two
versions with ``cmp`` (``--database-url`` runs it on another database, e.g. a fresh
PostgreSQL schema). ``--phase prepare --pickle F`` / ``--phase store --pickle F``
split the halves, so each can be run alone under
``valgrind --tool=callgrind`` (less a run with ``--pages 0`` for the set-up).
Asserts nothing.
Usage: .venv/bin/python bench/bench_writer.py [--pages 120] [--dump rows.json]
"""

from __future__ import annotations

import argparse
import json
import pickle
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlmodel import col, select  # noqa: E402

from pipeline import stages  # noqa: E402
from pipeline.config import Settings  # noqa: E402
from pipeline.enrich.toolkit import Toolkit  # noqa: E402
from pipeline.ingest import stream, work  # noqa: E402
from pipeline.ingest.store import PageOutcome  # noqa: E402
from pipeline.pages import spool  # noqa: E402
from storage.db import make_engine, session_scope  # noqa: E402
from storage.models import Entry, Feed  # noqa: E402
from tests.support.extraction_corpus import default_root, snippet_pages  # noqa: E402
from tests.support.row_dump import comparable  # noqa: E402

NOW = datetime(2026, 3, 2, 6, 0, tzinfo=UTC)
#: The tables an ingest writes (seeds included: init loads them the same way each time).
TABLES = (
    "article",
    "entry",
    "mention",
    "actor",
    "actor_candidate",
    "story",
    "story_event",
    "story_features",
    "story_key",
    "term_stat",
    "fingerprint",
    "lsh_band",
)


class _FixedClock(stream._Stream):
    def clock(self) -> datetime:
        return self.now


def _setup(home: Path, n: int, url: str | None = None) -> tuple[Settings, Toolkit, list[Entry]]:
    env = {"NEWSMON_HOME": str(home)}
    if url is not None:
        env["NEWSMON_DATABASE_URL"] = url
    settings = Settings.from_env(env)
    stages.init(settings)
    kit = Toolkit.load(settings)
    bodies = [page.html() for page in snippet_pages(default_root())]
    engine = make_engine(settings.database_url)
    with session_scope(engine) as session:
        feed = session.exec(select(Feed).order_by(col(Feed.id))).first()
        assert feed is not None
        entries = [
            Entry(
                url=f"http://127.0.0.{i % 10 + 1}:8080/a/{i}.html",
                feed_id=feed.id,
                title=f"Artikel {i}",
                first_seen_at=NOW,
            )
            for i in range(n)
        ]
        session.add_all(entries)
        session.flush()
        for entry in entries:
            assert entry.id is not None
            spool.write(settings.spool_dir, entry.id, entry.url, bodies[entry.id % len(bodies)])
            session.expunge(entry)
    engine.dispose()
    return settings, kit, entries


def prepare(settings: Settings, kit: Toolkit, entries: list[Entry]) -> list[work.Prepared]:
    out = []
    for entry in entries:
        assert entry.id is not None
        path = spool.path_for(settings.spool_dir, entry.id)
        job = work.PageJob(entry.id, str(path), entry.title, entry.summary, None, NOW)
        out.append(work.prepare(job, kit))
    return out


def store(
    settings: Settings, kit: Toolkit, entries: list[Entry], prepared: list[work.Prepared]
) -> None:
    engine = make_engine(settings.database_url)
    run = _FixedClock(engine, kit, NOW, None, None)
    done = [
        stream._Done(e, PageOutcome(p.extracted, p.raw_html_z, p.error, p.analysis))
        for e, p in zip(entries, prepared, strict=True)
    ]
    for i in range(0, len(done), stream.WRITE_BATCH):
        run._store_batch(done[i : i + stream.WRITE_BATCH])
    engine.dispose()


def dump(settings: Settings, out: Path) -> None:
    rows: dict[str, list[list[object]]] = {}
    engine = make_engine(settings.database_url)
    with engine.connect() as conn:
        for table in TABLES:
            # story_features has one key column (and PostgreSQL cannot order by JSON)
            order = "1" if table == "story_features" else "1, 2"
            cur = conn.exec_driver_sql(f"SELECT * FROM {table} ORDER BY {order}")
            cols = list(cur.keys())
            rows[table] = [cols] + [[comparable(v) for v in row] for row in cur]
    engine.dispose()
    # seeds are stored at init with the real clock
    art = rows["article"]
    seed, *clocked = (art[0].index(c) for c in ("is_seed", "enriched_at", "fetched_at"))
    for row in art[1:]:
        if row[seed]:
            for i in clocked:
                row[i] = None
    out.write_text(json.dumps(rows, indent=0, sort_keys=True, default=str))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=120)
    parser.add_argument("--dump", type=Path)
    parser.add_argument("--phase", choices=("both", "prepare", "store"), default="both")
    parser.add_argument("--pickle", type=Path)
    parser.add_argument(
        "--database-url", help="an empty database (e.g. a fresh PostgreSQL schema); default SQLite"
    )
    args = parser.parse_args()
    home = Path(tempfile.mkdtemp(prefix="bench-writer-"))
    settings, kit, entries = _setup(home, args.pages, args.database_url)
    n = max(args.pages, 1)
    if args.phase == "store":
        assert args.pickle is not None
        prepared = pickle.loads(args.pickle.read_bytes())[: args.pages]
    else:
        t = time.process_time()
        prepared = prepare(settings, kit, entries)
        print(f"prepare (worker): {(time.process_time() - t) / n * 1000:6.2f} ms CPU/page")
        if args.pickle is not None:
            args.pickle.write_bytes(pickle.dumps(prepared))
    if args.phase != "prepare":
        t = time.process_time()
        store(settings, kit, entries, prepared)
        print(f"store (writer):   {(time.process_time() - t) / n * 1000:6.2f} ms CPU/page")
    if args.dump is not None:
        dump(settings, args.dump)


if __name__ == "__main__":
    main()
