"""Every day and window rule of newsmon, once.

The convention, for people and code alike:

* People name **days**, and a range of days is **inclusive**: ``--since 2026-03-01
  --until 2026-03-03`` (CLI) or the reprocess DAG's ``since``/``until`` params cover
  three whole days. A day is read in the configured time zone (``NEWSMON_TIMEZONE``).
* Code works on **half-open instants** ``[start, end)`` in UTC: the day D is
  [local midnight of D, local midnight of D+1), so a DST day lasts 23 or 25 hours
  and no instant belongs to two days.
* An Airflow run's data interval is already half-open and is used as it is.

Pure functions: the clock comes in as ``now``.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import NamedTuple
from zoneinfo import ZoneInfo

from pipeline.errors import UsageError

#: The open ends of a window without bounds.
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
FAR_FUTURE = datetime(9999, 1, 1, tzinfo=UTC)


class Window(NamedTuple):
    """A half-open interval of instants ``[start, end)``, both aware."""

    start: datetime
    end: datetime

    def contains(self, moment: datetime) -> bool:
        """True if ``moment`` lies in the window (``start`` included, ``end`` not)."""
        return self.start <= moment < self.end


def _zone(tz: ZoneInfo | str) -> ZoneInfo:
    return ZoneInfo(tz) if isinstance(tz, str) else tz


def local_midnight(day: date, tz: ZoneInfo | str) -> datetime:
    """The first instant of ``day`` in ``tz``, as an aware UTC datetime."""
    return datetime.combine(day, time(0), tzinfo=_zone(tz)).astimezone(UTC)


def day_window(day: date, tz: ZoneInfo | str) -> Window:
    """[local midnight of ``day``, next local midnight) as aware UTC datetimes."""
    return Window(local_midnight(day, tz), local_midnight(day + timedelta(days=1), tz))


def days_window(first: date, last: date, tz: ZoneInfo | str) -> Window:
    """The inclusive day range ``first..last`` as one half-open window."""
    if last < first:
        raise UsageError(f"the last day ({last}) is before the first ({first})")
    return Window(local_midnight(first, tz), local_midnight(last + timedelta(days=1), tz))


def today(tz: ZoneInfo | str, now: datetime | None = None) -> date:
    """The current day in ``tz``."""
    return (now or datetime.now(UTC)).astimezone(_zone(tz)).date()


def parse_day(value: str, tz: ZoneInfo | str, *, now: datetime | None = None) -> date:
    """``YYYY-MM-DD``, or ``today`` / ``yesterday`` in ``tz``; UsageError otherwise."""
    value = value.strip()
    if value == "today":
        return today(tz, now)
    if value == "yesterday":
        return today(tz, now) - timedelta(days=1)
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise UsageError(
            f"bad date {value!r}: expected YYYY-MM-DD, 'today' or 'yesterday'"
        ) from None


def window_of_days(
    since: str | None, until: str | None, tz: ZoneInfo | str, *, now: datetime | None = None
) -> Window:
    """``--since``/``--until`` (inclusive days, either may be missing) as one window.

    A missing ``since`` is open towards the past, a missing ``until`` towards the future.
    """
    start = local_midnight(parse_day(since, tz, now=now), tz) if since else EPOCH
    end = (
        local_midnight(parse_day(until, tz, now=now) + timedelta(days=1), tz)
        if until
        else FAR_FUTURE
    )
    if end <= start:
        raise UsageError("--until is before --since")
    return Window(start, end)


def run_digest_day(
    *,
    run_type: str,
    tz: ZoneInfo | str,
    interval_start: datetime | None,
    logical_date: datetime | None,
    now: datetime,
    param_date: str | None,
) -> date:
    """The day an Airflow digest run covers.

    An explicit ``date`` param wins; a scheduled or backfill run covers the local day of its
    data interval's start (the digest DAG's interval is the previous day); a manual run
    without a date covers the day before it was triggered.
    """
    if param_date:
        return parse_day(param_date, tz, now=now)
    if run_type in ("scheduled", "backfill") and interval_start is not None:
        return interval_start.astimezone(_zone(tz)).date()
    return today(tz, logical_date or now) - timedelta(days=1)


def run_window(
    *,
    tz: ZoneInfo | str,
    since: str | None,
    until: str | None,
    interval: tuple[datetime | None, datetime | None],
    now: datetime,
) -> Window:
    """The window an Airflow reprocess or ingest-backfill run covers.

    Params first (inclusive days, as on the command line; ``until`` defaults to ``since``),
    then the run's data interval (half-open as Airflow gives it), else yesterday.
    """
    if since:
        first = parse_day(since, tz, now=now)
        last = parse_day(until, tz, now=now) if until else first
        return days_window(first, last, tz)
    start, end = interval
    if start is not None and end is not None and end > start:
        return Window(start.astimezone(UTC), end.astimezone(UTC))
    return day_window(today(tz, now) - timedelta(days=1), tz)
