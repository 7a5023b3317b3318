"""The text-only part of enrichment, computable anywhere (a pool worker, the writer).

Relevance, the MinHash fingerprint with its LSH band keys, actor mentions,
candidate names and (for a relevant article) its story features and their
term_stat keys depend on nothing but an article's title, text and language
and the loaded gazetteer and rules; computing them where the text is extracted keeps
the database writer's share of the work small. ``enrich_article`` uses a given
Analysis instead of recomputing it, and computes one itself otherwise, so the
result is the same either way.
"""

from __future__ import annotations

from dataclasses import dataclass

from pipeline.enrich.actors import ActorMatch, Gazetteer, NameCandidate, discover_candidates, tag
from pipeline.enrich.fingerprints import (
    MIN_SHINGLES,
    TextFingerprint,
    band_keys,
    content_hash,
    fingerprint,
)
from pipeline.enrich.relevance import Relevance, RelevanceRules, score_relevance
from pipeline.enrich.story_keys import stat_terms
from pipeline.enrich.story_similarity import StoryFeatures, features


@dataclass(frozen=True)
class Analysis:
    """Enrichment that depends only on an article's title and text."""

    title: str | None
    # the text itself, not only its hash: the writer checks that this analysis
    # belongs to the stored text by comparing strings (a memcmp; the same object
    # when it came with the extraction in one pickle) instead of normalising and
    # hashing the text a second time
    text: str
    text_hash: str
    relevance: Relevance
    fingerprint: TextFingerprint
    band_keys: tuple[int, ...]
    mentions: tuple[ActorMatch, ...]
    candidates: tuple[NameCandidate, ...]
    # Story features of a relevant article (only those get a story of their own),
    # with ``when`` left out (the writer knows it: publication, else the stored
    # fetch time) and the actors of ``mentions``; ``story_terms`` are their
    # term_stat keys. None for an irrelevant one: the writer computes them if it
    # ever needs them (a duplicate that is its family's root).
    lang: str | None = None
    story: StoryFeatures | None = None
    story_terms: frozenset[str] = frozenset()

    def fits(self, title: str | None, text: str) -> bool:
        """True if this analysis was made of exactly this title and text."""
        return self.title == title and self.text == text

    def story_features(self, lang: str | None, actor_ids: frozenset[str]) -> StoryFeatures | None:
        """The story features, if they were made for this language and these actors."""
        if self.story is None or self.lang != lang or self.story.actors != actor_ids:
            return None
        return self.story


def analyse(
    gazetteer: Gazetteer,
    rules: RelevanceRules,
    title: str | None,
    text: str,
    lang: str | None = None,
) -> Analysis:
    """The text-only enrichment of one article (what enrich_article would compute)."""
    rel = score_relevance(title, text, rules)
    fp = fingerprint(text)
    keys = tuple(band_keys(fp)) if fp.shingles >= MIN_SHINGLES else ()
    mentions = tuple(tag(gazetteer, text))
    candidates = tuple(discover_candidates(gazetteer, text, mentions)) if rel.relevant else ()
    story, terms = None, frozenset[str]()
    if rel.relevant:
        story = features(title, text, lang=lang, actor_ids={m.actor_id for m in mentions})
        terms = frozenset(stat_terms(story))
    return Analysis(
        title, text, content_hash(text), rel, fp, keys, mentions, candidates, lang, story, terms
    )
