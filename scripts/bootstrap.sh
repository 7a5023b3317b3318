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
.venv/bin/uv pip install --quiet --python .venv/bin/python -c constraints.txt -e "$spec"
