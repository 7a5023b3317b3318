"""What an ingest pass starts and imports: nothing heavy unless a page is due and fetched."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from pipeline import stages
from pipeline.config import IngestSettings, Settings
from pipeline.ingest import pool
from tests.support.faulty_site import load_articles, page_html, rss_feed, write_feed_list
from tests.support.http_server import LoopbackServer, Response
from tests.support.paths import ROOT

T0 = datetime(2026, 3, 2, 6, 0, tzinfo=UTC)
HEAVY = ("trafilatura", "lxml", "numpy", "httpx", "pipeline.pages.extract", "pipeline.ingest.work")


@pytest.fixture
def server() -> Iterator[LoopbackServer]:
    with LoopbackServer() as srv:
        yield srv


def _feed(server: LoopbackServer, paths: list[str], status: int = 200) -> None:
    """One RSS feed listing ``paths``; each page answers ``status`` (real article HTML on 200)."""
    arts = load_articles()
    items = []
    for i, path in enumerate(paths):
        url = server.url(path)
        art = arts[i % len(arts)]
        body = page_html(f"{art['title']} ({i})", art["text"], url, T0, "de")
        server.add_route(
            path,
            lambda req, b=body: Response(
                status, b if status == 200 else b"gone", {"Content-Type": "text/html"}
            ),
        )
        items.append(f"<item><title>Item {i}</title><link>{url}</link></item>")
    server.add_file(
        "/feed.xml", rss_feed("F", server.url("/"), items), content_type="application/rss+xml"
    )


def _cfg(settings: Settings, server: LoopbackServer, tmp_path: Path) -> Settings:
    feeds = write_feed_list(tmp_path / "feeds.yaml", [("F", server.url("/feed.xml"))], None)
    return settings.with_overrides(feeds_path=feeds, ingest=replace(IngestSettings(workers=1)))


@pytest.fixture
def pools(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Every CPU pool a pass creates (the real pool, recorded)."""
    made: list[Any] = []
    real = pool.make_pool

    def record(kit: Any, size: int) -> Any:
        made.append(real(kit, size))
        return made[-1]

    monkeypatch.setattr(pool, "make_pool", record)
    return made


def test_a_pass_starts_one_pool_and_an_empty_pass_none(
    settings: Settings, server: LoopbackServer, tmp_path: Path, pools: list[Any]
) -> None:
    _feed(server, [f"/a/{i}.html" for i in range(3)])
    cfg = _cfg(settings, server, tmp_path)
    stages.init(cfg)
    report = stages.ingest(cfg, now=T0)
    assert report.counts["articles_stored"] == 3
    assert len(pools) == 1
    # feeds not due yet, every page stored: nothing to do, and no pool for it
    again = stages.ingest(cfg, now=T0 + timedelta(minutes=1))
    assert "articles_stored" not in again.counts
    assert len(pools) == 1


def test_pages_that_all_fail_to_fetch_start_no_pool(
    settings: Settings, server: LoopbackServer, tmp_path: Path, pools: list[Any]
) -> None:
    _feed(server, ["/gone/0.html", "/gone/1.html"], status=410)
    cfg = _cfg(settings, server, tmp_path)
    stages.init(cfg)
    report = stages.ingest(cfg, now=T0)
    assert report.counts["pages_given_up"] + report.counts.get("pages_feed_only", 0) >= 2
    assert pools == []


def test_an_empty_pass_imports_no_extractor_client_or_numpy(
    settings: Settings, server: LoopbackServer, tmp_path: Path
) -> None:
    _feed(server, ["/a/0.html"])
    cfg = _cfg(settings, server, tmp_path)
    stages.init(cfg)
    assert stages.ingest(cfg, now=T0).counts["articles_stored"] == 1
    env = {
        "NEWSMON_HOME": str(cfg.home),
        "NEWSMON_DATABASE_URL": cfg.database_url,
        "NEWSMON_FEEDS": str(cfg.feeds_path),
        "NEWSMON_ALLOW_PRIVATE_NETWORKS": "127.0.0.0/8",
    }
    later = (T0 + timedelta(minutes=1)).isoformat()
    code = (
        "import json, sys\n"
        "from datetime import datetime\n"
        "from pipeline import stages\n"
        "from pipeline.config import Settings\n"
        f"cfg = Settings.from_env({env!r})\n"
        f"report = stages.ingest(cfg, now=datetime.fromisoformat({later!r}))\n"
        f"print(json.dumps([dict(report.counts), [m for m in {HEAVY!r} if m in sys.modules]]))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    counts, loaded = json.loads(out.stdout.strip().splitlines()[-1])
    assert "articles_stored" not in counts and "feeds_polled" not in counts
    assert loaded == []
