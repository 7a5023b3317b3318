"""Connection arguments for Airflow's own metadata database when it is SQLite (``make run``).

Airflow reads them through ``AIRFLOW__DATABASE__SQL_ALCHEMY_CONNECT_ARGS`` (an import path to a
dict; scripts/run_monitor.sh sets it for its default SQLite metadata database). Why: scheduler,
DAG processor, triggerer, API server and task processes all write one SQLite file, and
sqlite3's default 5 s lock wait is too short on a busy small machine. A backfill created from the
UI then fails half-way with HTTP 500 and leaves an orphan backfill row that blocks every later
backfill of that DAG with 409 "already a running backfill" (apache/airflow#68699, open). Waiting
up to a minute for the lock turns that into a slow click instead of a broken DAG.
"""

from __future__ import annotations

__all__ = ["SQLITE_CONNECT_ARGS", "SQLITE_CONNECT_ARGS_ASYNC"]

#: sqlite3.connect keyword arguments: seconds to wait for a write lock. (Airflow adds keys to
#: the dict it imports, hence one dict per engine.)
SQLITE_CONNECT_ARGS: dict[str, object] = {"timeout": 60.0}
#: The same for aiosqlite.connect (the API server's async engine).
SQLITE_CONNECT_ARGS_ASYNC: dict[str, object] = {"timeout": 60.0}
