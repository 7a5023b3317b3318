#!/usr/bin/env bash
# `make stop`: end the `airflow standalone` that `make run` started from this checkout.
# run_monitor.sh records its pid in $AIRFLOW_HOME/standalone.pid; only that process is
# signalled (standalone stops its scheduler, API server, ... itself on SIGTERM).
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
kill -TERM "$pid"
for _ in $(seq 1 60); do
    if ! kill -0 "$pid" 2>/dev/null; then
        rm -f "$pidfile"
        echo "newsmon: stopped (pid $pid)"
        exit 0
    fi
    sleep 1
done
echo "newsmon: pid $pid still running after 60 s; kill it by hand" >&2
exit 1
