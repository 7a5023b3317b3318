"""htmldate's fallback date parser, limited to the languages of the beat's outlets.

htmldate reads a date string that its own patterns miss with dateparser, and asks it with no
language given, so dateparser tries each of its 205 locales and loads and compiles every one
of them at the first string that none reads. Measured in one process: 1.9 s of CPU for that
first string and 8.9 ms a string after it, against 0.33 s and 2.0 ms with the twelve
languages below. The first cost is paid in the critical path of every ingest pass (the fork
server loads it before the first worker can start; pipeline/ingest/preload.py) and in every
other process that extracts.

The languages: German, English and Korean (the beat's outlets), and the other major news
languages a Korea stream carries (the SemEval-2022 pairs have French and Polish ones). Dates
came out identical on all 168 pages of the shared corpus that the extraction evaluation
reads (all halves, the third date set included) with the full and the limited parser.

Scoped (`beat_languages`), not installed for the whole process: bare trafilatura in the same
process, as bench/eval_extraction.py runs it beside newsmon, keeps htmldate's own parser.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Iterator
from typing import Any

LANGUAGES = ("de", "en", "ko", "fr", "es", "it", "pl", "nl", "pt", "ru", "ja", "zh")

#: htmldate's own settings (htmldate.extractors.get_external_parser); a test keeps them equal
SETTINGS: dict[str, Any] = {
    "NORMALIZE": True,
    "PARSERS": ["custom-formats", "absolute-time"],
    "PREFER_DATES_FROM": "past",
    "PREFER_LOCALE_DATE_ORDER": True,
    "RETURN_AS_TIMEZONE_AWARE": False,
    "STRICT_PARSING": True,
}


@functools.cache
def parser() -> Any:
    """The one dateparser ``DateDataParser`` for the beat's languages (built on first use)."""
    from dateparser import DateDataParser

    return DateDataParser(languages=list(LANGUAGES), settings=dict(SETTINGS))


@contextlib.contextmanager
def beat_languages() -> Iterator[None]:
    """htmldate's text search uses `parser` inside this block."""
    import htmldate.extractors as hx

    previous = hx.get_external_parser
    hx.get_external_parser = parser
    try:
        yield
    finally:
        hx.get_external_parser = previous
