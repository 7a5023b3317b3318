"""End to end on a real Airflow: the run command, REST API v2 backfills, scheduled runs.

Starts the README's run command (scripts/run_monitor.sh -> `airflow standalone`)
on loopback with SQLite in a temporary home, logs in through POST /auth/token
as the UI does, unpauses the DAGs, backfills newsmon_digest over three past
days through POST /api/v2/backfills (after the UI's dry run), and checks:
three digests written and sent once each; the scheduler, killed, comes back
(scripts/airflow_standalone.py); a second identical backfill (reprocessing
completed runs) sends nothing again; the scheduler's own runs succeed beside it;
`make stop` (scripts/stop_monitor.sh) ends the standalone and all it started.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from tests.support.airflow_env import REPO, airflow_env, smtp_connection_env
from tests.support.demo_site import serve_site, write_feed_list
from tests.support.history import record_successful_poll
from tests.support.http_server import LoopbackServer
from tests.support.procs import descendants, running
from tests.support.smtp_server import SmtpInbox, free_port

pytestmark = pytest.mark.slow

#: Upper bound of every wait; generous because CI machines are slow, never reached when OK.
STARTUP_TIMEOUT = 240.0
RUN_TIMEOUT = 600.0  # a bound on waiting, not a speed test: a loaded 2-core CI machine is slow
BACKFILL_TO = "backfill@example.org"
DESK = "desk@example.org"


class Monitor:
    """The running `scripts/run_monitor.sh` and a REST client logged in as admin."""

    def __init__(self, proc: subprocess.Popen[bytes], env: dict[str, str], log: Path) -> None:
        self.proc = proc
        self.env = env
        self.log = log
        self.base = f"http://127.0.0.1:{env['AIRFLOW__API__PORT']}"
        self.client = httpx.Client(base_url=self.base, timeout=30.0)

    def diagnostics(self) -> str:
        """Tail of the standalone output and of the task logs, for failure messages."""
        parts = [f"--- run_monitor.sh output ({self.log})", _tail(self.log, 6000)]
        logs = Path(self.env["AIRFLOW_HOME"]) / "logs"
        for path in sorted(logs.rglob("*.log"), key=lambda p: p.stat().st_mtime)[-4:]:
            parts += [f"--- {path.relative_to(logs)}", _tail(path, 2500)]
        return "\n".join(parts)

    def wait_for(self, what: str, check: Callable[[], Any], timeout: float) -> Any:
        deadline = time.monotonic() + timeout
        last: Any = None
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                pytest.fail(
                    f"run_monitor.sh exited ({self.proc.returncode}) while waiting for "
                    f"{what}\n{self.diagnostics()}"
                )
            try:
                last = check()
            except (httpx.HTTPError, KeyError) as exc:
                last = exc
            else:
                if last:
                    return last
            time.sleep(1.0)
        pytest.fail(
            f"timed out after {timeout:.0f}s waiting for {what} (last: {last!r})\n"
            f"{self.diagnostics()}"
        )

    def login(self) -> None:
        """POST /auth/token with the printed password, exactly like the login form."""
        password_file = (
            Path(self.env["AIRFLOW_HOME"]) / "simple_auth_manager_passwords.json.generated"
        )
        password = json.loads(password_file.read_text())["admin"]
        assert password in self.log.read_text(errors="replace"), "password not printed"
        resp = self.client.post("/auth/token", json={"username": "admin", "password": password})
        assert resp.status_code == 201, resp.text
        self.client.headers["Authorization"] = f"Bearer {resp.json()['access_token']}"

    def api(self, method: str, path: str, **kwargs: Any) -> Any:
        resp = self.client.request(method, f"/api/v2{path}", **kwargs)
        if resp.status_code >= 400:
            pytest.fail(f"{method} {path} -> {resp.status_code}: {resp.text}\n{self.diagnostics()}")
        return resp.json()

    def backfill(self, body: dict[str, Any]) -> None:
        """POST /api/v2/backfills as the UI does and wait until the backfill completes.

        On SQLite, Airflow's backfill creation can hit the metadata database's lock: it answers
        503 (or 500, when the lock hits its audit-log write) and may leave the half-created
        backfill "running", which answers every new POST with 409 until its runs end
        (apache/airflow#68699). The UI user clicks again, or waits for the running one and then
        clicks again; so does the test, a bounded number of times.
        """
        dag_id = body["dag_id"]

        def create() -> Any:
            resp = self.client.post("/api/v2/backfills", json=body)
            if resp.status_code in (500, 503):
                return None
            if resp.status_code == 409:
                return {"blocked_by": _active_backfill(self, dag_id)}
            assert resp.status_code == 200, resp.text
            return resp.json()

        for _ in range(3):
            got = self.wait_for(f"POST /api/v2/backfills {dag_id}", create, 120.0)
            if "blocked_by" not in got:
                self._wait_complete(dag_id, got["id"])
                return
            if got["blocked_by"]:
                self._wait_complete(dag_id, got["blocked_by"]["id"])
        pytest.fail(f"backfill of {dag_id} still blocked after three tries\n{self.diagnostics()}")

    def _wait_complete(self, dag_id: str, backfill_id: int) -> None:
        self.wait_for(
            f"backfill {backfill_id} of {dag_id} to complete",
            lambda: self.api("GET", f"/backfills/{backfill_id}")["completed_at"],
            RUN_TIMEOUT,
        )

    def scheduler_pid(self) -> int | None:
        """The running `airflow scheduler` among the standalone's components."""
        for pid in descendants(self.proc.pid):
            try:
                cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
            except FileNotFoundError:
                continue
            # the component itself, not its log server or LocalExecutor workers
            if b"airflow scheduler" in cmdline.replace(b"\0", b" ") and running(pid):
                return pid
        return None

    def task_states(self, dag_id: str, run_id: str) -> dict[str, str]:
        tis = self.api("GET", f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances")["task_instances"]
        return {t["task_id"]: t["state"] for t in tis if t.get("map_index", -1) < 1}

    def runs(self, dag_id: str, run_type: str | None = None) -> list[dict[str, Any]]:
        params: dict[str, Any] = {"limit": 100}
        if run_type:
            params["run_type"] = run_type
        out: list[dict[str, Any]] = self.api("GET", f"/dags/{dag_id}/dagRuns", params=params)[
            "dag_runs"
        ]
        return out


def _active_backfill(monitor: Monitor, dag_id: str) -> Any:
    """The backfill of ``dag_id`` that is still running, if any (GET /api/v2/backfills)."""
    listed = monitor.api("GET", "/backfills", params={"dag_id": dag_id, "limit": 100})
    active = [b for b in listed["backfills"] if not b.get("completed_at")]
    return active[-1] if active else None


def _tail(path: Path, chars: int) -> str:
    try:
        return path.read_text(errors="replace")[-chars:]
    except OSError as exc:
        return f"({exc})"


@pytest.fixture
def monitor(tmp_path: Path, inbox: SmtpInbox) -> Iterator[Monitor]:
    smtp_port = inbox.port
    with LoopbackServer() as site:
        serve_site(site)
        env = airflow_env(
            tmp_path,
            {
                "NEWSMON_SKIP_INSTALL": "1",
                "NEWSMON_FEEDS": str(write_feed_list(site, tmp_path / "feeds.yaml")),
                "NEWSMON_DIGEST_TO": DESK,
                "AIRFLOW_CONN_NEWSMON_SMTP": smtp_connection_env(smtp_port),
                "AIRFLOW__API__PORT": str(free_port()),
                "AIRFLOW__API__HOST": "127.0.0.1",
                "AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC": "1",
                "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5",
                "NEWSMON_TASK_RETRIES": "1",
                # a task whose worker died with the killed scheduler is failed and retried
                # after this long without a heartbeat (default 300 s)
                "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT": "120",
                # the test unpauses the DAGs through the API once the API server is up, so
                # that no task starts before the execution API listens
                "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "True",
            },
        )
        env.pop("AIRFLOW__CORE__EXECUTOR", None)  # standalone picks LocalExecutor itself
        log = tmp_path / "run_monitor.log"
        with log.open("wb") as out:
            proc = subprocess.Popen(
                [str(REPO / "scripts" / "run_monitor.sh")],
                env=env,
                cwd=str(REPO),
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        mon = Monitor(proc, env, log)
        try:
            yield mon
        finally:
            mon.client.close()
            _stop(proc)


def _stop(proc: subprocess.Popen[bytes]) -> None:
    """Stop the standalone this test started, and anything of it that outlives it."""
    tree = descendants(proc.pid)  # components run in process groups of their own
    if proc.poll() is None:
        for sig, grace in ((signal.SIGINT, 60.0), (signal.SIGTERM, 10.0), (signal.SIGKILL, 5.0)):
            try:
                os.killpg(proc.pid, sig)
            except ProcessLookupError:
                break
            try:
                proc.wait(timeout=grace)
                break
            except subprocess.TimeoutExpired:
                continue
    for pid in tree + descendants(proc.pid):
        with contextlib.suppress(OSError):  # gone, or its pid reused by something else
            if b"airflow" in Path(f"/proc/{pid}/cmdline").read_bytes():
                os.kill(pid, signal.SIGKILL)


def _dag_known(monitor: Monitor, dag_id: str) -> bool:
    return monitor.client.get(f"/api/v2/dags/{dag_id}").status_code == 200


def _scheduled_success(monitor: Monitor, dag_id: str) -> bool:
    return any(r["state"] == "success" for r in monitor.runs(dag_id, "scheduled"))


def _backfill_body(first: datetime, last: datetime, behaviour: str) -> dict[str, Any]:
    """The body the UI's Backfill form posts."""
    return {
        "dag_id": "newsmon_digest",
        "from_date": first.isoformat(),
        "to_date": last.isoformat(),
        "run_backwards": False,
        "dag_run_conf": {"send": True, "recipients": [BACKFILL_TO]},
        "reprocess_behavior": behaviour,
        "max_active_runs": 3,
    }


# the waits below add up to more than the suite's 600 s default; a hang still fails each wait
@pytest.mark.timeout(2400)
def test_backfill_digest_through_rest_api(
    monitor: Monitor, inbox: SmtpInbox, tmp_path: Path
) -> None:
    handler = inbox
    monitor.wait_for(
        "the API server",
        lambda: monitor.client.get("/api/v2/monitor/health").status_code == 200,
        STARTUP_TIMEOUT,
    )
    monitor.login()
    dag_ids = ("newsmon_ingest", "newsmon_digest", "newsmon_reprocess")
    for dag_id in dag_ids:
        monitor.wait_for(
            f"{dag_id} to be parsed",
            functools.partial(_dag_known, monitor, dag_id),
            STARTUP_TIMEOUT,
        )
        assert (
            monitor.api("PATCH", f"/dags/{dag_id}", json={"is_paused": False})["is_paused"] is False
        )
    errors = monitor.api("GET", "/importErrors")
    assert errors["total_entries"] == 0, errors

    # three past local days: logical dates (07:00 Berlin) of day-5, day-4, day-3
    berlin = ZoneInfo("Europe/Berlin")
    today = datetime.now(berlin).date()
    days = [today - timedelta(days=n) for n in (5, 4, 3)]
    first = datetime(days[0].year, days[0].month, days[0].day, tzinfo=berlin).astimezone(UTC)
    last = datetime(days[-1].year, days[-1].month, days[-1].day, 12, tzinfo=berlin).astimezone(UTC)

    # the monitor already ran on those days: their digests may be emailed
    url = monitor.env.get("NEWSMON_DATABASE_URL") or (
        f"sqlite:///{Path(monitor.env['NEWSMON_HOME']) / 'newsmon.db'}"
    )
    record_successful_poll(url, first - timedelta(days=1))

    dry = monitor.api("POST", "/backfills/dry_run", json=_backfill_body(first, last, "none"))
    assert dry["total_entries"] == 3, dry

    def run_backfill(behaviour: str) -> list[dict[str, Any]]:
        monitor.backfill(_backfill_body(first, last, behaviour))
        return monitor.runs("newsmon_digest", "backfill")

    runs = run_backfill("none")
    assert len(runs) == 3, runs
    assert {r["state"] for r in runs} == {"success"}, f"{runs}\n{monitor.diagnostics()}"
    digests = Path(monitor.env["NEWSMON_HOME"]) / "digests"
    for day in days:
        assert list(digests.glob(f"*{day.isoformat()}*")), (day, sorted(digests.iterdir()))
    assert len(handler.to(BACKFILL_TO)) == 3
    subjects = sorted(str(m["Subject"]) for m in handler.to(BACKFILL_TO))

    # the scheduler dies (as it can on SQLite when a backfill races its loop): it comes back
    dead = monitor.wait_for("the scheduler", monitor.scheduler_pid, STARTUP_TIMEOUT)
    os.kill(dead, signal.SIGKILL)
    monitor.wait_for(
        "a restarted scheduler",
        lambda: (pid := monitor.scheduler_pid()) is not None and pid != dead,
        STARTUP_TIMEOUT,
    )
    assert "scheduler exited (code -9)" in monitor.log.read_text(errors="replace")

    # the same backfill again, re-running the completed runs: nothing is sent twice
    again = run_backfill("completed")
    assert {r["state"] for r in again} == {"success"}, f"{again}\n{monitor.diagnostics()}"
    assert len(handler.to(BACKFILL_TO)) == 3
    assert sorted(str(m["Subject"]) for m in handler.to(BACKFILL_TO)) == subjects

    # the scheduler's own runs (catchup=False: the latest interval) succeed beside the backfills
    for dag_id in ("newsmon_ingest", "newsmon_digest"):
        monitor.wait_for(
            f"a successful scheduled run of {dag_id}",
            functools.partial(_scheduled_success, monitor, dag_id),
            RUN_TIMEOUT,
        )
        failed = [r for r in monitor.runs(dag_id, "scheduled") if r["state"] == "failed"]
        assert not failed, f"{failed}\n{monitor.diagnostics()}"
    # the scheduled digest (yesterday) went to the configured desk, once
    monitor.wait_for("the scheduled digest email", lambda: handler.to(DESK), RUN_TIMEOUT)
    assert len(handler.to(DESK)) == 1

    # backfilling ingest over a past hour re-reads that window (ingest_window), never polls live
    past = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(days=2)
    monitor.backfill(
        {
            "dag_id": "newsmon_ingest",
            "from_date": past.isoformat(),
            "to_date": (past + timedelta(minutes=30)).isoformat(),
            "max_active_runs": 1,
        }
    )
    ingest_runs = monitor.runs("newsmon_ingest", "backfill")
    assert ingest_runs and {r["state"] for r in ingest_runs} == {"success"}, ingest_runs
    for run in ingest_runs:
        states = monitor.task_states("newsmon_ingest", run["dag_run_id"])
        assert states["ingest_window"] == "success" and states["plan_shards"] == "skipped", states

    # backfilling reprocess re-enriches the stored pages of each day
    day = today - timedelta(days=2)  # yesterday belongs to the scheduler's own run
    start = datetime(day.year, day.month, day.day, tzinfo=berlin).astimezone(UTC)
    monitor.backfill(
        {
            "dag_id": "newsmon_reprocess",
            "from_date": start.isoformat(),
            "to_date": (start + timedelta(hours=1)).isoformat(),
            "max_active_runs": 1,
        }
    )
    reprocess_runs = monitor.runs("newsmon_reprocess", "backfill")
    assert [r["state"] for r in reprocess_runs] == ["success"], reprocess_runs
    states = monitor.task_states("newsmon_reprocess", reprocess_runs[0]["dag_run_id"])
    assert states == {"reprocess": "success"}, states

    # `make stop` ends this standalone and everything it started
    tree = descendants(monitor.proc.pid)
    assert tree
    out = subprocess.run(
        ["bash", str(REPO / "scripts" / "stop_monitor.sh")],
        env=monitor.env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert out.returncode == 0 and "stopped" in out.stdout, out.stdout + out.stderr
    monitor.proc.wait(timeout=30)
    assert not [pid for pid in tree if running(pid)], tree
