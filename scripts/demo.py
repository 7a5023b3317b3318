"""Offline demo: a loopback news site, then init + ingest + digest against it.

    make demo                                   # or: .venv/bin/python scripts/demo.py
    .venv/bin/python scripts/demo.py --offline  # the same with the site gone: a failed day
    .venv/bin/python scripts/demo.py --example docs   # also docs/digest-example.{html,txt,png}

Everything happens on 127.0.0.1 and in var/demo/ (or $NEWSMON_DEMO_HOME); the
digest of today is written to its digests/ folder (nothing is sent). Needs only
newsmon's own dependencies (no test extras). The PNG needs Debian's chromium.
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

from demo_site import StaticSite, feed_list_yaml  # noqa: E402

from pipeline import stages  # noqa: E402
from pipeline.config import FetchSettings, Settings, parse_networks  # noqa: E402


def _closed_port_url() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{s.getsockname()[1]}"


def run(home: Path, *, offline: bool) -> tuple[Settings, list[Path], str]:
    """Init, one ingest pass and today's digest in ``home``; returns the digest's files."""
    shutil.rmtree(home, ignore_errors=True)
    home.mkdir(parents=True)
    with StaticSite() as site:
        base = _closed_port_url() if offline else site.base_url
        feeds = home / "feeds.yaml"
        feeds.write_text(feed_list_yaml(base), encoding="utf-8")
        what = "nothing (offline: every feed fails)" if offline else "two real feeds, four pages"
        print(f"demo site on {site.base_url}; feeds point at {base}: {what}")
        settings = Settings.from_env({"NEWSMON_HOME": str(home)}).with_overrides(
            feeds_path=feeds,
            fetch=FetchSettings(
                allow_private_networks=parse_networks("127.0.0.0/8"), per_host_delay=0.0
            ),
        )
        for report in (stages.init(settings), stages.ingest(settings)):
            print(report.summary_line())
        day = datetime.now(settings.tz).date()
        digest = stages.digest(settings, day)
        print(digest.summary_line())
    files = [Path(p) for p in digest.outputs]
    txt = next(p for p in files if p.suffix == ".txt")
    return settings, files, txt.read_text(encoding="utf-8")


def screenshot(html: Path, png: Path, profile: Path) -> bool:
    """Headless Chromium renders the digest HTML as a reader's mail client would."""
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        print("chromium not found: PNG not written (apt-get install chromium)")
        return False
    subprocess.run(
        [
            chromium,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
            f"--user-data-dir={profile}",
            "--window-size=720,1400",
            f"--screenshot={png}",
            html.resolve().as_uri(),
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    return True


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--offline", action="store_true", help="feeds unreachable: a failed day")
    ap.add_argument("--example", type=Path, help="copy the digest (and a PNG) into this folder")
    args = ap.parse_args(argv)
    home = Path(os.environ.get("NEWSMON_DEMO_HOME") or ROOT / "var" / "demo")
    started = time.monotonic()
    settings, files, text = run(home, offline=args.offline)
    print(f"done in {time.monotonic() - started:.0f} s; today's digest:")
    for path in files:
        print(f"  {path}")
    print("\nIts first lines:\n")
    print("\n".join("    " + line for line in text.splitlines()[:8]))
    if args.example:
        stem = "digest-failed-example" if args.offline else "digest-example"
        args.example.mkdir(parents=True, exist_ok=True)
        html = next(p for p in files if p.suffix == ".html")
        shutil.copyfile(html, args.example / f"{stem}.html")
        shutil.copyfile(next(p for p in files if p.suffix == ".txt"), args.example / f"{stem}.txt")
        if screenshot(html, args.example / f"{stem}.png", home / "chromium-profile"):
            print(f"\n{args.example / (stem + '.png')}: written")
    print(f"\nLook around: .venv/bin/newsmon --home {home} feeds check")
    print(f"             .venv/bin/newsmon --home {home} export --all")
    print(f"Remove it:   rm -rf {home}   (database: {settings.database_url})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
