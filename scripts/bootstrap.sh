#!/usr/bin/env bash
# Create .venv (Python 3.11) and install newsmon with pinned dependencies.
# Usage: scripts/bootstrap.sh [extra]   e.g. "test" installs the test extra too.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3.11}"
if ! command -v "$PYTHON" >/dev/null; then
    echo "bootstrap: $PYTHON not found; newsmon needs Python 3.11 (set PYTHON=...)" >&2
    exit 1
fi
if [ ! -x .venv/bin/python ]; then
    "$PYTHON" -m venv .venv
fi
if [ ! -x .venv/bin/uv ]; then
    .venv/bin/pip install --quiet uv==0.13.8
fi
spec="."
if [ -n "${1:-}" ]; then
    spec=".[$1]"
fi
# constraints.txt pins every package (uv pip compile of pyproject.toml); the
# install never floats to a newer release than the one tests ran against.
# --compile-bytecode, and compileall for newsmon's own (editable) modules: uv leaves
# compiling to the first import, and where PYTHONDONTWRITEBYTECODE is set (as on this
# project's CI machines) Python never keeps what it compiles, so every process (each
# ingest pass, the pool's fork server, every Airflow task) compiled every module it
# imports from source at every start: an empty ingest pass took 2.4 s of CPU instead
# of 0.7 s (docs/ingest.md, round 5).
.venv/bin/uv pip install --quiet --python .venv/bin/python --compile-bytecode \
    -c constraints.txt -e "$spec"
.venv/bin/python -m compileall -q pipeline storage dags
