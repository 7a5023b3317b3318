"""The host name a task reports to Airflow: the Celery worker's node name when there is one.

Airflow records in every task instance the host that ran it (``[core]
hostname_callable``, default: the machine's FQDN). Several Celery workers on
one machine (``airflow celery worker -H worker1@%h``) would all report the same
FQDN, so the UI and the task-instance records could not tell which worker ran
a task, and an operator hunting a misbehaving worker would be blind. With

    AIRFLOW__CORE__HOSTNAME_CALLABLE=pipeline.ops.hostname.worker_hostname

a task run by a Celery worker reports the worker's node name (``worker1@host``)
and anything else (scheduler, LocalExecutor, ``dag.test()``) the FQDN as before.
Airflow calls this in the task supervisor, which runs inside the Celery task
(``execute_workload``), so Celery's current request names the worker.

This module imports neither Airflow nor Celery at import time: it is loaded by
every Airflow component at start-up.
"""

from __future__ import annotations

import socket
import sys


def celery_node_name() -> str | None:
    """The node name of the Celery worker executing the current task, or None."""
    celery = sys.modules.get("celery")
    if celery is None:  # not inside a Celery worker: never import Celery for nothing
        return None
    try:
        request = celery.current_task.request if celery.current_task else None
    except Exception:  # a half-initialised Celery app must not break task start-up
        return None
    name = getattr(request, "hostname", None)
    return str(name) if name else None


def worker_hostname() -> str:
    """``[core] hostname_callable``: the Celery node name inside a worker, else the FQDN."""
    return celery_node_name() or socket.getfqdn()
