"""Delivery under one time budget, with the reason on the error line (issue 16), through the
real ``newsmon digest --send`` against real servers on 127.0.0.1.

A relay that accepts connections and never answers used to cost 3 attempts of 30 s per
recipient, one after another; now the whole digest costs NEWSMON_SMTP_BUDGET_SECONDS.
The subprocess timeout below is the bound: twelve recipients at the old cost would
take eighteen minutes.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from pipeline.digest.mailer import build_message, parse_smtp_url, send_message
from pipeline.errors import DeliveryError
from tests.support.cli import run_newsmon as _run
from tests.support.history import record_successful_poll
from tests.support.smtp_server import SilentSmtpServer, SmtpInbox

DAY = "2026-11-30"
RECIPIENTS = [f"reader{i:02d}@example.org" for i in range(12)]


@pytest.fixture(scope="module")
def initialised(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("home")
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSMON_")}
    proc = _run(["init"], {**env, "NEWSMON_HOME": str(home)}, home)
    assert proc.returncode == 0, proc.stderr
    # the monitor ran before DAY: a digest for a day before its first poll is never emailed
    record_successful_poll(
        f"sqlite:///{home / 'newsmon.db'}", datetime(2026, 11, 29, 6, tzinfo=UTC)
    )
    with sqlite3.connect(home / "newsmon.db") as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return home / "newsmon.db"


@pytest.fixture
def env(tmp_path: Path, initialised: Path) -> dict[str, str]:
    home = tmp_path / "home"
    home.mkdir()
    shutil.copy(initialised, home / "newsmon.db")
    e = {k: v for k, v in os.environ.items() if not k.startswith("NEWSMON_")}
    e.update(
        NEWSMON_HOME=str(home),
        NEWSMON_DIGEST_FROM="digest@newsmon.example",
        NEWSMON_DIGEST_TO=",".join(RECIPIENTS),
    )
    return e


def _rows(env: dict[str, str]) -> dict[str, tuple[str, str | None]]:
    with sqlite3.connect(Path(env["NEWSMON_HOME"]) / "newsmon.db") as conn:
        rows = conn.execute(
            "SELECT recipient, status, last_error FROM digest WHERE recipient != ''"
        ).fetchall()
    return {r: (s, e) for r, s, e in rows}


def _error_line(proc: subprocess.CompletedProcess[str]) -> str:
    assert proc.returncode == 1, proc.stderr
    assert "Traceback" not in proc.stderr, proc.stderr
    lines = [ln for ln in proc.stderr.strip().splitlines() if ln.startswith("newsmon: error: ")]
    assert len(lines) == 1, proc.stderr
    return lines[0]


def test_silent_relay_costs_one_budget_then_a_retry_sends_each_once(
    env: dict[str, str], tmp_path: Path
) -> None:
    with SilentSmtpServer() as silent:
        hung = {
            **env,
            "NEWSMON_SMTP_URL": silent.url + "?timeout=30&retries=2&retry_delay=1",
            "NEWSMON_SMTP_BUDGET_SECONDS": "2",
            "NEWSMON_SMTP_PARALLEL": "4",
        }
        proc = _run(["digest", "--date", DAY, "--send"], hung, tmp_path, timeout=90)
        assert silent.connections >= 4  # recipients really were tried in parallel
    line = _error_line(proc)
    assert f"digest {DAY}: delivery failed for" in line
    assert all(rcpt in line for rcpt in RECIPIENTS), line
    # grouped by reason: the four in flight ran into the deadline, the rest never started
    assert line.count("(timeout: ") == 2, line
    assert "reader11@example.org (timeout: the delivery time budget was used up" in line
    rows = _rows(env)
    assert {s for s, _ in rows.values()} == {"failed"} and set(rows) == set(RECIPIENTS)
    assert all("timeout" in (e or "") for _, e in rows.values())

    with SmtpInbox() as inbox:
        ok = {**env, "NEWSMON_SMTP_URL": inbox.url + "?timeout=10"}
        first = _run(["digest", "--date", DAY, "--send"], ok, tmp_path)
        assert first.returncode == 0, first.stderr
        again = _run(["digest", "--date", DAY, "--send"], ok, tmp_path)
        assert again.returncode == 0, again.stderr
        assert sorted(m["To"] for m in inbox.messages) == RECIPIENTS  # each once
    assert {s for s, _ in _rows(env).values()} == {"sent"}


@pytest.mark.parametrize(
    ("case", "code"),
    [("wrong password", "535"), ("mailbox refused", "550"), ("try later", "451")],
)
@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
def test_the_smtp_reason_is_on_the_error_line(
    env: dict[str, str], tmp_path: Path, case: str, code: str
) -> None:
    one = {**env, "NEWSMON_DIGEST_TO": "anna@example.org"}
    auth = ("newsmon", "s3cret") if case == "wrong password" else None
    with SmtpInbox(auth=auth) as inbox:
        url = inbox.url + "?timeout=5&retries=1&retry_delay=0"
        if case == "wrong password":
            url = url.replace("smtp://", "smtp://newsmon:wrong@")
        elif case == "mailbox refused":
            inbox.reject_next, inbox.reject_reply = 1, "550 5.1.1 mailbox unavailable"
        else:
            inbox.reject_next = 5
        proc = _run(["digest", "--date", DAY, "--send"], {**one, "NEWSMON_SMTP_URL": url}, tmp_path)
        assert not inbox.messages
    line = _error_line(proc)
    assert f"anna@example.org ({code} " in line, line
    assert "wrong" not in line  # the password is never printed
    (status, error) = _rows(one)["anna@example.org"]
    assert status == "failed" and code in (error or "")


def test_a_dripping_relay_is_cut_off_at_the_deadline() -> None:
    """Per-read socket timeouts never fire against a byte every 0.2 s; the watchdog does."""
    msg = build_message(
        subject="s",
        text="t",
        html="<p>h</p>",
        sender="digest@newsmon.example",
        recipient="anna@example.org",
        msg_id="<1@newsmon.example>",
        list_id="l <l.newsmon.example>",
        date_=datetime(2026, 11, 30, tzinfo=UTC),
    )
    errors: list[DeliveryError] = []
    with SilentSmtpServer(drip=True) as relay:
        cfg = parse_smtp_url(relay.url + "?timeout=30&retries=2")

        def send() -> None:
            try:
                send_message(msg, cfg, deadline=time.monotonic() + 1.0)
            except DeliveryError as exc:
                errors.append(exc)

        worker = threading.Thread(target=send, daemon=True)
        worker.start()
        worker.join(timeout=60)  # without the watchdog: 3 x forever
        assert not worker.is_alive()
    (error,) = errors
    assert error.transient and error.reason == "timeout: the delivery time budget ran out"
