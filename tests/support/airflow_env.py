"""Run Airflow for tests: a private AIRFLOW_HOME with SQLite and the project's DAGs.

Airflow reads its configuration when it is first imported, so everything that
touches airflow-core runs in a subprocess with an environment built here.
``airflow db migrate`` is slow (seconds to tens of seconds), so tests migrate
one template database per session and copy the file.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
DAGS = REPO / "dags"
BIN = Path(sys.executable).parent

#: Runs in the subprocess: a list of dag.test() scenarios, one JSON result line each.
#: Tasks run in-process under dag.test(), so per-scenario env overrides reach them.
_RUNNER = r"""
import json, os, sys, traceback
from datetime import datetime
from airflow.dag_processing.dagbag import BundleDagBag
dags, scenarios = sys.argv[1], json.loads(sys.argv[2])
bag = BundleDagBag(dag_folder=dags, bundle_path=dags, bundle_name="dags-folder")
assert not bag.import_errors, bag.import_errors
for sc in scenarios:
    saved = dict(os.environ)
    os.environ.update(sc.get("env") or {})
    try:
        kwargs = {"run_conf": sc.get("conf") or {}}
        if sc.get("logical_date"):
            kwargs["logical_date"] = datetime.fromisoformat(sc["logical_date"])
        dr = bag.dags[sc["dag_id"]].test(**kwargs)
        tis = {}
        for ti in dr.get_task_instances():
            key = ti.task_id if ti.map_index < 0 else f"{ti.task_id}[{ti.map_index}]"
            tis[key] = {"state": str(ti.state), "try_number": ti.try_number}
        res = {"name": sc["name"], "state": str(dr.state), "tasks": tis}
    except Exception:
        res = {"name": sc["name"], "state": "error", "error": traceback.format_exc()}
    finally:
        os.environ.clear()
        os.environ.update(saved)
    print("DAGTEST-RESULT " + json.dumps(res), flush=True)
"""


def smtp_connection_env(port: int) -> str:
    """AIRFLOW_CONN_NEWSMON_SMTP value for a plain-text SMTP server on 127.0.0.1:port."""
    return json.dumps(
        {
            "conn_type": "smtp",
            "host": "127.0.0.1",
            "port": port,
            "extra": {
                "disable_ssl": True,
                "disable_tls": True,
                "from_email": "newsmon@example.org",
            },
        }
    )


def airflow_env(root: Path, extra: dict[str, str] | None = None) -> dict[str, str]:
    """Environment of an isolated Airflow (home under ``root``) running the project's DAGs."""
    home = root / "airflow"
    home.mkdir(parents=True, exist_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW_", "NEWSMON_"))}
    env.update(
        {
            "AIRFLOW_HOME": str(home),
            "AIRFLOW__CORE__DAGS_FOLDER": str(DAGS),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'airflow.db'}",
            "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
            "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
            "NEWSMON_HOME": str(root / "newsmon"),
            "NEWSMON_ALLOW_PRIVATE_NETWORKS": "127.0.0.0/8",
            "NEWSMON_PER_HOST_DELAY": "0",
            # a failing task must show at once, not after minutes of backoff
            "NEWSMON_TASK_RETRIES": "0",
        }
    )
    env.update(extra or {})
    return env


def run(
    args: list[str], env: dict[str, str], timeout: float = 120
) -> subprocess.CompletedProcess[str]:
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


def migrated_template(root: Path) -> Path:
    """A migrated, empty Airflow metadata DB under ``root`` (reused if already there)."""
    env = airflow_env(root)
    db = Path(env["AIRFLOW_HOME"]) / "airflow.db"
    done = root / "migrated"
    if not done.exists():
        db.unlink(missing_ok=True)
        run([str(BIN / "airflow"), "db", "migrate"], env, timeout=300)
        done.write_text("ok\n")
    return db


def template_root(cache_dir: Path) -> Path:
    """Where to keep the template DB: keyed by the installed Airflow version."""
    from importlib.metadata import version

    return cache_dir / f"airflow-{version('apache-airflow')}"


def use_template(template: Path, env: dict[str, str]) -> None:
    """Give the Airflow of ``env`` a copy of a migrated metadata DB."""
    shutil.copyfile(template, Path(env["AIRFLOW_HOME"]) / "airflow.db")


def dag_tests(
    env: dict[str, str], scenarios: list[dict[str, Any]], timeout: float = 300
) -> tuple[dict[str, dict[str, Any]], str]:
    """Run ``dag.test()`` scenarios in one subprocess (Airflow's start-up is paid once).

    A scenario: ``{"name", "dag_id", "logical_date"?, "conf"?, "env"?}``.
    Returns ({name: result}, combined output of the subprocess).
    """
    args = [sys.executable, "-c", _RUNNER, str(DAGS), json.dumps(scenarios)]
    with subprocess.Popen(
        args, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=str(REPO)
    ) as proc:
        try:
            stdout, stderr = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            stdout, stderr = proc.communicate()
            raise AssertionError(
                f"dag.test() scenarios did not finish in {timeout:.0f}s:\n"
                f"{(stdout + stderr)[-6000:]}"
            ) from None
    results = {}
    for line in stdout.splitlines():
        if line.startswith("DAGTEST-RESULT "):
            res = json.loads(line.removeprefix("DAGTEST-RESULT "))
            results[res["name"]] = res
    output = stdout + "\n" + stderr
    if len(results) != len(scenarios):
        raise AssertionError(
            f"dag.test() gave {len(results)} of {len(scenarios)} results "
            f"(exit {proc.returncode}):\n{output[-6000:]}"
        )
    return results, output
