"""Waiting for something another process or thread does, without sleeping longer than needed."""

from __future__ import annotations

import time
from collections.abc import Callable


def wait_until(check: Callable[[], object], timeout: float, interval: float = 0.02) -> bool:
    """True as soon as ``check()`` is truthy, False once ``timeout`` seconds have passed."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(interval)
    return False
