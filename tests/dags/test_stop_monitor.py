"""`make stop` (scripts/stop_monitor.sh) leaves nothing of the monitor running.

A stand-in for `airflow standalone` behaves as the real one does where it matters: it
ignores SIGINT (as a process started in the background does), exits at once on SIGTERM
without stopping its components, and never reaps a component that exits. Its
components end on SIGTERM. The script must stop every one of them and then it.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.support.paths import ROOT
from tests.support.procs import running

_STANDALONE = """
import signal, subprocess, sys, time
signal.signal(signal.SIGINT, signal.SIG_IGN)
component = "import time\\nwhile True: time.sleep(0.1)"
kids = [subprocess.Popen([sys.executable, "-c", component]) for _ in range(3)]
print(" ".join(str(k.pid) for k in kids), flush=True)
while True:
    time.sleep(0.1)
"""


def test_stop_ends_the_components_and_then_standalone(tmp_path: Path) -> None:
    airflow_home = tmp_path / "airflow"
    airflow_home.mkdir()
    # "airflow" in its command line, as the script checks before it signals a pid
    fake = tmp_path / "airflow_standalone.py"
    fake.write_text(_STANDALONE)
    proc = subprocess.Popen(
        [sys.executable, str(fake)], stdout=subprocess.PIPE, text=True, start_new_session=True
    )
    assert proc.stdout is not None
    components = [int(p) for p in proc.stdout.readline().split()]
    try:
        (airflow_home / "standalone.pid").write_text(f"{proc.pid}\n")
        out = subprocess.run(
            ["bash", str(ROOT / "scripts" / "stop_monitor.sh")],
            env={**os.environ, "AIRFLOW_HOME": str(airflow_home)},
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert out.returncode == 0, out.stderr
        assert "stopped" in out.stdout
        proc.wait(timeout=10)
        time.sleep(0.2)  # orphans reaped by init once their parent is gone
        assert not [p for p in components if running(p)]
        assert not (airflow_home / "standalone.pid").exists()
    finally:
        for pid in [*components, proc.pid]:
            if running(pid):
                os.kill(pid, signal.SIGKILL)
