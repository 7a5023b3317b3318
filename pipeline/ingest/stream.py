"""One streaming pass over the page queue: claim, fetch, spool, prepare, store.

::

    plan (fair order, per-feed budget)
      -> claimer: claims a batch with a lease        -> fetch queue (bounded)
      -> fetchers (page_concurrency coroutines): spool reuse or HTTP GET,
         body to the spool file, then the CPU job in the pool (workers)
                                                     -> write queue (bounded)
      -> one writer: one short transaction per batch of ready pages (at most
         WRITE_BATCH, a savepoint each), then their spool files removed

Network and CPU overlap (fetchers keep downloading while the pool extracts),
memory is bounded by the two queues and the fetches in flight (bodies are
streamed to disk chunk by chunk as they arrive; a worker reads its page from
the spool), and the pass stops
claiming when its time budget is spent. Whatever this run claimed and did not
finish is released at the end; if the run is killed, the lease lapses (or a
later run on this machine sees the owner is gone), and spooled bodies are
picked up without fetching them again.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import time
import uuid
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from pipeline.enrich.toolkit import Toolkit
from pipeline.errors import FetchError, NewsmonError
from pipeline.ingest import work
from pipeline.ingest.fairness import fair_order
from pipeline.ingest.pool import HostShare, LazyPool
from pipeline.ingest.store import PageOutcome, store_page
from pipeline.net.client import Fetcher, FetchRequest
from pipeline.pages import spool
from pipeline.report import StageReport
from storage import queue
from storage.db import session_scope
from storage.models import Entry, Feed

log = logging.getLogger(__name__)

#: Most pages the writer stores in one transaction. It takes only pages already
#: waiting (never waits for more), so a slow pass still stores page by page; a
#: busy one pays the transaction's fixed cost (BEGIN IMMEDIATE, commit, the WAL
#: write) once for several pages, and a kill still loses only the pages in flight
#: (spool files go after the commit).
WRITE_BATCH = 8


@dataclass(frozen=True)
class _Done:
    """A page ready for the writer."""

    entry: Entry
    outcome: PageOutcome


def run_pass(
    engine: Engine,
    kit: Toolkit,
    now: datetime,
    report: StageReport,
    *,
    feed_ids: Sequence[int] | None = None,
    limit: int | None = None,
    share: HostShare | None = None,
) -> None:
    """Fetch and store due pages until the queue or the pass's budgets are exhausted.

    ``share`` is the pass's registration among the passes on this machine (the
    caller's, when it registered earlier); without one the pass registers itself.
    """
    stream = _Stream(engine, kit, now, feed_ids, limit)
    plan = stream.plan()
    if not plan:
        return
    try:
        with _long_lived_frozen(), contextlib.ExitStack() as stack:
            if share is None:
                share = stack.enter_context(HostShare(kit.settings.ingest.share_dir))
            asyncio.run(stream.run(plan, share))
    finally:
        stream.release()
        report.merge(stream.fetch_report)
        report.merge(stream.write_report)


@contextlib.contextmanager
def _long_lived_frozen() -> Iterator[None]:
    """Keep the objects that exist now (modules, the toolkit) out of the pass's garbage
    collections.

    The writer allocates enough to start a full collection every hundred pages or so,
    and each walked every object of the process (~0.1 s with the toolkit loaded:
    ~0.8 ms a page, bench/bench_writer.py). Frozen objects are still freed by
    reference counting; only cycles among them wait for the unfreeze. A permanent
    generation that someone else started (an executor freezing before a fork) is left
    to its owner.
    """
    mine = gc.get_freeze_count() == 0
    gc.freeze()
    try:
        yield
    finally:
        if mine:
            gc.unfreeze()


class _Stream:
    def __init__(
        self,
        engine: Engine,
        kit: Toolkit,
        now: datetime,
        feed_ids: Sequence[int] | None,
        limit: int | None,
    ) -> None:
        self.engine, self.kit, self.now = engine, kit, now
        self.feed_ids, self.limit = feed_ids, limit
        self.settings = kit.settings.ingest
        self.spool_dir = kit.settings.spool_dir
        self.owner = queue.owner_name() + uuid.uuid4().hex[:8]
        self.started = time.monotonic()
        self.outlets: dict[int | None, str] = {}
        # the event loop's counters and the writer thread's are kept apart
        self.fetch_report = StageReport("stream")
        self.write_report = StageReport("stream")

    def clock(self) -> datetime:
        """The pass's logical time now (``now`` plus the time the pass has run)."""
        return self.now + timedelta(seconds=time.monotonic() - self.started)

    def out_of_time(self) -> bool:
        return time.monotonic() - self.started >= self.settings.pass_seconds

    # -- plan and claims (database, called in threads) ---------------------------

    def plan(self) -> list[int]:
        """Entry ids to work on, in fair order; frees dead local claims first."""
        with session_scope(self.engine) as session:
            freed = queue.release_dead_local_claims(session, self.now)
            if freed:
                self.fetch_report.add("claims_recovered", freed)
            cands = queue.due_candidates(
                session, self.now, feed_ids=self.feed_ids, per_feed=self.settings.feed_budget
            )
            if cands:
                self.outlets = {f.id: f.outlet or f.name for f in session.exec(select(Feed))}
        order = [c.id for c in fair_order(cands)]
        if self.limit is not None:
            order = order[: self.limit]
        left = len(cands) - len(order)
        if left:
            self.fetch_report.add("pages_deferred_to_next_pass", left)
        return order

    def _claim(self, ids: list[int]) -> list[Entry]:
        until = self.clock() + timedelta(seconds=self.settings.claim_lease)
        with session_scope(self.engine) as session:
            rows = queue.claim(session, ids, self.owner, self.clock(), until)
            for row in rows:
                session.expunge(row)
        skipped = len(ids) - len(rows)
        if skipped:
            self.fetch_report.add("pages_claimed_elsewhere", skipped)
        return rows

    def release(self) -> None:
        """Give back what this run claimed and did not finish."""
        try:
            with session_scope(self.engine) as session:
                queue.release(session, self.owner)
        except Exception:  # the lease lapses on its own; never mask the pass's own error
            log.warning("could not release claims of %s", self.owner, exc_info=True)

    # -- the pipeline -------------------------------------------------------------

    async def run(self, plan: list[int], share: HostShare) -> None:
        width = self.settings.page_concurrency
        fetch_q: asyncio.Queue[Entry | None] = asyncio.Queue(maxsize=width)
        # room for one full batch: prepared pages hold their text and compressed raw page
        write_q: asyncio.Queue[_Done | None] = asyncio.Queue(maxsize=WRITE_BATCH)
        pool = LazyPool(self.kit, share)
        try:
            async with Fetcher(self.kit.settings.fetch) as fetcher, asyncio.TaskGroup() as tg:
                tg.create_task(self._writer(write_q))
                fetchers = [
                    tg.create_task(self._fetcher(fetcher, pool, fetch_q, write_q))
                    for _ in range(width)
                ]
                await self._claimer(plan, fetch_q, width)
                for _ in fetchers:
                    await fetch_q.put(None)
                await asyncio.gather(*fetchers)
                await write_q.put(None)
        finally:
            pool.shutdown()

    async def _claimer(self, plan: list[int], fetch_q: asyncio.Queue[Entry | None], n: int) -> None:
        for i in range(0, len(plan), n):
            if self.out_of_time():
                self.fetch_report.add("pages_deferred_to_next_pass", len(plan) - i)
                return
            for row in await asyncio.to_thread(self._claim, plan[i : i + n]):
                await fetch_q.put(row)

    async def _fetcher(
        self,
        fetcher: Fetcher,
        lazy: LazyPool,
        fetch_q: asyncio.Queue[Entry | None],
        write_q: asyncio.Queue[_Done | None],
    ) -> None:
        loop = asyncio.get_running_loop()
        while (entry := await fetch_q.get()) is not None:
            assert entry.id is not None
            path = spool.find(self.spool_dir, entry.id)
            if path is not None:
                self.fetch_report.add("pages_from_spool")
            else:
                # the body goes to its spool file as it arrives (never whole in this
                # process's memory), and is on disk before anything else happens to
                # it: a kill from here on costs no second download
                sink = partial(spool.Writer, self.spool_dir, entry.id)
                try:
                    await fetcher.fetch(
                        FetchRequest(url=entry.url, kind="page", key=entry.id, sink=sink)
                    )
                except FetchError as exc:
                    await write_q.put(_Done(entry, PageOutcome(None, None, exc)))
                    continue
                self.fetch_report.add("pages_fetched")
                path = spool.path_for(self.spool_dir, entry.id)
            job = work.PageJob(
                entry.id, str(path), entry.title, entry.summary, entry.published_at, self.clock()
            )
            pool = await lazy.get()
            if isinstance(pool, ThreadPoolExecutor):
                prepared = await loop.run_in_executor(pool, partial(work.prepare, job, self.kit))
            else:
                # submit from a thread too: a pool replacing a worker spawns one
                future = await asyncio.to_thread(pool.submit, work.prepare_in_worker, job)
                prepared = await asyncio.wrap_future(future)
            outcome = PageOutcome(
                prepared.extracted, prepared.raw_html_z, prepared.error, prepared.analysis
            )
            await write_q.put(_Done(entry, outcome))

    async def _writer(self, write_q: asyncio.Queue[_Done | None]) -> None:
        more = True
        while more and (done := await write_q.get()) is not None:
            # whatever else is ready goes into the same transaction: never waits
            # for a page, so a lone page is stored as soon as alone
            batch = [done]
            while len(batch) < WRITE_BATCH and not write_q.empty():
                nxt = write_q.get_nowait()
                if nxt is None:
                    more = False
                    break
                batch.append(nxt)
            await asyncio.to_thread(self._store_batch, batch)

    def _store_batch(self, batch: list[_Done]) -> None:
        """Store ``batch`` in one transaction, each page under its own savepoint."""
        served: list[int] = []
        # a page's counters count once its rows are committed
        reports: list[StageReport] = []
        now = self.clock()
        try:
            with session_scope(self.engine) as session:
                for done in batch:
                    page_report = StageReport("stream")
                    reports.append(page_report)
                    if self._store_one(session, done, now, page_report):
                        assert done.entry.id is not None
                        served.append(done.entry.id)
        except NewsmonError as exc:  # the commit failed: none of them is stored
            for done in batch:
                self.write_report.error(exc.kind, done.entry.url, str(exc))
            return
        for page_report in reports:
            self.write_report.merge(page_report)
        for entry_id in served:
            # stored (or never to be stored): the spooled body has served; a
            # failed fetch has none, a failed extraction keeps nothing worth a retry
            spool.remove(self.spool_dir, entry_id)

    def _store_one(self, session: Session, done: _Done, now: datetime, report: StageReport) -> bool:
        """Store one page; True when its spool file is no longer needed."""
        entry = done.entry
        try:
            # a page that fails is undone alone; the batch's other pages stay
            with session.begin_nested():
                store_page(
                    session,
                    self.kit,
                    entry,
                    done.outcome,
                    self.outlets.get(entry.feed_id),
                    now,
                    report,
                )
                status = session.get(Entry, entry.id)
                closed = status is not None and status.status in ("done", "gave-up")
        except NewsmonError as exc:
            report.counts.clear()  # nothing of it was stored
            report.error(exc.kind, entry.url, str(exc))
            return False
        return closed or done.outcome.error is not None
