#!/usr/bin/env bash
# `make stop`: end the `airflow standalone` that `make run` started from this checkout.
# Only processes whose AIRFLOW_HOME is this checkout's are signalled (by pid), so a
# second newsmon or another Airflow on the machine is left alone.
set -euo pipefail
cd "$(dirname "$0")/.."
home="${AIRFLOW_HOME:-${NEWSMON_HOME:-$PWD/var}/airflow}"
pids=()
for env in /proc/[0-9]*/environ; do
    pid="${env#/proc/}"; pid="${pid%/environ}"
    [ "$pid" = "$$" ] && continue
    if tr '\0' '\n' <"$env" 2>/dev/null | grep -qx "AIRFLOW_HOME=$home" \
        && tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q "airflow"; then
        pids+=("$pid")
    fi
done
if [ "${#pids[@]}" -eq 0 ]; then
    echo "newsmon: no monitor running for $home"
    exit 0
fi
kill -TERM "${pids[@]}" 2>/dev/null || true
for _ in $(seq 1 30); do
    alive=()
    for p in "${pids[@]}"; do kill -0 "$p" 2>/dev/null && alive+=("$p"); done
    [ "${#alive[@]}" -eq 0 ] && { echo "newsmon: stopped (${#pids[@]} processes)"; exit 0; }
    sleep 1
done
kill -KILL "${alive[@]}" 2>/dev/null || true
echo "newsmon: stopped (forced after 30 s)"
