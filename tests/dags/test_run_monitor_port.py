"""`make run` on a port that is taken stops at once and says so (it does not start Airflow)."""

from __future__ import annotations

import os
import socket
import subprocess
from pathlib import Path

from tests.support.airflow_env import REPO


def test_a_taken_port_is_reported_before_anything_starts(tmp_path: Path) -> None:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW__", "NEWSMON_"))}
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        out = subprocess.run(
            [str(REPO / "scripts" / "run_monitor.sh")],
            env={
                **clean,
                "NEWSMON_SKIP_INSTALL": "1",
                "NEWSMON_HOME": str(tmp_path / "home"),
                "AIRFLOW__API__HOST": "127.0.0.1",
                "AIRFLOW__API__PORT": str(port),
            },
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert out.returncode == 1, out.stdout + out.stderr
    assert f"cannot listen on 127.0.0.1:{port}" in out.stderr
    assert "AIRFLOW__API__PORT" in out.stderr
    # nothing was set up or started
    assert not (tmp_path / "home" / "newsmon.db").exists()
    assert not (tmp_path / "home" / "airflow" / "standalone.pid").exists()
