"""INSERT ... ON CONFLICT DO NOTHING on a natural key, for SQLite and PostgreSQL.

Every writer that may meet a concurrent writer of the same row inserts this
way: the second one waits for the first's row lock and then skips the row
instead of failing on the key.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, SQLModel


def insert_ignore(
    session: Session, model: type[SQLModel], values: Mapping[str, Any], keys: Sequence[str]
) -> bool:
    """Insert a row unless one with the same natural key exists. True if inserted."""
    stmt = _returning_key(session.get_bind().dialect.name, model, tuple(keys))
    # the values as parameters of one prebuilt statement, not a statement built per row
    # (feed polling inserts every link it sees; building cost more than the insert)
    result = session.execute(stmt, dict(values))
    return result.first() is not None


@functools.cache
def _returning_key(dialect: str, model: type[SQLModel], keys: tuple[str, ...]) -> Any:
    # RETURNING tells inserted from skipped on both dialects (rowcount is -1
    # on PostgreSQL once SQLAlchemy adds an implicit RETURNING).
    table = model.__table__  # type: ignore[attr-defined]
    return insert_skipping(dialect, model, keys).returning(*table.primary_key.columns)


def insert_ignore_many(
    session: Session,
    model: type[SQLModel],
    rows: Sequence[Mapping[str, Any]],
    keys: Sequence[str],
) -> None:
    """Insert ``rows`` (one statement, executemany) skipping those whose natural key exists."""
    if not rows:
        return
    session.execute(_insert_skipping(session, model, keys), list(rows))


def _insert_skipping(session: Session, model: type[SQLModel], keys: Sequence[str]) -> Any:
    """The dialect's INSERT into ``model``'s table that skips rows whose ``keys`` exist."""
    return insert_skipping(session.get_bind().dialect.name, model, tuple(keys))


@functools.cache
def insert_skipping(dialect: str, model: type[SQLModel], keys: tuple[str, ...]) -> Any:
    """``_insert_skipping``'s statement, built once per table (statements are immutable)."""
    table = model.__table__  # type: ignore[attr-defined]
    if dialect == "postgresql":
        return postgresql.insert(table).on_conflict_do_nothing(index_elements=keys)
    if dialect == "sqlite":
        return sqlite.insert(table).on_conflict_do_nothing(index_elements=keys)
    raise NotImplementedError(dialect)  # pragma: no cover - only SQLite and PostgreSQL
