"""Online story assignment over the database: which event an article reports.

A duplicate shares its original's story (an original off the beat has none, and
its copies open none for it). Any other article is scored against
the stored representations (pipeline.enrich.story_profile) of the candidate
stories that the SQL index (storage/story_index.py) returns for its most
distinctive keys, and joins the best one that it fits as a whole; otherwise
it opens a new story. A story quiet for more than ``quiet_days`` does not take
new members: an article that fits it opens a new story linked to it as a
follow-up (Story.follow_up_of and a story_event row, both exported).

Story ids are stable: a re-run never moves an article; only the re-clustering
(pipeline.enrich.story_recluster) merges or splits, and records it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from sqlmodel import Session, col, select

from pipeline.enrich import story_profile as sp
from pipeline.enrich import story_similarity as similarity
from storage import repo, story_index
from storage.models import Article, Mention, Story


@dataclass(frozen=True)
class StoryRules:
    """How long stories stay open, and how far back follow-ups are looked for."""

    window_days: int = 3
    quiet_days: float = 2.0
    follow_up_days: int = 30


def when_of(a: Article) -> datetime:
    """The moment an article counts at: its publication, else when newsmon fetched it."""
    return a.published_at or a.fetched_at


def _actor_ids(session: Session, article_id: int) -> set[str]:
    return set(
        session.exec(select(Mention.actor_id).where(col(Mention.article_id) == article_id)).all()
    )


@dataclass(frozen=True)
class PreFeatures:
    """Story features computed where the text was extracted (a pool worker), ``when`` unset.

    Made of the stored article's title, text, language and actor mentions (the
    caller checks that); ``terms`` are their term_stat keys.
    """

    features: similarity.StoryFeatures
    terms: frozenset[str]


def article_features(session: Session, article: Article) -> similarity.StoryFeatures:
    """Compute, store and return the article's features (term statistics kept in step)."""
    return _stored_features(session, article, None)[0]


#: Document frequencies of some terms and the number of articles counted.
Counts = tuple[dict[str, int], int]


def _stored_features(
    session: Session, article: Article, pre: PreFeatures | None
) -> tuple[similarity.StoryFeatures, set[str] | frozenset[str], Counts | None]:
    """Compute (or take ``pre``), store and return the article's features and term_stat keys,
    with the counts of those terms when storing them gave them for free."""
    assert article.id is not None
    if pre is not None:
        feats = replace(pre.features, when=when_of(article))
        terms: set[str] | frozenset[str] = pre.terms
    else:
        feats = similarity.features(
            article.title,
            article.text,
            lang=article.language,
            when=when_of(article),
            actor_ids=sorted(_actor_ids(session, article.id)),
        )
        terms = sp.stat_terms(feats)
    data = similarity.features_to_json(feats)
    # the usual case, an article seen for the first time: one statement on PostgreSQL
    first = story_index.put_first_features(session, article.id, data, terms)
    if first.inserted:
        return feats, terms, (first.df, first.docs)
    old = first.old
    if old is None:  # another writer stored it meanwhile: read what it stored
        old = story_index.stored_features(session, article.id)
    if old != data:
        old_terms = sp.stat_terms(similarity.features_from_json(old)) if old else set()
        story_index.put_features(session, article.id, data, terms, old_terms, first=old is None)
    return feats, terms, None


def profile_terms(*profiles: Profile) -> set[str]:
    """The term_stat keys of the stories' names and actors (their idf weighs the match)."""
    terms: set[str] = set()
    for p in profiles:
        terms |= {f"^{n}" for n in p.names} | {sp.actor_key(a) for a in p.actors}
    return terms


def load_idf(session: Session, feats: similarity.StoryFeatures, *extra: Profile) -> sp.Idf:
    """Inverse document frequencies of the article's terms (and the candidates' keys) from SQL."""
    terms = sp.stat_terms(feats) | profile_terms(*extra)
    df, docs = story_index.document_frequencies(session, terms)
    return sp.idf_from(df, docs)


Profile = sp.Profile


def assign_story(
    session: Session,
    article: Article,
    *,
    window_days: int = 3,
    rules: StoryRules | None = None,
    pre: PreFeatures | None = None,
) -> int | None:
    """Give the article a stable story id: its original's, a matching story's, or a new one.

    ``pre`` are the article's own features computed elsewhere (never its root's).
    """
    rules = rules or StoryRules(window_days=window_days)
    assert article.id is not None, "assign_story needs a flushed article"
    when = when_of(article)
    if article.duplicate_of is not None:
        root = repo.original_of(session, article)
        if root.id != article.id and (root.story_id is not None or root.relevant):
            story_id = root.story_id or assign_story(session, root, rules=rules)
            story_id = live_story(session, story_id)
            article.story_id = story_id
            _touch(session, story_id, when)
            session.add(article)
            return story_id
        # an original off the beat has no story, and its copy opens none for it; a copy
        # that is itself about Korea is scored on its own text below
        if not article.relevant:
            return None
    feats, terms, counts = _stored_features(session, article, pre)
    if article.story_id is not None and session.get(Story, article.story_id) is not None:
        article.story_id = live_story(session, article.story_id)
        return article.story_id  # stable: a re-run never moves an article

    choice = choose(session, feats, when, rules, terms=terms, counts=counts)
    if choice.join is not None:
        _join(session, choice.join, feats, choice.vector, choice.keys)
        article.story_id = choice.join.id
    else:
        story = open_story(
            session, article, feats, choice.vector, choice.keys, follow_up_of=choice.follow_up_of
        )
        if choice.follow_up_of is not None and story.id is not None:
            story_index.record(
                session, "follow_up", choice.follow_up_of, story.id, [article.id], when
            )
        article.story_id = story.id
    session.add(article)
    return article.story_id


@dataclass(frozen=True)
class Choice:
    """Where an article goes: the story it joins, or a new one (maybe a follow-up of an old)."""

    join: Story | None
    follow_up_of: int | None
    vector: Mapping[str, float]
    keys: list[int]
    score: float = 0.0


def choose(
    session: Session,
    feats: similarity.StoryFeatures,
    when: datetime,
    rules: StoryRules,
    *,
    exclude: tuple[int, ...] = (),
    terms: set[str] | frozenset[str] | None = None,
    counts: Counts | None = None,
) -> Choice:
    """The live story the features fit best, or the quiet story they follow up.

    ``terms`` are ``sp.stat_terms(feats)`` and ``counts`` their document frequencies, when the
    caller has them already.
    """
    df_terms = sp.stat_terms(feats) if terms is None else terms
    df, docs = counts if counts is not None else story_index.document_frequencies(session, df_terms)
    idf = sp.idf_from(df, docs)
    vec = sp.vector(feats, idf)
    keys = {k: sp.key_hash(k) for k in sp.index_keys(feats, vec, idf)}
    found = story_index.candidates(
        session,
        story_index.probe_keys(keys, df, docs),
        since=when - timedelta(days=rules.follow_up_days),
        exclude=exclude,
    )
    profiles = [(s, sp.Profile.from_json(s.profile)) for s in found]
    if profiles:
        # only the candidates' keys not looked up yet: the article's came with the first call
        # and nothing was written since, so the merged counts equal one call for all of them
        more, _ = story_index.document_frequencies(
            session, profile_terms(*(p for _, p in profiles)) - df_terms
        )
        idf = sp.idf_from(df | more, docs)
    best: tuple[float, Story] | None = None
    follow: tuple[float, Story] | None = None
    mine = sp.side(feats, idf)
    for story, profile in profiles:
        m = sp.match(feats, vec, profile, idf, mine=mine)
        gap_days = (when - story.last_seen_at).total_seconds() / 86400
        if gap_days > rules.quiet_days:
            if m.joins and (follow is None or m.score > follow[0]):
                follow = (m.score, story)
            continue
        if when < story.first_seen_at - timedelta(days=rules.window_days):
            continue  # an old article reaching a much newer story: not the same event
        score = m.score * sp.time_factor(max(gap_days, 0.0))
        if score >= m.threshold and (best is None or score > best[0]):
            best = (score, story)
    hashes = sorted(set(keys.values()))
    if best is not None:
        return Choice(best[1], None, vec, hashes, best[0])
    return Choice(None, follow[1].id if follow else None, vec, hashes, follow[0] if follow else 0)


def open_story(
    session: Session,
    article: Article,
    feats: similarity.StoryFeatures,
    vec: Mapping[str, float],
    keys: list[int],
    *,
    follow_up_of: int | None = None,
) -> Story:
    """Open a new story for the article, with its profile and index keys stored."""
    when = when_of(article)
    story = Story(
        first_article_id=article.id,
        title=article.title,
        first_seen_at=when,
        last_seen_at=when,
        members=1,
        profile=sp.add(sp.Profile(), feats, vec).to_json(),
        follow_up_of=follow_up_of,
    )
    story_index.add_story(session, story, keys)
    return story


def _join(
    session: Session,
    story: Story,
    feats: similarity.StoryFeatures,
    vec: Mapping[str, float],
    keys: list[int],
) -> None:
    profile = sp.add(sp.Profile.from_json(story.profile), feats, vec)
    story.profile = profile.to_json()
    story.members = profile.members
    if feats.when is not None:
        story.first_seen_at = min(story.first_seen_at, feats.when)
        story.last_seen_at = max(story.last_seen_at, feats.when)
    session.add(story)
    assert story.id is not None
    story_index.add_keys(session, story.id, keys)


def live_story(session: Session, story_id: int | None) -> int | None:
    """Follow merged_into to the story that survived (merges never form cycles)."""
    seen: set[int] = set()
    while story_id is not None and story_id not in seen:
        seen.add(story_id)
        story = session.get(Story, story_id)
        if story is None or story.merged_into is None:
            return story_id
        story_id = story.merged_into
    return story_id


def _touch(session: Session, story_id: int | None, when: datetime) -> None:
    story = session.get(Story, story_id) if story_id is not None else None
    if story is None:
        return
    story.first_seen_at = min(story.first_seen_at, when)
    story.last_seen_at = max(story.last_seen_at, when)
    session.add(story)


def features_json(feats: similarity.StoryFeatures) -> dict[str, Any]:
    """The article's story features as stored (story_features.data)."""
    return similarity.features_to_json(feats)
