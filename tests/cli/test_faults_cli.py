"""Hostile settings through the real ``newsmon`` command (issue 16): one line, exit 1, no
traceback, and nothing written over a file that is not newsmon's database.

Cases: NEWSMON_HOME under /proc or under a regular file, a SQLite file of random
bytes, one cut to a third, one with damaged pages, another program's SQLite
database, a URL no driver serves, an OPML file without outlines and an empty
YAML list (rejected alike, by init and by ``feeds import``).
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
import subprocess
from pathlib import Path

import pytest

from tests.support.cli import run_newsmon as _run

COMMANDS = [["init"], ["ingest"], ["digest", "--date", "2026-11-30"], ["export", "--all"]]


def _one_line(proc: subprocess.CompletedProcess[str], *needles: str) -> str:
    assert proc.returncode == 1, (proc.returncode, proc.stderr)
    assert "Traceback" not in proc.stderr, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("newsmon: error: "), proc.stderr
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])
    return lines[0]


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    e = {k: v for k, v in os.environ.items() if not k.startswith("NEWSMON_")}
    e["NEWSMON_HOME"] = str(tmp_path / "home")
    return e


@pytest.fixture(scope="module")
def good_db(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """The bytes of a freshly initialised newsmon database (seeds loaded)."""
    home = tmp_path_factory.mktemp("good")
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSMON_")}
    env["NEWSMON_HOME"] = str(home)
    proc = _run(["init"], env, home)
    assert proc.returncode == 0, proc.stderr
    db = home / "newsmon.db"
    with sqlite3.connect(db) as conn:  # fold the WAL into the file: one self-contained copy
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return db.read_bytes()


@pytest.mark.parametrize("where", ["proc", "under a file"])
@pytest.mark.parametrize("args", COMMANDS, ids=lambda a: a[0])
def test_home_that_cannot_be_created(
    env: dict[str, str], tmp_path: Path, where: str, args: list[str]
) -> None:
    if where == "proc":
        home = "/proc/newsmon-test/home"
    else:
        (tmp_path / "plain").write_text("not a directory")
        home = str(tmp_path / "plain" / "home")
    line = _one_line(_run(args, {**env, "NEWSMON_HOME": home}, tmp_path), home)
    assert "writable directory" in line


def _damage(kind: str, good: bytes) -> bytes:
    if kind == "random bytes":
        return os.urandom(len(good))
    if kind == "cut to a third":
        return good[: len(good) // 3]
    assert kind == "damaged pages"
    # page 1 (header and schema) intact, every other page noise
    rng = hashlib.sha256(b"newsmon").digest() * (len(good) // 32 + 1)
    return good[:4096] + rng[: len(good) - 4096]


DAMAGE = [
    *((kind, args) for kind in ("random bytes", "cut to a third") for args in COMMANDS[::3]),
    *(("damaged pages", args) for args in COMMANDS),
]


@pytest.mark.parametrize(("kind", "args"), DAMAGE, ids=lambda v: v if isinstance(v, str) else v[0])
def test_damaged_sqlite_says_so_and_is_left_alone(
    env: dict[str, str], tmp_path: Path, good_db: bytes, kind: str, args: list[str]
) -> None:
    db = Path(env["NEWSMON_HOME"]) / "newsmon.db"
    db.parent.mkdir(parents=True)
    db.write_bytes(_damage(kind, good_db))
    before = db.read_bytes()
    line = _one_line(_run(args, env, tmp_path), str(db), "damaged", "Backup and restore")
    assert "newsmon will not write to it" in line
    assert db.read_bytes() == before  # not a byte changed, no journal left behind
    assert not db.with_name("newsmon.db-wal").exists() or kind == "damaged pages"


def test_intact_copy_still_works(env: dict[str, str], tmp_path: Path, good_db: bytes) -> None:
    """The header checks do not refuse a healthy database (the control for the above)."""
    db = Path(env["NEWSMON_HOME"]) / "newsmon.db"
    db.parent.mkdir(parents=True)
    db.write_bytes(good_db)
    proc = _run(["export", "--all"], env, tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert len(proc.stdout.splitlines()) == 5


def test_another_programs_database_is_not_migrated(env: dict[str, str], tmp_path: Path) -> None:
    db = Path(env["NEWSMON_HOME"]) / "newsmon.db"
    db.parent.mkdir(parents=True)
    with sqlite3.connect(db) as conn:
        conn.execute("CREATE TABLE moz_places (id INTEGER PRIMARY KEY, url TEXT)")
        conn.execute("INSERT INTO moz_places (url) VALUES ('https://example.org/')")
    before = db.read_bytes()
    _one_line(_run(["init"], env, tmp_path), "not newsmon's", "moz_places")
    assert db.read_bytes() == before
    with sqlite3.connect(db) as conn:
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert tables == {"moz_places"}


@pytest.mark.parametrize(
    ("url", "needle"),
    [
        ("nonsense://x", "no database driver"),
        ("postgresql+nodriver://u@h/db", "no database driver"),
        ("::not a url::", "not a database URL"),
    ],
)
def test_database_url_nobody_serves(
    env: dict[str, str], tmp_path: Path, url: str, needle: str
) -> None:
    for args in (["init"], ["export"]):
        line = _one_line(_run(args, {**env, "NEWSMON_DATABASE_URL": url}, tmp_path), needle)
        assert "NEWSMON_DATABASE_URL" in line


EMPTY_LISTS = {
    "opml without outlines": (
        "feeds.opml",
        '<?xml version="1.0"?>\n<opml version="2.0"><head/><body></body></opml>\n',
    ),
    "opml with folders only": (
        "feeds.opml",
        '<opml version="2.0"><body><outline text="Korea"><outline text="empty"/>'
        "</outline></body></opml>",
    ),
    "empty yaml list": ("feeds.yaml", "feeds: []\n"),
    "empty bare yaml list": ("feeds.yaml", "[]\n"),
}


@pytest.mark.parametrize("case", sorted(EMPTY_LISTS))
def test_empty_feed_lists_are_rejected_alike(
    env: dict[str, str], tmp_path: Path, case: str
) -> None:
    name, content = EMPTY_LISTS[case]
    bad = tmp_path / name
    bad.write_text(content, encoding="utf-8")
    _one_line(_run(["init"], {**env, "NEWSMON_FEEDS": str(bad)}, tmp_path), str(bad), "no")
    current = tmp_path / "current.yaml"
    current.write_text("feeds:\n  - url: http://127.0.0.1:1/a.xml\n", encoding="utf-8")
    before = current.read_bytes()
    proc = _run(["feeds", "import", str(bad)], {**env, "NEWSMON_FEEDS": str(current)}, tmp_path)
    _one_line(proc, str(bad), "at least one feed")
    assert current.read_bytes() == before
