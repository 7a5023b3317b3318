"""The page spool: fetched bodies on disk until their article is stored.

A body is written here the moment it has arrived, before extraction, so a run
killed between fetch and store loses nothing it downloaded: the next run finds
the file and skips the fetch. It also keeps the ingesting process's memory
flat, since a pool worker reads the body from the file instead of receiving it
through a pipe. One file per entry id (``<id>.page``): the final URL on the
first line, then the body exactly as received. Files are written to a
temporary name and renamed, so a reader never sees half a body. A fetch
streams a body into its file chunk by chunk as it arrives (:class:`Writer`),
so the ingest process never holds a whole body in memory.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import time
from pathlib import Path

SUFFIX = ".page"
#: Spool files of closed entries older than this (seconds) are swept away.
STALE_AFTER = 24 * 3600.0


def path_for(spool_dir: Path, entry_id: int) -> Path:
    """Where the body of entry ``entry_id`` is spooled."""
    return spool_dir / f"{entry_id}{SUFFIX}"


class Writer:
    """One body being spooled: ``write`` its chunks, then ``close`` (or ``discard``).

    Until ``close`` the body is in a temporary file that no reader looks at and
    that :func:`sweep` removes once stale, so a kill mid-body leaves no spool
    file that could pass for a whole body.
    """

    def __init__(self, spool_dir: Path, entry_id: int, url: str) -> None:
        spool_dir.mkdir(parents=True, exist_ok=True)
        self.path = path_for(spool_dir, entry_id)
        fd, self._tmp = tempfile.mkstemp(dir=spool_dir, prefix=f".{entry_id}-", suffix=".tmp")
        self._fh = os.fdopen(fd, "wb")
        try:
            self._fh.write(url.encode("utf-8", "surrogateescape").replace(b"\n", b"%0A") + b"\n")
        except BaseException:
            self.discard()
            raise

    def write(self, data: bytes) -> None:
        """Append a chunk of the body."""
        self._fh.write(data)

    def close(self) -> Path:
        """The body is complete: give the file its name (readers see it from now on)."""
        try:
            self._fh.close()
            os.replace(self._tmp, self.path)
        except BaseException:
            self.discard()
            raise
        return self.path

    def discard(self) -> None:
        """Drop the partial body (the fetch failed or was cut short)."""
        with contextlib.suppress(OSError):
            self._fh.close()
        Path(self._tmp).unlink(missing_ok=True)


def write(spool_dir: Path, entry_id: int, url: str, body: bytes) -> Path:
    """Spool ``body`` (fetched from ``url``) for ``entry_id``; returns the file."""
    writer = Writer(spool_dir, entry_id, url)
    try:
        writer.write(body)
    except BaseException:
        writer.discard()
        raise
    return writer.close()


def read(path: str | Path) -> tuple[str, bytes] | None:
    """(url, body) of a spool file, or None if it is gone or unreadable."""
    try:
        with Path(path).open("rb") as fh:
            # the header line, then the body in one read: one copy of the body in
            # memory (read_bytes and a partition would make two)
            head = fh.readline()
            body = fh.read()
    except OSError:
        return None
    if not head.endswith(b"\n"):
        return None
    return head[:-1].decode("utf-8", "surrogateescape"), body


def find(spool_dir: Path, entry_id: int) -> Path | None:
    """The spool file of ``entry_id`` if a previous run left one."""
    target = path_for(spool_dir, entry_id)
    return target if target.is_file() else None


def remove(spool_dir: Path, entry_id: int) -> None:
    """Drop the spool file of ``entry_id`` (its article is stored, or it was given up)."""
    path_for(spool_dir, entry_id).unlink(missing_ok=True)


def sweep(spool_dir: Path, keep: set[int], *, older_than: float = STALE_AFTER) -> int:
    """Remove old spool files (and stray temporaries) of entries not in ``keep``.

    Only files older than ``older_than`` seconds: a concurrent run on the same
    home may be writing or about to store a fresh one.
    """
    if not spool_dir.is_dir():
        return 0
    cutoff = time.time() - older_than
    removed = 0
    for item in spool_dir.iterdir():
        stem = item.name.removesuffix(SUFFIX)
        stray = item.name.startswith(".") or (stem.isdigit() and int(stem) not in keep)
        try:
            old = item.stat().st_mtime < cutoff
        except OSError:
            continue
        if stray and old:
            item.unlink(missing_ok=True)
            removed += 1
    return removed
