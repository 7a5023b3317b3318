#!/usr/bin/env bash
# THE "run the monitor" command (README: `make run`).
#
# Sets up .venv (Python 3.11, pinned constraints), initialises newsmon's
# database (SQLite under $NEWSMON_HOME), prepares Airflow (SQLite metadata DB
# under $AIRFLOW_HOME, the project's dags/, the newsmon_http pool) and starts
# `airflow standalone` with the UI on http://localhost:8080 (user admin, the
# password is printed). Settings already in the environment win, so
# NEWSMON_DATABASE_URL, NEWSMON_SMTP_URL, AIRFLOW__... can be passed in.
#
# `scripts/run_monitor.sh --dry-run` prints the machine sizing below and exits.
set -euo pipefail
cd "$(dirname "$0")/.."
REPO="$PWD"

# --- sized to the machine ------------------------------------------------------
# Airflow's defaults (parallelism 32: the LocalExecutor forks 32 worker processes
# at start; 4 API server workers; 16 tasks per DAG) idle at ~2.4 GB on a 2-core
# laptop. newsmon's tasks are mostly waiting on HTTP, so two task slots per core
# keep the cores busy without a crowd of idle interpreters. NEWSMON_CPUS
# overrides the core count (containers whose nproc lies, or tests).
CPUS="${NEWSMON_CPUS:-$(nproc 2>/dev/null || echo 2)}"
SLOTS=$((CPUS * 2))
if [ "$SLOTS" -lt 4 ]; then SLOTS=4; fi
if [ "$SLOTS" -gt 32 ]; then SLOTS=32; fi
export AIRFLOW__CORE__PARALLELISM="${AIRFLOW__CORE__PARALLELISM:-$SLOTS}"
export AIRFLOW__CORE__MAX_ACTIVE_TASKS_PER_DAG="${AIRFLOW__CORE__MAX_ACTIVE_TASKS_PER_DAG:-$AIRFLOW__CORE__PARALLELISM}"
# the UI and the task processes' execution API: one uvicorn worker per 4 cores
API_WORKERS=$(((CPUS + 3) / 4))
export AIRFLOW__API__WORKERS="${AIRFLOW__API__WORKERS:-$API_WORKERS}"
PARSERS=$((CPUS < 2 ? 1 : 2))
export AIRFLOW__DAG_PROCESSOR__PARSING_PROCESSES="${AIRFLOW__DAG_PROCESSOR__PARSING_PROCESSES:-$PARSERS}"
# HTTP-bound tasks (feed shards, page fetching) never take every slot
HTTP_SLOTS="${NEWSMON_HTTP_POOL_SLOTS:-$(((AIRFLOW__CORE__PARALLELISM * 3 + 3) / 4))}"

if [ "${1:-}" = "--dry-run" ]; then
    echo "cpus=$CPUS"
    echo "AIRFLOW__CORE__PARALLELISM=$AIRFLOW__CORE__PARALLELISM"
    echo "AIRFLOW__CORE__MAX_ACTIVE_TASKS_PER_DAG=$AIRFLOW__CORE__MAX_ACTIVE_TASKS_PER_DAG"
    echo "AIRFLOW__API__WORKERS=$AIRFLOW__API__WORKERS"
    echo "AIRFLOW__DAG_PROCESSOR__PARSING_PROCESSES=$AIRFLOW__DAG_PROCESSOR__PARSING_PROCESSES"
    echo "newsmon_http pool slots=$HTTP_SLOTS"
    exit 0
fi

# NEWSMON_SKIP_INSTALL=1 reuses an existing .venv as is (tests, offline machines).
if [ "${NEWSMON_SKIP_INSTALL:-0}" != "1" ] || [ ! -x .venv/bin/airflow ]; then
    scripts/bootstrap.sh
fi

# `airflow standalone` starts its components as `airflow ...` subprocesses.
export PATH="$REPO/.venv/bin:$PATH"

export NEWSMON_HOME="${NEWSMON_HOME:-$REPO/var}"
mkdir -p "$NEWSMON_HOME"
NEWSMON_HOME="$(cd "$NEWSMON_HOME" && pwd)"
export AIRFLOW_HOME="${AIRFLOW_HOME:-$NEWSMON_HOME/airflow}"
mkdir -p "$AIRFLOW_HOME"
export AIRFLOW__CORE__DAGS_FOLDER="$REPO/dags"
export AIRFLOW__CORE__LOAD_EXAMPLES="${AIRFLOW__CORE__LOAD_EXAMPLES:-False}"
export AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION="${AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION:-False}"
export AIRFLOW__DATABASE__SQL_ALCHEMY_CONN="${AIRFLOW__DATABASE__SQL_ALCHEMY_CONN:-sqlite:///$AIRFLOW_HOME/airflow.db}"
if [[ "$AIRFLOW__DATABASE__SQL_ALCHEMY_CONN" == sqlite* ]]; then
    # every Airflow process writes this one file: wait for its lock instead of failing a
    # UI backfill half-way (pipeline/ops/metadata_db.py says why)
    export AIRFLOW__DATABASE__SQL_ALCHEMY_CONNECT_ARGS="${AIRFLOW__DATABASE__SQL_ALCHEMY_CONNECT_ARGS:-pipeline.ops.metadata_db.SQLITE_CONNECT_ARGS}"
    export AIRFLOW__DATABASE__SQL_ALCHEMY_CONNECT_ARGS_ASYNC="${AIRFLOW__DATABASE__SQL_ALCHEMY_CONNECT_ARGS_ASYNC:-pipeline.ops.metadata_db.SQLITE_CONNECT_ARGS_ASYNC}"
fi
export AIRFLOW__API__HOST="${AIRFLOW__API__HOST:-localhost}"
export AIRFLOW__API__PORT="${AIRFLOW__API__PORT:-8080}"
# the UI lists new/changed DAG files within seconds rather than minutes
export AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL="${AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL:-30}"
PORT="$AIRFLOW__API__PORT"
# task processes report to the API server's execution API: same port
export AIRFLOW__CORE__EXECUTION_API_SERVER_URL="${AIRFLOW__CORE__EXECUTION_API_SERVER_URL:-http://localhost:$PORT/execution/}"

# A taken port would only show as an API server dying again and again (each try costs 15 s)
if ! python - "$AIRFLOW__API__HOST" "$PORT" <<'PY'
import socket, sys

host, port = sys.argv[1], int(sys.argv[2])
with socket.socket() as s:
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        s.bind((host, port))
    except OSError as exc:
        sys.exit(
            f"newsmon: cannot listen on {host}:{port} ({exc.strerror}): another monitor or "
            "program has it; stop it ('make stop') or choose another port (AIRFLOW__API__PORT=8081)"
        )
PY
then
    exit 1
fi

echo "newsmon: data in $NEWSMON_HOME, Airflow home $AIRFLOW_HOME"
echo "newsmon: $CPUS cores: $AIRFLOW__CORE__PARALLELISM task slots, $AIRFLOW__API__WORKERS API worker(s), newsmon_http pool $HTTP_SLOTS"
newsmon init

airflow db migrate >/dev/null
# Bounds concurrent HTTP-bound tasks (feed shards, page fetching) across all runs.
airflow pools set newsmon_http "$HTTP_SLOTS" \
    "newsmon: tasks that poll feeds and fetch pages" >/dev/null

# The simple auth manager generates admin's password on first start and prints
# it once, deep in the start-up output. Generate it here instead so that it
# can be printed on every start (the file is Airflow's own, mode 0600).
PASSWORD_FILE="${AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE:-$AIRFLOW_HOME/simple_auth_manager_passwords.json.generated}"
if [ ! -s "$PASSWORD_FILE" ]; then
    (umask 077 && python -c 'import json, secrets, sys; print(json.dumps({"admin": secrets.token_urlsafe(12)}))' >"$PASSWORD_FILE")
fi
PASSWORD="$(python -c 'import json, sys; print(json.load(open(sys.argv[1])).get("admin", "?"))' "$PASSWORD_FILE")"

banner() {
    echo
    echo "================================================================"
    echo " newsmon is running: Airflow UI on http://localhost:$PORT"
    echo "   user:     admin"
    echo "   password: $PASSWORD"
    echo "   (kept in $PASSWORD_FILE)"
    echo " Stop with Ctrl-C (or 'make stop' from another terminal)."
    echo " newsmon commands: 'make shell', then e.g. 'newsmon feeds check'."
    echo "================================================================"
    echo
}
banner

# Print the banner again once the UI answers: the start-up output scrolls it away.
(
    for _ in $(seq 1 300); do
        if python -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=2)' \
            "http://localhost:$PORT/api/v2/monitor/health" 2>/dev/null; then
            banner
            exit 0
        fi
        sleep 2
    done
) &

# `make stop` signals this pid (exec keeps it for standalone). Airflow's standalone, under a
# supervisor that restarts a component that dies and stops everything on SIGTERM
# (scripts/airflow_standalone.py says why).
echo "$$" >"$AIRFLOW_HOME/standalone.pid"
exec python "$REPO/scripts/airflow_standalone.py"
