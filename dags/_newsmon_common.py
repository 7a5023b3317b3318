"""Shared pieces of the newsmon DAGs: default_args, retry policy, callbacks, settings.

The DAG processor imports this module every time it parses a DAG file, so only
the standard library and ``airflow.sdk`` are imported at module level. The
pipeline package (SQLAlchemy, trafilatura, httpx, ...) is imported inside the
functions that run in tasks and callbacks.

Parse-time configuration is read from the environment only (cheap, no API
call); Airflow Variables and Connections are read at run time.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from airflow.sdk import RetryDecision, RetryPolicy

if TYPE_CHECKING:
    from email.message import EmailMessage

    from pipeline.config import Settings
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


def dag_timezone() -> str:
    """The digest's time zone; read at parse time because schedules depend on it."""
    return os.environ.get("NEWSMON_TIMEZONE") or "Europe/Berlin"


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name, "")
    try:
        return int(raw) if raw.strip() else default
    except ValueError:
        log.warning("%s=%r is not an integer; using %d", name, raw, default)
        return default


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
    if not _is_newsmon_error(exception):
        return RetryDecision.default()
    name = type(exception).__name__
    if not getattr(exception, "transient", False):
        return RetryDecision.fail(f"permanent error {name}: not retried")
    retry_after = getattr(exception, "retry_after", None)
    if isinstance(retry_after, int | float) and retry_after > 0:
        # a server asked for a pause: honour it, but never park a task for hours
        delay = timedelta(seconds=min(float(retry_after), 3600.0))
        return RetryDecision.retry(delay=delay, reason=f"transient {name}: server asked to wait")
    return RetryDecision.retry(reason=f"transient error {name}: retrying with backoff")


def _is_newsmon_error(exception: BaseException) -> bool:
    # compare by name so this module never imports pipeline at parse time
    return any(
        c.__name__ == "NewsmonError" and c.__module__ == "pipeline.errors"
        for c in type(exception).__mro__
    )


def default_args(*, timeout: timedelta, retries: int = 3) -> dict[str, Any]:
    """default_args of every newsmon task.

    NEWSMON_TASK_RETRIES overrides the retry count of every task (tests set 0
    so that a failure shows at once instead of after the backoff).
    """
    return {
        "owner": OWNER,
        "retries": env_int("NEWSMON_TASK_RETRIES", retries),
        "retry_delay": timedelta(minutes=2),
        "retry_exponential_backoff": 2.0,
        "max_retry_delay": timedelta(minutes=30),
        "retry_policy": NewsmonRetryPolicy(),
        "execution_timeout": timeout,
        "on_failure_callback": on_task_failure,
    }


# --- run windows -------------------------------------------------------------


def run_type_of(dag_run: Any) -> str:
    """'scheduled', 'manual', 'backfill', 'asset_triggered' (DagRunType may be an enum)."""
    value = getattr(dag_run, "run_type", dag_run)
    return str(getattr(value, "value", value))


def digest_day(
    *,
    run_type: str,
    tz: str,
    interval_start: datetime | None,
    logical_date: datetime | None,
    now: datetime,
    param_date: str | None,
) -> date:
    """The day a run covers: explicit param, else the data interval's day, else yesterday."""
    from zoneinfo import ZoneInfo

    if param_date:
        return date.fromisoformat(param_date)
    zone = ZoneInfo(tz)
    if run_type in ("scheduled", "backfill") and interval_start is not None:
        return interval_start.astimezone(zone).date()
    ref = logical_date or now
    return ref.astimezone(zone).date() - timedelta(days=1)


def should_send(*, run_type: str, send: bool | None, dry_run: bool) -> bool:
    """Scheduled and manual runs send by default; backfills only when asked; dry runs never."""
    if dry_run:
        return False
    if send is not None:
        return bool(send)
    return run_type != "backfill"


def reprocess_window(
    *,
    tz: str,
    since: str | None,
    until: str | None,
    interval: tuple[datetime | None, datetime | None],
    now: datetime,
) -> tuple[datetime, datetime]:
    """[since, until) as aware datetimes: params first, then the data interval, then yesterday."""
    from zoneinfo import ZoneInfo

    zone = ZoneInfo(tz)

    def midnight(d: date) -> datetime:
        return datetime(d.year, d.month, d.day, tzinfo=zone)

    if since:
        first = date.fromisoformat(since)
        last = date.fromisoformat(until) if until else first + timedelta(days=1)
        if last <= first:
            raise ValueError(f"until ({last}) must be after since ({first})")
        return midnight(first), midnight(last)
    start, end = interval
    if start is not None and end is not None and end > start:
        return start, end
    yesterday = now.astimezone(zone).date() - timedelta(days=1)
    return midnight(yesterday), midnight(yesterday + timedelta(days=1))


# --- settings from env + Airflow connections --------------------------------


def smtp_url_from_connection(
    host: str | None,
    port: int | None,
    login: str | None,
    password: str | None,
    extra: Mapping[str, Any],
) -> str:
    """Turn an Airflow SMTP connection into newsmon's smtp:// URL.

    Follows the smtp provider's meaning of the extras: SSL unless
    ``disable_ssl``; otherwise STARTTLS unless ``disable_tls``.
    """
    if not host:
        raise ValueError("SMTP connection has no host")
    ssl = not _truthy(extra.get("disable_ssl", False))
    starttls = not ssl and not _truthy(extra.get("disable_tls", False))
    auth = ""
    if login:
        auth = quote(login, safe="") + (":" + quote(password, safe="") if password else "") + "@"
    scheme = "smtps" if ssl else "smtp"
    netloc = f"{auth}{host}" + (f":{port}" if port else "")
    return f"{scheme}://{netloc}" + ("?starttls=1" if starttls else "")


def database_url_from_connection(
    conn_type: str | None,
    host: str | None,
    port: int | None,
    login: str | None,
    password: str | None,
    schema: str | None,
    extra: Mapping[str, Any],
) -> str:
    """Turn an Airflow connection into an SQLAlchemy URL for newsmon's storage."""
    if extra.get("sqlalchemy_url"):
        return str(extra["sqlalchemy_url"])
    kind = (conn_type or "").lower()
    if kind == "sqlite":
        return f"sqlite:///{host or ''}"
    if kind in ("postgres", "postgresql"):
        auth = ""
        if login:
            auth = (
                quote(login, safe="") + (":" + quote(password, safe="") if password else "") + "@"
            )
        netloc = f"{auth}{host or 'localhost'}" + (f":{port}" if port else "")
        return f"postgresql+psycopg://{netloc}/{schema or ''}"
    raise ValueError(f"connection type {conn_type!r} is not supported for {DB_CONN_ID}")


def _truthy(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes", "on")
    return bool(value)


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
    out = dict(os.environ if env is None else env)
    if not out.get("NEWSMON_DATABASE_URL"):
        conn = _connection(DB_CONN_ID)
        if conn is not None:
            out["NEWSMON_DATABASE_URL"] = database_url_from_connection(
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
        out["NEWSMON_SMTP_URL"] = smtp_url_from_connection(
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


# --- alerts --------------------------------------------------------------------


def send_alert(subject: str, body: str, env: Mapping[str, str] | None = None) -> bool:
    """Email a short alert when SMTP is configured; returns whether one was sent.

    Recipients: NEWSMON_ALERT_TO, else the digest recipients. Never raises: an
    alert that cannot be delivered must not mask the failure it reports.
    """
    try:
        values = resolved_env(env)
        url = values.get("NEWSMON_SMTP_URL")
        to = [
            a.strip()
            for a in (
                values.get("NEWSMON_ALERT_TO") or values.get("NEWSMON_DIGEST_TO") or ""
            ).split(",")
            if a.strip()
        ]
        if not url or not to:
            log.info("alert not emailed (no SMTP connection or no recipients): %s", subject)
            return False
        from email.message import EmailMessage

        msg = EmailMessage()
        msg["Subject"] = f"[newsmon] {subject}"
        msg["From"] = values.get("NEWSMON_DIGEST_FROM") or "newsmon@localhost"
        msg["To"] = ", ".join(to)
        msg.set_content(body)
        _smtp_send(url, msg)
        log.info("alert emailed to %d recipient(s): %s", len(to), subject)
        return True
    except Exception as exc:
        log.warning("alert could not be emailed (%s): %s", type(exc).__name__, subject)
        return False


def _smtp_send(url: str, msg: EmailMessage) -> None:
    # the digest's own mailer: same URL syntax, TLS/STARTTLS, timeouts and retries
    from pipeline.digest.mailer import parse_smtp_url, send_message

    send_message(msg, parse_smtp_url(url))


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
    send_alert(f"{dag_id}.{task} failed", line + "\n\nSee the task log in the Airflow UI.\n")


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
    send_alert("digest not sent on time", line + "\n\nCheck newsmon_digest in the Airflow UI.\n")
