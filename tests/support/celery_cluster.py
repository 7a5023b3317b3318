"""A real small Airflow cluster on this machine: CeleryExecutor, Redis broker, PostgreSQL.

Used by scripts/scale_test.py (``make scale-test``), its pytest wrapper and
bench/bench_scale.py. The cluster is built from the project's own files:

* two PostgreSQL databases on 127.0.0.1:5432 (Airflow's metadata, newsmon's
  storage), dropped and created afresh by :meth:`Cluster.create_databases`;
* Redis on 127.0.0.1:6379, a dedicated database number, as the Celery broker,
  and a queue name unique to this cluster so that concurrent clusters on one
  machine never take each other's tasks;
* ``airflow api-server``, ``scheduler``, ``dag-processor``, ``triggerer`` and N
  ``airflow celery worker -H workerK@<host>`` processes, each in its own
  process group (so one worker can be SIGKILLed with its task processes, and
  everything is stopped by process-group id, never by name).

All components share one environment: the same JWT secret (the scheduler
signs the task tokens the API server checks), the same secret key (the API
server reads task logs from the workers' log servers), the execution API URL
of the API server, and ``hostname_callable`` = pipeline.ops.hostname.worker_hostname
so that Airflow's task-instance records name the Celery worker that ran a task.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import signal
import socket
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from tests.support.airflow_env import BIN, DAGS, REPO
from tests.support.smtp_server import free_port

PG_HOST, PG_PORT = "127.0.0.1", 5432
REDIS_HOST, REDIS_PORT = "127.0.0.1", 6379
COMPONENTS = ("api-server", "scheduler", "dag-processor", "triggerer")


class ClusterError(RuntimeError):
    """The cluster could not be started or did not do what was asked."""


def services_missing() -> str | None:
    """Why the cluster cannot run here (PostgreSQL or Redis unreachable), or None."""
    for name, host, port in (("PostgreSQL", PG_HOST, PG_PORT), ("Redis", REDIS_HOST, REDIS_PORT)):
        try:
            socket.create_connection((host, port), timeout=2).close()
        except OSError as exc:
            return f"{name} is not reachable on {host}:{port} ({exc})"
    return None


def pg_url(database: str, driver: str = "postgresql+psycopg") -> str:
    """SQLAlchemy URL of a database on the local server (trust authentication)."""
    return f"{driver}://postgres@{PG_HOST}:{PG_PORT}/{database}"


def recreate_database(name: str) -> None:
    """DROP (if there) and CREATE one database; its name is ours alone."""
    import psycopg

    with psycopg.connect(
        host=PG_HOST, port=PG_PORT, user="postgres", dbname="postgres", autocommit=True
    ) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def drop_database(name: str) -> None:
    import psycopg

    with psycopg.connect(
        host=PG_HOST, port=PG_PORT, user="postgres", dbname="postgres", autocommit=True
    ) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@dataclass
class Cluster:
    """One cluster's settings, processes and a REST client (see the module docstring)."""

    root: Path
    name: str
    workers: int = 2
    concurrency: int = 1
    redis_db: int = 11
    extra_env: dict[str, str] = field(default_factory=dict)
    procs: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    client: httpx.Client | None = None

    @property
    def airflow_db(self) -> str:
        return f"{self.name}_airflow"

    @property
    def newsmon_db(self) -> str:
        return f"{self.name}_newsmon"

    @property
    def queue(self) -> str:
        return f"{self.name}_q"

    def worker_name(self, k: int) -> str:
        return f"worker{k}@{self.name}"

    def __post_init__(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.logs = self.root / "logs"
        self.logs.mkdir(exist_ok=True)
        self.env = self._environment()

    def _environment(self) -> dict[str, str]:
        home = self.root / "airflow"
        home.mkdir(exist_ok=True)
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW_", "NEWSMON_"))}
        broker = f"redis://{REDIS_HOST}:{REDIS_PORT}/{self.redis_db}"
        env.update(
            {
                "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
                "AIRFLOW_HOME": str(home),
                "AIRFLOW__CORE__DAGS_FOLDER": str(DAGS),
                "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
                "AIRFLOW__CORE__EXECUTOR": "CeleryExecutor",
                "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "True",
                "AIRFLOW__CORE__HOSTNAME_CALLABLE": "pipeline.ops.hostname.worker_hostname",
                "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{self.port}/execution/",
                "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(home / "passwords.json"),
                "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": pg_url(self.airflow_db),
                # psycopg 3 does async too: no asyncpg (Airflow's default pick) needed
                "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN_ASYNC": pg_url(
                    self.airflow_db, "postgresql+psycopg_async"
                ),
                "AIRFLOW__API__HOST": "127.0.0.1",
                "AIRFLOW__API__PORT": str(self.port),
                "AIRFLOW__API__SECRET_KEY": secrets.token_urlsafe(24),
                "AIRFLOW__API_AUTH__JWT_SECRET": secrets.token_urlsafe(32),
                "AIRFLOW__CELERY__BROKER_URL": broker,
                "AIRFLOW__CELERY__RESULT_BACKEND": "db+" + pg_url(self.airflow_db),
                "AIRFLOW__CELERY__WORKER_CONCURRENCY": str(self.concurrency),
                "AIRFLOW__OPERATORS__DEFAULT_QUEUE": self.queue,
                # a lean cluster on 2 shared cores: quick heartbeats, quick re-parsing
                "AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC": "1",
                "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT": "20",
                "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT_DETECTION_INTERVAL": "5",
                "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5",
                "AIRFLOW__API__WORKERS": "1",
                "NEWSMON_HOME": str(self.root / "newsmon"),
                "NEWSMON_DATABASE_URL": pg_url(self.newsmon_db),
                "NEWSMON_ALLOW_PRIVATE_NETWORKS": "127.0.0.0/8",
                "NEWSMON_PER_HOST_DELAY": "0",
                "NEWSMON_TASK_RETRIES": "2",
                "NEWSMON_TASK_RETRY_DELAY": "2",
                "NEWSMON_DIGEST_DEADLINE_MINUTES": "0",
            }
        )
        env.update(self.extra_env)
        self.password = secrets.token_urlsafe(12)
        (home / "passwords.json").write_text(json.dumps({"admin": self.password}))
        return env

    # --- set-up ------------------------------------------------------------

    def run(self, *args: str, timeout: float = 300) -> str:
        """Run a command in the cluster's environment; ClusterError with its output on failure."""
        proc = subprocess.run(
            list(args), env=self.env, cwd=str(REPO), capture_output=True, text=True, timeout=timeout
        )
        if proc.returncode != 0:
            raise ClusterError(
                f"{' '.join(args)} exited {proc.returncode}\n{(proc.stdout + proc.stderr)[-4000:]}"
            )
        return proc.stdout

    def create_databases(self, *, fresh: bool = True) -> None:
        """Databases for Airflow and newsmon (afresh unless ``fresh=False``), migrated schemas.

        With ``fresh=False`` the databases of an earlier run with the same name are
        reused: both migrations are idempotent, so a second run sees what the first stored.
        """
        if fresh:
            recreate_database(self.airflow_db)
            recreate_database(self.newsmon_db)
        import redis

        redis.Redis(host=REDIS_HOST, port=REDIS_PORT, db=self.redis_db).flushdb()
        # the two migrations touch different databases: run them side by side
        procs = {
            name: subprocess.Popen(
                args,
                env=self.env,
                cwd=str(REPO),
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
            )
            for name, args in (
                ("airflow db migrate", [str(BIN / "airflow"), "db", "migrate"]),
                ("newsmon init", [str(BIN / "newsmon"), "init"]),
            )
        }
        for name, proc in procs.items():
            out, _ = proc.communicate(timeout=600)
            if proc.returncode != 0:
                raise ClusterError(f"{name} exited {proc.returncode}\n{out[-4000:]}")

    def create_pool(self, name: str, slots: int, description: str) -> None:
        """The pool through the REST API (cheaper than another `airflow` CLI start)."""
        body = {"name": name, "slots": slots, "description": description, "include_deferred": False}
        assert self.client is not None
        resp = self.client.post("/api/v2/pools", json=body)
        if resp.status_code == 409:  # a reused database has it already: set its size
            self.api("PATCH", f"/pools/{name}", json=body)
        elif resp.status_code >= 400:
            raise ClusterError(f"POST /pools -> {resp.status_code}: {resp.text[:2000]}")

    def drop_databases(self) -> None:
        for name in (self.airflow_db, self.newsmon_db):
            drop_database(name)

    # --- processes ---------------------------------------------------------

    def _start(self, key: str, args: list[str], env: dict[str, str] | None = None) -> None:
        out = (self.logs / f"{key}.log").open("ab")
        self.procs[key] = subprocess.Popen(
            args,
            env=env or self.env,
            cwd=str(REPO),
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: killed as a unit, never by name
        )
        out.close()

    def start_worker(self, k: int) -> None:
        """``airflow celery worker`` number k, with its own node name and log-server port."""
        env = dict(self.env, AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT=str(free_port()))
        args = [str(BIN / "airflow"), "celery", "worker", "-H", self.worker_name(k)]
        args += ["-q", self.queue, "-c", str(self.concurrency), "--without-mingle"]
        self._start(f"worker{k}", [*args, "--without-gossip"], env)

    def start(self) -> None:
        """Start the four components and the workers, wait for the API, log in."""
        self._start("api-server", [str(BIN / "airflow"), "api-server", "--port", str(self.port)])
        for comp in COMPONENTS[1:]:
            self._start(comp, [str(BIN / "airflow"), comp])
        for k in range(1, self.workers + 1):
            self.start_worker(k)
        self.client = httpx.Client(base_url=f"http://127.0.0.1:{self.port}", timeout=30.0)
        self.wait_for("the API server", self._healthy, 240)
        resp = self.client.post(
            "/auth/token", json={"username": "admin", "password": self.password}
        )
        if resp.status_code != 201:
            raise ClusterError(f"login failed: {resp.status_code} {resp.text}")
        self.client.headers["Authorization"] = f"Bearer {resp.json()['access_token']}"

    def _healthy(self) -> bool:
        assert self.client is not None
        return self.client.get("/api/v2/monitor/health").status_code == 200

    def kill_worker(self, k: int) -> None:
        """SIGKILL worker k and every process below it, as if its machine had died.

        The task supervisor puts each task process in a process group of its
        own, so killing the worker's group alone would leave the task running
        as an orphan; walk the process tree instead (children first, no
        process of another cluster is touched).
        """
        import psutil

        proc = self.procs[f"worker{k}"]
        try:
            tree = psutil.Process(proc.pid).children(recursive=True)
        except psutil.NoSuchProcess:
            tree = []
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        for child in tree:
            with contextlib.suppress(psutil.NoSuchProcess):
                child.kill()
        proc.wait(timeout=30)
        psutil.wait_procs(tree, timeout=30)

    def stop(self) -> None:
        """Stop every process this cluster started: SIGTERM, then SIGKILL, by group id."""
        if self.client is not None:
            self.client.close()
        for proc in self.procs.values():
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
        deadline = time.monotonic() + 20
        for proc in self.procs.values():
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
        for proc in self.procs.values():  # stragglers and grandchildren of the group
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=5)

    # --- REST API ------------------------------------------------------------

    def wait_for(self, what: str, check: Callable[[], Any], timeout: float) -> Any:
        """Poll ``check`` until it returns something truthy; ClusterError on timeout."""
        deadline = time.monotonic() + timeout
        last: Any = None
        while time.monotonic() < deadline:
            for key in COMPONENTS:
                proc = self.procs.get(key)
                if proc is not None and proc.poll() is not None:
                    raise ClusterError(f"{key} exited ({proc.returncode}) while waiting for {what}")
            try:
                last = check()
            except (httpx.HTTPError, KeyError) as exc:
                last = exc
            else:
                if last:
                    return last
            time.sleep(1.0)
        raise ClusterError(f"timed out after {timeout:.0f}s waiting for {what} (last: {last!r})")

    def api(self, method: str, path: str, **kwargs: Any) -> Any:
        assert self.client is not None
        resp = self.client.request(method, f"/api/v2{path}", **kwargs)
        if resp.status_code >= 400:
            raise ClusterError(f"{method} {path} -> {resp.status_code}: {resp.text[:2000]}")
        return resp.json()

    def unpause(self, dag_id: str) -> None:
        assert self.client is not None
        self.wait_for(
            f"{dag_id} to be parsed",
            lambda: (
                self.client is not None
                and self.client.get(f"/api/v2/dags/{dag_id}").status_code == 200
            ),
            240,
        )
        self.api("PATCH", f"/dags/{dag_id}", json={"is_paused": False})

    def trigger(self, dag_id: str, conf: dict[str, Any] | None = None) -> str:
        """POST a manual run (logical date now); its run id."""
        from datetime import UTC, datetime

        body = {"logical_date": datetime.now(UTC).isoformat(), "conf": conf or {}}
        run_id: str = self.api("POST", f"/dags/{dag_id}/dagRuns", json=body)["dag_run_id"]
        return run_id

    def run_state(self, dag_id: str, run_id: str) -> str:
        return str(self.api("GET", f"/dags/{dag_id}/dagRuns/{run_id}")["state"])

    def wait_run(self, dag_id: str, run_id: str, timeout: float = 400) -> str:
        """Wait until the run is finished; its final state."""
        return str(
            self.wait_for(
                f"{dag_id} run {run_id}",
                lambda: (s := self.run_state(dag_id, run_id)) in ("success", "failed") and s,
                timeout,
            )
        )

    def task_instances(self, dag_id: str, run_id: str, **filters: Any) -> list[dict[str, Any]]:
        """Task instances of a run (``run_id`` "~": of every run), e.g. ``state="running"``."""
        tis: list[dict[str, Any]] = self.api(
            "GET",
            f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances",
            params={"limit": 100, **filters},
        )["task_instances"]
        return tis

    def tries(self, dag_id: str, run_id: str, task_id: str, map_index: int) -> list[dict[str, Any]]:
        """Every try of one task instance (GET .../tries), oldest first."""
        path = f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances/{task_id}/{map_index}/tries"
        out: list[dict[str, Any]] = self.api("GET", path)["task_instances"]
        return sorted(out, key=lambda t: int(t.get("try_number") or 0))

    def diagnostics(self, chars: int = 3000) -> str:
        """Tails of the component logs, for failure messages."""
        parts = []
        for path in sorted(self.logs.glob("*.log")):
            with contextlib.suppress(OSError):
                parts += [f"--- {path.name}", path.read_text(errors="replace")[-chars:]]
        return "\n".join(parts)
