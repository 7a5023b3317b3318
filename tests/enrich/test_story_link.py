"""Round 3 story features and story-to-story links (pipeline.enrich.story_link), pure."""

from __future__ import annotations

from dataclasses import replace

from pipeline.enrich import story_background, story_link
from pipeline.enrich import story_profile as sp
from pipeline.enrich import story_similarity as stories


def test_prefix_keys_stem_and_meet_across_german_and_english() -> None:
    key = stories.term_key
    assert key("raketentests") == key("raketentest")
    assert key("sanktionen") == key("sanctions")
    assert key("interkontinentalraketen") == key("intercontinental")
    assert key("moratorium") == "morato"
    assert key("xnorthkorea") == "xnorthkorea"  # lexicon tokens stay whole
    assert key("sanktionen") != key("strategische")


def test_background_table_is_bundled_and_lowers_common_words() -> None:
    table = story_background.table()
    assert table.docs == 100 and len(table.df) > 5000
    common = stories.term_key("regierung")
    assert table.df.get(common, 0) >= 10
    with_bg = sp.idf_from({}, 10, background=1.0)
    without = sp.idf_from({}, 10, background=0.0)
    rare = "zzzzzz"
    # a word of most news pages weighs far less than an unseen one, but only with the table
    assert with_bg(common) < 0.6 * with_bg(rare)
    assert without(common) == without(rare)


def _story(lang: str, text: str, n: int, idf: sp.Idf) -> sp.Profile:
    f = stories.features(
        "t", text, lang=lang, actor_ids=["kim-jong-un", "kcna"] if "Kim" in text else []
    )
    return sp.build([(f, sp.vector(f, idf))] * n)


def test_merges_link_one_event_across_languages_and_respect_link_min() -> None:
    idf = sp.idf_from({}, 1000, background=0.0)
    de = _story("de", "Kim Jong Un Moratorium KCNA Interkontinentalrakete Pjöngjang", 3, idf)
    en = _story("en", "Kim Jong Un moratorium KCNA intercontinental Pyongyang", 2, idf)
    other = _story("en", "Bank of Korea governor Lee Ju-yeol monetary easing", 2, idf)
    params = replace(sp.PARAMS, x_merge=0.2, link_min=2)
    links = story_link.merges({1: de, 2: en, 3: other}, idf, params)
    assert [(a, b) for a, b, _ in links] == [(1, 2)]  # the older id survives
    single = _story("en", "Kim Jong Un moratorium KCNA intercontinental Pyongyang", 1, idf)
    assert story_link.merges({1: de, 2: single}, idf, params) == []
    assert story_link.merges({1: de, 2: single}, idf, replace(params, link_min=1))
    # same language: the monolingual threshold decides, not x_merge
    assert story_link.merges({1: en, 2: en}, idf, replace(params, merge=1.01)) == []
    assert story_link.merges({1: en, 2: en}, idf, replace(params, merge=0.3))
