"""Enrichment of one stored article: relevance, duplicates, actors, story.

Ingest and reprocess both end here, so a re-run after the actor list or the
filters changed gives exactly what a fresh ingest would. Every step overwrites
its own fields (never appends), which makes a re-run idempotent.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import Session

from pipeline.config import ENRICH_STEPS, Settings
from pipeline.enrich.actors import Gazetteer, discover_candidates, tag
from pipeline.enrich.actors import Mention as ActorMention
from pipeline.enrich.duplicates import adopt, find_duplicate, index_article
from pipeline.enrich.fingerprints import content_hash
from pipeline.enrich.relevance import RelevanceRules, load_rules, score_relevance
from pipeline.enrich.story_assign import assign_story
from storage import repo
from storage.models import Article

ALL_STEPS = ENRICH_STEPS


@dataclass(frozen=True)
class Toolkit:
    """What enrichment needs loaded once per task: gazetteer, relevance rules, settings."""

    settings: Settings
    gazetteer: Gazetteer
    rules: RelevanceRules

    @classmethod
    def load(cls, settings: Settings) -> Toolkit:
        return cls(
            settings=settings,
            gazetteer=Gazetteer.load(settings.actors_path),
            rules=load_rules(settings.relevance_path),
        )


def enrich_article(
    session: Session,
    article: Article,
    kit: Toolkit,
    now: datetime,
    steps: Iterable[str] = ALL_STEPS,
) -> dict[str, Any]:
    """Run the enrichment steps on a flushed article (it has an id)."""
    wanted = set(steps)
    assert article.id is not None
    # A page that never arrived is kept from its feed's two-line summary: that is no text
    # to call a copy of anything, nor to join or seed a story with (shown as a teaser).
    if is_teaser(article):
        wanted -= {"dedup", "stories"}
        article.duplicate_of = article.duplicate_kind = article.duplicate_evidence = None
        article.story_id = None
    article.text_hash = content_hash(article.text)
    article.text_chars = len(article.text)
    if "relevance" in wanted:
        rel = score_relevance(article.title, article.text, kit.rules)
        article.relevance_score = round(rel.score, 3)
        article.relevant = rel.relevant
        article.relevance_evidence = [dict(e) for e in rel.evidence]
    if "dedup" in wanted or "stories" in wanted:
        # other workers' duplicate/story decisions must see this one (and v.v.)
        repo.serialize_enrichment(session)
    if "dedup" in wanted:
        session.add(article)
        session.flush()
        verdict = find_duplicate(session, article)
        article.duplicate_of = verdict.of
        article.duplicate_kind = verdict.kind
        article.duplicate_evidence = dict(verdict.evidence) if verdict.kind else None
        if verdict.supersedes is not None:
            # an original fetched after its copy becomes the family's root
            adopt(session, article, verdict)
        index_article(session, article)
    if "actors" in wanted:
        mentions = store_mentions(session, kit.gazetteer, article.id, article.text)
        if article.relevant and not article.is_seed:
            candidates = discover_candidates(kit.gazetteer, article.text, mentions)
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
            assign_story(session, article, window_days=kit.settings.story_window_days)
            if article.relevant or article.duplicate_of is not None
            else None
        )
    article.enriched_at = now
    session.add(article)
    return {
        "relevant": article.relevant,
        "duplicate": article.duplicate_kind,
        "story_id": article.story_id,
    }


def is_teaser(article: Article) -> bool:
    """Kept only from its feed summary (the page itself could not be read)."""
    return article.extraction_method == "feed-summary"


def store_mentions(
    session: Session, gazetteer: Gazetteer, article_id: int, text: str
) -> list[ActorMention]:
    """Tag ``text`` and replace the article's stored mentions (and mirror their actors)."""
    mentions = tag(gazetteer, text)
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
