#!/usr/bin/env bash
# ruff (lint + format check), mypy and the import contracts (pyproject: tool.importlinter).
set -euo pipefail
cd "$(dirname "$0")/.."
.venv/bin/ruff check .
.venv/bin/ruff format --check pipeline storage dags tests bench scripts
.venv/bin/mypy
.venv/bin/lint-imports --no-cache
