"""Publication date of a page: a weighted vote of its date signals, cross-checked with the feed.

Every signal (a site layout's date, JSON-LD ``datePublished``, published-time meta tags, generic
date meta tags, ``<time datetime>`` in the article, a date in the URL, the visible byline's date,
htmldate's original date) proposes a date; each proposal votes for the calendar days it can
stand for (its own offset's and UTC's) with the log-odds of its signal's reliability
(``WEIGHTS``, from development-half counts, smoothed). The day with the largest sum wins, so
two signals that agree outvote one that does not, and no single signal wins by position alone.
A proposal equal to a date the page declares as its last edit, while another signal proposes
an earlier one, is demoted: it is the modified date standing in for the published one. Why a
vote rather than a fixed order, and how it was chosen: docs/extraction.md ("Publication date").

A page date more than ``DOUBT_AFTER`` away from the feed's date is kept but marked doubtful: one
of them is wrong (a republished archive page, a feed that stamps the crawl time).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta, timezone
from typing import Literal

from lxml.html import HtmlElement

from pipeline.pages.date_signals import (
    Proposal,
    modified_dates,
    page_proposals,
    parse_instant,
    proposal,
)

__all__ = ["PageDate", "choose_date", "page_date", "parse_instant", "plausible"]

#: Online news predates 1990 only in archives, where a date is a parsing error.
EARLIEST_DATE = datetime(1990, 1, 1, tzinfo=UTC)
#: Feeds and servers in other time zones can be a few hours "ahead".
FUTURE_TOLERANCE = timedelta(days=1)
#: Page and feed dates further apart than this make the date doubtful. Time zones and a
#: feed's "updated" stamp explain a day or two; beyond that one of the dates is wrong.
DOUBT_AFTER = timedelta(days=3)

#: Signal -> (right, wrong) on the development half's 52 dated pages (bench/date_design.py).
#: No dev page has a site-rule date; a hand-written selector for a layout's publication time
#: is taken to be as reliable as a ``<time>`` element marked as the publication time.
DEV_COUNTS: dict[str, tuple[int, int]] = {
    "json-ld": (30, 1),
    "meta": (27, 2),
    "meta-generic": (5, 4),
    "time-marked": (8, 0),
    "time-first": (9, 2),
    "url": (5, 0),
    "htmldate": (46, 6),
    "byline": (21, 1),
}
DEV_COUNTS["site-rule"] = DEV_COUNTS["time-marked"]
#: Beta(2, 1) prior: a signal nobody counted is taken as right two times in three. This and
#: DEMOTED were set before any scoring, not fitted (dev has too few conflicts to fit them).
_PRIOR_RIGHT, _PRIOR_WRONG = 2.0, 1.0
#: A demoted proposal keeps this share of its weight: it may still break a tie.
DEMOTED = 0.25
#: How htmldate's vote counts when it repeats another signal (``vote_weights``).
Copies = Literal["zero", "top-up", "count"]
COPIES: Copies = "top-up"
#: Instants closer than this are the same timestamp written twice (rounding, offsets).
SAME_INSTANT = timedelta(minutes=1)
#: Tie-break among days of equal weight: the day of the earliest signal in this order.
PRIORITY = ("site-rule", "json-ld", "meta", "time-marked", "url", "htmldate", "byline",
            "time-first", "meta-generic")  # fmt: skip
#: Finer signal names -> the stored ``date_source`` vocabulary.
SOURCE_OF = {"time-marked": "time-element", "time-first": "time-element", "meta-generic": "meta"}


def weights_from(counts: Mapping[str, tuple[int, int]]) -> dict[str, float]:
    """Each signal's vote: the log-odds of its smoothed accuracy."""
    return {
        name: math.log((right + _PRIOR_RIGHT) / (wrong + _PRIOR_WRONG))
        for name, (right, wrong) in counts.items()
    }


WEIGHTS = weights_from(DEV_COUNTS)


@dataclass(frozen=True)
class PageDate:
    """The chosen date, the signal it came from, and whether the feed contradicts it."""

    local: datetime | None  # as the page states it (its own offset; UTC when it gives none)
    #: site-rule | json-ld | meta | time-element | url | byline | htmldate | feed
    source: str | None
    doubtful: bool = False

    @property
    def utc(self) -> datetime | None:
        """The chosen date in UTC (None when no date was found)."""
        return self.local.astimezone(UTC) if self.local else None


def plausible(value: datetime | None, now: datetime) -> datetime | None:
    """``value`` when it is after 1990 and not more than a day in the future."""
    if value is None:
        return None
    if value < EARLIEST_DATE or value > _aware(now) + FUTURE_TOLERANCE:
        return None
    return value


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _is_modified(p: Proposal, modified: list[datetime]) -> bool:
    return not p.day_only and any(abs(p.value - m) < SAME_INSTANT for m in modified)


def vote_weights(
    proposals: list[Proposal],
    modified: list[datetime],
    weights: Mapping[str, float],
    *,
    copies: Copies = COPIES,
) -> list[float]:
    """Each proposal's vote, demoted when it is the page's modified date standing in.

    htmldate reads the same URL, meta tags, JSON-LD and visible text first: when it agrees with
    one of those proposals it is a copy of that evidence, not a second witness. ``copies``:
    ``zero``: it then adds nothing; ``top-up``: it adds what its own weight exceeds the
    heaviest proposal it agrees with, so the agreeing group is worth at least htmldate alone;
    ``count``: it votes in full (for the design comparison only).
    """
    out = []
    for p in proposals:
        weight = weights.get(p.source, 0.0)
        if _is_modified(p, modified) and any(
            q.value < p.value - SAME_INSTANT and not _is_modified(q, modified) for q in proposals
        ):
            weight *= DEMOTED
        out.append(weight)
    for i, p in enumerate(proposals):
        if p.source != "htmldate" or copies == "count":
            continue
        agreeing = [w for q, w in zip(proposals, out, strict=True)
                    if q.source != "htmldate" and q.days() & p.days()]  # fmt: skip
        if agreeing:
            out[i] = 0.0 if copies == "zero" else max(0.0, out[i] - max(agreeing))
    return out


def in_page_offset(proposals: list[Proposal]) -> list[Proposal]:
    """UTC-stamped proposals restated in the offset another signal of the page gives.

    A German page's JSON-LD may say 22:30Z where its meta tag says 00:30+02:00: the gold, and a
    reader, mean the page's own calendar day, so both must be compared in that offset.
    """
    offsets = [p.value.utcoffset() for p in proposals if not p.day_only]
    local = next((o for o in offsets if o), None)
    if local is None:
        return proposals
    zone = timezone(local)
    return [
        replace(p, value=p.value.astimezone(zone))
        if not p.day_only and not p.value.utcoffset()
        else p
        for p in proposals
    ]


def choose_date(
    proposals: list[Proposal],
    modified: list[datetime] | None = None,
    weights: Mapping[str, float] | None = None,
    *,
    copies: Copies = COPIES,
) -> Proposal | None:
    """The proposal standing for the day with the largest total vote (None without proposals).

    Within the winning day the heaviest proposal with a time of day is returned, so the stored
    instant is as precise as the page allows.
    """
    if not proposals:
        return None
    proposals = in_page_offset(proposals)
    votes = vote_weights(
        proposals,
        modified or [],
        WEIGHTS if weights is None else weights,
        copies=copies,
    )
    score: dict[str, float] = {}
    for p, weight in zip(proposals, votes, strict=True):
        for day in p.days():
            score[day] = score.get(day, 0.0) + weight

    def rank(source: str) -> int:
        return PRIORITY.index(source) if source in PRIORITY else len(PRIORITY)

    def first_rank(day: str) -> int:
        return min(rank(p.source) for p in proposals if day in p.days())

    best = max(score, key=lambda day: (round(score[day], 9), -first_rank(day)))
    members = [(w, p) for p, w in zip(proposals, votes, strict=True) if best in p.days()]
    members.sort(key=lambda item: (not item[1].day_only, item[0], -rank(item[1].source)))
    return members[-1][1]


def page_date(
    tree: HtmlElement | None,
    url: str,
    *,
    feed_published: datetime | None,
    now: datetime,
    site_date: str | None = None,
    htmldate: str | None = None,
    combine: bool = True,
) -> PageDate:
    """The page's publication date by weighted vote of its signals, checked against the feed.

    ``htmldate`` is htmldate's original date as trafilatura's one pass found it (the caller
    runs that search once per page). ``combine=False`` leaves the page's date to htmldate
    alone (the ablation baseline, which is what bare trafilatura reports).
    """
    found: list[Proposal] = []
    modified: list[datetime] = []
    if tree is not None and combine:
        found = page_proposals(tree, url, site_date)
        modified = modified_dates(tree)
    from_htmldate = proposal("htmldate", htmldate)
    if from_htmldate is not None:
        found.append(from_htmldate)
    found = [p for p in found if plausible(p.value, now) is not None]
    chosen = choose_date(found, modified)
    feed = plausible(_aware(feed_published), now) if feed_published else None
    if chosen is None:
        return PageDate(feed, "feed") if feed else PageDate(None, None)
    doubtful = feed is not None and abs(chosen.value - feed) > DOUBT_AFTER
    return PageDate(chosen.value, SOURCE_OF.get(chosen.source, chosen.source), doubtful)
