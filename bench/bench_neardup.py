"""Near-duplicate index benchmark: lookup latency and index size vs stored fingerprints.

Fills the real schema (storage.db.migrate) with synthetic fingerprints at
10k, 100k and 1M articles on SQLite and PostgreSQL, then times
storage.neardup.candidates (the lookup find_duplicate uses) for probes that
hit a stored article and probes that miss, and compares with a brute-force
scan (load every signature, compare with numpy) at the small sizes.

Synthetic signatures are random: lookups behave as for unrelated articles
(the common case: most new articles are not duplicates), and a hit shares all
32 bands. Prints figures; asserts nothing.

Usage: .venv/bin/python bench/bench_neardup.py [--sizes 10000,100000,1000000]
       [--backends sqlite,postgresql] [--pg postgresql://postgres@127.0.0.1:5432/test]
"""

from __future__ import annotations

import argparse
import io
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from pipeline.enrich import fingerprints as dedup
from storage import neardup
from storage.db import make_engine, migrate
from storage.models import Fingerprint

PROBES = 200
SIG_BYTES = dedup.NUM_PERM * 4


def synthetic(start: int, stop: int) -> tuple[np.ndarray, np.ndarray]:
    """Signatures (n, NUM_PERM) uint32 and band keys (n, BANDS) int64, deterministic per id."""
    rng = np.random.default_rng(start)
    sigs = rng.integers(0, 2**32, size=(stop - start, dedup.NUM_PERM), dtype=np.uint32)
    # Band keys hashed from the signature rows exactly as dedup.band_keys does
    # would cost 32 BLAKE2b calls per article; the lookup cannot tell random
    # 64-bit keys from hashed ones, so the filler uses random keys directly.
    keys = rng.integers(-(2**63), 2**63 - 1, size=(stop - start, dedup.BANDS), dtype=np.int64)
    return sigs, keys


def fill(engine: Engine, start: int, stop: int) -> None:
    parts = [synthetic(b, min(b + CHUNK, stop)) for b in range(start, stop, CHUNK)]
    sigs = np.concatenate([p[0] for p in parts])
    keys = np.concatenate([p[1] for p in parts])
    ids = np.arange(start + 1, stop + 1)
    now = datetime(2026, 1, 1, tzinfo=UTC).isoformat()
    if engine.dialect.name == "postgresql":
        _fill_pg(engine, ids, sigs, keys, now)
    else:
        _fill_sqlite(engine, ids, sigs, keys, now)


def _article_rows(ids: np.ndarray, now: str) -> list[tuple[object, ...]]:
    return [
        (
            int(i),
            f"https://bench.example/{i}",
            f"https://bench.example/{i}",
            now,
            False,
            "",
            0,
            "",
            "[]",
            False,
            0.0,
            "[]",
        )
        for i in ids
    ]


_ARTICLE_COLS = (
    "id, url, canonical_url, fetched_at, is_seed, text, text_chars, text_hash, "
    "wire_agencies, relevant, relevance_score, relevance_evidence"
)


def _fill_sqlite(
    engine: Engine, ids: np.ndarray, sigs: np.ndarray, keys: np.ndarray, now: str
) -> None:
    raw = engine.raw_connection()
    try:
        cur = raw.cursor()
        cur.execute("BEGIN")
        cur.executemany(
            f"INSERT INTO article ({_ARTICLE_COLS}) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
            _article_rows(ids, now),
        )
        cur.executemany(
            "INSERT INTO fingerprint (article_id, signature, shingles) VALUES (?,?,?)",
            [(int(i), s.tobytes(), 300) for i, s in zip(ids, sigs, strict=True)],
        )
        # Sorted by the primary key, so each insert appends to the B-tree.
        flat_keys = keys.ravel()
        flat_ids = np.repeat(ids, dedup.BANDS)
        order = np.lexsort((flat_ids, flat_keys))
        cur.executemany(
            "INSERT INTO lsh_band (band_key, article_id) VALUES (?,?)",
            list(zip(flat_keys[order].tolist(), flat_ids[order].tolist(), strict=True)),
        )
        cur.execute("COMMIT")
    finally:
        raw.close()


def _fill_pg(engine: Engine, ids: np.ndarray, sigs: np.ndarray, keys: np.ndarray, now: str) -> None:
    raw = engine.raw_connection()
    try:
        cur = raw.cursor()
        with cur.copy(f"COPY article ({_ARTICLE_COLS}) FROM STDIN") as cp:
            for row in _article_rows(ids, now):
                cp.write_row(row)
        with cur.copy("COPY fingerprint (article_id, signature, shingles) FROM STDIN") as cp:
            for i, s in zip(ids, sigs, strict=True):
                cp.write_row((int(i), s.tobytes(), 300))
        buf = io.StringIO()
        flat_ids = np.repeat(ids, dedup.BANDS)
        for k, i in zip(keys.ravel().tolist(), flat_ids.tolist(), strict=True):
            buf.write(f"{k}\t{i}\n")
        with cur.copy("COPY lsh_band (band_key, article_id) FROM STDIN") as cp:
            cp.write(buf.getvalue())
        raw.commit()
    finally:
        raw.close()
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE lsh_band"))
        conn.execute(text("VACUUM ANALYZE fingerprint"))


def sizes(engine: Engine, db_file: Path | None) -> str:
    with engine.connect() as conn:
        if engine.dialect.name == "postgresql":
            band = conn.execute(text("SELECT pg_total_relation_size('lsh_band')")).scalar_one()
            fp = conn.execute(text("SELECT pg_total_relation_size('fingerprint')")).scalar_one()
            return f"lsh_band {band / 2**20:8.1f} MiB  fingerprint {fp / 2**20:7.1f} MiB"
        try:
            band = conn.execute(
                text("SELECT SUM(pgsize) FROM dbstat WHERE name LIKE '%lsh_band%'")
            ).scalar_one()
            fp = conn.execute(
                text("SELECT SUM(pgsize) FROM dbstat WHERE name LIKE '%fingerprint%'")
            ).scalar_one()
            return f"lsh_band {band / 2**20:8.1f} MiB  fingerprint {fp / 2**20:7.1f} MiB"
        except Exception:
            total = db_file.stat().st_size if db_file else 0
            return f"database file {total / 2**20:8.1f} MiB (dbstat unavailable)"


def time_lookups(engine: Engine, n: int) -> tuple[list[float], list[float], int]:
    rng = np.random.default_rng(n + 7)
    hits, misses, found = [], [], 0
    stored_ids = rng.integers(1, n + 1, size=PROBES // 2)
    with Session(engine) as session:
        neardup.candidates(session, [1, 2, 3])  # warm the connection
        for aid in stored_ids:
            start = int(aid) - 1
            block = (start // CHUNK) * CHUNK
            _, keys = synthetic(block, min(block + CHUNK, n))
            probe = keys[start - block].tolist()
            t = time.perf_counter()
            got = neardup.candidates(session, probe)
            hits.append((time.perf_counter() - t) * 1000)
            found += any(c.article_id == int(aid) for c in got)
        for _ in range(PROBES // 2):
            sig = rng.integers(0, 2**32, dedup.NUM_PERM, np.uint32).tobytes()
            fp = dedup.TextFingerprint(sig, 300)
            probe = dedup.band_keys(fp)
            t = time.perf_counter()
            neardup.candidates(session, probe)
            misses.append((time.perf_counter() - t) * 1000)
    return hits, misses, found


def brute_force(engine: Engine, n: int) -> list[float]:
    """Load every signature and count agreeing rows with numpy: no index at all."""
    rng = np.random.default_rng(n + 11)
    out = []
    with Session(engine) as session:
        for _ in range(5):
            probe = rng.integers(0, 2**32, dedup.NUM_PERM, np.uint32)
            t = time.perf_counter()
            blobs = session.exec(select(Fingerprint.signature)).all()
            matrix = np.frombuffer(b"".join(blobs), dtype="<u4").reshape(-1, dedup.NUM_PERM)
            agree = (matrix == probe).sum(axis=1)
            _ = np.flatnonzero(agree >= dedup.JACCARD_THRESHOLD * dedup.NUM_PERM)
            out.append((time.perf_counter() - t) * 1000)
    return out


CHUNK = 10_000  # synthetic() is seeded per chunk of this many articles
FILL_BATCH = 250_000  # articles per bulk-load transaction


def pct(values: list[float], q: float) -> float:
    return float(np.percentile(values, q))


def run(backend: str, engine: Engine, targets: list[int], db_file: Path | None) -> None:
    migrate(engine)
    have = 0
    for target in targets:
        t = time.perf_counter()
        for block in range(have, target, FILL_BATCH):
            fill(engine, block, min(block + FILL_BATCH, target))
        fill_s = time.perf_counter() - t
        have = target
        hits, misses, found = time_lookups(engine, have)
        line = (
            f"{backend:10s} n={have:>9,d}  fill {fill_s:7.1f}s  "
            f"hit p50 {pct(hits, 50):6.2f} p95 {pct(hits, 95):6.2f} ms "
            f"({found}/{len(hits)} found)  "
            f"miss p50 {pct(misses, 50):6.2f} p95 {pct(misses, 95):6.2f} ms  "
            f"{sizes(engine, db_file)}"
        )
        if have <= 100_000:
            bf = brute_force(engine, have)
            line += f"  | brute force p50 {pct(bf, 50):8.1f} ms"
        print(line, flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="10000,100000,1000000")
    ap.add_argument("--backends", default="sqlite,postgresql")
    ap.add_argument("--pg", default="postgresql://postgres@127.0.0.1:5432/test")
    args = ap.parse_args()
    targets = sorted(int(x) for x in args.sizes.split(","))
    assert all(t % CHUNK == 0 for t in targets), f"sizes must be multiples of {CHUNK}"
    print(f"bands={dedup.BANDS} rows={dedup.ROWS} perms={dedup.NUM_PERM}; {PROBES} probes per size")
    for backend in args.backends.split(","):
        if backend == "sqlite":
            with tempfile.TemporaryDirectory() as tmp:
                db = Path(tmp) / "bench.db"
                engine = make_engine(f"sqlite:///{db}")
                run("sqlite", engine, targets, db)
                engine.dispose()
        else:
            schema = f"bench_{uuid.uuid4().hex[:10]}"
            admin = make_engine(args.pg)
            with admin.begin() as conn:
                conn.execute(text(f'CREATE SCHEMA "{schema}"'))
            try:
                engine = make_engine(f"{args.pg}?options=-csearch_path%3D{schema}")
                run("postgresql", engine, targets, None)
                engine.dispose()
            finally:
                with admin.begin() as conn:
                    conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
                admin.dispose()


if __name__ == "__main__":
    main()
