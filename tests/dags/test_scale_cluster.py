"""`make scale-test` under pytest: the DAGs on a real CeleryExecutor cluster, two workers.

Runs scripts/scale_test.py --kill-worker (PostgreSQL metadata and storage, Redis
broker, api-server, scheduler, dag-processor, triggerer, two Celery workers):
ingest + digest twice on the same databases, then a worker SIGKILLed in the
middle of an ingest shard. The script checks newsmon's database and the mail
itself; this test checks its exit status and the figures of its last line.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest

from tests.support.airflow_env import REPO
from tests.support.celery_cluster import services_missing

pytestmark = [pytest.mark.slow, pytest.mark.scale, pytest.mark.timeout(960)]

LAST_LINE = re.compile(
    r"^scale-test: workers=(?P<workers>\d+) workers_used=(?P<used>\d+) articles=(?P<articles>\d+)"
    r" duplicates=(?P<dups>\d+) digests_sent=(?P<sent>\d+) seconds=(?P<seconds>\d+)$"
)


def test_scale_test_on_celery_with_two_workers() -> None:
    missing = services_missing()
    if missing:
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI must run the scale test, but {missing}")
        pytest.skip(f"the scale test needs PostgreSQL and Redis: {missing}")
    proc = subprocess.run(
        [sys.executable, str(REPO / "scripts" / "scale_test.py"), "--kill-worker"],
        cwd=str(REPO),
        capture_output=True,
        text=True,
        timeout=900,
    )
    lines = proc.stdout.strip().splitlines()
    report = f"exit {proc.returncode}\n{proc.stdout[-4000:]}\n--- stderr\n{proc.stderr[-8000:]}"
    assert proc.returncode == 0, report
    match = LAST_LINE.match(lines[-1]) if lines else None
    assert match, report
    assert match["workers"] == "2" and match["used"] == "2", report
    assert match["dups"] == "0" and match["sent"] == "1", report
    assert int(match["articles"]) == 5, report  # four fixture pages + the late one
    assert "the retry ran on the other worker" in proc.stdout, report
