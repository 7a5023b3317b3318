"""What a response body may be: content-type policy and bounded decompression.

Pure functions and a small decoder, kept apart from the network code in
pipeline.net.client: a body is only ever decoded up to its cap (gzip bombs stop
at the cap, not in memory), and only content newsmon can read is accepted.
A page body can be decoded straight into a sink (its spool file, see
:func:`stream_body`) instead of into memory.
"""

from __future__ import annotations

import hashlib
import re
import zlib
from collections.abc import AsyncIterator, Mapping, Sequence
from typing import NoReturn

import brotli

from pipeline.errors import ResponseTooLarge, UnsupportedContent
from pipeline.net.messages import BodySink

_PAGE_TYPES = ("text/html", "application/xhtml+xml")
_GENERIC_TYPES = ("", "application/octet-stream", "binary/octet-stream", "text/plain")
_NEVER_FEED = ("image/", "audio/", "video/", "font/", "application/pdf", "application/zip")


class Inflater:
    """Incremental, output-bounded decoder for one Content-Encoding chain."""

    def __init__(self, encodings: Sequence[str], cap: int, url: str) -> None:
        self.cap, self.url, self.total = cap, url, 0
        self._stages: list[object] = []
        # Encodings are listed in the order applied; undo them in reverse.
        for enc in reversed([e.strip().lower() for e in encodings if e.strip()]):
            if enc in ("gzip", "x-gzip"):
                self._stages.append(zlib.decompressobj(16 + zlib.MAX_WBITS))
            elif enc == "deflate":
                self._stages.append(["deflate", None])  # zlib or raw, decided on first bytes
            elif enc == "br":
                self._stages.append(brotli.Decompressor())
            elif enc != "identity":
                raise UnsupportedContent(f"unsupported content-encoding: {enc}", url=url)

    def _run(self, stage: object, data: bytes, limit: int) -> bytes:
        if isinstance(stage, list):  # deflate: zlib-wrapped per RFC, raw in practice too
            if stage[1] is None:
                raw = not data or (data[0] & 0x0F) != 8
                stage[1] = zlib.decompressobj(-zlib.MAX_WBITS if raw else zlib.MAX_WBITS)
            stage = stage[1]
        if isinstance(stage, brotli.Decompressor):
            out = [stage.process(data, output_buffer_limit=limit)]
            size = len(out[0])
            while size <= limit and not stage.can_accept_more_data():
                out.append(stage.process(b"", output_buffer_limit=limit))
                size += len(out[-1])
            return b"".join(out)
        assert isinstance(stage, type(zlib.decompressobj()))
        out = [stage.decompress(data, limit)]
        size = len(out[0])
        while stage.unconsumed_tail and size <= limit:
            out.append(stage.decompress(stage.unconsumed_tail, limit))
            size += len(out[-1])
        return b"".join(out)

    def feed(self, data: bytes) -> bytes:
        """Decode the next chunk through every content encoding; ResponseTooLarge past the cap."""
        for stage in self._stages:
            data = self._run(stage, data, self.cap - self.total + 1)
        self.total += len(data)
        if self.total > self.cap:
            raise ResponseTooLarge(f"decoded body exceeds {self.cap} bytes", url=self.url)
        return data


def check_type(kind: str, content_type: str, url: str) -> bool:
    """Refuse content newsmon cannot read; True if the body must be sniffed for HTML.

    Misconfigured servers (and Python's http.server for extension-less paths)
    label pages as application/octet-stream or send no type at all; such a
    page is accepted when its bytes look like HTML.
    """
    mime = content_type.split(";", 1)[0].strip().lower()
    if kind == "robots":
        return False
    if kind == "page":
        if mime in _PAGE_TYPES:
            return False
        if mime in _GENERIC_TYPES:
            return True
        raise UnsupportedContent(f"not an HTML page: {mime}", url=url)
    if mime.startswith(_NEVER_FEED):
        raise UnsupportedContent(f"not a {kind}: {mime}", url=url)
    return False


# the tags of the WHATWG MIME sniffing standard's HTML pattern, plus a few HTML5 ones
_HTML_START = re.compile(
    rb"^\s*(?:<!--.*?-->\s*)*<(?:!doctype\s+html|html|head|script|iframe|h1|div|font|table"
    rb"|a|style|title|b|body|br|p|meta|article|main)[\s/>]",
    re.I | re.S,
)


#: How much of a body's start the HTML sniff looks at.
SNIFF_BYTES = 1024


def looks_like_html(body: bytes) -> bool:
    """WHATWG-style sniff of the first bytes: a doctype or a typical HTML start tag."""
    return bool(_HTML_START.match(body[:SNIFF_BYTES].lstrip(b"\xef\xbb\xbf")))


def not_html(headers: Mapping[str, str], url: str) -> NoReturn:
    """Raise UnsupportedContent for a body the sniff says is no HTML page."""
    mime = headers.get("content-type", "") or "no content type"
    raise UnsupportedContent(f"not an HTML page: {mime}", url=url)


class BufferSink:
    """A body kept in memory (feeds, robots.txt, a page fetched without a spool file)."""

    def __init__(self) -> None:
        self.chunks: list[bytes] = []

    def write(self, data: bytes) -> None:
        """Keep the next chunk."""
        self.chunks.append(data)

    def close(self) -> None:
        """Nothing to finish: the chunks are the body."""

    def discard(self) -> None:
        """Drop what was kept."""
        self.chunks.clear()


async def stream_body(
    raw_chunks: AsyncIterator[bytes],
    inflater: Inflater,
    out: BodySink,
    cap: int,
    url: str,
    sniff: bool,
    headers: Mapping[str, str],
) -> tuple[str, int]:
    """Decode a body into ``out`` chunk by chunk; (sha256 hex, decoded size).

    Never more than one chunk in memory; on any failure (too large, not HTML,
    the connection or a timeout cutting it short) ``out`` is discarded.
    """
    digest = hashlib.sha256()
    head = b""  # the first SNIFF_BYTES, for the HTML sniff
    size = raw_total = 0
    try:
        async for raw in raw_chunks:
            raw_total += len(raw)
            if raw_total > cap:
                raise ResponseTooLarge(f"body exceeds {cap} bytes", url=url)
            data = inflater.feed(raw)
            if sniff and len(head) < SNIFF_BYTES:
                head += data[: SNIFF_BYTES - len(head)]
                if len(head) >= SNIFF_BYTES and not looks_like_html(head):
                    not_html(headers, url)  # no need to download the rest
            digest.update(data)
            size += len(data)
            out.write(data)
        data = inflater.feed(b"")
        head += data[: max(SNIFF_BYTES - len(head), 0)]
        if sniff and not looks_like_html(head):
            not_html(headers, url)
        digest.update(data)
        size += len(data)
        out.write(data)
    except BaseException:
        out.discard()
        raise
    out.close()
    return digest.hexdigest(), size
