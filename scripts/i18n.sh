#!/usr/bin/env bash
# Re-extract the digest's strings and merge them into the de/en catalogs.
# Translate new entries in pipeline/digest/locale/de/LC_MESSAGES/digest.po afterwards;
# no compile step: pipeline.digest.i18n compiles the .po files in memory.
set -euo pipefail
cd "$(dirname "$0")/.."
POT=pipeline/digest/locale/digest.pot
.venv/bin/pybabel extract -F babel.cfg --no-location --sort-output \
    -k _ -k gettext -k ngettext:1,2 -k n:1,2 -o "$POT" .
for lang in de en; do
    po="pipeline/digest/locale/$lang/LC_MESSAGES/digest.po"
    if [ -f "$po" ]; then
        .venv/bin/pybabel update --no-fuzzy-matching -i "$POT" -D digest \
            -d pipeline/digest/locale -l "$lang"
    else
        .venv/bin/pybabel init -i "$POT" -D digest -d pipeline/digest/locale -l "$lang"
    fi
done
