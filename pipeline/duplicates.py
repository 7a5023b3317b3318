"""Duplicate verdicts and story assignment over the database (the stages' glue).

``find_duplicate`` checks the three levels in order of certainty: the same
canonical URL, the same normalised text (content hash), near-duplicate text
(MinHash candidates from the persistent LSH index, verified on signatures).
The verdict points at the root of the earliest known version: seeds first
(they are what is known), then the earliest published, then the lowest id;
a seed is only ever the duplicate of another seed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from pipeline import dedup, stories
from storage import neardup, repo
from storage.models import Article, Mention, Story

#: Most already-assigned articles a new article is compared with for its story.
STORY_CANDIDATES = 400


@dataclass(frozen=True)
class Verdict:
    kind: str | None  # "url" | "exact" | "near" | None
    of: int | None  # id of the earliest known version (root of the duplicate chain)
    evidence: dict[str, object] = field(default_factory=dict)
    #: An original that arrives after its copy: the id of the stored root that
    #: this (earlier published) article replaces as the root. See ``adopt``.
    supersedes: int | None = None


NOT_A_DUPLICATE = Verdict(None, None, {})


def _order_key(a: Article) -> tuple[bool, datetime, int]:
    when = a.published_at or a.fetched_at
    return (not a.is_seed, when, a.id or 0)


def _eligible_root(session: Session, article: Article, match: Article | None) -> Article | None:
    """The match's root, unless that is the article itself or a non-seed for a seed."""
    if match is None:
        return None
    root = repo.original_of(session, match)
    if root.id == article.id or (article.is_seed and not root.is_seed):
        return None
    return root


def find_duplicate(session: Session, article: Article) -> Verdict:
    """Compare a flushed article with the seeds and all stored articles.

    When the stored match is a later version than ``article`` (a copy fetched
    before its original), the verdict says "not a duplicate" and names the
    stored root in ``supersedes``; ``adopt`` then makes ``article`` the root.
    """
    verdict = _find(session, article)
    if verdict.of is None or article.is_seed:
        return verdict
    root = session.get(Article, verdict.of)
    if root is None or root.is_seed or _order_key(root) <= _order_key(article):
        return verdict
    return Verdict(None, None, verdict.evidence, supersedes=root.id)


def adopt(session: Session, article: Article, verdict: Verdict) -> int:
    """Make ``article`` the root of ``verdict.supersedes``'s duplicate family.

    The old root and its copies now point at ``article``, each with the kind
    and evidence of its own relation to it (so ``duplicate_kind`` always
    describes the pair it names), and the family keeps the old root's story.
    Returns how many rows were re-pointed.
    """
    if verdict.supersedes is None or article.id is None:
        return 0
    old = session.get(Article, verdict.supersedes)
    if old is None:
        return 0
    family = [old, *session.exec(select(Article).where(Article.duplicate_of == old.id))]
    for member in family:
        kind, evidence = relation(article, member)
        member.duplicate_of = article.id
        member.duplicate_kind = kind
        member.duplicate_evidence = {**evidence, "superseded_by_earlier": True}
        session.add(member)
    if old.story_id is not None and article.story_id is None:
        article.story_id = old.story_id
        session.add(article)
    return len(family)


def relation(original: Article, copy: Article) -> tuple[str, dict[str, object]]:
    """How ``copy`` repeats ``original``: url, exact or near, with the evidence."""
    if original.canonical_url and original.canonical_url == copy.canonical_url:
        return "url", {"canonical_url": copy.canonical_url, "matched": original.id}
    if copy.text_hash and copy.text_hash == original.text_hash:
        return "exact", {"text_hash": copy.text_hash, "matched": original.id}
    match = dedup.compare(dedup.fingerprint(copy.text), dedup.fingerprint(original.text))
    return "near", {
        "jaccard": match.jaccard,
        "containment": match.containment,
        "matched": original.id,
    }


def _find(session: Session, article: Article) -> Verdict:
    if article.canonical_url:
        match = repo.earliest_by_canonical(session, article.canonical_url, article.id)
        root = _eligible_root(session, article, match)
        if root is not None and match is not None:
            return Verdict(
                "url", root.id, {"canonical_url": article.canonical_url, "matched": match.id}
            )
    text_hash = article.text_hash or (dedup.content_hash(article.text) if article.text else "")
    if text_hash and dedup.normalize_text(article.text):
        match = repo.earliest_by_text_hash(session, text_hash, article.id)
        root = _eligible_root(session, article, match)
        if root is not None and match is not None:
            return Verdict("exact", root.id, {"text_hash": text_hash, "matched": match.id})
    return _near_duplicate(session, article)


def _near_duplicate(session: Session, article: Article) -> Verdict:
    fp = dedup.fingerprint(article.text)
    if fp.shingles < dedup.MIN_SHINGLES:
        return NOT_A_DUPLICATE
    best: tuple[tuple[bool, datetime, int], Article, dict[str, object]] | None = None
    for cand in neardup.candidates(session, dedup.band_keys(fp), exclude=article.id):
        match = dedup.compare(fp, dedup.Fingerprint(cand.signature, cand.shingles))
        if not match.is_duplicate:
            continue
        matched = session.get(Article, cand.article_id)
        root = _eligible_root(session, article, matched)
        if root is None:
            continue
        evidence: dict[str, object] = {
            "jaccard": match.jaccard,
            "containment": match.containment,
            "shared_bands": cand.shared_bands,
            "matched": cand.article_id,
        }
        key = _order_key(root)
        if best is None or key < best[0]:
            best = (key, root, evidence)
    if best is None:
        return NOT_A_DUPLICATE
    return Verdict("near", best[1].id, best[2])


def index_article(session: Session, article: Article) -> None:
    """(Re)store the article's fingerprint and LSH band keys; idempotent."""
    assert article.id is not None, "index_article needs a flushed article"
    fp = dedup.fingerprint(article.text)
    # Texts too short to be called near duplicates get no band keys: they would
    # only add candidates that the verification rejects anyway.
    keys = dedup.band_keys(fp) if fp.shingles >= dedup.MIN_SHINGLES else []
    neardup.store(session, article.id, fp.signature, fp.shingles, keys)


# --- stories -------------------------------------------------------------------------


def _when(a: Article) -> datetime:
    return a.published_at or a.fetched_at


def _actor_ids(session: Session, ids: list[int]) -> dict[int, set[str]]:
    out: dict[int, set[str]] = {i: set() for i in ids}
    if ids:
        rows = session.exec(
            select(Mention.article_id, Mention.actor_id).where(col(Mention.article_id).in_(ids))
        ).all()
        for article_id, actor_id in rows:
            out[article_id].add(actor_id)
    return out


def _features(session: Session, a: Article, actors: set[str]) -> stories.StoryFeatures:
    # Cached on the session (a stage run handles many articles of one window in
    # one session); the key covers everything the features depend on.
    cache: dict[tuple[Any, ...], stories.StoryFeatures] = session.info.setdefault(
        "newsmon_story_features", {}
    )
    key = (a.id, a.title, a.text_hash or a.text, a.language, _when(a), frozenset(actors))
    feats = cache.get(key)
    if feats is None:
        feats = stories.features(
            a.title, a.text, lang=a.language, when=_when(a), actor_ids=sorted(actors)
        )
        if len(cache) > 20_000:  # bound memory in a long-lived session
            cache.clear()
        cache[key] = feats
    return feats


def assign_story(session: Session, article: Article, *, window_days: int = 3) -> int | None:
    """Give the article a stable story id: its original's, a matching story's, or a new one."""
    assert article.id is not None, "assign_story needs a flushed article"
    if article.duplicate_of is not None:
        root = repo.original_of(session, article)
        if root.id != article.id:
            story_id = root.story_id or assign_story(session, root, window_days=window_days)
            article.story_id = story_id
            _touch_story(session, story_id, _when(article))
            return story_id
    if article.story_id is not None and session.get(Story, article.story_id) is not None:
        return article.story_id  # stable: a re-run never moves an article

    when = _when(article)
    span = timedelta(days=window_days)
    moment = func.coalesce(Article.published_at, Article.fetched_at)
    neighbours = list(
        session.exec(
            select(Article)
            .where(
                col(Article.story_id).is_not(None),
                col(Article.id) != article.id,
                col(Article.duplicate_of).is_(None),
                moment >= when - span,
                moment <= when + span,
            )
            .order_by(col(Article.id).desc())
            .limit(STORY_CANDIDATES)
        )
    )
    actors = _actor_ids(session, [article.id, *(n.id for n in neighbours if n.id is not None)])
    mine = _features(session, article, actors[article.id])
    theirs = [(n, _features(session, n, actors[n.id or 0])) for n in neighbours]
    bg = stories.background([mine, *(f for _, f in theirs)])
    best: tuple[float, int] | None = None
    for n, f in theirs:
        sim = stories.similarity(mine, f, bg, window_days=window_days)
        if sim.same_story and n.story_id is not None and (best is None or sim.score > best[0]):
            best = (sim.score, n.story_id)
    if best is not None:
        article.story_id = best[1]
        _touch_story(session, best[1], when)
    else:
        story = Story(
            first_article_id=article.id,
            title=article.title,
            first_seen_at=when,
            last_seen_at=when,
        )
        session.add(story)
        session.flush()
        article.story_id = story.id
    session.add(article)
    return article.story_id


def _touch_story(session: Session, story_id: int | None, when: datetime) -> None:
    story = session.get(Story, story_id) if story_id is not None else None
    if story is None:
        return
    story.first_seen_at = min(story.first_seen_at, when)
    story.last_seen_at = max(story.last_seen_at, when)
    session.add(story)
