"""The newsmon_doctor DAG under Airflow's own dag.test(): the task log has the doctor's
lines, a failing check fails the task once (permanent, not retried) with the reason."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.airflow_env import (
    REPO,
    airflow_env,
    dag_tests,
    migrated_template,
    template_root,
    use_template,
)
from tests.support.smtp_server import SmtpInbox


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
def test_doctor_dag_passes_then_fails_on_a_damaged_database(
    tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    cache = getattr(request.config, "cache", None)
    root = template_root(cache.mkdir("newsmon-airflow")) if cache else tmp_path / "template"
    template = migrated_template(root)
    with SmtpInbox(auth=("newsmon", "s3cret")) as inbox:
        conn = {
            "conn_type": "smtp",
            "host": "127.0.0.1",
            "port": inbox.port,
            "login": "newsmon",
            "password": "s3cret",
            "extra": {"disable_ssl": True, "disable_tls": True},
        }
        env = airflow_env(
            tmp_path,
            {
                "NEWSMON_DIGEST_TO": "desk@example.org",
                # SMTP only through the Airflow connection: the doctor checks what tasks use
                "AIRFLOW_CONN_NEWSMON_SMTP": json.dumps(conn),
                "NEWSMON_TASK_RETRIES": "3",
            },
        )
        use_template(template, env)
        subprocess.run(
            [str(Path(sys.executable).parent / "newsmon"), "init"],
            env=env,
            check=True,
            capture_output=True,
            timeout=300,
            cwd=str(REPO),
        )
        damaged = tmp_path / "damaged.db"
        damaged.write_bytes(b"this is not a database" * 100)
        results, output = dag_tests(
            env,
            [
                {"name": "healthy", "dag_id": "newsmon_doctor"},
                {
                    "name": "damaged",
                    "dag_id": "newsmon_doctor",
                    "env": {"NEWSMON_DATABASE_URL": f"sqlite:///{damaged}"},
                },
            ],
        )
        digests = [m for m in inbox.messages if "[newsmon]" not in str(m["Subject"])]
    assert results["healthy"]["state"] == "success", output[-5000:]
    assert "ok    smtp      smtp://newsmon:***@127.0.0.1" in output
    assert "logged in as newsmon" in output and "s3cret" not in output
    damaged_run = results["damaged"]
    assert damaged_run["state"] == "failed", damaged_run
    # permanent: one try although NEWSMON_TASK_RETRIES=3
    assert damaged_run["tasks"]["doctor"] == {"state": "failed", "try_number": 1}
    assert "FAIL  database  the SQLite database" in output and "Backup and restore" in output
    assert "doctor: 1 of 8 checks failed: database" in output
    assert not digests  # the doctor never sends a digest (only the failure alert)
