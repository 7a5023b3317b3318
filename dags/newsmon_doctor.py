"""newsmon_doctor: run ``newsmon doctor`` from the Airflow UI (manual runs only)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from _newsmon_common import OWNER, TAGS, default_args, newsmon_settings
from airflow.sdk import dag, task

DOC = """
### newsmon_doctor

Checks that newsmon can do tonight's work, with the settings the tasks use
(environment plus the `newsmon_db` and `newsmon_smtp` connections): settings,
`NEWSMON_HOME`, disk space, the digest directory, the database (reachable,
schema at the newest migration, SQLite `quick_check`), SMTP (connect, TLS,
login; **nothing is sent**), the feed list (parses, not empty) and the actor list.

Trigger it by hand after changing a connection or a setting. The task log has
one line per check; the task fails (and is not retried) when one check fails,
and its error names the failed checks. Same checks as `newsmon doctor`.
The DAG has no schedule, so there is nothing to backfill; a backfill request
for it does nothing.
"""


@dag(
    dag_id="newsmon_doctor",
    description="Check settings, database, SMTP, feed list and disk (sends nothing)",
    schedule=None,
    start_date=datetime(2024, 1, 1, tzinfo=UTC),
    catchup=False,
    max_active_runs=1,
    default_args=default_args(timeout=timedelta(minutes=5), retries=0),
    tags=TAGS,
    owner_links={OWNER: "https://github.com/newsmon/newsmon"},
    doc_md=DOC,
)
def newsmon_doctor() -> None:
    """Manual-only DAG: one task that runs the ``newsmon doctor`` checks, failing if one fails."""

    @task
    def doctor() -> list[str]:
        from pipeline.ops.doctor import raise_for_failures, run_checks

        results = run_checks(newsmon_settings())
        for check in results:
            print(check.line())
        raise_for_failures(results)
        return [c.line() for c in results]

    doctor()


newsmon_doctor()
