"""Page bodies streamed into their spool file: whole and hashed when they arrive, gone when not."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from functools import partial
from pathlib import Path

import pytest

from pipeline.errors import FetchError, ResponseTooLarge, TransientFetchError, UnsupportedContent
from pipeline.net.client import FetchRequest, FetchResult, fetch_all
from pipeline.pages import spool
from tests.net.test_fetch import settings
from tests.support import LoopbackServer

PARAS = b"<p>Seoul und Pjoengjang.</p>\n" * 4000
PAGE = b"<!DOCTYPE html>\n<html><body>" + PARAS + b"</body></html>"


@pytest.fixture
def srv() -> Iterator[LoopbackServer]:
    with LoopbackServer() as server:
        yield server


def _fetch(srv: LoopbackServer, tmp: Path, path: str, key: int, **kw: object) -> object:
    req = FetchRequest(srv.url(path), "page", key=key, sink=partial(spool.Writer, tmp, key))
    return fetch_all(settings(respect_robots=False, **kw), [req])[0]


def _left(tmp: Path) -> list[str]:
    return sorted(p.name for p in tmp.iterdir()) if tmp.exists() else []


@pytest.mark.parametrize("encoding", [None, "gzip", "br"])
def test_body_lands_in_the_spool_file_not_in_the_result(
    srv: LoopbackServer, tmp_path: Path, encoding: str | None
) -> None:
    srv.add_file("/p", PAGE, content_type="text/html", encoding=encoding)
    srv.add_behaviour("/moved", "redirect", to="/p", code=302)
    res = _fetch(srv, tmp_path, "/moved", 7)
    assert isinstance(res, FetchResult) and res.body == b""
    assert res.size == len(PAGE) and res.content_hash == hashlib.sha256(PAGE).hexdigest()
    # the final URL heads the file, the body follows exactly as sent (decoded)
    assert spool.read(spool.path_for(tmp_path, 7)) == (srv.url("/p"), PAGE)
    assert _left(tmp_path) == ["7.page"]


def test_failed_bodies_leave_no_file(srv: LoopbackServer, tmp_path: Path) -> None:
    html = "text/html"
    srv.add_behaviour("/huge", "huge", size=1 << 30, content_type=html)  # Content-Length says
    # these three start streaming into the file before they fail
    srv.add_behaviour("/endless", "endless", chunk=b"<html>" + b"x" * 65530, content_type=html)
    srv.add_behaviour("/truncated", "truncated", body=b"<html><p>cut", content_type=html)
    srv.add_behaviour("/reset_mid", "reset_mid", body=b"<html><p>" * 300, content_type=html)
    srv.add_behaviour("/bomb", "gzip_bomb", size=64 << 20, content_type=html)
    srv.add_file("/pdf", b"%PDF-1.7" + b"\0" * 5000, content_type="application/octet-stream")
    expected: dict[str, type[FetchError] | tuple[type[FetchError], ...]] = {
        "/huge": ResponseTooLarge,
        "/endless": ResponseTooLarge,
        "/truncated": TransientFetchError,
        "/reset_mid": TransientFetchError,
        "/bomb": (ResponseTooLarge, UnsupportedContent),  # zeros: whichever check is first
        "/pdf": UnsupportedContent,
    }
    for key, (path, kind) in enumerate(expected.items()):
        res = _fetch(srv, tmp_path, path, key, max_page_bytes=64 * 1024)
        assert isinstance(res, kind), (path, res)
        assert spool.find(tmp_path, key) is None
    assert _left(tmp_path) == []


def test_a_later_fetch_replaces_the_file_whole(srv: LoopbackServer, tmp_path: Path) -> None:
    srv.add_file("/p", PAGE, content_type="text/html")
    srv.add_behaviour("/truncated", "truncated", body=b"<html><p>cut", content_type="text/html")
    assert isinstance(_fetch(srv, tmp_path, "/p", 3), FetchResult)
    # a failing second fetch of the same entry keeps the complete first body
    assert isinstance(_fetch(srv, tmp_path, "/truncated", 3), TransientFetchError)
    assert spool.read(spool.path_for(tmp_path, 3)) == (srv.url("/p"), PAGE)
    assert _left(tmp_path) == ["3.page"]
