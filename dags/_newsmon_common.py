"""Shared pieces of the newsmon DAGs: default_args, retry policy, callbacks, settings.

The DAG processor imports this module every time it parses a DAG file, so only
the standard library and ``airflow.sdk`` are imported at module level. The
pipeline package (SQLAlchemy, trafilatura, httpx, ...) is imported inside the
functions that run in tasks and callbacks.

Parse-time configuration comes from pipeline.config.DagSettings (environment
only: cheap, no API call); Airflow Connections are read at run time and turned
into one pipeline.config.Settings. Windows, URL building and alert mail live in
pipeline; this module is only glue.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from airflow.sdk import RetryDecision, RetryPolicy

if TYPE_CHECKING:
    from pipeline.config import DagSettings, Settings
    from pipeline.report import StageReport

log = logging.getLogger("newsmon.airflow")

OWNER = "newsmon"
TAGS = ["newsmon"]
SMTP_CONN_ID = "newsmon_smtp"
DB_CONN_ID = "newsmon_db"
HTTP_POOL = "newsmon_http"
ARTICLES_URI = "newsmon://articles"
DIGESTS_URI = "newsmon://digests"

#: Report keys whose non-zero value means "new articles were stored".
NEW_ARTICLE_KEYS = ("articles_stored",)


# --- retries ---------------------------------------------------------------


class NewsmonRetryPolicy(RetryPolicy):
    """Retry what newsmon calls transient, fail at once on anything it calls permanent.

    newsmon's exceptions carry ``transient`` (see pipeline.errors). A permanent
    error (bad config, a refused address, a broken schema) does not get better
    by waiting, so retrying it only delays the failure alert. Exceptions that
    are not newsmon's (a bug, an OOM kill) keep Airflow's standard behaviour:
    the task's retries with exponential backoff.
    """

    def evaluate(
        self,
        exception: BaseException,
        try_number: int,
        max_tries: int,
        context: Any = None,
    ) -> RetryDecision:
        return decide_retry(exception)

    def serialize(self) -> dict[str, Any]:
        return {"__type": "NewsmonRetryPolicy"}

    @classmethod
    def deserialize(cls, data: dict[str, Any]) -> NewsmonRetryPolicy:
        return cls()


def decide_retry(exception: BaseException) -> RetryDecision:
    """The retry decision for one exception (pure; unit-tested)."""
    from pipeline.errors import NewsmonError  # no imports of its own: cheap at run time

    if not isinstance(exception, NewsmonError):
        return RetryDecision.default()
    name = type(exception).__name__
    if not exception.transient:
        return RetryDecision.fail(f"permanent error {name}: not retried")
    retry_after = exception.retry_after
    if retry_after is not None and retry_after > 0:
        # a server asked for a pause: honour it, but never park a task for hours
        delay = timedelta(seconds=min(float(retry_after), 3600.0))
        return RetryDecision.retry(delay=delay, reason=f"transient {name}: server asked to wait")
    return RetryDecision.retry(reason=f"transient error {name}: retrying with backoff")


def dag_settings() -> DagSettings:
    """The parse-time settings (schedules, shards, retries) from the environment."""
    from pipeline.config import DagSettings

    return DagSettings.from_env()


def default_args(*, timeout: timedelta, retries: int = 3) -> dict[str, Any]:
    """default_args of every newsmon task.

    NEWSMON_TASK_RETRIES (DagSettings.task_retries) overrides the retry count of
    every task (tests set 0 so that a failure shows at once instead of after the backoff);
    NEWSMON_TASK_RETRY_DELAY the first retry delay (the scale test retries a killed shard
    within seconds instead of minutes).
    """
    parsed = dag_settings()
    configured = parsed.task_retries
    return {
        "owner": OWNER,
        "retries": retries if configured is None else configured,
        "retry_delay": timedelta(seconds=parsed.task_retry_delay_seconds),
        "retry_exponential_backoff": 2.0,
        "max_retry_delay": timedelta(minutes=30),
        "retry_policy": NewsmonRetryPolicy(),
        "execution_timeout": timeout,
        "on_failure_callback": on_task_failure,
    }


# --- runs -------------------------------------------------------------


def run_type_of(dag_run: Any) -> str:
    """'scheduled', 'manual', 'backfill', 'asset_triggered' (DagRunType may be an enum)."""
    value = getattr(dag_run, "run_type", dag_run)
    return str(getattr(value, "value", value))


# --- settings from env + Airflow connections --------------------------------


def _connection(conn_id: str) -> Any | None:
    """The Airflow connection, or None when it is not defined (or no Airflow is reachable)."""
    try:
        from airflow.sdk import BaseHook

        return BaseHook.get_connection(conn_id)
    except Exception as exc:  # a missing connection is the normal case, not an error
        log.debug("connection %s not available: %s", conn_id, type(exc).__name__)
        return None


def resolved_env(env: Mapping[str, str] | None = None) -> dict[str, str]:
    """NEWSMON_* environment completed from the Airflow connections.

    Precedence: NEWSMON_DATABASE_URL beats the ``newsmon_db`` connection;
    the ``newsmon_smtp`` connection beats NEWSMON_SMTP_URL (so an operator can
    manage mail from the UI). Secrets never reach the logs.
    """
    from pipeline import config

    out = dict(os.environ if env is None else env)
    if not out.get("NEWSMON_DATABASE_URL"):
        conn = _connection(DB_CONN_ID)
        if conn is not None:
            out["NEWSMON_DATABASE_URL"] = config.database_url_from_connection(
                conn.conn_type,
                conn.host,
                conn.port,
                conn.login,
                conn.password,
                conn.schema,
                conn.extra_dejson,
            )
    conn = _connection(SMTP_CONN_ID)
    if conn is not None and conn.host:
        extra = conn.extra_dejson
        out["NEWSMON_SMTP_URL"] = config.smtp_url_from_connection(
            conn.host, conn.port, conn.login, conn.password, extra
        )
        if extra.get("from_email") and not out.get("NEWSMON_DIGEST_FROM"):
            out["NEWSMON_DIGEST_FROM"] = str(extra["from_email"])
    return out


def newsmon_settings(**overrides: Any) -> Settings:
    """Settings for a task: environment plus Airflow connections."""
    from pipeline.config import Settings

    return Settings.from_env(resolved_env(), **overrides)


# --- logging the outcome -----------------------------------------------------


def report_result(report: StageReport) -> dict[str, Any]:
    """Log the stage's one-line summary (and a few errors); return an XCom-safe dict."""
    log.info("%s", report.summary_line())
    for err in report.errors[:10]:
        log.warning("%s at %s: %s", err.get("kind"), err.get("where"), err.get("message"))
    if len(report.errors) > 10:
        log.warning("... and %d more errors", len(report.errors) - 10)
    result = report.to_dict()
    result["errors"] = result.get("errors", [])[:20]  # XComs live in the metadata DB
    return result


def new_articles(results: Sequence[Mapping[str, Any] | None]) -> int:
    """How many new articles the given stage results stored."""
    total = 0
    for res in results:
        counts = (res or {}).get("counts", {})
        total += sum(int(counts.get(k, 0)) for k in NEW_ARTICLE_KEYS)
    return total


def on_task_failure(context: Mapping[str, Any]) -> None:
    """on_failure_callback: one log line, and a short email when SMTP is configured."""
    ti = context.get("ti") or context.get("task_instance")
    dag_id = getattr(ti, "dag_id", "?")
    task_id = getattr(ti, "task_id", "?")
    map_index = getattr(ti, "map_index", -1)
    run_id = getattr(ti, "run_id", "?")
    try_number = getattr(ti, "try_number", "?")
    exc = context.get("exception")
    if exc is None:  # the task process died or never started (reported by the executor)
        what = "the task process failed; see the task log"
    else:
        what = f"{type(exc).__name__}: {str(exc).splitlines()[0][:300] if str(exc) else ''}"
    task = task_id if map_index in (-1, None) else f"{task_id}[{map_index}]"
    line = f"{dag_id}.{task} failed (run {run_id}, try {try_number}): {what}"
    log.error("newsmon task failure: %s", line)
    _alert(f"{dag_id}.{task} failed", line + "\n\nSee the task log in the Airflow UI.\n")


def digest_deadline_missed(context: Mapping[str, Any] | None = None, **kwargs: Any) -> None:
    """Deadline-alert callback of newsmon_digest (runs on the executor, see DeadlineAlert).

    Backfill runs are skipped: they rebuild past days, and being "late" for a
    day that is long gone is not news to anyone.
    """
    context = context or {}
    run = context.get("dag_run") or {}
    deadline = context.get("deadline") or {}
    run_id = run.get("dag_run_id") or run.get("run_id") or "?"
    if run.get("run_type") == "backfill":
        log.info("digest deadline passed for backfill run %s; not alerting", run_id)
        return
    when = deadline.get("deadline_time") or datetime.now(UTC).isoformat()
    line = f"newsmon_digest run {run_id} has not finished by its deadline {when}"
    log.error("%s", line)
    _alert("digest not sent on time", line + "\n\nCheck newsmon_digest in the Airflow UI.\n")


def _alert(subject: str, body: str) -> None:
    """Email an operational alert through pipeline's mailer; never raises."""
    try:
        from pipeline.digest.mailer import send_alert

        send_alert(newsmon_settings(), subject, body)
    except Exception as exc:  # an alert must not mask the failure it reports
        log.warning("alert could not be emailed (%s): %s", type(exc).__name__, subject)
