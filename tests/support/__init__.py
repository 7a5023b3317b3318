"""Shared test helpers (loopback HTTP server, fixtures)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.http_server import (
    LoopbackServer,
    RecordedRequest,
    Request,
    Response,
    gzip_bomb,
    loopback_servers,
)

__all__ = [
    "LoopbackServer",
    "RecordedRequest",
    "Request",
    "Response",
    "gzip_bomb",
    "loopback_server",
    "loopback_servers",
]


@pytest.fixture
def loopback_server() -> Iterator[LoopbackServer]:
    """A started LoopbackServer on 127.0.0.1; import this name into a test module to use it."""
    with LoopbackServer() as srv:
        yield srv
