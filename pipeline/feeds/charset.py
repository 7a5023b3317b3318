"""Feed bytes that are not valid in their declared charset: decode them knowingly.

feedparser tries the declared encoding, then chardet (when installed), then utf-8,
windows-1252 and iso-8859-2, and takes the first that decodes without an error. A
UTF-8 feed with one stray byte therefore comes out as ISO-8859-2 (or windows-1252):
every umlaut and every Korean name of the feed turned into mojibake, silently. This
module runs first and hands feedparser bytes that are valid UTF-8:

* valid in the declared charset: left exactly as they are (the common case);
* declared UTF-8 and mostly UTF-8 (some well-formed multi-byte sequences): UTF-8
  with U+FFFD for the broken bytes, which keeps every correct character correct;
* anything else (no valid multi-byte sequence at all, or another declared charset
  the bytes do not fit): charset_normalizer's guess, if it decodes the bytes
  cleanly; else the declared charset with replacement characters.

Either way the decision is returned as a note that ends up in the feed's health
record, so an operator can see which feed sends broken bytes.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Mapping

from charset_normalizer import from_bytes

_XML_DECL = re.compile(rb"^\s*<\?xml[^>]*?\?>", re.S)
_XML_ENCODING = re.compile(rb"""encoding\s*=\s*["']([A-Za-z0-9._:-]+)["']""")
_CHARSET = re.compile(r"""charset\s*=\s*["']?([A-Za-z0-9._:-]+)""", re.I)
_BOMS = (
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
#: Only this much is handed to the guesser: enough for a verdict, bounded in cost.
GUESS_BYTES = 256 * 1024


def declared_charset(body: bytes, headers: Mapping[str, str]) -> str:
    """The charset a feed claims: BOM, HTTP charset, XML declaration, else UTF-8.

    Returns a Python codec name (``utf-8``, ``cp1252``, ...); unknown names count as
    undeclared.
    """
    for bom, name in _BOMS:
        if body.startswith(bom):
            return name
    candidates: list[str] = []
    match = _CHARSET.search(headers.get("content-type", ""))
    if match:
        candidates.append(match.group(1))
    decl = _XML_DECL.match(body[:1024])
    if decl:
        enc = _XML_ENCODING.search(decl.group(0))
        if enc:
            candidates.append(enc.group(1).decode("ascii"))
    for name in candidates:
        try:
            return codecs.lookup(name).name
        except LookupError:
            continue
    return "utf-8"


def repair_charset(body: bytes, headers: Mapping[str, str]) -> tuple[bytes, str | None]:
    """``(bytes for feedparser, note)``: the body unchanged and None when it is valid in
    its declared charset, else UTF-8 bytes (declaration rewritten) and what was done."""
    declared = declared_charset(body, headers)
    try:
        body.decode(declared)
        return body, None
    except UnicodeDecodeError:
        pass
    except LookupError:
        declared = "utf-8"
    text, how = _decode_broken(body, declared)
    return _as_utf8_xml(text), f"bytes not valid {declared}: {how}"


def _decode_broken(body: bytes, declared: str) -> tuple[str, str]:
    if declared == "utf-8":
        text = body.decode("utf-8", "replace")
        broken = text.count("\ufffd") - body.count("\ufffd".encode())
        well_formed = sum(1 for ch in text if ord(ch) > 0x7F) - broken
        if well_formed > 0:
            return text, f"decoded as utf-8 with {broken} replacement character(s)"
    guess = from_bytes(body[:GUESS_BYTES]).best()
    if guess is not None and guess.encoding:
        name = codecs.lookup(guess.encoding).name
        try:
            return body.decode(name), f"decoded as {name} (guessed)"
        except (UnicodeDecodeError, LookupError):
            pass  # the sample fitted, the whole does not
    text = body.decode(declared, "replace")
    return text, f"decoded as {declared} with replacement characters"


def _as_utf8_xml(text: str) -> bytes:
    text = text.lstrip("\ufeff")
    data = text.encode("utf-8")
    decl = _XML_DECL.match(data)
    if decl:
        fixed = _XML_ENCODING.sub(b'encoding="utf-8"', decl.group(0))
        data = fixed + data[decl.end() :]
    return data
