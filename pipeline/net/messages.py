"""What the fetcher is asked for and what it answers: plain values, no I/O.

Kept apart from pipeline.net.client so that callers (the feed poll, the page stream, their
tests) can build and read them without importing httpx.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class FetchRequest:
    """One URL to fetch, with the validators and body hash of the last fetch of it."""

    url: str
    kind: str = "page"  # "page" | "feed" | "sitemap"
    etag: str | None = None
    last_modified: str | None = None
    previous_hash: str | None = None
    key: object = None  # opaque to the fetcher; lets callers match results to their rows


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
