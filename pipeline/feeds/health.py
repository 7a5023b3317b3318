"""Feed health arithmetic: failure weights, back-off and adaptive polling.

Pure functions over numbers, so the policy can be read and tested on its own.
The anchors' failure mode is a feed that silently stops; here every outcome
moves a score, a feed that keeps failing is backed off and finally disabled
*with a reason* that `newsmon feeds check` and the digest show.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

#: A refused address or a 404 says more about a feed than one timeout does.
TRANSIENT_WEIGHT = 1.0
PERMANENT_WEIGHT = 3.0
#: Successful polls pay the debt back geometrically.
SUCCESS_DECAY = 0.5
#: At this score a feed is disabled: e.g. 10 permanent or 30 transient failures in a row.
DISABLE_SCORE = 30.0
#: "Host not found" counts as transient for this many failures in a row (with back-off about
#: four days), then as permanent: a resolver hiccup heals, a dead domain does not.
DNS_TRANSIENT_LIMIT = 8
#: A local outage (every polled feed failing at the network level at once) needs at least
#: this many feeds to be told from one feed's own failure.
OUTAGE_MIN_FEEDS = 2

MIN_INTERVAL_S = 10 * 60
MAX_INTERVAL_S = 6 * 3600
MAX_BACKOFF_S = 24 * 3600
#: A feed is "quiet" when it has had nothing new for this many times its usual gap.
QUIET_FACTOR = 8


@dataclass(frozen=True)
class HealthState:
    """A feed's standing between polls: failure debt, failures in a row, poll interval."""

    failure_score: float
    consecutive_failures: int
    poll_interval_s: int


@dataclass(frozen=True)
class HealthUpdate:
    """The outcome of one poll: the new state, when to poll next, and why to disable (if so)."""

    state: HealthState
    next_poll_at: datetime
    disable_reason: str | None


def after_success(state: HealthState, now: datetime, *, new_entries: int) -> HealthUpdate:
    """Adaptive polling: busy feeds are polled more often, idle ones less, within bounds."""
    factor = 0.75 if new_entries > 0 else 1.25
    interval = int(state.poll_interval_s * factor)
    interval = max(MIN_INTERVAL_S, min(MAX_INTERVAL_S, interval))
    new = HealthState(
        failure_score=round(state.failure_score * SUCCESS_DECAY, 3),
        consecutive_failures=0,
        poll_interval_s=interval,
    )
    return HealthUpdate(new, now + timedelta(seconds=interval), None)


def after_failure(
    state: HealthState,
    now: datetime,
    *,
    transient: bool,
    error: str,
    retry_after: float | None = None,
    host_not_found: bool = False,
    outage: bool = False,
) -> HealthUpdate:
    """Exponential back-off; disable once the weighted failure score is too high.

    During a local outage (``outage``) the failure says nothing about the feed:
    its score and failure count stay as they were, it is polled again after its
    usual interval and it is never disabled.
    """
    if outage:
        return HealthUpdate(state, now + timedelta(seconds=state.poll_interval_s), None)
    failures = state.consecutive_failures + 1
    if host_not_found:
        transient = failures <= DNS_TRANSIENT_LIMIT
    score = state.failure_score + (TRANSIENT_WEIGHT if transient else PERMANENT_WEIGHT)
    delay = min(MAX_BACKOFF_S, state.poll_interval_s * (2 ** min(failures, 6)))
    if retry_after is not None:
        delay = max(delay, min(MAX_BACKOFF_S, retry_after))
    reason = None
    if score >= DISABLE_SCORE:
        reason = f"disabled after {failures} failures in a row (score {score:.0f}); last: {error}"
    new = HealthState(score, failures, state.poll_interval_s)
    return HealthUpdate(new, now + timedelta(seconds=delay), reason)


def is_local_outage(failures: Sequence[bool | None]) -> bool:
    """True when every polled feed failed at the network level at once.

    ``failures`` has one value per polled feed: None for a success or an HTTP
    answer (a server that says 404 proves the network works), True for a
    network-level failure (no DNS answer, no connection, timeout), False for any
    other error. One feed alone cannot tell its own outage from ours.
    """
    return len(failures) >= OUTAGE_MIN_FEEDS and all(f is True for f in failures)


def is_quiet(
    last_new_entry_at: datetime | None, created_at: datetime, interval_s: int, now: datetime
) -> bool:
    """No new entry for far longer than this feed's usual polling gap."""
    since = last_new_entry_at or created_at
    threshold = max(timedelta(days=2), timedelta(seconds=interval_s * QUIET_FACTOR))
    return now - since > threshold
