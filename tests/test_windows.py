"""pipeline.windows: inclusive days for people, half-open instants for code, one rule."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from pipeline.digest.policy import should_send
from pipeline.errors import UsageError
from pipeline.windows import (
    Window,
    day_window,
    days_window,
    parse_day,
    run_digest_day,
    run_window,
    window_of_days,
)

BERLIN = "Europe/Berlin"


def test_day_window_follows_local_midnight_and_dst() -> None:
    start, end = day_window(date(2020, 1, 1), BERLIN)
    assert start == datetime(2019, 12, 31, 23, tzinfo=UTC)
    assert end - start == timedelta(hours=24)
    s2, e2 = day_window(date(2020, 3, 29), BERLIN)  # clocks go forward
    assert e2 - s2 == timedelta(hours=23)
    s3, e3 = day_window(date(2020, 10, 25), BERLIN)  # clocks go back
    assert e3 - s3 == timedelta(hours=25)


def test_half_open_days_never_share_an_instant() -> None:
    first, second = day_window(date(2025, 6, 1), BERLIN), day_window(date(2025, 6, 2), BERLIN)
    assert first.end == second.start
    assert not first.contains(second.start) and second.contains(second.start)


def test_cli_days_are_inclusive() -> None:
    w = window_of_days("2025-06-01", "2025-06-03", BERLIN)
    assert w == days_window(date(2025, 6, 1), date(2025, 6, 3), BERLIN)
    assert w.end - w.start == timedelta(days=3)
    one = window_of_days("2025-06-01", "2025-06-01", BERLIN)
    assert one == day_window(date(2025, 6, 1), BERLIN)
    with pytest.raises(UsageError):
        window_of_days("2025-06-02", "2025-06-01", BERLIN)
    open_ended = window_of_days(None, None, BERLIN)
    assert open_ended.start.year == 1970 and open_ended.end.year == 9999


def test_parse_day_words_and_errors() -> None:
    now = datetime(2025, 1, 1, 23, 30, tzinfo=UTC)  # 00:30 on Jan 2 in Berlin
    assert parse_day("today", BERLIN, now=now) == date(2025, 1, 2)
    assert parse_day("yesterday", BERLIN, now=now) == date(2025, 1, 1)
    with pytest.raises(UsageError, match="YYYY-MM-DD"):
        parse_day("1.2.2025", BERLIN)


def test_digest_day_of_runs() -> None:
    # scheduled at 07:00 Berlin on 2025-03-31: interval starts 2025-03-30 07:00 local (DST day)
    start = datetime(2025, 3, 30, 5, 0, tzinfo=UTC)
    common = {"tz": BERLIN, "interval_start": start, "logical_date": start}
    scheduled = run_digest_day(
        run_type="scheduled", now=datetime(2025, 3, 31, 5, 1, tzinfo=UTC), param_date=None, **common
    )
    assert scheduled == date(2025, 3, 30)
    manual = run_digest_day(
        run_type="manual",
        tz=BERLIN,
        interval_start=None,
        logical_date=None,
        now=datetime(2025, 1, 1, 23, 30, tzinfo=UTC),
        param_date=None,
    )
    assert manual == date(2025, 1, 1)  # 00:30 local on Jan 2: yesterday is Jan 1
    explicit = run_digest_day(run_type="backfill", now=start, param_date="2024-02-29", **common)
    assert explicit == date(2024, 2, 29)


def test_send_rules() -> None:
    assert should_send(run_type="scheduled", send=None, dry_run=False)
    assert not should_send(run_type="backfill", send=None, dry_run=False)
    assert should_send(run_type="backfill", send=True, dry_run=False)
    assert not should_send(run_type="manual", send=True, dry_run=True)


def test_run_window_params_are_inclusive_days_like_the_cli() -> None:
    now = datetime(2025, 6, 10, 12, 0, tzinfo=UTC)
    one = run_window(tz=BERLIN, since="2025-06-01", until=None, interval=(None, None), now=now)
    assert one == day_window(date(2025, 6, 1), BERLIN)
    same = run_window(
        tz=BERLIN, since="2025-06-01", until="2025-06-01", interval=(None, None), now=now
    )
    assert same == one  # the same rule as `newsmon reprocess --since D --until D`
    three = run_window(
        tz=BERLIN, since="2025-06-01", until="2025-06-03", interval=(None, None), now=now
    )
    assert three == window_of_days("2025-06-01", "2025-06-03", BERLIN)
    start, end = datetime(2025, 6, 3, tzinfo=UTC), datetime(2025, 6, 4, tzinfo=UTC)
    assert run_window(tz=BERLIN, since=None, until=None, interval=(start, end), now=now) == Window(
        start, end
    )
    fallback = run_window(tz=BERLIN, since=None, until=None, interval=(None, None), now=now)
    assert fallback == day_window(date(2025, 6, 9), BERLIN)
    with pytest.raises(UsageError):
        run_window(
            tz=BERLIN, since="2025-06-05", until="2025-06-04", interval=(None, None), now=now
        )
