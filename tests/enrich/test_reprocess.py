"""Reprocess: re-extract from the stored page and re-enrich, idempotently, without refetching."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import yaml
from sqlmodel import Session, select

from pipeline import stages
from pipeline.config import Settings
from storage.db import make_engine
from storage.models import Article, Mention
from tests.support.http_server import LoopbackServer


def _snapshot(cfg: Settings) -> tuple[dict[str, tuple[object, ...]], set[tuple[int, str, int]]]:
    engine = make_engine(cfg.database_url)
    with Session(engine) as s:
        arts = {
            a.url: (a.text_hash, a.relevant, a.duplicate_of, a.duplicate_kind, a.story_id)
            for a in s.exec(select(Article))
        }
        mentions = {(m.article_id, m.actor_id, m.start) for m in s.exec(select(Mention))}
    engine.dispose()
    return arts, mentions


def test_reprocess_is_idempotent_and_follows_gazetteer_changes(
    demo_site: tuple[LoopbackServer, Settings], tmp_path: Path
) -> None:
    site, cfg = demo_site
    stages.init(cfg)
    stages.ingest(cfg)
    site.clear_log()
    before = _snapshot(cfg)
    since = datetime.now(UTC) - timedelta(days=1)
    until = datetime.now(UTC) + timedelta(days=1)
    report = stages.reprocess(cfg, since, until)
    assert not [r for r in site.requests if r.path.startswith("/news/")]  # no refetch
    assert report.counts["articles_reprocessed"] == 4
    assert report.counts["articles_reextracted"] == 4
    assert _snapshot(cfg) == before

    # drop Kim Jong Un from the gazetteer: a reprocess of the actors step forgets him
    data = yaml.safe_load(cfg.actors_path.read_text(encoding="utf-8"))
    actors = data["actors"]
    kim = next(a for a in actors if a["name"] == "Kim Jong Un")
    data["actors"] = [a for a in actors if a is not kim]
    smaller = tmp_path / "actors.yaml"
    smaller.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    cfg2 = cfg.with_overrides(actors_path=smaller)
    stages.reprocess(cfg2, since, until, steps=["actors"])
    _, mentions = _snapshot(cfg2)
    engine = make_engine(cfg.database_url)
    with Session(engine) as s:
        fetched_ids = {a.id for a in s.exec(select(Article).where(Article.is_seed == False))}  # noqa: E712
    engine.dispose()
    kim_id = kim["id"]
    assert not {m for m in mentions if m[1] == kim_id and m[0] in fetched_ids}
    assert {m for m in before[1] if m[1] == kim_id and m[0] in fetched_ids}


def test_reprocess_stories_reclusters_the_window_and_changes_nothing_settled(
    demo_site: tuple[LoopbackServer, Settings],
) -> None:
    _site, cfg = demo_site
    stages.init(cfg)
    ingested = stages.ingest(cfg)
    assert "stories_merged" in ingested.counts and "stories_split" in ingested.counts
    before = _snapshot(cfg)
    since = datetime.now(UTC) - timedelta(days=30)
    until = datetime.now(UTC) + timedelta(days=1)
    report = stages.reprocess(cfg, since, until, steps=["stories"])
    assert report.counts["stories_merged"] == 0 and report.counts["stories_split"] == 0
    assert _snapshot(cfg) == before  # ids never move on a re-run
