"""Story assignment against stored representations, follow-ups, merges and splits.

Each test runs on SQLite and PostgreSQL (conftest's ``db_url``). Texts are
real SemEval articles (tests/fixtures/dedup): X is an AP report of Kim's
year-end plenum, Y the Bank of Korea governor's New Year address.
"""

from __future__ import annotations

import json
import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import Session, func, select

from pipeline.enrich import story_assign, story_recluster
from pipeline.enrich import story_profile as sp
from pipeline.enrich.story_similarity import term_key
from storage import story_index
from storage.db import make_engine, migrate, session_scope
from storage.export import iter_export_rows
from storage.models import Article, ArticleStoryFeatures, Story, StoryEvent, TermStat
from tests.support.paths import FIXTURES

T0 = datetime(2020, 1, 1, 9, 0, tzinfo=UTC)
RULES = story_assign.StoryRules(window_days=3, quiet_days=2, follow_up_days=30)


@pytest.fixture(scope="module")
def texts() -> dict[str, str]:
    docs = json.loads((FIXTURES / "dedup" / "articles.json").read_text(encoding="utf-8"))
    return {d["id"]: d["text"] for d in docs}


def _x(texts: dict[str, str]) -> str:
    return texts["sem:1484246392"]


def _y(texts: dict[str, str]) -> str:
    return texts["sem:1485021532"]


def _add(s: Session, name: str, text: str, when: datetime = T0, title: str = "") -> Article:
    a = Article(
        url=f"https://x.example/{name}",
        canonical_url=f"https://x.example/{name}",
        title=title or name,
        text=text,
        language="en",
        published_at=when,
        fetched_at=when,
        relevant=True,
    )
    s.add(a)
    s.flush()
    return a


def _assign(s: Session, a: Article) -> int:
    sid = story_assign.assign_story(s, a, rules=RULES)
    assert sid is not None
    return sid


def _force_story(s: Session, a: Article) -> int:
    """Open a story for ``a`` as if the online pass had missed the match."""
    feats = story_assign.article_features(s, a)
    idf = story_assign.load_idf(s, feats)
    vec = sp.vector(feats, idf)
    story = story_assign.open_story(
        s, a, feats, vec, [sp.key_hash(k) for k in sp.index_keys(feats, vec, idf)]
    )
    a.story_id = story.id
    s.add(a)
    assert story.id is not None
    return story.id


def _halves(text: str) -> tuple[str, str]:
    cut = len(text) // 2
    return text[:cut], text[cut:]


def test_a_bridge_article_does_not_chain_two_events(engine: Engine, texts: dict[str, str]) -> None:
    _x1, x2 = _halves(_x(texts))
    y1, _y2 = _halves(_y(texts))
    with session_scope(engine) as s:
        a = _add(s, "a", _x(texts), title="Kim threatens to resume tests")
        first = _assign(s, a)
        for i, part in enumerate(texts[k] for k in ("sem:1484138375", "sem:1483840036")):
            _assign(s, _add(s, f"x{i}", part, T0 + timedelta(minutes=10 + i)))
        # B: half the plenum report, half the BOK address (like B in A-B-C chaining)
        b = _add(s, "b", x2 + "\n" + y1, T0 + timedelta(hours=1))
        _assign(s, b)
        # C is like B (the BOK half) but unlike the story as a whole; joining B's
        # nearest neighbour (the old rule) would chain it in
        c = _add(s, "c", _y(texts), T0 + timedelta(hours=2), title="BOK governor")
        assert _assign(s, c) != first
        assert a.story_id != c.story_id


def test_stored_features_and_statistics_are_not_counted_twice(
    engine: Engine, texts: dict[str, str]
) -> None:
    with session_scope(engine) as s:
        a = _add(s, "a", _x(texts))
        sid = _assign(s, a)
        assert _assign(s, a) == sid  # stable on re-run
        row = s.get(ArticleStoryFeatures, a.id)
        assert row is not None and row.data["terms"]
        docs = s.get(TermStat, story_index.DOCS)
        assert docs is not None and docs.df == 1
        df_before = s.get(TermStat, term_key("moratorium"))
        assert df_before is not None and df_before.df == 1
        # the text changes (re-extraction): statistics move by the difference only
        a.text = _y(texts)
        story_assign.article_features(s, a)
        s.expire_all()  # term_stat is written with core upserts
        assert s.get(TermStat, story_index.DOCS).df == 1  # type: ignore[union-attr]
        gone = s.get(TermStat, term_key("moratorium"))
        assert gone is not None and gone.df == 0


def test_a_concurrent_first_write_of_features_is_not_counted_twice(
    pg_url: str, texts: dict[str, str]
) -> None:
    # PostgreSQL stores first features with one statement (storage/story_index_pg.py); a
    # second worker enriching the same article at the same moment (the enrichment lock not
    # taken) waits for the first's row, skips it, and must then not count the terms again
    engine = make_engine(pg_url)
    migrate(engine)
    try:
        with session_scope(engine) as s:
            aid = _add(s, "a", _x(texts)).id
        first = Session(engine)
        article = first.get(Article, aid)
        assert article is not None
        story_assign.article_features(first, article)  # written, not committed
        pid: list[int] = []
        errors: list[BaseException] = []

        def other() -> None:
            try:
                with Session(engine) as s:
                    pid.append(s.connection().connection.dbapi_connection.info.backend_pid)  # type: ignore[union-attr]
                    a = s.get(Article, aid)
                    assert a is not None
                    story_assign.article_features(s, a)
                    s.commit()
            except BaseException as exc:  # surfaced below: a thread's exception is lost
                errors.append(exc)

        worker = threading.Thread(target=other)
        worker.start()
        waiting = False
        with engine.connect() as c:
            for _ in range(400):  # until the other worker waits for our row lock
                waiting = bool(pid) and bool(
                    c.execute(
                        text("SELECT count(*) FROM pg_locks WHERE pid = :p AND NOT granted"),
                        {"p": pid[0]},
                    ).scalar()
                )
                if waiting:
                    break
                time.sleep(0.025)
        first.commit()
        first.close()
        worker.join()
        assert waiting and not errors
        with session_scope(engine) as s:
            assert s.get(TermStat, story_index.DOCS).df == 1  # type: ignore[union-attr]
            assert s.get(TermStat, term_key("moratorium")).df == 1  # type: ignore[union-attr]
    finally:
        engine.dispose()


def test_candidates_come_from_the_key_index(engine: Engine, texts: dict[str, str]) -> None:
    with session_scope(engine) as s:
        a = _add(s, "a", _x(texts))
        sid = _assign(s, a)
        feats = story_assign.article_features(s, a)
        idf = story_assign.load_idf(s, feats)
        keys = [sp.key_hash(k) for k in sp.index_keys(feats, sp.vector(feats, idf), idf)]
        found = story_index.candidates(s, keys, since=T0 - timedelta(days=1))
        assert [st.id for st in found] == [sid]
        assert story_index.candidates(s, keys, since=T0 + timedelta(days=1)) == []  # too old
        assert story_index.candidates(s, keys, since=T0, exclude=[sid]) == []
        assert story_index.candidates(s, [12345], since=T0 - timedelta(days=1)) == []
    # a key in most stored articles is not probed
    assert story_index.probe_keys({"kim": 1, "rare": 2}, {"kim": 900, "rare": 3}, 1000) == [2]
    # in a big window a key is too common above the absolute cap, whatever its share
    cap = story_index.COMMON_KEY_CAP
    df = {"beat": cap + 1, "event": cap}
    assert story_index.probe_keys({"beat": 1, "event": 2}, df, 10**6) == [2]


def test_quiet_story_gets_a_follow_up_not_a_new_member(
    engine: Engine, texts: dict[str, str]
) -> None:
    with session_scope(engine) as s:
        a = _add(s, "a", _x(texts), title="Kim threatens to resume tests")
        first = _assign(s, a)
        same_day = _add(s, "b", _x(texts) + " Update.", T0 + timedelta(hours=6))
        assert _assign(s, same_day) == first
        later = _add(s, "c", _x(texts) + " Days later.", T0 + timedelta(days=5))
        follow = _assign(s, later)
        assert follow != first
        story = s.get(Story, follow)
        assert story is not None and story.follow_up_of == first
        events = s.exec(select(StoryEvent).where(StoryEvent.kind == "follow_up")).all()
        assert [(e.story_id, e.other_story_id) for e in events] == [(first, follow)]
    rows = {
        r["url"]: r
        for r in iter_export_rows(engine, T0 - timedelta(days=1), T0 + timedelta(days=9))
    }
    assert rows["https://x.example/c"]["story_follow_up_of"] == first
    assert rows["https://x.example/a"]["story_follow_up_of"] is None
    assert rows["https://x.example/a"]["story_history"][0]["kind"] == "follow_up"


def test_recluster_merges_into_the_older_story_and_records_it(
    engine: Engine, texts: dict[str, str]
) -> None:
    with session_scope(engine) as s:
        a = _add(s, "a", _x(texts), title="Kim threatens to resume tests")
        older = _assign(s, a)
        b = _add(s, "b", _x(texts) + " Second outlet.", T0 + timedelta(hours=2))
        newer = _force_story(s, b)
        c = _add(s, "c", _y(texts), T0 + timedelta(hours=3), title="BOK")
        other = _assign(s, c)
        assert older != newer
    lo, hi = T0 - timedelta(hours=1), T0 + timedelta(days=1)
    done = story_recluster.recluster_window(engine, lo, hi, hi)
    assert done.merged == 1
    with session_scope(engine) as s:
        assert s.get(Article, b.id).story_id == older  # type: ignore[union-attr]
        assert s.get(Article, c.id).story_id == other  # type: ignore[union-attr]
        gone = s.get(Story, newer)
        assert gone is not None and gone.merged_into == older and gone.members == 0
        survivor = s.get(Story, older)
        assert survivor is not None and survivor.members == 2
        merge = s.exec(select(StoryEvent).where(StoryEvent.kind == "merge")).one()
        assert (merge.story_id, merge.other_story_id, merge.article_ids) == (
            older,
            newer,
            [b.id],
        )
        # a late copy of b's story id lands in the survivor
        assert story_assign.live_story(s, newer) == older
    # a second repair changes nothing
    again = story_recluster.recluster_window(engine, lo, hi, hi)
    assert (again.merged, again.split) == (0, 0)
    rows = {r["url"]: r for r in iter_export_rows(engine, lo, hi)}
    history = rows["https://x.example/b"]["story_history"]
    assert [(h["kind"], h["story_id"], h["other_story_id"]) for h in history] == [
        ("merge", older, newer)
    ]


def test_recluster_splits_a_member_that_diverged(engine: Engine, texts: dict[str, str]) -> None:
    with session_scope(engine) as s:
        a = _add(s, "a", _x(texts), title="Kim threatens to resume tests")
        sid = _assign(s, a)
        a2 = _add(s, "a2", _x(texts) + " Another outlet.", T0 + timedelta(hours=1))
        assert _assign(s, a2) == sid
        # an unrelated article that ended up in the story (e.g. before an actor-list fix)
        c = _add(s, "c", _y(texts), T0 + timedelta(hours=2), title="BOK")
        story_assign.article_features(s, c)
        c.story_id = sid
        s.add(c)
    lo, hi = T0 - timedelta(hours=1), T0 + timedelta(days=1)
    done = story_recluster.recluster_window(engine, lo, hi, hi)
    assert done.split == 1
    with session_scope(engine) as s:
        assert s.get(Article, a.id).story_id == sid  # type: ignore[union-attr]
        assert s.get(Article, a2.id).story_id == sid  # type: ignore[union-attr]
        moved = s.get(Article, c.id).story_id  # type: ignore[union-attr]
        assert moved not in (None, sid)
        split = s.exec(select(StoryEvent).where(StoryEvent.kind == "split")).one()
        assert (split.story_id, split.other_story_id, split.article_ids) == (sid, moved, [c.id])
        assert s.exec(select(func.count()).select_from(Story)).one() == 2
    again = story_recluster.recluster_window(engine, lo, hi, hi)
    assert (again.merged, again.split) == (0, 0)
