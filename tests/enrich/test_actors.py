"""Actor tagging against the hand-annotated gold set (tests/fixtures/actors)."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest
import yaml

from pipeline.enrich.actors import Actor, ActorMatch, Gazetteer, Role, discover_candidates, tag
from pipeline.errors import ConfigError
from tests.support.paths import ROOT

FIX = ROOT / "tests" / "fixtures" / "actors"


@pytest.fixture(scope="module")
def gaz() -> Gazetteer:
    return Gazetteer.load(ROOT / "seeds" / "actors.yaml")


def _texts() -> dict[str, str]:
    gold = yaml.safe_load((FIX / "gold.yaml").read_text(encoding="utf-8"))
    out = {}
    for key in gold:
        if key.startswith("seeds/"):
            out[key] = (ROOT / key).read_text(encoding="utf-8")
        else:
            art = json.loads((FIX / "articles" / f"{key}.json").read_text(encoding="utf-8"))
            out[key] = art["title"] + "\n\n" + art["text"]
    return out


def test_gold_precision_recall_per_type(gaz: Gazetteer) -> None:
    gold = yaml.safe_load((FIX / "gold.yaml").read_text(encoding="utf-8"))
    texts = _texts()
    assert len(gold) >= 35
    tp: Counter[str] = Counter()
    fp: Counter[str] = Counter()
    fn: Counter[str] = Counter()
    for key, ids in gold.items():
        assert all(i in gaz.actors for i in ids), key
        pred = {m.actor_id for m in tag(gaz, texts[key])}
        for i in pred | set(ids):
            kind = gaz.actors[i].type
            if i in pred and i in ids:
                tp[kind] += 1
            elif i in pred:
                fp[kind] += 1
            else:
                fn[kind] += 1
    scores = {}
    for kind in ("person", "state", "organisation", "place"):
        p = tp[kind] / max(1, tp[kind] + fp[kind])
        r = tp[kind] / max(1, tp[kind] + fn[kind])
        scores[kind] = (p, r)
        print(f"{kind:13s} tp={tp[kind]:4d} fp={fp[kind]:3d} fn={fn[kind]:3d} P={p:.3f} R={r:.3f}")
    for kind in ("person", "state"):
        assert scores[kind][0] >= 0.95 and scores[kind][1] >= 0.90, (kind, scores[kind])


def test_offsets_point_at_surface(gaz: Gazetteer) -> None:
    for text in _texts().values():
        mentions = tag(gaz, text)
        assert mentions == sorted(mentions, key=lambda m: m.start)
        for m in mentions:
            assert text[m.start : m.end] == m.surface
            assert m.method in ("alias", "short-form", "title-pattern")


def _ids(gaz: Gazetteer, text: str) -> list[tuple[str, str]]:
    return [(m.surface, m.actor_id) for m in tag(gaz, text)]


def test_german_inflection_and_metonyms(gaz: Gazetteer) -> None:
    got = _ids(
        gaz,
        "Trumps Brief an Pjöngjangs Führung; Nordkoreas Raketen; die "
        "nordkoreanische Regierung; Washington schweigt.",
    )
    assert got == [
        ("Trumps", "Q22686"),
        ("Pjöngjangs", "Q423"),
        ("Nordkoreas", "Q423"),
        ("nordkoreanische", "Q423"),
        ("Washington", "Q30"),
    ]


def test_word_boundaries_and_blockers(gaz: Gazetteer) -> None:
    assert _ids(gaz, "Trumpeter, Chinarestaurant, USAF, the Washington Post, Seoul City") == []
    assert _ids(gaz, "Koreanische Einwohner in Korea") == []  # Korea alone is ambiguous


def test_hangul_particles(gaz: Gazetteer) -> None:
    got = _ids(gaz, "김정은은 북한의 지도자이며 미국과 대화했다. 한국어 수업.")
    assert got == [("김정은", "Q56226"), ("북한", "Q423"), ("미국", "Q30")]


def test_short_form_needs_full_mention(gaz: Gazetteer) -> None:
    assert _ids(gaz, "Kim said the talks failed.") == []
    got = _ids(gaz, "Kim Jong Un met Moon Jae-in. Kim said Moon was right.")
    assert got == [
        ("Kim Jong Un", "Q56226"),
        ("Moon Jae-in", "Q21001"),
        ("Kim", "Q56226"),
        ("Moon", "Q21001"),
    ]


def test_kims_are_different_people(gaz: Gazetteer) -> None:
    got = dict((s, i) for s, i in _ids(gaz, "Kim Yo Jong, Kim Jong Il und Kim Il Sung"))
    assert got == {
        "Kim Yo Jong": "person:kim-yo-jong",
        "Kim Jong Il": "person:kim-jong-il",
        "Kim Il Sung": "person:kim-il-sung",
    }
    # The short form goes to the person introduced first, not to an unknown Kim.
    got2 = _ids(gaz, "Kim Yo Jong warned. Kim added. Photo: Kim Hong-Ji")
    assert got2 == [("Kim Yo Jong", "person:kim-yo-jong"), ("Kim", "person:kim-yo-jong")]


def test_sanders_after_sarah_sanders(gaz: Gazetteer) -> None:
    got = _ids(gaz, "Sprecherin Sarah Sanders sagte ... Sanders fügte hinzu")
    assert got[-1] == ("Sanders", "person:sarah-huckabee-sanders")
    assert _ids(gaz, "Sanders said so.") == []
    got = _ids(gaz, "Bernie Sanders spoke. Later Sanders left.")
    assert got[-1] == ("Sanders", "Q359442")


def test_title_pattern_resolves_by_role(gaz: Gazetteer) -> None:
    got = tag(gaz, "Südkoreas Präsident Moon kündigte an. Prime Minister Abe agreed.")
    assert [(m.actor_id, m.method) for m in got] == [
        ("Q884", "alias"),
        ("Q21001", "title-pattern"),
        ("Q132345", "title-pattern"),
    ]
    # "Präsident Kim" fits no Kim whose role is president only ... several do: untagged.
    assert [m.actor_id for m in tag(gaz, "Präsident Lee")] == ["person:lee-jae-myung"]


def test_discovery_of_new_names(gaz: Gazetteer) -> None:
    text = (
        "Nordkoreas Außenminister Ri Yong Gil traf Vizeaußenminister Pak Myong Ho. "
        "Der Analyst Hong Min sagte, Ri Yong Gil sei erfahren."
    )
    mentions = tag(gaz, text)
    cands = discover_candidates(gaz, text, mentions)
    names = {c.name: c.evidence for c in cands}
    assert names["Ri Yong Gil"] == "title:Außenminister"
    assert "Pak Myong Ho" in names
    assert all(text[c.start : c.end] == c.name for c in cands)
    # Known actors are never candidates.
    assert not any(c.name.startswith("Nordkorea") for c in cands)


def test_from_actors_and_custom_gazetteer() -> None:
    a = Actor(
        "person:x",
        "Hong Gil-dong",
        "person",
        "KOR",
        ("Hong Gil-dong",),
        (Role("minister", None, None),),
        ("Hong",),
    )
    g = Gazetteer.from_actors([a])
    assert tag(g, "Hong Gil-dong said; Hong added.") == [
        ActorMatch("person:x", 0, 13, "Hong Gil-dong", "alias"),
        ActorMatch("person:x", 20, 24, "Hong", "short-form"),
    ]
    with pytest.raises(ConfigError):
        Gazetteer.from_actors([a, a])


@pytest.mark.parametrize(
    ("body", "line"),
    [
        ("actors:\n  - id: x\n    name: [unclosed\n", 4),
        ("actors:\n  - id: Q1\n    name: A\n    type: person\n  - id: Q2\n    type: state\n", 5),
        ("actors:\n  - id: Q1\n    name: A\n    type: robot\n", 2),
    ],
)
def test_load_errors_name_file_and_line(tmp_path: Path, body: str, line: int) -> None:
    p = tmp_path / "actors.yaml"
    p.write_text(body, encoding="utf-8")
    with pytest.raises(ConfigError) as exc:
        Gazetteer.load(p)
    assert exc.value.path == str(p) and exc.value.line == line
    assert str(p) in str(exc.value) and "\n" not in str(exc.value)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as exc:
        Gazetteer.load(tmp_path / "nope.yaml")
    assert "nope.yaml" in str(exc.value)
