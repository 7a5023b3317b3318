"""Per-host manners of the fetcher: connection slots, request spacing, back-off state."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from email.utils import parsedate_to_datetime


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or HTTP-date)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(min(int(value), 7 * 86400))
    try:
        when = parsedate_to_datetime(value).timestamp()
    except (TypeError, ValueError, IndexError):
        return None
    return max(0.0, min(when - (time.time() if now is None else now), 7 * 86400.0))


@dataclass
class HostSlot:
    """One host's share of the fetcher: its connection limit, start spacing and back-off."""

    sem: asyncio.Semaphore
    lock: asyncio.Lock
    delay: float
    next_at: float = 0.0
    #: loop time before which the host asked not to be asked again (Retry-After)
    blocked_until: float = 0.0

    def back_off(
        self, retry_after: float | None, now: float, *, max_delay: float, max_wait: float
    ) -> None:
        """A 429/503: space requests wider, and hold them for as long as the host asked."""
        self.delay = min(max(self.delay * 2, 1.0), max(max_delay, self.delay))
        wait = min(retry_after, max_wait) if retry_after else self.delay
        self.blocked_until = max(self.blocked_until, now + wait)
        self.next_at = max(self.next_at, now + min(wait, max_delay))


class PoliteSlot:
    """Per-host connection slot, then the per-host start spacing, then a global slot."""

    def __init__(self, slot: HostSlot, global_sem: asyncio.Semaphore) -> None:
        self._slot, self._global = slot, global_sem

    async def __aenter__(self) -> None:
        slot = self._slot
        await slot.sem.acquire()
        try:
            async with slot.lock:
                loop = asyncio.get_running_loop()
                wait = slot.next_at - loop.time()
                if wait > 0:
                    await asyncio.sleep(wait)
                slot.next_at = loop.time() + slot.delay
            # Taken last so a host's queue never holds global slots while it sleeps.
            await self._global.acquire()
        except BaseException:
            slot.sem.release()
            raise

    async def __aexit__(self, *exc: object) -> None:
        self._global.release()
        self._slot.sem.release()
