"""The Airflow DAGs: integrity, parse-time hygiene, and dag.test() against loopback servers.

Everything that needs airflow-core runs in a subprocess with a private
AIRFLOW_HOME (tests/support/airflow_env.py); the pure helpers of
dags/_newsmon_common.py are tested in-process.
"""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from tests.support.airflow_env import (
    DAGS,
    REPO,
    airflow_env,
    dag_tests,
    migrated_template,
    smtp_connection_env,
    template_root,
    use_template,
)
from tests.support.demo_site import serve_site, write_feed_list
from tests.support.http_server import LoopbackServer
from tests.support.smtp_server import SmtpInbox

DAG_IDS = {"newsmon_ingest", "newsmon_digest", "newsmon_reprocess", "newsmon_doctor"}
#: Packages a DAG file must not import while being parsed (they load at task run time).
#: Of pipeline, only the standard-library-only configuration modules (LIGHT) may load.
HEAVY = (
    "pipeline",
    "seeds",
    "storage",
    "trafilatura",
    "feedparser",
    "sqlmodel",
    "lxml",
    "numpy",
    "httpx",
    "sqlalchemy",
    "jinja2",
    "yaml",
)

LIGHT = ("pipeline", "pipeline.config", "pipeline.errors", "seeds")

_INSPECT = r"""
import json, sys, time
import airflow.sdk  # what the DAG processor has loaded before it parses a file
from airflow.dag_processing.dagbag import BundleDagBag
heavy, light = json.loads(sys.argv[2]), set(json.loads(sys.argv[3]))
before = set(sys.modules)
start = time.perf_counter()
bag = BundleDagBag(dag_folder=sys.argv[1], bundle_path=sys.argv[1], bundle_name="dags-folder")
elapsed = time.perf_counter() - start
new = sorted(m for m in set(sys.modules) - before if m.split(".")[0] in heavy and m not in light)
dags = {}
for dag_id, dag in bag.dags.items():
    tasks = {}
    for t in dag.tasks:
        tasks[t.task_id] = {
            "pool": t.pool, "retries": t.retries, "owner": t.owner,
            "retry_policy": type(t.retry_policy).__name__ if t.retry_policy else None,
            "backoff": t.retry_exponential_backoff,
            "timeout": t.execution_timeout.total_seconds() if t.execution_timeout else None,
            "on_failure": bool(t.on_failure_callback),
            "outlets": [getattr(o, "uri", str(o)) for o in t.outlets],
            "mapped": bool(getattr(t, "is_mapped", False)),
        }
    params = {}
    for k in dag.params:
        p = dag.params.get_param(k)
        params[k] = {**p.schema, "description": p.description}
    dags[dag_id] = {
        "timetable": type(dag.timetable).__name__,
        "summary": getattr(dag.timetable, "expression", None),
        "tz": str(getattr(dag.timetable, "timezone", "")),
        "catchup": dag.catchup, "max_active_runs": dag.max_active_runs,
        "doc_md": dag.doc_md or "", "tags": sorted(dag.tags), "owner": dag.owner,
        "deadline": len(dag.deadline or []), "params": params, "tasks": tasks,
    }
print("INSPECT " + json.dumps({"errors": bag.import_errors, "heavy": new,
                               "seconds": elapsed, "dags": dags}, default=str))
"""


@pytest.fixture(scope="module")
def inspected(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    env = airflow_env(tmp_path_factory.mktemp("inspect"))
    proc = subprocess.run(
        [sys.executable, "-c", _INSPECT, str(DAGS), json.dumps(HEAVY), json.dumps(LIGHT)],
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        cwd=str(REPO),
    )
    for line in proc.stdout.splitlines():
        if line.startswith("INSPECT "):
            result: dict[str, Any] = json.loads(line.removeprefix("INSPECT "))
            return result
    raise AssertionError(f"DagBag inspection failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")


def test_dagbag_imports_every_dag_without_errors(inspected: dict[str, Any]) -> None:
    assert inspected["errors"] == {}
    assert set(inspected["dags"]) == DAG_IDS


def test_parsing_imports_nothing_heavy(inspected: dict[str, Any]) -> None:
    # pipeline/storage pull in SQLAlchemy engines, trafilatura, httpx clients:
    # they belong to task run time, never to the DAG processor's parse loop
    assert inspected["heavy"] == []


def test_every_dag_is_documented_tagged_and_owned(inspected: dict[str, Any]) -> None:
    for dag_id, d in inspected["dags"].items():
        assert "backfill" in d["doc_md"].lower(), dag_id
        assert "newsmon" in d["tags"], dag_id
        assert d["owner"] == "newsmon", dag_id
        for task_id, t in d["tasks"].items():
            where = f"{dag_id}.{task_id}"
            assert t["retry_policy"] == "NewsmonRetryPolicy", where
            assert t["backoff"] == 2.0 and t["timeout"] and t["on_failure"], where


def test_schedules_windows_and_limits(inspected: dict[str, Any]) -> None:
    dags = inspected["dags"]
    digest, ingest, reprocess = (dags[f"newsmon_{k}"] for k in ("digest", "ingest", "reprocess"))
    # a data-interval timetable: the run's window is the day, not a zero-width instant
    assert digest["timetable"] == "CronDataIntervalTimetable"
    assert digest["summary"] == "0 7 * * *" and "Berlin" in digest["tz"]
    assert digest["max_active_runs"] == 1 and digest["deadline"] == 1
    assert not digest["catchup"] and not ingest["catchup"]
    assert ingest["summary"] == "*/30 * * * *"
    # backfills need a periodic timetable; reprocess has one but skips scheduled runs
    assert reprocess["timetable"] == "CronDataIntervalTimetable"
    shard = ingest["tasks"]["ingest_shard"]
    assert shard["mapped"] and shard["pool"] == "newsmon_http"
    outlets = ingest["tasks"]["announce_articles"]["outlets"]
    assert [o.rstrip("/") for o in outlets] == ["newsmon://articles"]
    # the doctor runs when someone asks, never on a schedule, and never retries
    doctor = dags["newsmon_doctor"]
    assert doctor["timetable"] == "NullTimetable" and doctor["tasks"]["doctor"]["retries"] == 0


def test_manual_run_params_have_titles_and_descriptions(inspected: dict[str, Any]) -> None:
    digest = inspected["dags"]["newsmon_digest"]["params"]
    assert set(digest) == {"date", "recipients", "send", "dry_run", "resend"}
    reprocess = inspected["dags"]["newsmon_reprocess"]["params"]
    assert set(reprocess) == {"since", "until", "steps"}
    for schema in [*digest.values(), *reprocess.values()]:
        assert schema.get("title") and schema.get("description"), schema


# --- pure helpers of dags/_newsmon_common.py ------------------------------------


@pytest.fixture(scope="module")
def common(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ModuleType]:
    # airflow.sdk creates $AIRFLOW_HOME on import: keep it out of the user's home
    os.environ.setdefault("AIRFLOW_HOME", str(tmp_path_factory.mktemp("airflow_home")))
    sys.path.insert(0, str(DAGS))
    try:
        yield importlib.import_module("_newsmon_common")
    finally:
        sys.path.remove(str(DAGS))


def test_retry_policy_fails_permanent_errors_and_retries_transient_ones(
    common: ModuleType,
) -> None:
    from airflow.sdk import RetryAction

    from pipeline.errors import (
        BlockedAddress,
        CheckFailed,
        ConfigError,
        DatabaseCorrupt,
        DatabaseRefused,
        DatabaseUnavailable,
        DeliveryFailed,
        DeliveryInDoubt,
        DeliveryRejected,
        TransientFetchError,
    )

    policy = common.NewsmonRetryPolicy()
    permanent: list[Exception] = [
        ConfigError("bad"),
        BlockedAddress("no", url="http://10.0.0.1/"),
        # issue 16: a damaged or foreign database, a refused login, a failed doctor
        DatabaseCorrupt("damaged"),
        DatabaseRefused("no driver"),
        DeliveryRejected("535", reason="535 authentication failed"),
        CheckFailed("doctor: 1 of 8 checks failed: smtp"),
    ]
    for exc in permanent:
        assert policy.evaluate(exc, 1, 4).action is RetryAction.FAIL
    transient: list[Exception] = [DatabaseUnavailable("down"), DeliveryFailed("421")]
    for exc in transient:
        decision = policy.evaluate(exc, 1, 4)
        assert decision.action is RetryAction.RETRY and decision.retry_delay is None
    asked = policy.evaluate(TransientFetchError("429", retry_after=120.0), 1, 4)
    assert asked.retry_delay == timedelta(seconds=120)
    in_doubt = policy.evaluate(DeliveryInDoubt("claimed", retry_after=900.0), 1, 4)
    assert in_doubt.retry_delay == timedelta(minutes=15)  # waits out the other run's lease
    capped = policy.evaluate(TransientFetchError("429", retry_after=86400.0), 1, 4)
    assert capped.retry_delay == timedelta(hours=1)
    # not newsmon's: Airflow's own retries with exponential backoff
    assert policy.evaluate(KeyError("bug"), 1, 4).action is RetryAction.DEFAULT


# --- dag.test() against loopback HTTP and SMTP ------------------------------------


def _states(result: dict[str, Any]) -> dict[str, str]:
    assert "tasks" in result, result.get("error")
    return {k: v["state"] for k, v in result["tasks"].items()}


def test_dag_test_of_every_dag_against_loopback_servers(
    tmp_path: Path, inbox: SmtpInbox, request: pytest.FixtureRequest
) -> None:
    smtp_port = inbox.port
    # `airflow db migrate` takes 5-25 s: migrate once, keep the empty DB in pytest's cache
    cache = getattr(request.config, "cache", None)  # absent under -p no:cacheprovider
    root = template_root(cache.mkdir("newsmon-airflow")) if cache else tmp_path / "template"
    template = migrated_template(root)
    today = datetime.now(UTC).astimezone().date()  # refined below with the digest's zone
    with LoopbackServer() as site:
        serve_site(site)
        env = airflow_env(
            tmp_path,
            {
                "NEWSMON_FEEDS": str(write_feed_list(site, tmp_path / "feeds.yaml")),
                "NEWSMON_DIGEST_TO": "desk@example.org",
                # SMTP comes only through the Airflow connection, as in production
                "AIRFLOW_CONN_NEWSMON_SMTP": smtp_connection_env(smtp_port),
                # dag.test() of Airflow 3.3.2 breaks on DAGs with a DeadlineAlert
                "NEWSMON_DIGEST_DEADLINE_MINUTES": "0",
            },
        )
        use_template(template, env)
        from zoneinfo import ZoneInfo

        today = datetime.now(ZoneInfo("Europe/Berlin")).date()
        past = (datetime.now(UTC) - timedelta(days=3)).replace(minute=0, second=0, microsecond=0)
        scenarios: list[dict[str, Any]] = [
            # a permanent error (missing feed list) fails at once and alerts by mail
            {
                "name": "broken",
                "dag_id": "newsmon_ingest",
                "env": {
                    "NEWSMON_FEEDS": str(tmp_path / "missing.yaml"),
                    "NEWSMON_TASK_RETRIES": "3",
                },
            },
            {"name": "ingest", "dag_id": "newsmon_ingest"},
            {"name": "ingest_again", "dag_id": "newsmon_ingest"},
            {"name": "window", "dag_id": "newsmon_ingest", "logical_date": past.isoformat()},
            {"name": "digest", "dag_id": "newsmon_digest", "conf": {"date": today.isoformat()}},
            {
                "name": "digest_again",
                "dag_id": "newsmon_digest",
                "conf": {"date": today.isoformat()},
            },
            {
                "name": "reprocess",
                "dag_id": "newsmon_reprocess",
                "conf": {"since": today.isoformat(), "steps": ["relevance", "actors"]},
            },
        ]
        # init is the run command's job (scripts/run_monitor.sh runs `newsmon init`)
        subprocess.run(
            [str(Path(sys.executable).parent / "newsmon"), "init"],
            env=env,
            check=True,
            capture_output=True,
            timeout=120,
            cwd=str(REPO),
        )
        results, output = dag_tests(env, scenarios)

    broken = results["broken"]
    assert broken["state"] == "failed", broken
    assert broken["tasks"]["plan_shards"] == {"state": "failed", "try_number": 1}

    assert results["ingest"]["state"] == "success", output[-5000:]
    states = _states(results["ingest"])
    assert states["ingest_window"] == "skipped"
    assert states["announce_articles"] == "success"  # new articles: Asset updated
    shard_runs = [k for k in states if k.startswith("ingest_shard[")]
    assert shard_runs and all(states[k] == "success" for k in shard_runs)

    again = _states(results["ingest_again"])
    assert results["ingest_again"]["state"] == "success"
    assert again["announce_articles"] == "skipped"  # nothing new: no asset event

    window = _states(results["window"])
    assert results["window"]["state"] == "success", output[-5000:]
    assert window["ingest_window"] == "success" and window["plan_shards"] == "skipped"

    assert results["digest"]["state"] == "success", results["digest"].get("error") or output[-5000:]
    assert results["digest_again"]["state"] == "success"
    assert results["reprocess"]["state"] == "success", output[-5000:]

    # one-line summaries in the task logs
    assert "ingest[" in output and "articles_stored=" in output
    assert "reprocess: " in output and "articles_reprocessed=" in output
    assert "digest: " in output
    # no error-level noise from successful branches (a skipped branch's XCom is never pulled)
    assert "XCom not found" not in output
    assert output.count("reprocess: ") == 1  # each stage's summary once, not twice

    digests = [m for m in inbox.messages if "[newsmon]" not in str(m["Subject"])]
    alerts = [m for m in inbox.messages if "[newsmon]" in str(m["Subject"])]
    assert len(digests) == 1, [m["Subject"] for m in inbox.messages]  # never twice
    assert digests[0]["To"] == "desk@example.org"
    assert [str(m["Subject"]) for m in alerts] == ["[newsmon] newsmon_ingest.plan_shards failed"]
    assert "ConfigError" in alerts[0].get_content()
    written = list((tmp_path / "newsmon" / "digests").glob(f"*{today.isoformat()}*"))
    assert written, list((tmp_path / "newsmon").rglob("*"))
