"""Shared fixtures: databases (SQLite and PostgreSQL) and settings.

PostgreSQL tests get a fresh schema each, so parallel runs and leftovers of a
killed run never meet. Without a server they skip with the reason; under
CI=true a missing server is an error, because CI must prove PostgreSQL works.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine

from pipeline.config import Settings
from storage.db import make_engine, migrate
from tests.support.demo_site import serve_site, write_feed_list
from tests.support.http_server import LoopbackServer
from tests.support.smtp_server import SmtpInbox

PG_ADMIN_URL = os.environ.get(
    "NEWSMON_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)

ON_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def pg_unavailable_reason() -> str | None:
    try:
        engine = create_engine(PG_ADMIN_URL, connect_args={"connect_timeout": 3})
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        engine.dispose()
        return None
    except Exception as exc:
        return f"PostgreSQL at {PG_ADMIN_URL} unreachable: {str(exc).splitlines()[0]}"


def require_or_skip(reason: str | None) -> None:
    """Skip with ``reason``, except on CI where the real thing must be there."""
    if reason is None:
        return
    if ON_CI:
        pytest.fail(f"required under CI=true: {reason}")
    pytest.skip(reason)


@pytest.fixture
def pg_url() -> Iterator[str]:
    """URL of a fresh, empty PostgreSQL schema; dropped afterwards."""
    require_or_skip(pg_unavailable_reason())
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_ADMIN_URL)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield f"{PG_ADMIN_URL}?options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'newsmon.db'}"


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Runs the test once on SQLite and once on PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'newsmon.db'}"
    url: str = request.getfixturevalue("pg_url")
    return url


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    """A migrated database on each backend of ``db_url``, disposed after the test."""
    eng = make_engine(db_url)
    migrate(eng)
    yield eng
    eng.dispose()


@pytest.fixture
def settings(tmp_path: Path, sqlite_url: str) -> Settings:
    """Settings for a test: private home, SQLite, loopback allowed, no politeness delay."""
    home = tmp_path / "home"
    base = Settings.from_env({"NEWSMON_HOME": str(home)})
    return base.with_overrides(
        database_url=sqlite_url,
        fetch=base.fetch.__class__(
            allow_private_networks=Settings.from_env(
                {"NEWSMON_ALLOW_PRIVATE_NETWORKS": "127.0.0.0/8"}
            ).fetch.allow_private_networks,
            per_host_delay=0.0,
            respect_robots=True,
            connect_timeout=3.0,
            read_timeout=3.0,
            total_timeout=10.0,
        ),
    )


@pytest.fixture
def demo_site(settings: Settings, tmp_path: Path) -> Iterator[tuple[LoopbackServer, Settings]]:
    """The fixture news site on loopback, and settings whose feed list points at it."""
    with LoopbackServer() as site:
        serve_site(site)
        yield (
            site,
            settings.with_overrides(feeds_path=write_feed_list(site, tmp_path / "feeds.yaml")),
        )


@pytest.fixture
def inbox() -> Iterator[SmtpInbox]:
    """A real SMTP server (aiosmtpd) on 127.0.0.1 that keeps what it receives."""
    with SmtpInbox() as box:
        yield box
