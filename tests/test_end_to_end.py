"""init + ingest + digest over a real loopback site, the digest received by real SMTP."""

from __future__ import annotations

import email
from datetime import datetime
from email import policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from sqlmodel import Session, select

from pipeline import stages
from pipeline.config import Settings
from storage.db import make_engine
from storage.models import Article, Entry
from tests.support.demo_site import serve_site, write_feed_list
from tests.support.http_server import LoopbackServer


class _Inbox:
    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        msg = email.message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(msg, EmailMessage)
        self.messages.append(msg)
        return "250 OK"


@pytest.fixture
def inbox() -> Any:
    handler = _Inbox()
    controller = Controller(handler, hostname="127.0.0.1", port=0)
    controller.start()
    try:
        yield handler, controller
    finally:
        controller.stop()


def _smtp_port(controller: Controller) -> int:
    return int(controller.server.sockets[0].getsockname()[1])


def test_ingest_and_digest_end_to_end(settings: Settings, tmp_path: Path, inbox: Any) -> None:
    handler, controller = inbox
    with LoopbackServer() as site:
        serve_site(site)
        cfg = settings.with_overrides(
            feeds_path=write_feed_list(site, tmp_path / "feeds.yaml"),
            smtp_url=f"smtp://127.0.0.1:{_smtp_port(controller)}",
            digest_to=("desk@example.org",),
            digest_from="newsmon@example.org",
        )
        stages.init(cfg)
        first = stages.ingest(cfg)
        second = stages.ingest(cfg)  # unchanged feeds: nothing new, nothing refetched
        page_fetches = [r for r in site.requests if r.path.startswith("/news/")]

    assert first.counts["articles_stored"] == 4, first.to_dict()
    assert second.counts.get("articles_stored", 0) == 0, second.to_dict()
    # the Korea article is listed by both feeds (once with utm_* tracking): fetched once
    assert sorted(r.path.split("?")[0] for r in page_fetches) == sorted(
        f"/news/{p}"
        for p in ("fr-nordkorea.html", "zeit-klimaschutz.html", "watson-sazerac.html", "seed-copy.html")
    )

    engine = make_engine(cfg.database_url)
    with Session(engine) as s:
        articles = {a.url.rsplit("/", 1)[-1]: a for a in s.exec(select(Article))}
        entries = s.exec(select(Entry)).all()
    engine.dispose()
    assert len(entries) == 4
    korea = articles["fr-nordkorea.html"]
    assert korea.relevant and korea.duplicate_of is None
    assert not articles["zeit-klimaschutz.html"].relevant
    assert not articles["watson-sazerac.html"].relevant
    copy = articles["seed-copy.html"]
    seed = articles["003_a73890f3d08e4f36.txt"]
    assert seed.is_seed
    assert copy.duplicate_of == seed.id and copy.duplicate_kind in ("exact", "near")

    today = datetime.now(cfg.tz).date()
    report = stages.digest(cfg, today, send=True)
    assert report.counts["sent"] == 1, report.to_dict()
    [msg] = handler.messages
    text_part = msg.get_body(preferencelist=("plain",))
    html_part = msg.get_body(preferencelist=("html",))
    assert text_part is not None and html_part is not None
    text = text_part.get_content()
    assert "Kim Jong-un" in text
    for unrelated in ("Sazerac", "Klimaschutz", "Fracking"):
        assert unrelated not in text
    # the seed copy is not news: not shown as a story of its own
    assert "Trump: Brief von Kim Jong-un erhalten" not in text.split("\n\n", 3)[-1] or (
        "Brief" not in _story_headlines(text)
    )
    # a retried send does not send again
    again = stages.digest(cfg, today, send=True)
    assert again.counts["already_sent"] == 1 and len(handler.messages) == 1


def _story_headlines(text: str) -> str:
    return "\n".join(line for line in text.splitlines() if line.startswith(("1.", "2.", "3.")))
