"""newsmon_digest: build (and send) the daily digest of the previous local day."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from _newsmon_common import (
    DIGESTS_URI,
    OWNER,
    TAGS,
    dag_settings,
    default_args,
    digest_deadline_missed,
    newsmon_settings,
    report_result,
    run_type_of,
)
from airflow.sdk import Asset, CronDataIntervalTimetable, Param, dag, get_current_context, task
from airflow.sdk.definitions.callback import SyncCallback
from airflow.sdk.definitions.deadline import DeadlineAlert, DeadlineReference

DOC = """
### newsmon_digest

The digest of one local day (`NEWSMON_TIMEZONE`) from stored articles, written to
`$NEWSMON_HOME/digests/` and emailed. **Scheduled** daily at 07:00 local time (the UI shows
UTC) for the previous day; **manual** runs ask for date, recipients, send, dry run, resend;
a **backfill** rebuilds past days and sends only with `"send": true`. Never sent twice to a
recipient for a day unless *resend*; a deadline alert fires after
`NEWSMON_DIGEST_DEADLINE_MINUTES` (default 60). See docs/airflow.md.
"""

DAY_LABEL = "digest of {{ digest_day | default('(day not yet known)') }}"

PARAMS = {
    "date": Param(
        None,
        type=["null", "string"],
        format="date",
        title="Date",
        description="Day of the digest (YYYY-MM-DD). Empty: the run's own day (yesterday for a "
        "manual run).",
    ),
    "recipients": Param(
        [],
        type="array",
        items={"type": "string"},
        title="Recipients",
        description="Email addresses, one per line. Empty: NEWSMON_DIGEST_TO.",
    ),
    "send": Param(
        None,
        type=["null", "boolean"],
        title="Send",
        description="Email the digest. Empty: scheduled and manual runs send, backfill runs do "
        "not.",
    ),
    "dry_run": Param(False, type="boolean", title="Dry run", description="Write, never send."),
    "resend": Param(
        False, type="boolean", title="Resend", description="Send again to who already got it."
    ),
}


def _deadline() -> DeadlineAlert | None:
    """Alert when a run has not finished this long after it was queued (0 disables).

    dag.test() of Airflow 3.3.2 cannot run a DAG with a deadline (it looks the
    alert up by the serialized dict instead of its id), hence the switch.
    """
    minutes = dag_settings().digest_deadline_minutes
    if minutes <= 0:
        return None
    return DeadlineAlert(
        reference=DeadlineReference.DAGRUN_QUEUED_AT,
        interval=timedelta(minutes=minutes),
        callback=SyncCallback(digest_deadline_missed),
        name="newsmon_digest_late",
    )


@dag(
    dag_id="newsmon_digest",
    description="Build and email the daily Korea news digest",
    schedule=CronDataIntervalTimetable("0 7 * * *", timezone=dag_settings().timezone),
    start_date=datetime(2024, 1, 1, tzinfo=UTC),
    catchup=False,
    max_active_runs=1,
    dagrun_timeout=timedelta(hours=2),
    default_args=default_args(timeout=timedelta(minutes=20), retries=4),
    params=PARAMS,
    tags=TAGS,
    owner_links={OWNER: "https://github.com/newsmon/newsmon"},
    doc_md=DOC,
    deadline=_deadline(),
)
def newsmon_digest() -> None:
    """Daily digest DAG: one task that builds a day's digest and emails it when sending is on."""

    # names the task instance after its digest day (UI, REST API: rendered_map_index)
    @task(outlets=[Asset(DIGESTS_URI)], map_index_template=DAY_LABEL)
    def build_digest() -> dict[str, Any]:
        from pipeline import stages
        from pipeline.digest.policy import plan_delivery
        from pipeline.windows import run_digest_day

        ctx = get_current_context()
        params = ctx["params"]
        run = ctx["dag_run"]
        settings = newsmon_settings()
        day = run_digest_day(
            run_type=run_type_of(run),
            tz=settings.timezone,
            interval_start=ctx.get("data_interval_start"),
            logical_date=ctx.get("logical_date"),
            now=datetime.now(UTC),
            param_date=params.get("date"),
        )
        send, recipients, why_not = plan_delivery(
            settings,
            run_type=run_type_of(run),
            send=params.get("send"),
            dry_run=bool(params.get("dry_run")),
            recipients=params.get("recipients") or (),
        )
        if why_not:
            print(f"{why_not}: not sent")
        ctx["digest_day"] = day.isoformat()  # type: ignore[typeddict-unknown-key]
        print(f"digest of {day.isoformat()}: send={send} recipients={len(recipients)}")
        report = stages.digest(
            settings,
            day,
            send=send,
            recipients=recipients if send else None,
            resend=bool(params.get("resend")),
            smtp_url=settings.smtp_url,
        )
        # stages.digest raises DeliveryError when a recipient failed (permanent if all were
        # refusals); the retry sends only to those who did not get it yet
        result = report_result(report)
        result["day"] = day.isoformat()
        return result

    build_digest()


newsmon_digest()
