"""A small news site on loopback built from tests/fixtures/e2e (tests and `make demo`).

Two real feeds list four real pages: one Korea article (reachable through both
feeds), two unrelated ones and a page that repeats a seed article verbatim.
"""

from __future__ import annotations

from pathlib import Path

from tests.support.http_server import LoopbackServer

E2E = Path(__file__).resolve().parent.parent / "fixtures" / "e2e"
PLACEHOLDER = "http://newsmon.test"
PAGES = ("fr-nordkorea.html", "zeit-klimaschutz.html", "watson-sazerac.html", "seed-copy.html")
FEEDS = {
    "tagesschau-feed.xml": ("tagesschau (fixture)", "tagesschau"),
    "spiegel-feed.xml": ("SPIEGEL (fixture)", "DER SPIEGEL"),
}


def serve_site(server: LoopbackServer) -> None:
    """Register the fixture pages and feeds on ``server`` (robots.txt allows all)."""
    server.add_file("/robots.txt", b"User-agent: *\nAllow: /\n", content_type="text/plain")
    for name in PAGES:
        server.add_file(
            f"/news/{name}",
            (E2E / name).read_bytes(),
            content_type="text/html; charset=utf-8",
        )
    for name in FEEDS:
        xml = (E2E / name).read_text(encoding="utf-8").replace(PLACEHOLDER, server.base_url)
        server.add_file(
            f"/feeds/{name}",
            xml.encode("utf-8"),
            content_type="application/rss+xml; charset=utf-8",
            etag="",
        )


def write_feed_list(server: LoopbackServer, path: Path) -> Path:
    """A feeds.yaml naming the site's two feeds."""
    lines = ["feeds:"]
    for name, (title, outlet) in FEEDS.items():
        lines += [
            f"  - name: {title}",
            f"    url: {server.url('/feeds/' + name)}",
            "    language: de",
            f"    outlet: {outlet}",
        ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path
