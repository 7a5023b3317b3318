"""The demo's news site: real fixture pages and feeds served on 127.0.0.1 (stdlib only).

`make demo` must work without the test extras, so this module needs nothing but
the standard library; tests/support/demo_site.py reuses :func:`site_files` to
serve the same site from its own LoopbackServer.

Two real feeds list four real pages (tests/fixtures/e2e, origin in its README):
one Korea article (reachable through both feeds), two unrelated ones and a page
that repeats a seed article verbatim.
"""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType

ROOT = Path(__file__).resolve().parent.parent
E2E = ROOT / "tests" / "fixtures" / "e2e"
PLACEHOLDER = "http://newsmon.test"
PAGES = ("fr-nordkorea.html", "zeit-klimaschutz.html", "watson-sazerac.html", "seed-copy.html")
FEEDS = {
    "tagesschau-feed.xml": ("tagesschau (fixture)", "tagesschau"),
    "spiegel-feed.xml": ("SPIEGEL (fixture)", "DER SPIEGEL"),
}
HTML = "text/html; charset=utf-8"
RSS = "application/rss+xml; charset=utf-8"


def site_files(base_url: str) -> dict[str, tuple[bytes, str]]:
    """Path -> (body, content type) of the whole site, links pointing at ``base_url``."""
    files = {"/robots.txt": (b"User-agent: *\nAllow: /\n", "text/plain")}
    for name in PAGES:
        files[f"/news/{name}"] = ((E2E / name).read_bytes(), HTML)
    for name in FEEDS:
        xml = (E2E / name).read_text(encoding="utf-8").replace(PLACEHOLDER, base_url)
        files[f"/feeds/{name}"] = (xml.encode("utf-8"), RSS)
    return files


def feed_list_yaml(base_url: str) -> str:
    """A feeds.yaml naming the site's two feeds."""
    lines = ["feeds:"]
    for name, (title, outlet) in FEEDS.items():
        lines += [
            f"  - name: {title}",
            f"    url: {base_url}/feeds/{name}",
            "    language: de",
            f"    outlet: {outlet}",
        ]
    return "\n".join(lines) + "\n"


class StaticSite:
    """A threaded HTTP server on 127.0.0.1 (free port) serving :func:`site_files`."""

    def __init__(self) -> None:
        files: dict[str, tuple[bytes, str]] = {}

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # the stdlib's naming
                body, ctype = files.get(self.path.split("?", 1)[0], (b"not found", "text/plain"))
                found = self.path.split("?", 1)[0] in files
                self.send_response(200 if found else 404)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:
                pass  # the demo prints its own summary

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.base_url = f"http://127.0.0.1:{self._server.server_address[1]}"
        files.update(site_files(self.base_url))
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> StaticSite:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
