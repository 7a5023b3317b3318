"""Relevance scorer measured on labelled real articles (fixtures/relevance, see its README)."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from pipeline.enrich.relevance import RelevanceRules, load_rules, score_relevance
from pipeline.errors import ConfigError
from tests.support.paths import FIXTURES as FIXTURES_DIR
from tests.support.paths import ROOT, SEEDS

FIXTURES = FIXTURES_DIR / "relevance"


@pytest.fixture(scope="module")
def rules() -> RelevanceRules:
    return load_rules(ROOT / "seeds" / "relevance.yaml")


def labelled() -> list[tuple[dict[str, str], dict[str, str]]]:
    with (FIXTURES / "articles.jsonl").open(encoding="utf-8") as fh:
        articles = {a["id"]: a for a in map(json.loads, fh)}
    with (FIXTURES / "labels.csv").open(encoding="utf-8", newline="") as fh:
        return [(row, articles[row["id"]]) for row in csv.DictReader(fh)]


def test_precision_and_recall_on_labelled_articles(rules: RelevanceRules) -> None:
    tp = fp = fn = tn = 0
    for row, article in labelled():
        result = score_relevance(article["title"], article["text"], rules)
        truth = row["label"] == "1"
        if result.relevant and truth:
            tp += 1
        elif result.relevant:
            fp += 1
            print(f"false positive {row['id']} score={result.score}: {row['reason']}")
        elif truth:
            fn += 1
            print(f"false negative {row['id']} score={result.score}: {row['reason']}")
        else:
            tn += 1
    precision, recall = tp / (tp + fp), tp / (tp + fn)
    print(
        f"relevance: precision {precision:.3f} recall {recall:.3f} "
        f"(tp={tp} fp={fp} fn={fn} tn={tn})"
    )
    assert tp + fn >= 40 and fp + tn >= 150
    assert precision >= 0.95
    assert recall >= 0.90


def test_incidental_korea_pages_rejected(rules: RelevanceRules) -> None:
    incidental = [
        a for row, a in labelled() if "incidental" in row["reason"] or "passing" in row["reason"]
    ]
    assert len(incidental) >= 7
    for article in incidental:
        assert not score_relevance(article["title"], article["text"], rules).relevant, article["id"]


def test_passing_mention_is_not_enough_but_title_is_weighted(rules: RelevanceRules) -> None:
    control = next(a for row, a in labelled() if row["id"] == "1483994104")  # Bolsonaro, no Korea
    body = control["text"]
    passing = body + "\nDie Wirtschaft wuchs schneller, wie in Südkorea."
    assert not score_relevance(control["title"], passing, rules).relevant
    in_title = score_relevance("Nordkorea: Kim Jong Un droht erneut", passing, rules)
    in_body = score_relevance(control["title"], passing + " Nordkorea. Kim Jong Un.", rules)
    assert in_title.score > in_body.score


def test_inflections_and_languages(rules: RelevanceRules) -> None:
    german = "Die nordkoreanische Führung in Pjöngjang und Nordkoreas Machthaber Kim Jong-un."
    result = score_relevance("Gipfel in Panmunjom", german, rules)
    terms = {(e["term"], e["field"]) for e in result.evidence}
    assert ("North Korea", "text") in terms and ("Pyongyang", "text") in terms
    assert ("Kim Jong Un", "text") in terms and ("DMZ / Panmunjom", "title") in terms
    assert result.relevant
    korean = score_relevance(
        "북한, 동해상으로 탄도미사일 발사",
        "북한이 평양 인근에서 미사일을 발사했다고 합참이 밝혔다.",
        rules,
    )
    assert korean.relevant
    english = score_relevance(
        None, "Seoul said on Tuesday that North Korea fired a missile. " * 3, rules
    )
    assert english.relevant


def test_north_korea_is_one_match_not_also_korea(rules: RelevanceRules) -> None:
    result = score_relevance(None, "North Korea", rules)
    assert [
        (e["term"], e["field"], e["count"]) for e in result.evidence if e["field"] == "text"
    ] == [("North Korea", "text", 1)]


def test_evidence_is_json_serialisable(rules: RelevanceRules) -> None:
    result = score_relevance("Nordkorea testet Rakete", "Pjöngjang feuerte eine Rakete ab.", rules)
    decoded = json.loads(json.dumps(list(result.evidence)))
    assert decoded and set(decoded[0]) >= {"term", "field", "count", "weight"}


def test_malformed_rules(tmp_path: Path) -> None:
    bad = tmp_path / "relevance.yaml"
    bad.write_text("threshold: 6\nterms:\n  - term: x\n    weight: [1\n", encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_rules(bad)
    assert info.value.path == str(bad) and info.value.line is not None
    bad.write_text("threshold: 6\nterms: []\n", encoding="utf-8")
    with pytest.raises(ConfigError):
        load_rules(bad)
    with pytest.raises(ConfigError):
        load_rules(tmp_path / "missing.yaml")


def test_prefiltered_matching_equals_the_full_regex_scan() -> None:
    """The Aho-Corasick prefilter is an optimisation only: same matches as finditer."""
    from pipeline.enrich.relevance import _matches, _term_of

    rules = load_rules(SEEDS / "relevance.yaml")
    assert rules.prefixes is not None  # otherwise this test proves nothing
    texts = [
        row.get("title") or "" for row in map(json.loads, (FIXTURES / "articles.jsonl").open())
    ]
    texts += [
        row.get("text") or "" for row in map(json.loads, (FIXTURES / "articles.jsonl").open())
    ]
    texts += ["NORDKOREA und N. Korea, S.Korea, Nordkoreas; 북한의 DPRK-Führung", "İstanbul Korea"]
    for text in texts:
        full = [(m.start(), _term_of(m, rules)) for m in rules.matcher.finditer(text)]
        assert _matches(text, rules) == full
