"""A local outage (every feed unreachable at once) disables no feed; one dead feed still does.

Real polls over loopback: refused connections on closed ports stand for a machine
without network, a real server answering 404 for a dead feed.
"""

from __future__ import annotations

import socket
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


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _feed_list(path: Path, urls: list[str]) -> Path:
    lines = ["feeds:"]
    for i, url in enumerate(urls):
        lines += [f"  - name: Feed {i}", f"    url: {url}", "    language: de"]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _state(cfg: Settings) -> tuple[list[Feed], list[FeedAttempt]]:
    engine = make_engine(cfg.database_url)
    with Session(engine) as s:
        feeds = list(s.exec(select(Feed).order_by(Feed.name)))
        attempts = list(s.exec(select(FeedAttempt)))
    engine.dispose()
    return feeds, attempts


def test_all_feeds_unreachable_is_an_outage_and_disables_nothing(
    settings: Settings, tmp_path: Path
) -> None:
    urls = [f"http://127.0.0.1:{_closed_port()}/feed{i}.xml" for i in range(3)]
    cfg = settings.with_overrides(feeds_path=_feed_list(tmp_path / "feeds.yaml", urls))
    stages.init(cfg)
    now = T0
    # the score stays at zero pass after pass, so no number of passes can disable a feed
    for _ in range(4):
        report = stages.ingest(cfg, now=now)
        assert report.counts["local_outage"] == 1
        assert [e["kind"] for e in report.errors] == ["LocalOutage"]  # once, not per feed
        now += timedelta(hours=1)
    feeds, attempts = _state(cfg)
    assert all(f.enabled and f.disabled_reason is None for f in feeds)
    assert all(f.failure_score == 0 and f.consecutive_failures == 0 for f in feeds)
    assert all(f.last_error and f.last_error.startswith("local outage") for f in feeds)
    # every attempt is still on record: the digest must see that the day failed
    assert len(attempts) == 12 and all(a.status == "error" for a in attempts)


def test_one_dead_feed_among_live_ones_is_not_an_outage(settings: Settings, tmp_path: Path) -> None:
    with LoopbackServer() as site:
        site.add_file("/gone.xml", b"gone", content_type="text/plain", status=404)
        urls = [site.url("/gone.xml"), f"http://127.0.0.1:{_closed_port()}/x.xml"]
        cfg = settings.with_overrides(feeds_path=_feed_list(tmp_path / "feeds.yaml", urls))
        stages.init(cfg)
        report = stages.ingest(cfg, now=T0)
    assert "local_outage" not in report.counts
    feeds, _ = _state(cfg)
    assert all(f.consecutive_failures == 1 and f.failure_score > 0 for f in feeds)


def test_outage_needs_every_feed_failing_at_network_level() -> None:
    assert feed_health.is_local_outage([True, True, True])
    assert not feed_health.is_local_outage([True])  # one feed cannot tell
    assert not feed_health.is_local_outage([True, None, True])  # someone answered
    assert not feed_health.is_local_outage([True, False])  # a policy refusal is no outage
    assert not feed_health.is_local_outage([])


def test_host_not_found_is_transient_up_to_a_limit() -> None:
    state = feed_health.HealthState(0.0, 0, 1800)
    scores = []
    for _ in range(feed_health.DNS_TRANSIENT_LIMIT + 2):
        up = feed_health.after_failure(
            state, T0, transient=False, error="HostNotFound", host_not_found=True
        )
        scores.append(up.state.failure_score - state.failure_score)
        state = up.state
    limit = feed_health.DNS_TRANSIENT_LIMIT
    assert scores[:limit] == [feed_health.TRANSIENT_WEIGHT] * limit
    assert scores[limit:] == [feed_health.PERMANENT_WEIGHT] * 2
    # an outage changes nothing and never disables
    up = feed_health.after_failure(state, T0, transient=False, error="x", outage=True)
    assert up.state == state and up.disable_reason is None


def test_nothing_to_do_says_why(settings: Settings, tmp_path: Path) -> None:
    urls = [f"http://127.0.0.1:{_closed_port()}/feed{i}.xml" for i in range(2)]
    cfg = settings.with_overrides(feeds_path=_feed_list(tmp_path / "feeds.yaml", urls))
    stages.init(cfg)
    stages.ingest(cfg, now=T0)
    again = stages.ingest(cfg, now=T0 + timedelta(minutes=1))
    assert again.counts.get("feeds_polled", 0) == 0
    line = again.summary_line()
    assert line.startswith("ingest: nothing to do (no feed due: next poll at ")
    assert "UTC" in line
