"""Duplicate verdicts over the database: is this article already known?

``find_duplicate`` checks the three levels in order of certainty: the same
canonical URL, the same normalised text (content hash), near-duplicate text
(MinHash candidates from the persistent LSH index, verified on signatures).
The verdict points at the root of the earliest known version: seeds first
(they are what is known), then the earliest published, then the lowest id;
a seed is only ever the duplicate of another seed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlmodel import Session, select

from pipeline.enrich import fingerprints as dedup
from storage import neardup, repo
from storage.models import Article
from storage.statuses import DuplicateKind


@dataclass(frozen=True)
class Verdict:
    """Outcome of ``find_duplicate``: the kind of duplicate and its root, or not a duplicate."""

    kind: DuplicateKind | None
    of: int | None  # id of the earliest known version (root of the duplicate chain)
    evidence: dict[str, object] = field(default_factory=dict)
    #: An original that arrives after its copy: the id of the stored root that
    #: this (earlier published) article replaces as the root. See ``adopt``.
    supersedes: int | None = None


NOT_A_DUPLICATE = Verdict(None, None, {})
#: The content hash of a text with no words (nothing to be an exact duplicate of).
_NO_WORDS = dedup.content_hash("")


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


def find_duplicate(
    session: Session,
    article: Article,
    fp: dedup.TextFingerprint | None = None,
    keys: Sequence[int] | None = None,
) -> Verdict:
    """Compare a flushed article with the seeds and all stored articles.

    ``fp`` is the fingerprint of the article's text when already computed (a pool
    worker's analysis), ``keys`` its band keys.

    When the stored match is a later version than ``article`` (a copy fetched
    before its original), the verdict says "not a duplicate" and names the
    stored root in ``supersedes``; ``adopt`` then makes ``article`` the root.
    """
    verdict = _find(session, article, fp, keys)
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


def relation(original: Article, copy: Article) -> tuple[DuplicateKind, dict[str, object]]:
    """How ``copy`` repeats ``original``: url, exact or near, with the evidence."""
    if original.canonical_url and original.canonical_url == copy.canonical_url:
        return DuplicateKind.URL, {"canonical_url": copy.canonical_url, "matched": original.id}
    if copy.text_hash and copy.text_hash == original.text_hash:
        return DuplicateKind.EXACT, {"text_hash": copy.text_hash, "matched": original.id}
    match = dedup.compare(dedup.fingerprint(copy.text), dedup.fingerprint(original.text))
    return DuplicateKind.NEAR, {
        "jaccard": match.jaccard,
        "containment": match.containment,
        "matched": original.id,
    }


def _find(
    session: Session,
    article: Article,
    fp: dedup.TextFingerprint | None,
    keys: Sequence[int] | None,
) -> Verdict:
    if article.canonical_url:
        match = repo.earliest_by_canonical(session, article.canonical_url, article.id)
        root = _eligible_root(session, article, match)
        if root is not None and match is not None:
            return Verdict(
                DuplicateKind.URL,
                root.id,
                {"canonical_url": article.canonical_url, "matched": match.id},
            )
    text_hash = article.text_hash or (dedup.content_hash(article.text) if article.text else "")
    # the hash is of the normalised text: it says whether that has any words, without
    # normalising the text again
    if text_hash and text_hash != _NO_WORDS:
        match = repo.earliest_by_text_hash(session, text_hash, article.id)
        root = _eligible_root(session, article, match)
        if root is not None and match is not None:
            return Verdict(
                DuplicateKind.EXACT, root.id, {"text_hash": text_hash, "matched": match.id}
            )
    return _near_duplicate(session, article, fp, keys)


def _near_duplicate(
    session: Session,
    article: Article,
    fp: dedup.TextFingerprint | None,
    keys: Sequence[int] | None,
) -> Verdict:
    # a fingerprint computed by a pool worker from this same text, or computed here
    if fp is None:
        fp, keys = dedup.fingerprint(article.text), None
    if fp.shingles < dedup.MIN_SHINGLES:
        return NOT_A_DUPLICATE
    if keys is None:
        keys = dedup.band_keys(fp)
    best: tuple[tuple[bool, datetime, int], Article, dict[str, object]] | None = None
    for cand in neardup.candidates(session, keys, exclude=article.id):
        match = dedup.compare(fp, dedup.TextFingerprint(cand.signature, cand.shingles))
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
    return Verdict(DuplicateKind.NEAR, best[1].id, best[2])


def index_article(
    session: Session,
    article: Article,
    fp: dedup.TextFingerprint | None = None,
    keys: Sequence[int] | None = None,
) -> None:
    """(Re)store the article's fingerprint and LSH band keys; idempotent.

    ``keys`` are the band keys of ``fp`` when already computed (a pool worker's analysis).
    """
    assert article.id is not None, "index_article needs a flushed article"
    if fp is None:
        fp, keys = dedup.fingerprint(article.text), None
    if keys is None:
        # Texts too short to be called near duplicates get no band keys: they would
        # only add candidates that the verification rejects anyway.
        keys = dedup.band_keys(fp) if fp.shingles >= dedup.MIN_SHINGLES else []
    neardup.store(session, article.id, fp.signature, fp.shingles, keys)
