"""`newsmon feeds enable|disable NAME_OR_URL`: state and reason shown by `feeds check`."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest


def _run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pipeline", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    feeds = tmp_path / "feeds.yaml"
    feeds.write_text(
        "feeds:\n"
        "  - name: Alpha News\n    url: https://alpha.example/rss\n    language: de\n"
        "  - name: Beta\n    url: https://beta.example/rss\n    language: en\n",
        encoding="utf-8",
    )
    e = {k: v for k, v in os.environ.items() if not k.startswith("NEWSMON_")}
    e["NEWSMON_HOME"] = str(tmp_path / "home")
    e["NEWSMON_FEEDS"] = str(feeds)
    assert _run(["init"], e).returncode == 0
    return e


def _check_line(env: dict[str, str], name: str) -> str:
    out = _run(["feeds", "check"], env)
    assert out.returncode == 0, out.stderr
    [line] = [ln for ln in out.stdout.splitlines() if f"\t{name}\t" in ln]
    return line


def test_disable_by_name_then_enable_by_url(env: dict[str, str]) -> None:
    off = _run(["feeds", "disable", "alpha news", "--reason", "paywalled since May"], env)
    assert off.returncode == 0, off.stderr
    assert "Alpha News: disabled" in off.stdout and "paywalled since May" in off.stdout
    line = _check_line(env, "Alpha News")
    assert line.startswith("disabled\t") and "by hand" in line and "paywalled since May" in line
    assert _check_line(env, "Beta").startswith("new\t")
    # a re-run of init (the DAGs sync the list every pass) keeps the hand-made decision
    assert _run(["init"], env).returncode == 0
    assert _check_line(env, "Alpha News").startswith("disabled\t")

    on = _run(["feeds", "enable", "https://alpha.example/rss"], env)
    assert on.returncode == 0 and "Alpha News: enabled" in on.stdout
    assert not _check_line(env, "Alpha News").startswith("disabled")


def test_unknown_feed_is_one_line_and_nonzero(env: dict[str, str]) -> None:
    out = _run(["feeds", "enable", "Gamma"], env)
    assert out.returncode != 0
    assert len(out.stderr.strip().splitlines()) == 1 and "no feed named" in out.stderr
