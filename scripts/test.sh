#!/usr/bin/env bash
# THE test command (README, .ci/run): install what tests need, lint, run pytest.
set -euo pipefail
cd "$(dirname "$0")/.."

# Headless Chromium renders the digest in tests (Debian packages).
if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null; then
    if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null; then
        echo "test.sh: installing chromium and chromium-driver (Debian packages)" >&2
        apt-get update -qq >/dev/null
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null
    else
        echo "test.sh: chromium missing and cannot apt-get install it; its tests will skip" >&2
    fi
fi

scripts/bootstrap.sh test
export PATH="$PWD/.venv/bin:$PATH"
scripts/lint.sh
exec .venv/bin/python -m pytest "$@"
