"""`make run` sizes Airflow to the machine instead of Airflow's 32-slot defaults."""

from __future__ import annotations

import importlib
import os
import re
import subprocess

import pytest

from tests.support.airflow_env import REPO


def _sizing(**env: str) -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW__", "NEWSMON_"))}
    out = subprocess.run(
        [str(REPO / "scripts" / "run_monitor.sh"), "--dry-run"],
        env={**clean, **env},
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    ).stdout
    return dict(line.split("=", 1) for line in out.splitlines())


@pytest.mark.parametrize(
    ("cpus", "slots", "api_workers", "pool"),
    [("1", "4", "1", "3"), ("2", "4", "1", "3"), ("8", "16", "2", "12"), ("64", "32", "16", "24")],
)
def test_slots_follow_the_core_count(cpus: str, slots: str, api_workers: str, pool: str) -> None:
    got = _sizing(NEWSMON_CPUS=cpus)
    assert got["AIRFLOW__CORE__PARALLELISM"] == slots
    assert got["AIRFLOW__CORE__MAX_ACTIVE_TASKS_PER_DAG"] == slots
    assert got["AIRFLOW__API__WORKERS"] == api_workers
    assert got["newsmon_http pool slots"] == pool


def test_the_real_core_count_by_default_and_the_environment_wins() -> None:
    got = _sizing()
    assert got["cpus"] == str(
        os.cpu_count() if not hasattr(os, "sched_getaffinity") else len(os.sched_getaffinity(0))
    )
    forced = _sizing(AIRFLOW__CORE__PARALLELISM="7", NEWSMON_HTTP_POOL_SLOTS="5")
    assert forced["AIRFLOW__CORE__PARALLELISM"] == "7"
    assert forced["AIRFLOW__CORE__MAX_ACTIVE_TASKS_PER_DAG"] == "7"
    assert forced["newsmon_http pool slots"] == "5"


def test_sqlite_metadata_waits_for_its_lock() -> None:
    """The connect-args import paths `make run` gives Airflow resolve to a long lock wait."""
    script = (REPO / "scripts" / "run_monitor.sh").read_text()
    paths = re.findall(r"SQL_ALCHEMY_CONNECT_ARGS(?:_ASYNC)?:-([\w.]+)\}", script)
    assert len(paths) == 2, paths
    for path in paths:
        module, name = path.rsplit(".", 1)  # what Airflow's conf.getimport does
        assert getattr(importlib.import_module(module), name)["timeout"] >= 30
