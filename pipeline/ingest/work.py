"""The CPU half of a page: everything that needs no database, run in a process pool.

A worker gets a :class:`PageJob` (where the spooled body is, what the feed
said) and returns a :class:`Prepared`: the extraction, the compressed raw
page and the text-only parts of enrichment (relevance, fingerprint and band
keys, actor mentions and candidates). The writer then only applies these and
runs the steps that read other stored articles (duplicates, stories), so the
ingesting process spends its time on the network and the database while the
pool keeps every core on parsing and extraction.

The worker processes load the Toolkit once (gazetteer from its cache) in
:func:`init_worker`; with one worker the same functions run in a thread of the
ingesting process, with its Toolkit.
"""

from __future__ import annotations

import ctypes
import logging
import os
import threading
import time
import zlib
from dataclasses import dataclass
from datetime import datetime

from pipeline.enrich.analysis import Analysis, analyse
from pipeline.enrich.toolkit import Toolkit
from pipeline.errors import ExtractionError
from pipeline.pages import spool
from pipeline.pages.extracted import Extracted
from pipeline.pages.markup import bounded_markup

log = logging.getLogger(__name__)

_KIT: Toolkit | None = None
#: How often a pool worker checks that the ingest process is still there (seconds).
PARENT_CHECK_S = 0.5
#: zlib level of the archived raw page. Level 1 costs about a third of level 6's
#: CPU (1.9 against 5.4 ms on the bench pages, ~10% of an extraction) for 17% more
#: archive bytes (26% of the page's size against 22%); any level reads back alike.
RAW_LEVEL = 1
#: Blocks from this size up get a mapping of their own (glibc's M_MMAP_THRESHOLD).
MMAP_THRESHOLD = 1 << 20
_M_MMAP_THRESHOLD = -3  # mallopt's parameter number (malloc.h)


@dataclass(frozen=True)
class PageJob:
    """One fetched page to prepare; the body is read from the spool file."""

    entry_id: int
    spool_path: str
    feed_title: str | None
    feed_summary: str | None
    feed_published: datetime | None
    now: datetime


@dataclass(frozen=True)
class Prepared:
    """A worker's answer: an extraction and its analysis, or the extraction's error."""

    entry_id: int
    url: str
    extracted: Extracted | None
    raw_html_z: bytes | None
    analysis: Analysis | None
    error: ExtractionError | None


def bound_heap() -> None:
    """Have glibc give big blocks (bodies, their text, big trees) back when they are freed.

    glibc raises its mmap threshold each time a mapped block is freed, up to
    32 MB; from then on bodies of several MB are carved from the heap, which
    fragments and does not shrink. Over 24 pages near the 8 MB cap one process
    grew from 155 to 255 MB that way (and kept growing with more pages); with
    the threshold fixed at 1 MB it stayed at 160 MB. Blocks below 1 MB (most
    pages) are unaffected. Not glibc: nothing to do.
    """
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return
    mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD)


def init_worker(kit: Toolkit, parent_pid: int) -> None:
    """Pool initializer: keep the Toolkit, and end this worker when the ingest process dies."""
    global _KIT
    _KIT = kit
    bound_heap()
    threading.Thread(target=_watch, args=(parent_pid,), name="parent-watch", daemon=True).start()


def _watch(parent_pid: int) -> None:
    # A SIGKILLed ingest cannot stop its pool, and the workers (children of the
    # fork server, which they keep alive) would wait for jobs forever.
    while True:
        time.sleep(PARENT_CHECK_S)
        try:
            os.kill(parent_pid, 0)
        except ProcessLookupError:
            os._exit(1)
        except PermissionError:
            os._exit(1)  # the pid now belongs to another user's process: ours is gone


def prepare_in_worker(job: PageJob) -> Prepared:
    """Pool entry point: :func:`prepare` with the worker's Toolkit."""
    assert _KIT is not None, "init_worker was not run"
    return prepare(job, _KIT)


def prepare(job: PageJob, kit: Toolkit) -> Prepared:
    """Read the spooled body, extract it and analyse the text; never raises on bad HTML."""
    loaded = spool.read(job.spool_path)
    if loaded is None:
        return Prepared(job.entry_id, "", None, None, None, ExtractionError("spooled body lost"))
    url, body = loaded
    # what is parsed is what is archived: for a page over the trimming limit that is its
    # bounded markup (scripts, styles and markup past 1 MB dropped), so the archive
    # re-extracts to the same article, and an 8 MB page costs neither 8 MB of zlib in
    # the worker (~250 ms) nor 2 MB through the pipe and in the writer's queue
    body = bounded_markup(body)
    # imported here, not at the top: the ingesting process imports this module for the
    # pool's entry point and job types but extracts nothing itself when the pool has
    # worker processes (which import the extractor in the fork server's preload)
    from pipeline.pages.extract import extract_article

    try:
        extracted = extract_article(
            body,
            url,
            feed_title=job.feed_title,
            feed_summary=job.feed_summary,
            feed_published=job.feed_published,
            now=job.now,
        )
    except ExtractionError as exc:
        return Prepared(job.entry_id, url, None, zlib.compress(body, RAW_LEVEL), None, exc)
    except Exception as exc:
        # A page that crashes the extractor would otherwise stay pending and
        # abort every future pass (a poison pill): record it and give up on it.
        log.warning("extraction crashed on %s", url, exc_info=True)
        crash = ExtractionError(f"extractor crashed: {type(exc).__name__}: {exc}")
        return Prepared(job.entry_id, url, None, zlib.compress(body, RAW_LEVEL), None, crash)
    title = extracted.title or job.feed_title
    return Prepared(
        job.entry_id,
        url,
        extracted,
        zlib.compress(body, RAW_LEVEL),
        analyse(kit.gazetteer, kit.rules, title, extracted.text, extracted.language),
        None,
    )
