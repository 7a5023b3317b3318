"""The persistent near-duplicate index and the duplicate/story glue, on SQLite and PostgreSQL.

Runs once per database through conftest's ``db_url`` (a fresh PostgreSQL
schema per test; skipped without a server, an error under CI=true).
"""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, func, select

from pipeline.enrich import duplicates, story_assign
from pipeline.enrich import fingerprints as dedup
from storage import neardup
from storage.db import session_scope
from storage.models import Article, Fingerprint, LshBand, Story
from tests.support.paths import FIXTURES as FIXTURES_DIR

FIXTURES = FIXTURES_DIR / "dedup"
T0 = datetime(2019, 1, 3, 9, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def texts() -> dict[str, str]:
    docs = json.loads((FIXTURES / "articles.json").read_text(encoding="utf-8"))
    out = {d["id"]: d["text"] for d in docs}
    data = json.loads((FIXTURES / "neardup_set.json").read_text(encoding="utf-8"))
    out.update({c["id"]: c["text"] for c in data["copies"]})
    return out


def _add(
    session: Session,
    url: str,
    text: str,
    *,
    when: datetime = T0,
    seed: bool = False,
    canonical: str | None = None,
    title: str = "",
) -> Article:
    a = Article(
        url=url,
        canonical_url=canonical or url,
        title=title or text[:60],
        text=text,
        text_hash=dedup.content_hash(text),
        language="de",
        published_at=when,
        fetched_at=when,
        is_seed=seed,
        relevant=True,
    )
    session.add(a)
    session.flush()
    return a


def _ingest(session: Session, a: Article) -> duplicates.Verdict:
    """What the enrichment stage does: verdict, store it, index, story."""
    v = duplicates.find_duplicate(session, a)
    a.duplicate_of, a.duplicate_kind = v.of, v.kind
    a.duplicate_evidence = dict(v.evidence) if v.kind else None
    duplicates.index_article(session, a)
    story_assign.assign_story(session, a)
    session.add(a)
    session.flush()
    return v


def test_three_levels_point_at_the_seed(engine: Engine, texts: dict[str, str]) -> None:
    with session_scope(engine) as s:
        seed1 = _add(s, "seed:001", texts["seed:001"], seed=True)
        seed3 = _add(s, "seed:003", texts["seed:003"], seed=True)
        for a in (seed1, seed3):
            assert _ingest(s, a).kind is None
        later = T0 + timedelta(hours=5)
        copy = _add(s, "https://a.example/wire", texts["copy:all-edits:seed:001"], when=later)
        v = _ingest(s, copy)
        assert (v.kind, v.of) == ("near", seed1.id)
        assert v.evidence["jaccard"] >= dedup.JACCARD_THRESHOLD  # type: ignore[operator]
        json.dumps(v.evidence)  # stored as JSON
        # an exact reprint of the copy points through it to the seed (the root)
        exact = _add(s, "https://b.example/x", texts["copy:all-edits:seed:001"] + "  ", when=later)
        v = _ingest(s, exact)
        assert (v.kind, v.of) == ("exact", seed1.id)
        # the same canonical URL under another address
        again = _add(
            s,
            "https://a.example/wire?utm=1",
            "anders",
            when=later,
            canonical="https://a.example/wire",
        )
        v = _ingest(s, again)
        assert (v.kind, v.of) == ("url", seed1.id)
        assert v.evidence["canonical_url"] == "https://a.example/wire"
        # duplicates share their original's story; the other seed is not a duplicate
        assert copy.story_id == exact.story_id == again.story_id == seed1.story_id
        assert seed3.duplicate_of is None


def test_unrelated_and_same_story_articles_are_not_duplicates(
    engine: Engine, texts: dict[str, str]
) -> None:
    with session_scope(engine) as s:
        for i, key in enumerate(["sem:1484014342", "sem:1484246392", "sem:1484036418"]):
            a = _add(s, f"https://x.example/{i}", texts[key], when=T0 + timedelta(hours=i))
            assert _ingest(s, a).kind is None, key


def test_index_is_idempotent_and_replaces(engine: Engine, texts: dict[str, str]) -> None:
    with session_scope(engine) as s:
        a = _add(s, "https://x.example/a", texts["seed:002"])
        duplicates.index_article(s, a)
        duplicates.index_article(s, a)
        assert neardup.band_count(s, a.id or 0) == dedup.BANDS
        assert s.exec(select(func.count()).select_from(Fingerprint)).one() == 1
        before = set(s.exec(select(LshBand.band_key).where(LshBand.article_id == a.id)))
        a.text = texts["seed:004"]
        duplicates.index_article(s, a)
        after = set(s.exec(select(LshBand.band_key).where(LshBand.article_id == a.id)))
        assert before.isdisjoint(after) and len(after) == dedup.BANDS
        # a stub too short to call a near duplicate gets a fingerprint but no band keys
        stub = _add(s, "https://x.example/stub", "Kim trifft Trump.")
        duplicates.index_article(s, stub)
        assert neardup.band_count(s, stub.id or 0) == 0
        assert neardup.fingerprint_of(s, stub.id or 0) is not None


def test_candidates_by_band_keys(engine: Engine) -> None:
    rng = random.Random(5)
    sigs = {i: bytes(rng.randrange(256) for _ in range(dedup.NUM_PERM * 4)) for i in range(1, 6)}
    with session_scope(engine) as s:
        for i in sigs:
            _add(s, f"https://x.example/{i}", f"text {i}")
            fp = dedup.TextFingerprint(sigs[i], 100)
            neardup.store(s, i, fp.signature, 100, dedup.band_keys(fp))
        probe = dedup.band_keys(dedup.TextFingerprint(sigs[3], 100))
        found = neardup.candidates(s, probe)
        assert [c.article_id for c in found] == [3]
        assert found[0].shared_bands == dedup.BANDS and found[0].signature == sigs[3]
        assert neardup.candidates(s, probe, exclude=3) == []
        # half the bands shared: still found, with the count
        mixed = probe[:16] + dedup.band_keys(dedup.TextFingerprint(sigs[4], 100))[16:]
        got = {c.article_id: c.shared_bands for c in neardup.candidates(s, mixed)}
        assert got == {3: 16, 4: 16}
        assert neardup.candidates(s, []) == []


def test_story_is_stable_and_grows_in_window(engine: Engine, texts: dict[str, str]) -> None:
    with session_scope(engine) as s:
        # two independent reports of the New Year threat, a day apart
        a = _add(s, "https://x.example/a", texts["sem:1484014342"], title="Kim warns")
        b = _add(
            s,
            "https://x.example/b",
            texts["sem:1484246392"],
            when=T0 + timedelta(days=1),
            title="North Korea's Kim threatens to resume nuclear tests",
        )
        c = _add(
            s, "https://x.example/c", texts["sem:1483806528"], title="Seoul City's Zero Pay app"
        )
        for x in (a, b, c):
            _ingest(s, x)
        assert a.story_id == b.story_id != c.story_id
        first = b.story_id
        assert story_assign.assign_story(s, b) == first  # stable on re-run
        story = s.get(Story, first)
        assert story is not None and story.first_article_id == a.id
        # outside the window the same text starts a new story
        far = _add(
            s,
            "https://x.example/far",
            texts["sem:1484246392"] + " Nachtrag.",
            when=T0 + timedelta(days=40),
        )
        far.text_hash = "different"  # keep it from being an exact duplicate
        far.canonical_url = "https://x.example/far"
        v = duplicates.find_duplicate(s, far)
        assert v.kind == "near"  # duplicates ignore time; stories do not
        assert story_assign.assign_story(s, far) != first
        assert s.exec(select(func.count()).select_from(Story)).one() >= 3
