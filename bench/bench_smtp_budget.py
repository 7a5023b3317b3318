"""Wall-clock cost of one digest to N recipients behind an SMTP relay that accepts
connections and never answers: newsmon's mailer under one budget (parallel) vs bare
smtplib sent one recipient after another with the same per-attempt timeout and retries
(the behaviour before issue 16), and an answering aiosmtpd for scale.

Run: .venv/bin/python bench/bench_smtp_budget.py   (prints figures, asserts nothing)
"""

from __future__ import annotations

import smtplib
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import suppress
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pipeline.digest.mailer import build_message, parse_smtp_url, send_message
from pipeline.errors import DeliveryError
from tests.support.smtp_server import SilentSmtpServer, SmtpInbox

TIMEOUT, RETRIES, BUDGET, PARALLEL = 1.0, 2, 3.0, 4


def _message(i: int):  # type: ignore[no-untyped-def]
    return build_message(
        subject="digest",
        text="t",
        html="<p>h</p>",
        sender="digest@newsmon.example",
        recipient=f"r{i}@example.org",
        msg_id=f"<{i}@newsmon.example>",
        list_id="l <l.newsmon.example>",
        date_=datetime.now(UTC),
    )


def bare_sequential(port: str | int, n: int) -> float:
    start = time.monotonic()
    for i in range(n):
        for _ in range(RETRIES + 1):
            try:
                with smtplib.SMTP("127.0.0.1", int(port), timeout=TIMEOUT) as smtp:
                    smtp.send_message(_message(i))
                break
            except (smtplib.SMTPException, OSError):
                continue
    return time.monotonic() - start


def newsmon_budget(url: str | int, n: int) -> float:
    cfg = parse_smtp_url(f"{url}?timeout={TIMEOUT}&retries={RETRIES}&retry_delay=0.1")
    start = time.monotonic()
    deadline = start + BUDGET

    def one(i: int) -> None:
        with suppress(DeliveryError):  # failures are the point here
            send_message(_message(i), cfg, deadline=deadline)

    with ThreadPoolExecutor(PARALLEL) as pool:
        list(pool.map(one, range(n)))
    return time.monotonic() - start


def row(label: str, fn: Callable[[str | int, int], float], where: str | int, n: int) -> None:
    print(f"{label:<58} {fn(where, n):7.2f} s", flush=True)


def main() -> None:
    print(
        f"per-attempt timeout {TIMEOUT:g} s, {RETRIES} retries, budget {BUDGET:g} s, "
        f"{PARALLEL} in parallel"
    )
    for n in (2, 10, 20):
        with SilentSmtpServer() as silent:
            row(
                f"silent relay, {n:2d} recipients, bare smtplib sequential",
                bare_sequential,
                silent.port,
                n,
            )
            row(
                f"silent relay, {n:2d} recipients, newsmon under one budget",
                newsmon_budget,
                silent.url,
                n,
            )
        with SmtpInbox() as inbox:
            row(
                f"answering aiosmtpd, {n:2d} recipients, newsmon",
                newsmon_budget,
                inbox.url,
                n,
            )


if __name__ == "__main__":
    main()
