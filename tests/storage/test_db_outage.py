"""The database goes away for a while: tasks fail with a clear error and succeed on retry.

PostgreSQL is reached through a TCP proxy that this test starts and stops, so
"unreachable" is a real refused connection (and, mid-run, real connections
cut under the pipeline's feet), not a mock. Stopping the proxy closes the
listening socket and every forwarded connection.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import threading
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url
from sqlmodel import Session, col, select

from pipeline import stages
from pipeline.config import Settings
from pipeline.errors import DatabaseUnavailable
from storage.db import make_engine
from storage.models import Article, Entry
from tests.support.faulty_site import FaultySite, store_problems
from tests.support.http_server import LoopbackServer
from tests.support.paths import ROOT

T0 = datetime(2026, 3, 2, 6, 0, tzinfo=UTC)


class TcpProxy:
    """Forwards 127.0.0.1:<port> to ``target``; ``stop()`` cuts everything, ``start()`` resumes."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = int(s.getsockname()[1])
        self._listener: socket.socket | None = None
        self._conns: list[socket.socket] = []
        self._lock = threading.Lock()
        self.accepted = 0

    def start(self) -> TcpProxy:
        ls = socket.socket()
        ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        ls.bind(("127.0.0.1", self.port))
        ls.listen(64)
        self._listener = ls
        threading.Thread(target=self._accept, args=(ls,), daemon=True).start()
        return self

    def stop(self) -> None:
        with self._lock:
            ls, self._listener = self._listener, None
            conns, self._conns = self._conns, []
        if ls is not None:
            ls.close()
        for c in conns:
            with contextlib.suppress(OSError):
                c.shutdown(socket.SHUT_RDWR)
            c.close()

    def _accept(self, ls: socket.socket) -> None:
        while True:
            try:
                client, _ = ls.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            upstream.settimeout(None)
            with self._lock:
                if self._listener is not ls:
                    client.close()
                    upstream.close()
                    return
                self._conns += [client, upstream]
                self.accepted += 1
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)


def _via(proxy: TcpProxy, url: str) -> str:
    u = make_url(url)
    return u.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)


def _stored(url: str) -> tuple[list[str], set[str], list[str]]:
    engine = make_engine(url)
    try:
        with Session(engine) as s:
            urls = sorted(
                a.url for a in s.exec(select(Article).where(col(Article.is_seed).is_(False)))
            )
            statuses = {e.status for e in s.exec(select(Entry))}
        return urls, statuses, store_problems(engine)
    finally:
        engine.dispose()


@pytest.mark.slow
def test_database_unreachable_then_back(settings: Settings, pg_url: str, tmp_path: Path) -> None:
    u = make_url(pg_url)
    proxy = TcpProxy((u.host or "127.0.0.1", u.port or 5432)).start()
    try:
        with LoopbackServer() as srv:
            site = FaultySite(srv, feeds=2, pages_per_feed=4, fault_rate=0.0)
            feeds = site.write_feed_list(tmp_path / "feeds.yaml")
            cfg = settings.with_overrides(database_url=_via(proxy, pg_url), feeds_path=feeds)
            stages.init(cfg)

            # 1. down before the task starts: a clear, one-line, retryable error
            proxy.stop()
            with pytest.raises(DatabaseUnavailable) as err:
                stages.ingest(cfg, now=T0)
            assert err.value.transient
            message = str(err.value)
            assert message.startswith("database unreachable") and "\n" not in message
            assert f"127.0.0.1:{proxy.port}" in message
            with pytest.raises(DatabaseUnavailable):
                stages.digest(cfg, T0.date())
            env = {
                **os.environ,
                "NEWSMON_HOME": str(tmp_path / "home"),
                "NEWSMON_DATABASE_URL": cfg.database_url,
                "NEWSMON_FEEDS": str(feeds),
            }
            cli = subprocess.run(
                [sys.executable, "-m", "pipeline", "ingest"],
                cwd=ROOT,
                env=env,
                capture_output=True,
                text=True,
                timeout=120,
            )
            assert cli.returncode == 1
            assert cli.stderr.startswith("newsmon: error: database unreachable"), cli.stderr
            assert len(cli.stderr.strip().splitlines()) == 1, cli.stderr

            # 2. back: the retried task succeeds
            proxy.start()
            first = stages.ingest(cfg, now=T0)
            assert first.counts["articles_stored"] == len(site.page_urls)

            # 3. gone in the middle of a run (as the pages arrive): the task fails
            # clearly; the retry stores everything, once
            site2 = FaultySite(
                srv, feeds=2, pages_per_feed=4, fault_rate=0.0, prefix="/b", first_article=8
            )
            cfg2 = cfg.with_overrides(
                feeds_path=_two_sites(tmp_path / "feeds2.yaml", site, site2),
                fetch=replace(cfg.fetch, per_host_connections=8),
            )
            cut = threading.Event()

            def outage(_path: str) -> None:
                if not cut.is_set():
                    cut.set()
                    proxy.stop()

            site2.on_page_request = outage
            with pytest.raises(DatabaseUnavailable):
                stages.ingest(cfg2, now=T0 + timedelta(hours=1))
            assert cut.is_set()
            site2.on_page_request = None
            proxy.start()
            later = T0 + timedelta(hours=2)
            stages.ingest(cfg2, now=later)
            stages.process_pending(cfg2, now=later)
            urls, statuses, problems = _stored(cfg.database_url)
    finally:
        proxy.stop()
    assert problems == []
    assert statuses == {"done"}
    assert urls == sorted(site.page_urls + site2.page_urls)


def _two_sites(path: Path, a: FaultySite, b: FaultySite) -> Path:
    lines = ["feeds:"]
    for i, url in enumerate([*a.feed_urls, *b.feed_urls]):
        lines += [f"  - name: Feed {i}", f"    url: {url}"]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path
