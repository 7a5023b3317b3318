"""The persistent near-duplicate index: fingerprints and LSH band keys in SQL.

Any worker sees the same index and nothing is rebuilt at task start. A lookup
is one ``band_key IN (...)`` probe of lsh_band's primary key (band_key first),
grouped by article, joined to the candidates' signatures; it touches only the
rows that share a band, so its cost does not grow with the table.

Storage does not import pipeline: callers pass the signature bytes and band
keys that pipeline.enrich.fingerprints computed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, func, insert, select
from sqlmodel import Session, col

from storage.models import Fingerprint, LshBand
from storage.upsert import insert_ignore

#: Most candidates verified per lookup; ordered by shared bands, so the likeliest come first.
MAX_CANDIDATES = 50


@dataclass(frozen=True)
class NearCandidate:
    """A stored article sharing bands with the probe, with the signature to verify it on."""

    article_id: int
    shared_bands: int
    signature: bytes
    shingles: int


def store(
    session: Session, article_id: int, signature: bytes, shingles: int, band_keys: Sequence[int]
) -> None:
    """(Re)store one article's fingerprint and band keys; a re-run replaces them."""
    session.execute(delete(LshBand).where(col(LshBand.article_id) == article_id))
    session.execute(delete(Fingerprint).where(col(Fingerprint.article_id) == article_id))
    # insert_ignore: a concurrent worker indexing the same article must not fail us
    insert_ignore(
        session,
        Fingerprint,
        {"article_id": article_id, "signature": signature, "shingles": shingles},
        ["article_id"],
    )
    keys = sorted(set(band_keys))
    if keys:
        session.execute(
            _insert_ignore_stmt(session),
            [{"band_key": k, "article_id": article_id} for k in keys],
        )


def _insert_ignore_stmt(session: Session) -> Any:
    table = LshBand.__table__  # type: ignore[attr-defined]
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects import postgresql

        return postgresql.insert(table).on_conflict_do_nothing()
    if session.get_bind().dialect.name == "sqlite":
        from sqlalchemy.dialects import sqlite

        return sqlite.insert(table).on_conflict_do_nothing()
    return insert(table)  # pragma: no cover - only SQLite and PostgreSQL are supported


def remove(session: Session, article_id: int) -> None:
    """Take an article out of the near-duplicate index (its fingerprint and band keys)."""
    session.execute(delete(LshBand).where(col(LshBand.article_id) == article_id))
    session.execute(delete(Fingerprint).where(col(Fingerprint.article_id) == article_id))


def candidates(
    session: Session,
    band_keys: Sequence[int],
    *,
    exclude: int | None = None,
    limit: int = MAX_CANDIDATES,
) -> list[NearCandidate]:
    """Articles sharing at least one band key, most shared bands first, with signatures."""
    keys = sorted(set(band_keys))
    if not keys:
        return []
    shared = func.count().label("shared")
    hits: Any = select(col(LshBand.article_id).label("article_id"), shared).where(
        col(LshBand.band_key).in_(keys)
    )
    if exclude is not None:
        hits = hits.where(col(LshBand.article_id) != exclude)
    sub = (
        hits.group_by(col(LshBand.article_id))
        .order_by(shared.desc(), col(LshBand.article_id))
        .limit(limit)
        .subquery()
    )
    rows = session.execute(
        select(
            sub.c.article_id,
            sub.c.shared,
            col(Fingerprint.signature),
            col(Fingerprint.shingles),
        )
        .join(Fingerprint, col(Fingerprint.article_id) == sub.c.article_id)
        .order_by(sub.c.shared.desc(), sub.c.article_id)
    ).all()
    return [NearCandidate(int(r[0]), int(r[1]), bytes(r[2]), int(r[3])) for r in rows]


def fingerprint_of(session: Session, article_id: int) -> tuple[bytes, int] | None:
    """An article's stored (signature, shingle count), None if it has no fingerprint."""
    row = session.get(Fingerprint, article_id)
    return None if row is None else (bytes(row.signature), row.shingles)


def band_count(session: Session, article_id: int) -> int:
    """How many band keys an article has in the index (0: no lookup can find it)."""
    return int(
        session.execute(
            select(func.count()).where(col(LshBand.article_id) == article_id)
        ).scalar_one()
    )
