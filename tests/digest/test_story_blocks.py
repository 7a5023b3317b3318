"""How the digest presents one story: representative member, sources, "n more", ranking."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from pipeline.digest.build import TOP_SOURCES, build_digest
from pipeline.digest.model import ArticleItem, DayInput, KnownRef

T0 = datetime(2020, 1, 1, 6, tzinfo=UTC)


def _item(
    i: int, source: str, title: str, *, story: int, wire: tuple[str, ...] = (), minutes: int = 0
) -> ArticleItem:
    return ArticleItem(
        id=i,
        title=title,
        url=f"https://{source}/{i}",
        source=source,
        fetched_at=T0 + timedelta(minutes=minutes),
        language="en",
        text=f"{title}. Kim Jong Un said the moratorium on tests is over.",
        story_id=story,
        wire_agencies=wire,
    )


def _day(items: list[ArticleItem], known: dict[int, KnownRef] | None = None) -> DayInput:
    return DayInput(
        day=date(2020, 1, 1),
        timezone="UTC",
        start=T0 - timedelta(hours=6),
        end=T0 + timedelta(hours=18),
        articles=tuple(items),
        known_stories=known or {},
    )


def test_independent_outlets_first_wire_copies_folded_and_more_counted() -> None:
    items = [
        _item(1, "a.example", "Kim ends test moratorium", story=1, wire=("AP",)),
        _item(
            2, "b.example", "Kim ends test moratorium, AP reports", story=1, wire=("AP",), minutes=1
        ),
        _item(
            3, "c.example", "Kim ends nuclear test moratorium and warns the US", story=1, minutes=2
        ),
        *(
            _item(10 + i, f"o{i}.example", f"Kim ends moratorium ({i})", story=1, minutes=10 + i)
            for i in range(6)
        ),
        _item(30, "a.example", "Kim ends test moratorium, more", story=1, minutes=40),
    ]
    block = build_digest(_day(items), language="en").stories[0]
    top = [s.article_id for s in block.top_sources]
    assert len(top) == TOP_SOURCES
    assert top[0] == 3  # own reporting before an agency copy
    assert 2 not in top  # the second AP copy is folded into its agency
    assert block.independent_sources == 9  # AP once, c, o0..o5, a.example's own piece
    assert block.more_sources == len(items) - TOP_SOURCES
    assert [s.article_id for s in block.sources][: len(top)] == top


def test_representative_is_the_most_central_member() -> None:
    items = [
        _item(1, "a.example", "Opinion: what Kim really wants", story=1),
        _item(
            2,
            "b.example",
            "Kim ends nuclear test moratorium, warns of new weapon",
            story=1,
            minutes=1,
        ),
        _item(3, "c.example", "North Korea ends nuclear test moratorium", story=1, minutes=2),
        _item(4, "d.example", "Kim warns of new weapon, ends test moratorium", story=1, minutes=3),
    ]
    block = build_digest(_day(items), language="en").stories[0]
    assert block.representative_id in (2, 4)
    assert block.headline != "Opinion: what Kim really wants"


def test_a_follow_up_ranks_below_an_equally_sourced_new_story() -> None:
    new = [
        _item(i, f"n{i}.example", "Liaison office blown up", story=1, minutes=i) for i in range(3)
    ]
    old = [
        _item(10 + i, f"f{i}.example", "Kim recalls the generals", story=2, minutes=i)
        for i in range(3)
    ]
    known = {
        2: KnownRef(
            article_id=99,
            title="Liaison office",
            url=None,
            when=T0 - timedelta(days=4),
            is_seed=False,
        )
    }
    d = build_digest(_day(new + old, known), language="en")
    assert d.stories[0].key == "s1"
    assert d.follow_ups and d.follow_ups[0].key == "s2"
    assert d.follow_ups[0].score < d.stories[0].score
