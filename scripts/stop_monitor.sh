#!/usr/bin/env bash
# `make stop`: end the `airflow standalone` that `make run` started from this checkout.
# run_monitor.sh records its pid in $AIRFLOW_HOME/standalone.pid; only that process and
# its own children are signalled.
set -euo pipefail
cd "$(dirname "$0")/.."
home="${AIRFLOW_HOME:-${NEWSMON_HOME:-$PWD/var}/airflow}"
pidfile="$home/standalone.pid"
pid="$(cat "$pidfile" 2>/dev/null || true)"
if [ -z "$pid" ] || ! kill -0 "$pid" 2>/dev/null \
    || ! tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q "airflow"; then
    echo "newsmon: no monitor running for $home"
    rm -f "$pidfile"
    exit 0
fi

# running PID: alive and not a zombie (a plain `airflow standalone` never reaps a component
# that exits, so it stays one)
running() {
    local state
    state="$(ps -o stat= -p "$1" 2>/dev/null || true)"
    [ -n "$state" ] && [ "${state:0:1}" != Z ]
}

# wait_gone SECONDS PID...: true once none of the PIDs is running
wait_gone() {
    local seconds=$1
    shift
    for _ in $(seq 1 "$seconds"); do
        local alive=0
        for p in "$@"; do
            if running "$p"; then alive=1; fi
        done
        [ "$alive" = 0 ] && return 0
        sleep 1
    done
    return 1
}

# the standalone of run_monitor.sh (scripts/airflow_standalone.py) stops its components
# itself on SIGTERM and exits once they are gone; a plain `airflow standalone` exits at once
# and leaves them running, so whatever outlives it gets SIGTERM of its own
mapfile -t components < <(pgrep -P "$pid" || true)
kill -TERM "$pid" 2>/dev/null || true
if ! wait_gone 90 "$pid"; then
    echo "newsmon: pid $pid still running after 90 s; kill it by hand" >&2
    exit 1
fi
left=()
for p in "${components[@]}"; do
    if running "$p"; then left+=("$p"); fi
done
if [ "${#left[@]}" -gt 0 ]; then
    kill -TERM "${left[@]}" 2>/dev/null || true
    wait_gone 60 "${left[@]}" || {
        echo "newsmon: components ${left[*]} still running after 60 s; kill them by hand" >&2
        exit 1
    }
fi
rm -f "$pidfile"
echo "newsmon: stopped (pid $pid)"
