"""What extraction learned about a page, as a plain record (no extractor imported).

The ingesting process receives these from its pool workers and stores them; keeping
the type apart from pipeline.pages.extract means unpickling one does not import
trafilatura, htmldate, jusText and the language model into a process that never
extracts.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class Extracted:
    """What extraction learned about one page."""

    text: str
    title: str | None
    author: str | None
    published_at: datetime | None  # tz-aware UTC
    #: site-rule | json-ld | meta | time-element | url | byline | htmldate | feed
    date_source: str | None
    site_name: str | None
    language: str | None
    description: str | None
    categories: tuple[str, ...]
    tags: tuple[str, ...]
    canonical_url: str | None
    #: trafilatura[-fallback][+lead] | justext | structural | site:<domain>@<since> | feed-summary
    method: str
    wire_agencies: tuple[str, ...]
    #: The page's date and the feed's differ by more than dates.DOUBT_AFTER.
    date_doubtful: bool = False
    #: published_at as the page stated it (its own UTC offset), for local calendar days.
    published_local: datetime | None = None
