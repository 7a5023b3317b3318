"""Stored rows made comparable across runs and processes (worker-analysis test, bench_writer)."""

from __future__ import annotations

import json


def comparable(value: object) -> object:
    """JSON text by content (its key order follows set iteration, which differs between
    processes), bytes as hex, anything else as it is."""
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, str) and value[:1] in "[{":
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value
