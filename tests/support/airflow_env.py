"""Run Airflow for tests: a private AIRFLOW_HOME with SQLite, the project's DAGs.

Airflow reads its configuration when it is first imported, so everything that
touches Airflow runs in a subprocess with an environment built here; the test
process itself never imports airflow-core.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
DAGS = REPO / "dags"
BIN = Path(sys.executable).parent

#: Executed with ``python -c`` in the subprocess: dag.test() of one DAG, result as JSON.
_DAG_TEST = r"""
import json, sys
from datetime import datetime
from airflow.dag_processing.dagbag import BundleDagBag
dags, dag_id, logical, conf = sys.argv[1], sys.argv[2], sys.argv[3], json.loads(sys.argv[4])
bag = BundleDagBag(dag_folder=dags, bundle_path=dags, bundle_name="dags-folder")
assert not bag.import_errors, bag.import_errors
dag = bag.dags[dag_id]
kwargs = {"run_conf": conf}
if logical != "now":
    kwargs["logical_date"] = datetime.fromisoformat(logical)
dr = dag.test(**kwargs)
tis = {}
for ti in dr.get_task_instances():
    key = ti.task_id if ti.map_index < 0 else f"{ti.task_id}[{ti.map_index}]"
    tis[key] = {"state": str(ti.state), "try_number": ti.try_number}
print("DAGTEST-RESULT " + json.dumps({"state": str(dr.state), "tasks": tis}))
"""


def airflow_env(root: Path, extra: dict[str, str] | None = None) -> dict[str, str]:
    """Environment of an isolated Airflow (home under ``root``) running the project's DAGs."""
    home = root / "airflow"
    home.mkdir(parents=True, exist_ok=True)
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("AIRFLOW_", "AIRFLOW__", "NEWSMON_"))
    }
    env.update(
        {
            "AIRFLOW_HOME": str(home),
            "AIRFLOW__CORE__DAGS_FOLDER": str(DAGS),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'airflow.db'}",
            "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
            "AIRFLOW__LOGGING__LOGGING_LEVEL": "INFO",
            "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
            "NEWSMON_HOME": str(root / "newsmon"),
            "NEWSMON_ALLOW_PRIVATE_NETWORKS": "127.0.0.0/8",
            "NEWSMON_PER_HOST_DELAY": "0",
        }
    )
    env.update(extra or {})
    return env


def run(args: list[str], env: dict[str, str], timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """Run a command, failing with its output when it does not exit 0."""
    proc = subprocess.run(
        args, env=env, capture_output=True, text=True, timeout=timeout, cwd=str(REPO)
    )
    if proc.returncode != 0:
        raise AssertionError(
            f"{' '.join(args)} exited {proc.returncode}\n--- stdout\n{proc.stdout[-4000:]}"
            f"\n--- stderr\n{proc.stderr[-4000:]}"
        )
    return proc


def migrate(env: dict[str, str]) -> None:
    run([str(BIN / "airflow"), "db", "migrate"], env, timeout=180)


def dag_test(
    env: dict[str, str],
    dag_id: str,
    *,
    logical_date: str = "now",
    conf: dict[str, Any] | None = None,
    timeout: float = 180,
) -> tuple[dict[str, Any], str]:
    """``dag.test()`` of one DAG in a subprocess; returns (result, combined output)."""
    proc = subprocess.run(
        [sys.executable, "-c", _DAG_TEST, str(DAGS), dag_id, logical_date, json.dumps(conf or {})],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=str(REPO),
    )
    output = proc.stdout + "\n" + proc.stderr
    for line in proc.stdout.splitlines():
        if line.startswith("DAGTEST-RESULT "):
            return json.loads(line.removeprefix("DAGTEST-RESULT ")), output
    raise AssertionError(f"dag.test({dag_id}) gave no result (exit {proc.returncode}):\n{output[-6000:]}")
