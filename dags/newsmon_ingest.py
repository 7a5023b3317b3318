"""newsmon_ingest: poll the feeds in shards, fetch and enrich new articles."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from _newsmon_common import (
    ARTICLES_URI,
    HTTP_POOL,
    OWNER,
    TAGS,
    dag_settings,
    default_args,
    new_articles,
    newsmon_settings,
    report_result,
    run_type_of,
)
from airflow.sdk import Asset, CronDataIntervalTimetable, dag, get_current_context, task

ARTICLES = Asset(ARTICLES_URI)

#: A run whose window ended longer ago than this is a backfill of the past.
PAST_WINDOW = timedelta(hours=1)

DOC = """
### newsmon_ingest

Polls the RSS/Atom feeds of the feed list (`NEWSMON_FEEDS`), fetches the pages
of new entries, extracts the text, keeps Korea-related articles, marks
duplicates, tags actors and stores everything in newsmon's database.

* **Scheduled runs** (every 30 minutes, `NEWSMON_INGEST_SCHEDULE`): `plan_shards` splits the
  enabled feeds into `NEWSMON_INGEST_SHARDS` shards (default 4), `ingest_shard` polls one shard per
  mapped task (pool `newsmon_http`), then `process_pending` retries page fetches
  that failed earlier. `announce_articles` updates the Asset
  `newsmon://articles` when new articles were stored (it is *skipped*
  otherwise).
* **Backfill runs** (Trigger -> Backfill, or runs whose window ended more than
  an hour ago) take the `ingest_window` path instead: a feed only lists its
  latest items, so the window is re-read from news sitemaps where a feed
  configures one, and the stored articles of the window are re-enriched.
  Known pages are never fetched again; nothing is duplicated.

Transient errors are retried with backoff, permanent ones fail at once; each task logs
one summary line.
"""


@dag(
    dag_id="newsmon_ingest",
    description="Poll feeds in shards, fetch, extract, filter, dedup, tag, store",
    schedule=CronDataIntervalTimetable(
        dag_settings().ingest_schedule, timezone=dag_settings().timezone
    ),
    start_date=datetime(2024, 1, 1, tzinfo=UTC),
    catchup=False,
    max_active_runs=1,
    max_active_tasks=16,
    dagrun_timeout=timedelta(hours=3),
    default_args=default_args(timeout=timedelta(minutes=25)),
    tags=TAGS,
    owner_links={OWNER: "https://github.com/newsmon/newsmon"},
    doc_md=DOC,
)
def newsmon_ingest() -> None:
    """Ingest DAG: sharded live polling for current runs, window reprocessing for past ones."""

    @task.branch
    def choose_mode() -> str:
        """Live polling for current runs, window reprocessing for past windows."""
        ctx = get_current_context()
        run = ctx["dag_run"]
        end = ctx.get("data_interval_end")
        past = end is not None and end < datetime.now(UTC) - PAST_WINDOW
        if run_type_of(run) == "backfill" or past:
            print(f"window mode: {ctx.get('data_interval_start')} .. {end}")
            return "ingest_window"
        return "plan_shards"

    @task
    def plan_shards() -> list[dict[str, int]]:
        from pipeline import stages

        shards = dag_settings().ingest_shards
        planned = stages.plan_shards(newsmon_settings(), shards)
        print(f"plan: {len(planned)} of {shards} shards have enabled feeds: {planned}")
        return [{"shard": s, "shards": shards} for s in planned]

    @task(pool=HTTP_POOL, map_index_template="shard {{ shard_label }}")
    def ingest_shard(shard: int, shards: int) -> dict[str, Any]:
        from pipeline import stages

        get_current_context()["shard_label"] = f"{shard}/{shards}"  # type: ignore[typeddict-unknown-key]
        return report_result(stages.ingest(newsmon_settings(), shard=shard, shards=shards))

    @task(pool=HTTP_POOL, trigger_rule="none_failed_min_one_success")
    def process_pending(shard_results: Any) -> dict[str, Any]:
        from pipeline import stages

        result = report_result(stages.process_pending(newsmon_settings()))
        # carry the shards' counts so announce_articles sees the whole run
        counts: dict[str, int] = dict(result.get("counts", {}))
        # index, not iterate: iterating the lazy XCom sequence ends on a 404 ("XCom not found")
        results = shard_results or []
        for res in (results[i] for i in range(len(results))):
            for key, value in (res or {}).get("counts", {}).items():
                counts[key] = counts.get(key, 0) + int(value)
        result["counts"] = counts
        return result

    @task(pool=HTTP_POOL, execution_timeout=timedelta(hours=2))
    def ingest_window() -> dict[str, Any]:
        from pipeline import stages

        ctx = get_current_context()
        start, end = ctx.get("data_interval_start"), ctx.get("data_interval_end")
        if start is None or end is None:
            raise ValueError("ingest_window needs a run with a data interval (backfill)")
        return report_result(stages.ingest_window(newsmon_settings(), start, end))

    @task(outlets=[ARTICLES], trigger_rule="none_failed_min_one_success")
    def announce_articles() -> int:
        from airflow.sdk.exceptions import AirflowSkipException

        # pull only the branch that ran (the skipped one has no XCom: an error line); not an
        # argument either, or choose_mode's branching would skip this task too
        ctx = get_current_context()
        chosen = ctx["ti"].xcom_pull(task_ids="choose_mode")
        source = "ingest_window" if chosen == "ingest_window" else "process_pending"
        stored = new_articles([ctx["ti"].xcom_pull(task_ids=source)])
        if stored == 0:
            # a skipped task emits no asset event: consumers run only on news
            raise AirflowSkipException("no new articles stored")
        ctx["outlet_events"][ARTICLES].extra = {"articles_stored": stored}
        print(f"announced {stored} new article(s) on {ARTICLES_URI}")
        return stored

    mode = choose_mode()
    plan = plan_shards()
    shards = ingest_shard.expand_kwargs(plan)
    live = process_pending(shards)
    window = ingest_window()
    mode >> [plan, window]
    [live, window] >> announce_articles()


newsmon_ingest()
