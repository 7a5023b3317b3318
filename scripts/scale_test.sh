#!/usr/bin/env bash
# THE scale test (README: `make scale-test`): newsmon's DAGs on a real CeleryExecutor
# cluster on this machine (PostgreSQL + Redis on 127.0.0.1, two Celery workers).
# Arguments go to scripts/scale_test.py (--kill-worker, --keep-logs, --workers N, ...).
# NEWSMON_SKIP_INSTALL=1 reuses an existing .venv as is.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "${NEWSMON_SKIP_INSTALL:-0}" != "1" ] || [ ! -x .venv/bin/airflow ]; then
    scripts/bootstrap.sh test
fi
exec .venv/bin/python scripts/scale_test.py "$@"
