"""Term statistics of the story index on both backends (SQLite and PostgreSQL use different SQL)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from storage import story_index
from storage.models import Article, Story, StoryKey


def test_term_statistics_follow_stored_features(engine: Engine) -> None:
    when = datetime(2026, 1, 1, tzinfo=UTC)
    with Session(engine) as s:
        ids = _articles(s, 2, when)
        story_index.put_features(s, ids[0], {"v": 1}, ["kim", "hanoi"])
        story_index.put_features(s, ids[1], {"v": 1}, ["kim", "summit"], first=True)
        # a re-run with other terms moves the counts by the difference, not the docs
        story_index.put_features(s, ids[1], {"v": 2}, ["kim", "talks"], ["kim", "summit"])
        s.commit()
        df, docs = story_index.document_frequencies(s, ["kim", "hanoi", "summit", "talks", "x"])
    assert docs == 2
    assert df == {"kim": 2, "hanoi": 1, "summit": 0, "talks": 1}
    # more terms than SQLite's host-parameter chunk and PostgreSQL's probed lookup
    many = [f"w{i}" for i in range(story_index.PROBED_TERMS + 1)]
    with Session(engine) as s:
        assert story_index.document_frequencies(s, [*many, "kim"]) == ({"kim": 2}, 2)
        assert story_index.document_frequencies(s, [*many[:5], "kim"]) == ({"kim": 2}, 2)


def _articles(s: Session, n: int, when: datetime) -> list[int]:
    ids = []
    for i in range(n):
        a = Article(
            url=f"https://f.example/{i}",
            canonical_url=f"https://f.example/{i}",
            title="t",
            text="x",
            published_at=when,
            fetched_at=when,
        )
        s.add(a)
        s.flush()
        assert a.id is not None
        ids.append(a.id)
    return ids


def test_first_features_are_counted_once_and_return_the_counts(engine: Engine) -> None:
    # PostgreSQL does this in one statement (storage/story_index_pg.py), SQLite in four:
    # the results must be those of put_features followed by document_frequencies
    when = datetime(2026, 1, 1, tzinfo=UTC)
    with Session(engine) as s:
        a, b = _articles(s, 2, when)
        first = story_index.put_first_features(s, a, {"v": 1}, ["kim", "hanoi"])
        assert first == story_index.FirstWrite(True, None, {"kim": 1, "hanoi": 1}, 1)
        # stored already: nothing is written, the stored features come back
        again = story_index.put_first_features(s, a, {"v": 2}, ["kim", "summit"])
        assert again == story_index.FirstWrite(False, {"v": 1}, {}, 0)
        long = "w" * 250  # counted under its first MAX_TERM characters, as put_features
        second = story_index.put_first_features(s, b, {"v": 3}, ["kim", "talks", long])
        assert second.inserted and second.docs == 2
        assert second.df == {"kim": 2, "talks": 1, long[: story_index.MAX_TERM]: 1}
        s.commit()
    with Session(engine) as s:
        terms = ["kim", "hanoi", "summit", "talks", long]
        assert story_index.document_frequencies(s, terms) == (
            {"kim": 2, "hanoi": 1, "talks": 1, long[: story_index.MAX_TERM]: 1},
            2,
        )
        assert story_index.stored_features(s, a) == {"v": 1}


def test_candidates_rank_live_recent_stories_by_shared_keys(engine: Engine) -> None:
    t0 = datetime(2026, 1, 10, tzinfo=UTC)
    with Session(engine) as s:
        ids = []
        for i in range(40):  # more than MAX_CANDIDATES are live
            story = Story(
                title=f"s{i}",
                first_seen_at=t0,
                # every fifth is old, every seventh merged away
                last_seen_at=t0 - timedelta(days=10 if i % 5 == 4 else 0),
                members=1,
                merged_into=1 if i % 7 == 6 else None,
                profile={"names": {f"n{i}": 1}},
            )
            # story i has keys 0..i % 4 (1-4 shared with a probe of keys 0..3)
            story_index.add_story(s, story, range(i % 4 + 1))
            assert story.id is not None and s.get(Story, story.id) is story
            ids.append(story.id)
        s.commit()
    with Session(engine) as s:
        expected = sorted(
            (sid for i, sid in enumerate(ids) if i % 5 != 4 and i % 7 != 6 and sid != ids[3]),
            key=lambda sid: (-(ids.index(sid) % 4 + 1), sid),
        )[: story_index.MAX_CANDIDATES]
        found = story_index.candidates(
            s, [0, 1, 2, 3, 99], since=t0 - timedelta(days=1), exclude=[ids[3]]
        )
        assert [st.id for st in found] == expected
        assert found[0].profile == {"names": {f"n{ids.index(found[0].id)}": 1}}  # type: ignore[arg-type]
        assert story_index.candidates(s, [99], since=t0 - timedelta(days=1)) == []
        assert story_index.candidates(s, [], since=t0 - timedelta(days=1)) == []


def test_a_new_story_is_tracked_by_the_session_without_reading_it_back(engine: Engine) -> None:
    t0 = datetime(2026, 1, 10, tzinfo=UTC)
    with Session(engine) as s:
        story = Story(title="s", first_seen_at=t0, last_seen_at=t0, members=1, follow_up_of=7)
        story_index.add_story(s, story, [5, 6, 5])
        sid = story.id
        assert sid is not None
        story.members = 2  # a later change is written at the commit
        s.commit()
    with Session(engine) as s:
        got = s.get(Story, sid)
        assert got is not None
        assert (got.members, got.follow_up_of, got.last_seen_at) == (2, 7, t0)
        keys = s.execute(
            select(StoryKey.key).where(col(StoryKey.story_id) == sid)  # type: ignore[call-overload]
        ).scalars()
        assert sorted(keys) == [5, 6]
