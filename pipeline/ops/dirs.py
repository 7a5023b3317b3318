"""Directories newsmon writes to (NEWSMON_HOME, the digest directory): made and probed.

A directory that cannot be created or written is a setting to fix, not a bug:
one ConfigError naming the setting, the path and the reason, raised before any
work starts, so a run never fails half-way with a traceback.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from pipeline.errors import ConfigError


def ensure_writable_dir(path: Path, setting: str) -> Path:
    """Create ``path`` if needed and prove it writable; ConfigError naming ``setting``.

    Writability is proved by creating and removing a temporary file, because
    ``os.access`` answers for the real uid and knows nothing of read-only mounts.
    """
    path = Path(path).expanduser()
    hint = f"set {setting} to a writable directory"
    blocker = _file_in_the_way(path)
    if blocker is not None:
        raise ConfigError(f"{setting}={path}: {blocker} is a file, not a directory; {hint}")
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(
            f"{setting}={path}: cannot create the directory ({exc.strerror or exc}); {hint}"
        ) from exc
    try:
        fd, probe = tempfile.mkstemp(dir=path, prefix=".newsmon-probe-")
    except OSError as exc:
        raise ConfigError(
            f"{setting}={path}: directory not writable ({exc.strerror or exc}); {hint}"
        ) from exc
    os.close(fd)
    Path(probe).unlink(missing_ok=True)
    return path


def _file_in_the_way(path: Path) -> Path | None:
    """The nearest existing ancestor (or ``path`` itself) when it is not a directory."""
    for candidate in (path, *path.parents):
        if candidate.exists():
            return None if candidate.is_dir() else candidate
    return None
