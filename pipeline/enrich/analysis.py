"""The text-only part of enrichment, computable anywhere (a pool worker, the writer).

Relevance, the MinHash fingerprint with its LSH band keys, actor mentions and
candidate names depend on nothing but an article's title and text and the
loaded gazetteer and rules; computing them where the text is extracted keeps
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

    def fits(self, title: str | None, text: str) -> bool:
        """True if this analysis was made of exactly this title and text."""
        return self.title == title and self.text == text


def analyse(gazetteer: Gazetteer, rules: RelevanceRules, title: str | None, text: str) -> Analysis:
    """The text-only enrichment of one article (what enrich_article would compute)."""
    rel = score_relevance(title, text, rules)
    fp = fingerprint(text)
    keys = tuple(band_keys(fp)) if fp.shingles >= MIN_SHINGLES else ()
    mentions = tuple(tag(gazetteer, text))
    candidates = tuple(discover_candidates(gazetteer, text, mentions)) if rel.relevant else ()
    return Analysis(title, text, content_hash(text), rel, fp, keys, mentions, candidates)
