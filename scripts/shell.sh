#!/usr/bin/env bash
# `make shell`: an interactive shell where `newsmon` and `airflow` are the project's
# (.venv/bin first on PATH) and NEWSMON_HOME / AIRFLOW_HOME are those `make run` uses.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x .venv/bin/newsmon ] || scripts/bootstrap.sh
export NEWSMON_HOME="${NEWSMON_HOME:-$PWD/var}"
export AIRFLOW_HOME="${AIRFLOW_HOME:-$NEWSMON_HOME/airflow}"
export VIRTUAL_ENV="$PWD/.venv"
export PATH="$VIRTUAL_ENV/bin:$PATH"
echo "newsmon shell: NEWSMON_HOME=$NEWSMON_HOME (try: newsmon feeds check; exit to leave)"
exec "${SHELL:-bash}" -i
