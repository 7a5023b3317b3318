"""The seed corpus: header parsing, boilerplate removal, idempotent loading."""

from __future__ import annotations

from sqlmodel import Session, select

from pipeline import stages
from pipeline.config import SEEDS_DIR, Settings
from pipeline.enrich.seed_corpus import load_seeds, parse_header
from storage.db import make_engine
from storage.models import Article, Mention
from tests.support.paths import ROOT

SHARED_SEEDS = ROOT.parent / "shared" / "seeds"


def test_header_with_place() -> None:
    when, place, body = parse_header(" date 2019-01 Washington\n\nIm zuletzt ...")
    assert when is not None and (when.year, when.month) == (2019, 1)
    assert place == "Washington"
    assert body.strip() == "Im zuletzt ..."


def test_header_followed_by_text_on_same_line() -> None:
    when, place, body = parse_header(" date 2019-02 Der Gipfel zwischen Trump und Kim in Hanoi.")
    assert when is not None and when.month == 2
    assert place is None
    assert body.startswith("Der Gipfel zwischen")


def test_no_header() -> None:
    assert parse_header("US-Präsident Donald Trump hat ...") == (
        None,
        None,
        "US-Präsident Donald Trump hat ...",
    )


def test_seed_files_are_kept_exactly_as_given() -> None:
    seeds = load_seeds(SEEDS_DIR)
    assert len(seeds) == 5
    if SHARED_SEEDS.is_dir():  # the project must not need ../shared, but checks it when there
        for seed in seeds:
            assert (SHARED_SEEDS / seed.name).read_bytes() == (SEEDS_DIR / seed.name).read_bytes()


def test_init_loads_seeds_cleanly_and_idempotently(settings: Settings) -> None:
    first = stages.init(settings)
    second = stages.init(settings)
    assert first.counts["seeds_loaded"] == 5
    assert second.counts["seeds_unchanged"] == 5 and "seeds_loaded" not in second.counts
    engine = make_engine(settings.database_url)
    with Session(engine) as s:
        seeds = {a.seed_name: a for a in s.exec(select(Article).where(Article.is_seed))}
        mentions = s.exec(select(Mention)).all()
    engine.dispose()
    assert len(seeds) == 5
    sz = seeds["001_5c9c65ed078379a1.txt"]
    for junk in ("Zur SZ-Startseite", "Lesen Sie mehr zum Thema", "(Foto: REUTERS)", "Gutscheine:"):
        assert junk in (sz.raw_text or "")
        assert junk not in sz.text
    dated = seeds["000_ed4648256f407bbd.txt"]
    assert dated.published_at is not None and dated.published_at.year == 2019
    assert not dated.text.lstrip().startswith("date")
    assert all(a.relevant for a in seeds.values())
    assert "dpa" in seeds["000_ed4648256f407bbd.txt"].wire_agencies
    # the seeds name Trump and Kim: actors are tagged on load
    assert {m.article_id for m in mentions} == {a.id for a in seeds.values()}
