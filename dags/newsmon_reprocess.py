"""newsmon_reprocess: re-run extraction and enrichment on stored pages of a window."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from _newsmon_common import (
    OWNER,
    TAGS,
    dag_settings,
    default_args,
    newsmon_settings,
    report_result,
    run_type_of,
)
from airflow.sdk import CronDataIntervalTimetable, Param, dag, get_current_context, task

from pipeline.config import ENRICH_STEPS

STEPS = list(ENRICH_STEPS)

DOC = """
### newsmon_reprocess

Re-runs text extraction and enrichment (relevance, duplicates, actors, story
clustering) on the pages newsmon already stored, without fetching anything.
Use it after the actor list (`NEWSMON_ACTORS`), the relevance rules or the
extractor changed.

* **Manual run** (Trigger): give *since* and *until* (dates, local time zone,
  both days included as on the command line; default: yesterday) and the
  *steps* to re-run.
* **Backfill** (Trigger -> Backfill, a date range): one run per local day in
  the range, each re-enriching the pages fetched that day. Unless the run
  parameters set since/until, the window is the run's day.

The DAG has a daily timetable only because Airflow backfills need one (and
runs only the tasks of unpaused DAGs). Its scheduled runs do nothing: the task
is *skipped* ("scheduled runs are no-ops"). Keep the DAG unpaused so that
backfills and manual runs execute. Re-running a window is idempotent:
articles are updated in place.
"""

PARAMS = {
    "since": Param(
        None,
        type=["null", "string"],
        format="date",
        title="Since",
        description="First day (YYYY-MM-DD, local time). Empty: the run's day.",
    ),
    "until": Param(
        None,
        type=["null", "string"],
        format="date",
        title="Until",
        description="Last day (YYYY-MM-DD, local time, included). Empty: the since day.",
    ),
    "steps": Param(
        STEPS,
        type="array",
        items={"type": "string", "enum": STEPS},
        title="Steps",
        description="What to re-run: " + ", ".join(STEPS) + ".",
    ),
}


@dag(
    dag_id="newsmon_reprocess",
    description="Re-run extraction/relevance/dedup/actors on stored pages of a window",
    schedule=CronDataIntervalTimetable("0 0 * * *", timezone=dag_settings().timezone),
    start_date=datetime(2024, 1, 1, tzinfo=UTC),
    catchup=False,
    max_active_runs=2,
    dagrun_timeout=timedelta(hours=6),
    default_args=default_args(timeout=timedelta(hours=2), retries=2),
    params=PARAMS,
    tags=TAGS,
    owner_links={OWNER: "https://github.com/newsmon/newsmon"},
    doc_md=DOC,
)
def newsmon_reprocess() -> None:
    """Reprocess DAG: re-enrich a window's stored pages (scheduled runs are skipped)."""

    @task
    def reprocess() -> dict[str, Any]:
        from pipeline import stages
        from pipeline.windows import run_window

        ctx = get_current_context()
        if run_type_of(ctx["dag_run"]) == "scheduled":
            from airflow.sdk.exceptions import AirflowSkipException

            raise AirflowSkipException("scheduled runs are no-ops; trigger or backfill instead")
        params = ctx["params"]
        settings = newsmon_settings()
        since, until = run_window(
            tz=settings.timezone,
            since=params.get("since"),
            until=params.get("until"),
            interval=(ctx.get("data_interval_start"), ctx.get("data_interval_end")),
            now=datetime.now(UTC),
        )
        steps = tuple(params.get("steps") or STEPS)
        print(f"reprocess {since.isoformat()} .. {until.isoformat()} steps={','.join(steps)}")
        return report_result(stages.reprocess(settings, since, until, steps=steps))

    reprocess()


newsmon_reprocess()
