"""Backfill of a past window: news sitemaps (index + children), then reprocess; idempotent."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from sqlmodel import Session, func, select

from pipeline import stages
from pipeline.config import Settings
from storage.db import make_engine
from storage.models import Article, Entry
from tests.support.demo_site import E2E, serve_site
from tests.support.http_server import LoopbackServer

WINDOW = (datetime(2020, 5, 4, tzinfo=UTC), datetime(2020, 5, 5, tzinfo=UTC))


def _urlset(site: LoopbackServer, items: list[tuple[str, str]]) -> bytes:
    urls = "".join(
        f"<url><loc>{site.url(path)}</loc><news:news><news:publication>"
        f"<news:name>Fixture</news:name><news:language>de</news:language></news:publication>"
        f"<news:publication_date>{when}</news:publication_date>"
        f"<news:title>{path}</news:title></news:news></url>"
        for path, when in items
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" '
        'xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">' + urls + "</urlset>"
    ).encode()


def test_ingest_window_reads_sitemaps_and_is_idempotent(settings: Settings, tmp_path: Path) -> None:
    with LoopbackServer() as site:
        serve_site(site)
        index = (
            '<?xml version="1.0" encoding="UTF-8"?>'
            '<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
            f"<sitemap><loc>{site.url('/sitemap-2020-05.xml')}</loc>"
            "<lastmod>2020-05-31T00:00:00Z</lastmod></sitemap>"
            f"<sitemap><loc>{site.url('/sitemap-2019-01.xml')}</loc>"
            "<lastmod>2019-01-31T00:00:00Z</lastmod></sitemap>"
            "</sitemapindex>"
        ).encode()
        site.add_file("/sitemap.xml", index, content_type="application/xml")
        site.add_file(
            "/sitemap-2020-05.xml",
            _urlset(
                site,
                [
                    ("/news/fr-nordkorea.html", "2020-05-04T14:50:00+02:00"),
                    ("/news/zeit-klimaschutz.html", "2020-05-20T08:00:00+02:00"),
                ],
            ),
            content_type="application/xml",
        )
        site.add_file(
            "/sitemap-2019-01.xml",
            _urlset(site, [("/news/seed-copy.html", "2019-01-03T10:00:00Z")]),
            content_type="application/xml",
        )
        feeds = tmp_path / "feeds.yaml"
        feeds.write_text(
            "feeds:\n  - name: Fixture\n"
            f"    url: {site.url('/feeds/tagesschau-feed.xml')}\n"
            f"    sitemap: {site.url('/sitemap.xml')}\n    language: de\n",
            encoding="utf-8",
        )
        cfg = settings.with_overrides(feeds_path=feeds)
        stages.init(cfg)
        first = stages.ingest_window(cfg, *WINDOW)
        second = stages.ingest_window(cfg, *WINDOW)
        fetched = [r.path for r in site.requests if r.path.startswith("/news/")]
        sitemaps = [r.path for r in site.requests if r.path.startswith("/sitemap")]

    assert first.counts["sitemap_entries_new"] == 1, first.to_dict()
    assert second.counts.get("sitemap_entries_new", 0) == 0
    # only the page published in the window, and only once over both runs
    assert fetched == ["/news/fr-nordkorea.html"]
    # the child whose lastmod is before the window is not read
    assert "/sitemap-2019-01.xml" not in sitemaps
    engine = make_engine(cfg.database_url)
    with Session(engine) as s:
        assert s.exec(select(func.count()).select_from(Entry)).one() == 1
        [article] = s.exec(select(Article).where(Article.is_seed == False)).all()  # noqa: E712
    engine.dispose()
    assert article.relevant
    assert (E2E / "fr-nordkorea.html").exists()
