"""What the fetcher is asked for and what it answers: plain values, no I/O.

Kept apart from pipeline.net.client so that callers (the feed poll, the page stream, their
tests) can build and read them without importing httpx.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol


class BodySink(Protocol):
    """Where a streamed body goes chunk by chunk (a spool file: pipeline.pages.spool.Writer)."""

    def write(self, data: bytes) -> None:
        """Take the next chunk of the (decoded) body."""

    def close(self) -> object:
        """The body is complete."""

    def discard(self) -> None:
        """The fetch failed or was cut short: drop what was written."""


@dataclass(frozen=True)
class FetchRequest:
    """One URL to fetch, with the validators and body hash of the last fetch of it.

    With ``sink`` the body is not kept: the fetcher calls ``sink(final_url)`` when a
    body starts, writes every decoded chunk to it as it arrives and closes it at the
    end (discards it on any failure), and the result's ``body`` is empty.
    """

    url: str
    kind: str = "page"  # "page" | "feed" | "sitemap"
    etag: str | None = None
    last_modified: str | None = None
    previous_hash: str | None = None
    key: object = None  # opaque to the fetcher; lets callers match results to their rows
    sink: Callable[[str], BodySink] | None = None


@dataclass(frozen=True, kw_only=True)
class FetchResult:
    """Outcome of one successful fetch.

    ``not_modified`` is True on a 304 (``body`` empty, ``content_hash`` None)
    and also on a 200 whose body hashes to the request's ``previous_hash``
    (body present): either way the resource is unchanged since last time.
    ``etag``/``last_modified`` are the validators to send next time (the
    request's own ones are carried over when a 304 does not repeat them).
    """

    url: str  # final URL after redirects
    status: int
    headers: dict[str, str]  # lower-cased names
    body: bytes
    not_modified: bool
    content_hash: str | None
    elapsed: float  # seconds spent on the network, all hops
    etag: str | None
    last_modified: str | None
    key: object = None
    #: decoded body bytes (also when the body went to the request's sink)
    size: int = 0
