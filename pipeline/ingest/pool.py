"""The CPU pool of an ingest pass: its size on a shared machine, and a clean start.

*Size.* Every pass registers in a machine-wide directory (:class:`HostShare`,
one locked file per running pass) and sizes its pool to ``workers // passes``
(at least one) when the pool starts. Two shards started together on a 2-core
machine thus run one CPU job each, in their own process, instead of two fork
servers and four workers fighting for two cores (and twice the memory). A
file whose lock nobody holds belongs to a pass that is gone and is removed.

*Start.* Worker processes come from a fork server that imports
:mod:`pipeline.ingest.preload` once. multiprocessing would also re-run the
parent's ``__main__`` in every worker (as ``__mp_main__``); under an Airflow
task that module is the task runner, whose import initialises Airflow and
fails there (the fork server answered BrokenPipeError). The workers are
therefore started while ``__main__`` is a bare stand-in module.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import logging
import multiprocessing
import os
import sys
import types
import uuid
from collections.abc import Iterator
from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor
from pathlib import Path
from typing import IO

from pipeline.enrich.toolkit import Toolkit
from pipeline.ingest import work

log = logging.getLogger(__name__)

_SUFFIX = ".pass"


class HostShare:
    """This pass's registration among the ingest passes running on this machine."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._file: IO[bytes] | None = None
        self._path: Path | None = None

    def __enter__(self) -> HostShare:
        name = f"{os.getpid()}-{uuid.uuid4().hex[:8]}"
        tmp = self.directory / f".{name}.tmp"
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            fh = tmp.open("wb")
            fcntl.flock(fh, fcntl.LOCK_EX)
            # locked before it gets the name others count: a counter never takes a
            # fresh registration for a dead one
            path = self.directory / f"{name}{_SUFFIX}"
            tmp.rename(path)
            self._file, self._path = fh, path
        except OSError as exc:  # an unwritable directory costs only the sharing
            tmp.unlink(missing_ok=True)
            log.warning("cannot register in %s (%s); sizing the pool alone", self.directory, exc)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._file is not None and self._path is not None:
            self._path.unlink(missing_ok=True)
            self._file.close()
        self._file = self._path = None

    def passes(self) -> int:
        """Passes running on this machine now, this one included (at least 1)."""
        if self._path is None:
            return 1
        alive = 1
        try:
            paths = [p for p in self.directory.iterdir() if p.name.endswith(_SUFFIX)]
        except OSError:
            return 1
        for path in paths:
            if path == self._path:
                continue
            try:
                with path.open("rb") as fh:
                    try:
                        fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    except BlockingIOError:
                        alive += 1  # its pass holds the lock: running
                        continue
                    path.unlink(missing_ok=True)  # nobody holds it: that pass is gone
            except OSError:
                continue
        return alive


def pool_size(workers: int, passes: int) -> int:
    """Worker processes for one of ``passes`` passes sharing ``workers`` (at least 1)."""
    return max(1, workers // max(1, passes))


@contextlib.contextmanager
def _bare_main() -> Iterator[None]:
    """``__main__`` replaced by an empty module while worker processes start."""
    real = sys.modules.get("__main__")
    stand_in = types.ModuleType("__main__")
    sys.modules["__main__"] = stand_in
    try:
        yield
    finally:
        if real is not None:
            sys.modules["__main__"] = real


def make_pool(kit: Toolkit, size: int) -> Executor:
    """The CPU pool: ``size`` processes from a fork server, or one local thread for 1."""
    if size <= 1:
        work.bound_heap()  # this process extracts: its heap sees the big bodies
        return ThreadPoolExecutor(1, thread_name_prefix="newsmon-cpu")
    ctx = multiprocessing.get_context("forkserver")
    # the fork server imports the extractor and loads its models once; each
    # worker forks from it with all of that already in (shared) memory
    ctx.set_forkserver_preload(["pipeline.ingest.preload"])
    return ProcessPoolExecutor(
        size, mp_context=ctx, initializer=work.init_worker, initargs=(kit, os.getpid())
    )


def _start_workers(pool: Executor, n: int) -> None:
    """Have all ``n`` workers of ``pool`` up (each ran a trivial job)."""
    # ProcessPoolExecutor spawns its processes on these first submits (and only
    # then: none dies by design), so __main__ is bare for every one of them
    with _bare_main():
        futures = [pool.submit(os.getpid) for _ in range(n)]
    for future in futures:
        future.result()


def started_pool(kit: Toolkit, size: int) -> Executor:
    """The pool with its workers up; one local thread when worker processes cannot start."""
    pool = make_pool(kit, size)
    if isinstance(pool, ThreadPoolExecutor):
        return pool
    try:
        _start_workers(pool, size)
    except Exception as exc:
        pool.shutdown(wait=False, cancel_futures=True)
        log.warning(
            "worker processes could not start (%s: %s); extracting in-process",
            type(exc).__name__,
            exc,
        )
        work.bound_heap()
        return ThreadPoolExecutor(1, thread_name_prefix="newsmon-cpu")
    except BaseException:
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    return pool


class LazyPool:
    """The CPU pool, started when the first page is ready for it.

    A pass whose due pages all fail to fetch (or come back unchanged) never
    pays for the fork server and its workers importing the extractor. Its size
    is decided then, from the passes running on this machine at that moment.
    """

    def __init__(self, kit: Toolkit, share: HostShare) -> None:
        self.kit = kit
        self.share = share
        self.pool: Executor | None = None
        self._lock = asyncio.Lock()

    async def get(self) -> Executor:
        """The running pool (started on first use, off the event loop)."""
        async with self._lock:
            if self.pool is None:
                # Starting worker processes blocks the caller for as long as the
                # fork server needs to import the extractor: never on the event
                # loop, where it would stall every fetch in flight.
                self.pool = await asyncio.to_thread(self._start)
        return self.pool

    def _start(self) -> Executor:
        passes = self.share.passes()
        size = pool_size(self.kit.settings.ingest.workers, passes)
        log.info("CPU pool: %d worker(s) (%d pass(es) on this machine)", size, passes)
        return started_pool(self.kit, size)

    def shutdown(self) -> None:
        """Stop the workers, if any were started."""
        if self.pool is not None:
            self.pool.shutdown()
