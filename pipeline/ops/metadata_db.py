"""Connection arguments for Airflow's own metadata database when it is SQLite (``make run``).

Airflow reads them through ``AIRFLOW__DATABASE__SQL_ALCHEMY_CONNECT_ARGS`` (an import path to a
dict; scripts/run_monitor.sh sets it for its default SQLite metadata database). Why: scheduler,
DAG processor, triggerer, API server and task processes all write one SQLite file, and
sqlite3's default 5 s lock wait is short on a busy small machine. (A transaction that read before
another process wrote is refused at once whatever the timeout; creating a backfill is one, which
docs/airflow.md explains with what to do: apache/airflow#68699.)
"""

from __future__ import annotations

__all__ = ["SQLITE_CONNECT_ARGS", "SQLITE_CONNECT_ARGS_ASYNC"]

#: sqlite3.connect keyword arguments: seconds to wait for a write lock. (Airflow adds keys to
#: the dict it imports, hence one dict per engine.)
SQLITE_CONNECT_ARGS: dict[str, object] = {"timeout": 60.0}
#: The same for aiosqlite.connect (the API server's async engine).
SQLITE_CONNECT_ARGS_ASYNC: dict[str, object] = {"timeout": 60.0}
