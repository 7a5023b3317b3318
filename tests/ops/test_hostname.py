"""pipeline.ops.hostname: the host a task reports to Airflow (Celery node name inside a worker)."""

from __future__ import annotations

import socket
import subprocess
import sys

from celery import Celery

from pipeline.ops.hostname import celery_node_name, worker_hostname


def test_outside_a_celery_task_the_fqdn() -> None:
    assert celery_node_name() is None
    assert worker_hostname() == socket.getfqdn()


def test_inside_a_celery_task_the_request_hostname() -> None:
    app = Celery("hostname-test")

    @app.task
    def who() -> tuple[str, str | None]:
        from celery import current_task

        return worker_hostname(), current_task.request.hostname

    reported, request_host = who.apply().get()
    assert request_host and reported == request_host


def test_importing_it_does_not_load_celery() -> None:
    # every Airflow component imports the hostname callable at start-up
    code = (
        "import sys, pipeline.ops.hostname as h; h.worker_hostname(); "
        "print('celery' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
