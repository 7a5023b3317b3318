"""What the scale test checks in newsmon's own database (plain SQL over SQLAlchemy)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import create_engine, text

#: Rows that would be the same thing stored twice. Each query yields the surplus rows.
_SURPLUS = {
    # one article per canonical URL
    "canonical_url": "SELECT coalesce(sum(n - 1), 0) FROM (SELECT count(*) AS n FROM article "
    "GROUP BY canonical_url HAVING count(*) > 1) AS d",
    # the same text stored twice without one being marked as the other's duplicate
    "text_hash": "SELECT coalesce(sum(n - 1), 0) FROM (SELECT count(*) AS n FROM article "
    "WHERE duplicate_of IS NULL AND text_hash <> '' AND NOT is_seed "
    "GROUP BY text_hash HAVING count(*) > 1) AS d",
    # one queued entry per URL and per feed guid
    "entry_guid": "SELECT coalesce(sum(n - 1), 0) FROM (SELECT count(*) AS n FROM entry "
    "WHERE guid IS NOT NULL GROUP BY feed_id, guid HAVING count(*) > 1) AS d",
    # a digest mailed more than once to one recipient for one day
    "digest_resent": "SELECT coalesce(sum(send_count - 1), 0) FROM digest WHERE send_count > 1",
}


@dataclass(frozen=True)
class StoreCounts:
    articles: int  # stored articles, seeds excluded
    entries: int
    duplicates: int  # surplus rows over all the _SURPLUS rules
    sent: int  # recorded deliveries of the day's digest to the recipient
    by_rule: dict[str, int]


def store_counts(url: str, day: str | date, recipient: str) -> StoreCounts:
    """Count what newsmon stored (one short-lived connection)."""
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            articles = conn.execute(text("SELECT count(*) FROM article WHERE NOT is_seed"))
            entries = conn.execute(text("SELECT count(*) FROM entry"))
            by_rule = {k: int(conn.execute(text(q)).scalar_one()) for k, q in _SURPLUS.items()}
            sent = conn.execute(
                text(
                    "SELECT coalesce(sum(send_count), 0) FROM digest "
                    "WHERE day = :day AND recipient = :to AND status = 'sent'"
                ),
                {"day": date.fromisoformat(day) if isinstance(day, str) else day, "to": recipient},
            )
            return StoreCounts(
                articles=int(articles.scalar_one()),
                entries=int(entries.scalar_one()),
                duplicates=sum(by_rule.values()),
                sent=int(sent.scalar_one()),
                by_rule=by_rule,
            )
    finally:
        engine.dispose()


def make_feeds_due(url: str) -> None:
    """Every feed due now, as if its poll interval had passed (the second pass re-reads all)."""
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(text("UPDATE feed SET next_poll_at = NULL"))
    finally:
        engine.dispose()
