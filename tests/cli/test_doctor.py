"""``newsmon doctor`` through the real command, against real servers: a fresh SQLite
database and a real PostgreSQL schema, aiosmtpd with and without AUTH, a relay that
never answers, a damaged database, an empty feed list. One line per check, exit 1
when one fails, nothing sent and nothing created."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.smtp_server import SilentSmtpServer, SmtpInbox


def _head() -> str:
    """The newest Alembic revision (so the test follows new migrations)."""
    from alembic.script import ScriptDirectory

    from storage.db import alembic_config

    return str(ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head())


HEAD = _head()

CHECKS = ["settings", "home", "disk", "digests", "database", "smtp", "feeds", "actors"]


def _doctor(env: dict[str, str], cwd: Path) -> tuple[int, dict[str, tuple[bool, str]], str]:
    proc = subprocess.run(
        [sys.executable, "-m", "pipeline", "doctor"],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert "Traceback" not in proc.stderr, proc.stderr
    checks: dict[str, tuple[bool, str]] = {}
    for line in proc.stdout.splitlines():
        state, name, detail = line.split(maxsplit=2)
        assert state in ("ok", "FAIL"), line
        checks[name] = (state == "ok", detail)
    return proc.returncode, checks, proc.stderr


def _init(env: dict[str, str], cwd: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "pipeline", "init"],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    e = {k: v for k, v in os.environ.items() if not k.startswith("NEWSMON_")}
    e["NEWSMON_HOME"] = str(tmp_path / "home")
    e["NEWSMON_DIGEST_TO"] = "desk@example.org"
    return e


def test_before_init_it_says_what_to_do_and_creates_nothing(
    env: dict[str, str], tmp_path: Path
) -> None:
    code, checks, stderr = _doctor(env, tmp_path)
    assert code == 1 and list(checks) == CHECKS
    assert not checks["database"][0] and "newsmon init" in checks["database"][1]
    assert not checks["home"][0]
    assert checks["feeds"][0] and checks["actors"][0] and checks["smtp"][0]
    assert stderr.strip() == "newsmon: error: doctor: 3 of 8 checks failed: home, digests, database"
    assert not Path(env["NEWSMON_HOME"]).exists()


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_healthy_install_with_and_without_smtp_auth(
    env: dict[str, str], tmp_path: Path, database: str, request: pytest.FixtureRequest
) -> None:
    if database == "postgresql":
        env["NEWSMON_DATABASE_URL"] = request.getfixturevalue("pg_url")
    _init(env, tmp_path)
    with SmtpInbox() as open_relay, SmtpInbox(auth=("newsmon", "s3cret")) as authed:
        for url, auth in [
            (open_relay.url, "no login"),
            (authed.url.replace("//", "//newsmon:s3cret@"), "logged in as newsmon"),
        ]:
            code, checks, stderr = _doctor({**env, "NEWSMON_SMTP_URL": url}, tmp_path)
            assert code == 0, (checks, stderr)
            assert all(ok for ok, _ in checks.values()) and list(checks) == CHECKS
            assert auth in checks["smtp"][1] and "s3cret" not in checks["smtp"][1]
            assert f"schema {HEAD} (newest)" in checks["database"][1]
            if database == "sqlite":
                assert "quick_check ok" in checks["database"][1]
        # a wrong password fails the smtp check with the server's reply, nothing else
        bad = authed.url.replace("//", "//newsmon:wrong@")
        code, checks, _ = _doctor({**env, "NEWSMON_SMTP_URL": bad}, tmp_path)
        assert code == 1 and [n for n, (ok, _) in checks.items() if not ok] == ["smtp"]
        assert "535" in checks["smtp"][1] and "wrong" not in checks["smtp"][1]
        # the server offers AUTH but no login is configured: reported, still ok
        code, checks, _ = _doctor({**env, "NEWSMON_SMTP_URL": authed.url}, tmp_path)
        assert "offers AUTH" in checks["smtp"][1]
        assert not open_relay.messages and not authed.messages  # doctor never sends


def test_hung_relay_damaged_database_and_empty_feed_list(
    env: dict[str, str], tmp_path: Path
) -> None:
    _init(env, tmp_path)
    db = Path(env["NEWSMON_HOME"]) / "newsmon.db"
    data = db.read_bytes()
    db.write_bytes(data[:4096] + b"\xa5" * (len(data) - 4096))
    empty = tmp_path / "feeds.opml"
    empty.write_text('<opml version="2.0"><body/></opml>', encoding="utf-8")
    with SilentSmtpServer() as silent:
        code, checks, _ = _doctor(
            {
                **env,
                "NEWSMON_SMTP_URL": silent.url + "?timeout=2",
                "NEWSMON_FEEDS": str(empty),
                "NEWSMON_MIN_FREE_MB": str(10**9),
            },
            tmp_path,
        )
    assert code == 1
    failed = {n: d for n, (ok, d) in checks.items() if not ok}
    assert set(failed) == {"disk", "database", "smtp", "feeds"}, checks
    assert "Backup and restore" in failed["database"]
    assert "timeout" in failed["smtp"]
    assert "no feeds" in failed["feeds"] and "NEWSMON_MIN_FREE_MB" in failed["disk"]


def test_a_bad_setting_is_the_one_failing_line(env: dict[str, str], tmp_path: Path) -> None:
    code, checks, stderr = _doctor({**env, "NEWSMON_SMTP_BUDGET_SECONDS": "3600"}, tmp_path)
    assert code == 1 and list(checks) == ["settings"]
    assert "NEWSMON_SMTP_BUDGET_SECONDS" in checks["settings"][1]
    assert "1 of 1 checks failed: settings" in stderr
