"""The closed vocabularies of newsmon's tables, as StrEnums, and the column type that keeps them.

Each value is stored as its plain string (VARCHAR, no database enum type, so a new
value needs no ALTER TYPE on PostgreSQL); :class:`EnumText` turns it back into the
enum on the way out and refuses an unknown value on the way in. StrEnum members
compare equal to their strings, so ``row.status == "done"`` keeps working.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from sqlalchemy import String
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator


class EntryStatus(StrEnum):
    """Where a queued link stands."""

    PENDING = "pending"  # not fetched yet
    DONE = "done"  # stored as an article
    FAILED = "failed"  # fetch failed; retried on a later pass
    GAVE_UP = "gave-up"  # retries exhausted or a permanent error


class EntrySource(StrEnum):
    """Where a queued link came from."""

    FEED = "feed"
    SITEMAP = "sitemap"


class AttemptStatus(StrEnum):
    """The outcome of one feed poll."""

    OK = "ok"  # new body parsed
    NOT_MODIFIED = "not-modified"  # HTTP 304
    UNCHANGED = "unchanged"  # 200 with the same body hash as last time
    ERROR = "error"


class DuplicateKind(StrEnum):
    """Why an article repeats another (the export's duplicate_kind)."""

    URL = "url"  # the same canonical URL
    EXACT = "exact"  # the same normalised text
    NEAR = "near"  # near-duplicate text (MinHash/LSH, verified)


class DigestStatus(StrEnum):
    """Delivery state of one (day, recipient) digest row."""

    PENDING = "pending"
    SENDING = "sending"  # claimed by a sender (lease in sent_at)
    SENT = "sent"
    WRITTEN = "written"  # the file-only digest (recipient "")
    FAILED = "failed"


class EnumText(TypeDecorator[StrEnum]):
    """A StrEnum stored as VARCHAR: validated when written, an enum member when read."""

    impl = String
    cache_ok = True

    def __init__(self, enum: type[StrEnum], length: int = 16) -> None:
        super().__init__(length)
        self.enum = enum

    def process_bind_param(self, value: Any, dialect: Dialect) -> str | None:
        """Validate the value against the enum on write (ValueError outside its vocabulary)."""
        if value is None:
            return None
        return str(self.enum(value))  # ValueError on a value outside the vocabulary

    def process_result_value(self, value: Any, dialect: Dialect) -> StrEnum | None:
        """The stored string as an enum member."""
        return None if value is None else self.enum(value)
