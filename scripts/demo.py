"""Offline demo: a loopback news site, then init + ingest + digest against it.

Run with `make demo`. Everything happens on 127.0.0.1 and in var/demo/ (or
$NEWSMON_DEMO_HOME); the digest of today is written to its digests/ folder
(nothing is sent).
"""

from __future__ import annotations

import os
import shutil
import sys
import time
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pipeline import stages  # noqa: E402
from pipeline.config import FetchSettings, Settings, parse_networks  # noqa: E402
from tests.support.demo_site import serve_site, write_feed_list  # noqa: E402
from tests.support.http_server import LoopbackServer  # noqa: E402


def main() -> int:
    home = Path(os.environ.get("NEWSMON_DEMO_HOME") or ROOT / "var" / "demo")
    shutil.rmtree(home, ignore_errors=True)
    home.mkdir(parents=True)
    started = time.monotonic()
    with LoopbackServer() as site:
        serve_site(site)
        print(f"demo site on {site.base_url} (two real feeds, four real pages)")
        settings = Settings.from_env({"NEWSMON_HOME": str(home)}).with_overrides(
            feeds_path=write_feed_list(site, home / "feeds.yaml"),
            fetch=FetchSettings(
                allow_private_networks=parse_networks("127.0.0.0/8"), per_host_delay=0.0
            ),
        )
        for report in (stages.init(settings), stages.ingest(settings)):
            print(report.summary_line())
        day = datetime.now(settings.tz).date()
        digest = stages.digest(settings, day)
        print(digest.summary_line())
    print(f"done in {time.monotonic() - started:.0f} s; the digest of {day}:")
    for path in digest.outputs:
        print(f"  {path}")
    print(f"database: {settings.database_url}  (try: newsmon --home {home} export --all)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
