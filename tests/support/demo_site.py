"""The demo's news site on a test LoopbackServer (tests); `make demo` serves the same files
from scripts/demo_site.py, which needs only the standard library."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

from tests.support.http_server import LoopbackServer
from tests.support.paths import ROOT


def _demo_site() -> ModuleType:
    # scripts/ is not a package: load the one module by path
    spec = importlib.util.spec_from_file_location(
        "newsmon_demo_site", ROOT / "scripts" / "demo_site.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


_site = _demo_site()
FEEDS: dict[str, tuple[str, str]] = _site.FEEDS
PAGES: tuple[str, ...] = _site.PAGES
E2E: Path = _site.E2E
PLACEHOLDER: str = _site.PLACEHOLDER


def serve_site(server: LoopbackServer) -> None:
    """Register the fixture pages and feeds on ``server`` (robots.txt allows all)."""
    for path, (body, ctype) in _site.site_files(server.base_url).items():
        # feeds without validators, as in the demo (pages keep the server's defaults)
        extra = {"etag": ""} if path.startswith("/feeds/") else {}
        server.add_file(path, body, content_type=ctype, **extra)


def write_feed_list(server: LoopbackServer, path: Path) -> Path:
    """A feeds.yaml naming the site's two feeds."""
    path.write_text(_site.feed_list_yaml(server.base_url), encoding="utf-8")
    return path
