"""``newsmon feeds import``: merges into $NEWSMON_HOME, never the bundled list; or in place."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from pipeline.cli import main
from pipeline.config import Settings
from pipeline.feeds.feedlist import load_feed_list
from tests.support.paths import SEEDS

OPML = """<?xml version="1.0"?>
<opml version="2.0"><head><title>reader</title></head><body>
  <outline text="NK News" type="rss" xmlUrl="https://www.nknews.org/feed/" language="en"/>
  <outline text="Tagesschau" type="rss" xmlUrl="https://www.tagesschau.de/xml/rss2/"/>
</body></opml>
"""

OWN_LIST = """# my own list: this comment must survive an in-place import
feeds:
  # the one feed I trust
  - name: Tagesschau
    url: https://www.tagesschau.de/xml/rss2/
    language: de
"""


@pytest.fixture
def opml(tmp_path: Path) -> Path:
    path = tmp_path / "reader.opml"
    path.write_text(OPML, encoding="utf-8")
    return path


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_import_writes_into_home_and_the_home_list_is_used(
    tmp_path: Path, opml: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    home = tmp_path / "home"
    monkeypatch.setenv("NEWSMON_HOME", str(home))
    monkeypatch.delenv("NEWSMON_FEEDS", raising=False)
    bundled = SEEDS / "feeds.yaml"
    before = _digest(bundled)
    bundled_urls = [s.url for s in load_feed_list(bundled)]

    assert main(["feeds", "import", str(opml)]) == 0
    assert _digest(bundled) == before  # the package's own list is never edited
    own = home / "feeds.yaml"
    urls = [s.url for s in load_feed_list(own)]
    assert urls[: len(bundled_urls)] == bundled_urls
    assert "https://www.nknews.org/feed/" in urls
    assert str(own) in capsys.readouterr().out

    assert Settings.from_env({"NEWSMON_HOME": str(home)}).feeds_path == own
    assert main(["feeds", "import", str(opml)]) == 0  # idempotent: nothing new the second time
    assert [s.url for s in load_feed_list(own)] == urls


def test_import_in_place_keeps_comments(
    tmp_path: Path, opml: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    mine = tmp_path / "mine.yaml"
    mine.write_text(OWN_LIST, encoding="utf-8")
    monkeypatch.setenv("NEWSMON_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("NEWSMON_FEEDS", str(mine))
    assert main(["feeds", "import", "--in-place", str(opml)]) == 0
    text = mine.read_text(encoding="utf-8")
    assert text.startswith(OWN_LIST)  # comments and layout as they were
    assert [s.url for s in load_feed_list(mine)] == [
        "https://www.tagesschau.de/xml/rss2/",
        "https://www.nknews.org/feed/",
    ]
    assert not (tmp_path / "home" / "feeds.yaml").exists()


def test_in_place_refuses_a_file_it_would_have_to_rewrite(
    tmp_path: Path, opml: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    mine = tmp_path / "mine.yaml"
    original = OWN_LIST + "options:\n  note: the feed list is not the last block\n"
    mine.write_text(original, encoding="utf-8")
    monkeypatch.setenv("NEWSMON_FEEDS", str(mine))
    monkeypatch.setenv("NEWSMON_HOME", str(tmp_path / "home"))
    assert main(["feeds", "import", "--in-place", str(opml)]) == 1
    assert mine.read_text(encoding="utf-8") == original
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--out" in err[0]


def test_import_to_an_explicit_file(
    tmp_path: Path, opml: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NEWSMON_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("NEWSMON_FEEDS", raising=False)
    out = tmp_path / "merged.yaml"
    assert main(["feeds", "import", "--out", str(out), str(opml)]) == 0
    assert "https://www.nknews.org/feed/" in [s.url for s in load_feed_list(out)]
