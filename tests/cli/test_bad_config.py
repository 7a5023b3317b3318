"""A missing or malformed feeds.yaml / actors.yaml / OPML: one line naming file and line.

Checked twice: through the Python API (the ConfigError an Airflow task would
log) and through the installed ``newsmon`` command, whose stderr must be that
one line and whose exit status is 1 (no traceback).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from pipeline import stages
from pipeline.config import Settings
from pipeline.errors import ConfigError

GOOD_FEEDS = "feeds:\n  - name: A\n    url: http://127.0.0.1:1/a.xml\n"
GOOD_ACTORS = (
    "actors:\n"
    "  - id: Q1\n    name: Kim Jong Un\n    type: person\n    country: PRK\n"
    "    aliases: [Kim Jong Un]\n"
)

#: name -> (file kind, file name, content or None for "missing", expected line or None)
CASES: dict[str, tuple[str, str, str | None, int | None]] = {
    "feeds missing": ("feeds", "feeds.yaml", None, None),
    "feeds bad yaml": ("feeds", "feeds.yaml", "feeds:\n  - name: A\n   url: [x\n", 3),
    "feeds no url": ("feeds", "feeds.yaml", "feeds:\n  - name: A\n  - name: B\n    url: x\n", 2),
    "feeds bad url": (
        "feeds",
        "feeds.yaml",
        "feeds:\n  - name: A\n    url: http://a/x\n  - name: B\n    url: file:///etc/passwd\n",
        4,
    ),
    "feeds unknown key": (
        "feeds",
        "feeds.yaml",
        "feeds:\n- name: A\n  url: http://a/\n  x: 1\n",
        2,
    ),
    "opml broken xml": (
        "feeds",
        "feeds.opml",
        '<?xml version="1.0"?>\n<opml version="2.0">\n<body>\n'
        '<outline xmlUrl="http://a/" text="A">\n</body></opml>\n',
        5,
    ),
    "opml not opml": ("feeds", "feeds.opml", "<rss version='2.0'>\n</rss>\n", 1),
    "actors missing": ("actors", "actors.yaml", None, None),
    "actors bad yaml": ("actors", "actors.yaml", "actors:\n  - id: Q1\n    name: [x\n", 4),
    "actors bad type": (
        "actors",
        "actors.yaml",
        GOOD_ACTORS + "  - id: Q2\n    name: X\n    type: alien\n"
        "    country: PRK\n    aliases: [X]\n",
        7,
    ),
    "actors not a list": ("actors", "actors.yaml", "actors: 3\n", 1),
}


def _write(tmp_path: Path, case: str) -> tuple[Path, Path, Path, int | None]:
    kind, name, content, line = CASES[case]
    feeds = tmp_path / "feeds.yaml"
    actors = tmp_path / "actors.yaml"
    feeds.write_text(GOOD_FEEDS, encoding="utf-8")
    actors.write_text(GOOD_ACTORS, encoding="utf-8")
    bad = tmp_path / "bad" / name
    bad.parent.mkdir()
    if content is not None:
        bad.write_text(content, encoding="utf-8")
    if kind == "feeds":
        feeds = bad
    else:
        actors = bad
    return feeds, actors, bad, line


def _check_line(message: str, bad: Path, line: int | None) -> None:
    assert "\n" not in message.strip(), message
    where = f"{bad}:{line}:" if line else f"{bad}:"
    assert where in message, (where, message)


@pytest.mark.parametrize("case", sorted(CASES))
def test_python_api_names_file_and_line(settings: Settings, tmp_path: Path, case: str) -> None:
    feeds, actors, bad, line = _write(tmp_path, case)
    cfg = settings.with_overrides(feeds_path=feeds, actors_path=actors)
    with pytest.raises(ConfigError) as err:
        stages.ingest(cfg)
    _check_line(str(err.value), bad, line)
    assert err.value.path == str(bad)
    if line:
        assert err.value.line == line


@pytest.mark.slow
@pytest.mark.parametrize("case", ["feeds bad yaml", "opml broken xml", "actors bad type"])
def test_cli_prints_one_line_naming_file_and_line(tmp_path: Path, case: str) -> None:
    feeds, actors, bad, line = _write(tmp_path, case)
    exe = shutil.which("newsmon", path=str(Path(sys.executable).parent))
    cmd = [exe] if exe else [sys.executable, "-m", "pipeline"]
    env = {
        **os.environ,
        "NEWSMON_HOME": str(tmp_path / "home"),
        "NEWSMON_FEEDS": str(feeds),
        "NEWSMON_ACTORS": str(actors),
    }
    proc = subprocess.run(
        [*cmd, "ingest"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("newsmon: error: "), proc.stderr
    _check_line(lines[0], bad, line)
