"""`make demo` keeps working: the offline demo runs and writes a digest with the Korea story."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.support.paths import ROOT


def test_offline_demo_writes_a_digest(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSMON_")}
    env["NEWSMON_DEMO_HOME"] = str(tmp_path / "demo")
    done = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "demo.py")],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    [txt] = [
        Path(line.strip()) for line in done.stdout.splitlines() if line.strip().endswith(".txt")
    ]
    assert txt.is_file() and txt.parent.parent == tmp_path / "demo"
    text = txt.read_text(encoding="utf-8")
    assert "Kim Jong Un" in text  # the fixture site's Korea article is the day's story
    assert "articles_stored=4" in done.stdout
