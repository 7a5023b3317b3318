"""Build docs/digest-example.html and docs/digest-example.png from the seeds and corpus copies.

    .venv/bin/python scripts/make_example_digest.py [--lang de|en]

Reproducible: the scenario (tests/fixtures/digest/) is fixed, the digest has no
generation timestamp, and the database is a fresh temporary SQLite file. The PNG
needs Debian's chromium; without it only the HTML is written.
"""

from __future__ import annotations

import argparse
import importlib.util
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pipeline.config import SEEDS_DIR, Settings  # noqa: E402
from pipeline.digest.deliver import run_digest  # noqa: E402
from storage.db import make_engine, migrate  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--lang", choices=("de", "en"), default="de")
    ap.add_argument("--out", type=Path, default=ROOT / "docs")
    args = ap.parse_args()
    spec = importlib.util.spec_from_file_location(
        "digest_scenario", ROOT / "tests" / "fixtures" / "digest" / "scenario.py"
    )
    assert spec and spec.loader
    sc = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(sc)
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        engine = make_engine(f"sqlite:///{home / 'example.db'}")
        migrate(engine)
        sc.load_scenario(engine, SEEDS_DIR)
        settings = Settings(
            home=home,
            database_url=str(engine.url),
            feeds_path=home,
            actors_path=home,
            digest_language=args.lang,
        )
        report = run_digest(settings, engine, sc.DAY)
        engine.dispose()
        args.out.mkdir(parents=True, exist_ok=True)
        html = args.out / "digest-example.html"
        shutil.copyfile(home / "digests" / f"{sc.DAY.isoformat()}.html", html)
        shutil.copyfile(
            home / "digests" / f"{sc.DAY.isoformat()}.txt", args.out / "digest-example.txt"
        )
        print(f"{html}: {report.stories} stories from {report.articles} articles")
        chromium = shutil.which("chromium") or shutil.which("chromium-browser")
        if chromium is None:
            print("chromium not found: PNG not written")
            return 0
        png = args.out / "digest-example.png"
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
                f"--user-data-dir={home / 'profile'}",
                "--window-size=720,2400",
                f"--screenshot={png}",
                html.resolve().as_uri(),
            ],
            check=True,
            capture_output=True,
            timeout=120,
        )
        print(f"{png}: written")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
