"""Garbage collection while a process starts: what it imports and loads then stays.

Start-up allocates the modules, the gazetteer and the rules, all of which live as
long as the process, in so many objects that it triggered full collections: each
walked every object of the process and found nothing to free (three during an
ingest pass's start, ~0.1 s of an empty pass's 0.75 s CPU).
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def long_lived() -> Iterator[None]:
    """No collection while the block runs; afterwards, all that exists is frozen.

    Frozen objects are still freed by reference counting; later collections skip
    them instead of walking them again, and cycles among them stay until the
    process ends (start-up state is not let go of before that anyway). A caller that
    turned collection off keeps it off.
    """
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        gc.enable()
