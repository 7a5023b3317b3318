"""init + ingest + digest over a real loopback site, the digest received by real SMTP."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

from sqlmodel import Session, select

from pipeline import stages
from pipeline.config import Settings
from storage.db import make_engine
from storage.models import Article, Entry
from tests.support.http_server import LoopbackServer
from tests.support.smtp_server import SmtpInbox


def test_ingest_and_digest_end_to_end(
    demo_site: tuple[LoopbackServer, Settings], inbox: SmtpInbox
) -> None:
    site, base = demo_site
    cfg = base.with_overrides(
        smtp_url=inbox.url,
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
        for p in (
            "fr-nordkorea.html",
            "zeit-klimaschutz.html",
            "watson-sazerac.html",
            "seed-copy.html",
        )
    )

    engine = make_engine(cfg.database_url)
    with Session(engine) as s:
        articles = {a.seed_name or a.url.rsplit("/", 1)[-1]: a for a in s.exec(select(Article))}
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
    [msg] = inbox.messages
    text_part = msg.get_body(preferencelist=("plain",))
    html_part = msg.get_body(preferencelist=("html",))
    assert text_part is not None and html_part is not None
    text = text_part.get_content()
    assert korea.title and korea.title in text
    assert korea.title in html_part.get_content()
    for unrelated in ("Sazerac", "Klimaschutz", "Fracking"):
        assert unrelated not in text
    # the seed copy is known news: not shown as a story (neither new nor follow-up lead)
    [json_path] = [p for p in report.outputs if p.endswith(".json")]
    data = json.loads(Path(json_path).read_text(encoding="utf-8"))
    shown = {src["article_id"] for st in data["stories"] for src in st["sources"]}
    assert korea.id in shown and copy.id not in shown
    # a retried send does not send again
    again = stages.digest(cfg, today, send=True)
    assert again.counts["already_sent"] == 1 and len(inbox.messages) == 1
