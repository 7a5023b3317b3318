"""The digest HTML rendered by headless Chromium at phone and desktop widths, light and dark."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest

from pipeline.config import SEEDS_DIR, Settings
from pipeline.digest.deliver import run_digest
from storage.db import make_engine, migrate
from tests.fixtures.digest import scenario as sc
from tests.support.paths import FIXTURES as FIXTURES_DIR

FIXTURES = FIXTURES_DIR / "digest"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
]

if CHROMIUM is None:
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(
            "CI=true but chromium is not installed (apt-get install chromium)", pytrace=False
        )
    pytest.skip(
        "chromium not installed (apt-get install chromium chromium-driver)", allow_module_level=True
    )

from PIL import Image  # noqa: E402  (only needed when chromium is there)


@pytest.fixture(scope="module")
def digest_html(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("render")
    engine = make_engine(f"sqlite:///{home / 'newsmon.db'}")
    migrate(engine)
    loader = sc.load_scenario(engine, SEEDS_DIR)
    # One unbreakable 400-character word: the layout must wrap it, not scroll sideways.
    loader.article(
        "long",
        story="long",
        url="https://long.example/" + "p" * 300,
        title="Pjöngjang" + "X" * 400,
        source="long.example",
        language="de",
        fetched_at=datetime(2020, 1, 1, 12, tzinfo=UTC),
        relevant=True,
        text="Nordkorea " + "Y" * 400 + ". Seoul reagierte. Washington schwieg.",
    )
    settings = Settings(home=home, database_url="", feeds_path=home, actors_path=home)
    run_digest(settings, engine, sc.DAY)
    engine.dispose()
    return home / "digests" / "2020-01-01.html"


def _chromium(tmp: Path, *args: str) -> subprocess.CompletedProcess[str]:
    assert CHROMIUM is not None
    cmd = [CHROMIUM, *FLAGS, f"--user-data-dir={tmp / 'profile'}", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=90, check=False)


def _screenshot(tmp: Path, page: Path, width: int, *extra: str) -> Image.Image:
    png = tmp / f"shot-{width}-{len(extra)}.png"
    res = _chromium(
        tmp, f"--window-size={width},1600", f"--screenshot={png}", *extra, page.as_uri()
    )
    assert png.exists(), res.stderr[-2000:]
    return Image.open(png).convert("RGB")


def _ink(img: Image.Image, box: tuple[int, int, int, int], bg: tuple[int, int, int]) -> float:
    """Share of pixels in box that differ clearly from the page background."""
    region = img.crop(box)
    px = list(region.get_flattened_data())
    off = sum(1 for p in px if sum(abs(a - b) for a, b in zip(p, bg, strict=True)) > 60)
    return off / len(px)


@pytest.mark.parametrize("width", [390, 1280])
def test_content_visible_and_no_horizontal_overflow(
    digest_html: Path, tmp_path: Path, width: int
) -> None:
    img = _screenshot(tmp_path, digest_html, width)
    assert img.size == (width, 1600)
    bg = img.getpixel((1, 1))
    assert sum(bg) > 600, f"light page expected, got background {bg}"
    top = _ink(img, (0, 0, width, 600), bg)
    assert top > 0.04, f"top of the page looks blank ({top:.3f} of pixels inked)"
    # text reaches the right half of the content column (not a sliver on the left)
    col_left = max(0, (width - 640) // 2)
    right_half = _ink(img, (col_left + 160, 0, min(width, col_left + 640), 1600), bg)
    assert right_half > 0.02

    # Measure overflow inside an iframe of the exact width (the page's own scrollWidth).
    wrapper = tmp_path / "wrap.html"
    wrapper.write_text(
        '<!DOCTYPE html><html><body style="margin:0">'
        f'<iframe id="f" src="{digest_html.as_uri()}" style="width:{width}px;height:1500px;'
        'border:0"></iframe><script>document.getElementById("f").addEventListener("load",'
        "function(){var d=this.contentDocument.documentElement;document.body.setAttribute("
        '"data-result",d.scrollWidth+" "+d.clientWidth);});</script></body></html>',
        encoding="utf-8",
    )
    res = _chromium(
        tmp_path,
        "--allow-file-access-from-files",
        "--virtual-time-budget=5000",
        f"--window-size={width + 40},1600",
        "--dump-dom",
        wrapper.as_uri(),
    )
    m = re.search(r'data-result="(\d+) (\d+)"', res.stdout)
    assert m, res.stderr[-2000:]
    scroll, client = int(m.group(1)), int(m.group(2))
    assert scroll <= client, f"horizontal overflow at {width}px: {scroll} > {client}"


def test_dark_mode_follows_the_reader(digest_html: Path, tmp_path: Path) -> None:
    img = _screenshot(tmp_path, digest_html, 390, "--force-dark-mode")
    bg = img.getpixel((1, 1))
    assert sum(bg) < 150, f"dark background expected, got {bg}"
    assert _ink(img, (0, 0, 390, 600), bg) > 0.04  # text still visible on dark
