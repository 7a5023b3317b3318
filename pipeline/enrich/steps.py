"""Enrichment of one stored article: relevance, duplicates, actors, story.

Ingest and reprocess both end here, so a re-run after the actor list or the
filters changed gives exactly what a fresh ingest would. Every step overwrites
its own fields (never appends), which makes a re-run idempotent.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session

from pipeline.config import ENRICH_STEPS, Settings
from pipeline.enrich.actors import ActorMatch, Gazetteer, discover_candidates, tag
from pipeline.enrich.analysis import Analysis
from pipeline.enrich.duplicates import adopt, find_duplicate, index_article
from pipeline.enrich.fingerprints import content_hash
from pipeline.enrich.relevance import score_relevance
from pipeline.enrich.story_assign import PreFeatures, StoryRules, assign_story
from pipeline.enrich.toolkit import Toolkit
from storage import repo
from storage.models import Article
from storage.statuses import DuplicateKind

ALL_STEPS = ENRICH_STEPS
__all__ = [
    "ALL_STEPS",
    "EnrichOutcome",
    "Toolkit",
    "enrich_article",
    "store_mentions",
    "story_rules",
]


@dataclass(frozen=True)
class EnrichOutcome:
    """What enriching one article decided (the counters of the stage report come from it)."""

    relevant: bool
    duplicate: DuplicateKind | None
    story_id: int | None


def enrich_article(
    session: Session,
    article: Article,
    kit: Toolkit,
    now: datetime,
    steps: Iterable[str] = ALL_STEPS,
    pre: Analysis | None = None,
) -> EnrichOutcome:
    """Run the enrichment steps on an article (a new one is inserted here).

    Each step overwrites its own fields, so a re-run gives what a fresh ingest would.
    ``pre`` is the text-only part computed elsewhere (a pool worker); it is used only
    if it was made of this very title and text.
    """
    wanted = set(steps)
    # A page that never arrived is kept from its feed's two-line summary: that is no text
    # to call a copy of anything, nor to join or seed a story with (shown as a teaser).
    if is_teaser(article):
        wanted -= {"dedup", "stories"}
        article.duplicate_of = article.duplicate_kind = article.duplicate_evidence = None
        article.story_id = None
    if pre is not None and not pre.fits(article.title, article.text):
        pre = None
    article.text_hash = pre.text_hash if pre else content_hash(article.text)
    article.text_chars = len(article.text)
    if "relevance" in wanted:
        rel = pre.relevance if pre else score_relevance(article.title, article.text, kit.rules)
        article.relevance_score = round(rel.score, 3)
        article.relevant = rel.relevant
        article.relevance_evidence = [dict(e) for e in rel.evidence]
    # a caller's error undoes the whole transaction, so the time can be set up front:
    # a new article is then inserted with it (and the fields above) in one statement,
    # instead of inserted, updated and updated again
    article.enriched_at = now
    if article.id is None:
        session.add(article)
        session.flush()
    assert article.id is not None
    if "dedup" in wanted or "stories" in wanted:
        # other workers' duplicate/story decisions must see this one (and v.v.)
        repo.serialize_enrichment(session)
    if "dedup" in wanted:
        session.add(article)
        session.flush()
        fp = pre.fingerprint if pre else None
        verdict = find_duplicate(session, article, fp, pre.band_keys if pre else None)
        article.duplicate_of = verdict.of
        article.duplicate_kind = verdict.kind
        article.duplicate_evidence = dict(verdict.evidence) if verdict.kind else None
        if verdict.supersedes is not None:
            # an original fetched after its copy becomes the family's root
            adopt(session, article, verdict)
        index_article(session, article, fp, pre.band_keys if pre else None)
    stored_actors: frozenset[str] | None = None  # the article's actors, once stored here
    if "actors" in wanted:
        found = list(pre.mentions) if pre else None
        mentions = store_mentions(session, kit.gazetteer, article.id, article.text, found)
        stored_actors = frozenset(m.actor_id for m in mentions)
        if article.relevant and not article.is_seed:
            candidates = (
                pre.candidates
                if pre and pre.relevance.relevant
                else discover_candidates(kit.gazetteer, article.text, mentions)
            )
            repo.record_candidates(
                session,
                article.id,
                sorted({(c.name[:300], c.evidence) for c in candidates}),
                now,
            )
    if "stories" in wanted:
        session.add(article)
        session.flush()
        article.story_id = (
            assign_story(
                session,
                article,
                rules=story_rules(kit.settings),
                pre=_pre_features(pre, article, stored_actors),
            )
            if article.relevant or article.duplicate_of is not None
            else None
        )
    session.add(article)
    return EnrichOutcome(
        relevant=bool(article.relevant),
        duplicate=article.duplicate_kind,
        story_id=article.story_id,
    )


def _pre_features(
    pre: Analysis | None, article: Article, actors: frozenset[str] | None
) -> PreFeatures | None:
    """The worker's story features, if made of this article's text, language and actors."""
    # ``pre`` already fits the title and text; the actors must be those just stored
    # (a run without the actors step reads the older stored ones instead)
    if pre is None or actors is None:
        return None
    feats = pre.story_features(article.language, actors)
    return PreFeatures(feats, pre.story_terms) if feats is not None else None


def is_teaser(article: Article) -> bool:
    """Kept only from its feed summary (the page itself could not be read)."""
    return article.extraction_method == "feed-summary"


def store_mentions(
    session: Session,
    gazetteer: Gazetteer,
    article_id: int,
    text: str,
    mentions: list[ActorMatch] | None = None,
) -> list[ActorMatch]:
    """Tag ``text`` (unless tagged already) and replace the article's stored mentions."""
    mentions = tag(gazetteer, text) if mentions is None else mentions
    actors = {m.actor_id: gazetteer.actors[m.actor_id] for m in mentions}
    repo.sync_actors(session, actors.values())
    repo.replace_mentions(
        session,
        article_id,
        (
            {
                "actor_id": m.actor_id,
                "start": m.start,
                "end": m.end,
                "surface": m.surface[:300],
                "method": m.method,
            }
            for m in mentions
        ),
    )
    return mentions


def story_rules(settings: Settings) -> StoryRules:
    """The story settings in the form story assignment takes them."""
    return StoryRules(
        window_days=settings.story_window_days,
        quiet_days=settings.story_quiet_days,
        follow_up_days=settings.story_follow_up_days,
    )
