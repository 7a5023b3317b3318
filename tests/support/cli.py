"""The newsmon command as a subprocess, as a user (or cron) runs it."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path


def run_newsmon(
    args: Sequence[str], env: Mapping[str, str], cwd: Path, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    """``python -m pipeline ARGS`` with ``env`` only; output captured as text."""
    return subprocess.run(
        [sys.executable, "-m", "pipeline", *args],
        env=dict(env),
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
