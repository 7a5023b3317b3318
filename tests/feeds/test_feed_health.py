"""Feed health over real polls: attempts recorded, 304 costs no page fetch,
failing feeds backed off and disabled with a reason, adaptive intervals."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlmodel import Session, select

from pipeline import stages
from pipeline.config import Settings
from pipeline.feeds import health as feed_health
from storage.db import make_engine
from storage.models import Feed, FeedAttempt
from tests.support.http_server import LoopbackServer

T0 = datetime(2026, 11, 20, 6, 0, tzinfo=UTC)


def _feeds(cfg: Settings) -> tuple[list[Feed], list[FeedAttempt]]:
    engine = make_engine(cfg.database_url)
    with Session(engine) as s:
        feeds = list(s.exec(select(Feed).order_by(Feed.url)))
        attempts = list(s.exec(select(FeedAttempt).order_by(FeedAttempt.id)))
    engine.dispose()
    return feeds, attempts


def test_unchanged_feed_is_a_conditional_get_without_page_fetches(
    demo_site: tuple[LoopbackServer, Settings],
) -> None:
    site, cfg = demo_site
    stages.init(cfg)
    stages.ingest(cfg, now=T0)
    site.clear_log()
    # due again only after its interval: poll "later"
    second = stages.ingest(cfg, now=T0 + timedelta(hours=7))
    log = site.requests
    assert second.counts["feeds_unchanged"] == 2
    assert not [r for r in log if r.path.startswith("/news/")]
    feed_requests = [r for r in log if r.path.startswith("/feeds/")]
    assert feed_requests and all(
        "if-none-match" in {k.lower() for k in r.headers} for r in feed_requests
    )
    _, attempts = _feeds(cfg)
    assert [a.status for a in attempts[-2:]] == ["not-modified", "not-modified"]
    first_pass = attempts[:2]
    assert all(a.entries_found > 0 and a.http_status == 200 for a in first_pass)
    assert sum(a.entries_new for a in first_pass) == 4  # the shared link counted once


def test_feed_not_due_is_not_polled(demo_site: tuple[LoopbackServer, Settings]) -> None:
    _, cfg = demo_site
    stages.init(cfg)
    stages.ingest(cfg, now=T0)
    again = stages.ingest(cfg, now=T0 + timedelta(minutes=1))
    assert again.counts.get("feeds_polled", 0) == 0


def test_failing_feed_is_backed_off_then_disabled_with_reason(
    settings: Settings, tmp_path: Path
) -> None:
    with LoopbackServer() as site:
        site.add_file("/gone.xml", b"gone", content_type="text/plain", status=404)
        feeds_yaml = tmp_path / "feeds.yaml"
        feeds_yaml.write_text(
            f"feeds:\n  - name: Gone\n    url: {site.url('/gone.xml')}\n    language: de\n",
            encoding="utf-8",
        )
        cfg = settings.with_overrides(feeds_path=feeds_yaml)
        stages.init(cfg)
        now = T0
        delays = []
        for _ in range(12):
            report = stages.ingest(cfg, now=now)
            [feed], _ = _feeds(cfg)
            if not feed.enabled:
                break
            assert report.counts["feeds_failed"] == 1
            assert feed.next_poll_at is not None
            delays.append(feed.next_poll_at - now)
            now = feed.next_poll_at
    [feed], attempts = _feeds(cfg)
    assert not feed.enabled
    assert feed.disabled_reason and "failures in a row" in feed.disabled_reason
    assert all(a.status == "error" and a.http_status == 404 for a in attempts)
    assert attempts[0].error_class
    assert delays == sorted(delays) and delays[-1] > delays[0]  # exponential back-off
    # a disabled feed is not polled again
    assert stages.ingest(cfg, now=now + timedelta(days=2)).counts.get("feeds_polled", 0) == 0


def test_adaptive_interval_bounds() -> None:
    state = feed_health.HealthState(0.0, 0, 1800)
    busy = feed_health.after_success(state, T0, new_entries=5)
    idle = feed_health.after_success(state, T0, new_entries=0)
    assert busy.state.poll_interval_s < 1800 < idle.state.poll_interval_s
    s = state
    for _ in range(50):
        s = feed_health.after_success(s, T0, new_entries=0).state
    assert s.poll_interval_s == feed_health.MAX_INTERVAL_S
    for _ in range(50):
        s = feed_health.after_success(s, T0, new_entries=3).state
    assert s.poll_interval_s == feed_health.MIN_INTERVAL_S


def test_transient_failures_weigh_less_than_permanent() -> None:
    state = feed_health.HealthState(0.0, 0, 1800)
    t = feed_health.after_failure(state, T0, transient=True, error="timeout")
    p = feed_health.after_failure(state, T0, transient=False, error="404")
    assert t.state.failure_score < p.state.failure_score
    retry = feed_health.after_failure(state, T0, transient=True, error="429", retry_after=20 * 3600)
    assert retry.next_poll_at - T0 >= timedelta(hours=20)


def test_quiet_feed_detection() -> None:
    created = T0 - timedelta(days=30)
    assert feed_health.is_quiet(T0 - timedelta(days=5), created, 1800, T0)
    assert not feed_health.is_quiet(T0 - timedelta(hours=3), created, 1800, T0)
