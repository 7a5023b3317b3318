#!/usr/bin/env bash
# ruff (lint + format check) and mypy over the project's code.
set -euo pipefail
cd "$(dirname "$0")/.."
.venv/bin/ruff check .
.venv/bin/ruff format --check pipeline storage dags tests bench scripts
.venv/bin/mypy
