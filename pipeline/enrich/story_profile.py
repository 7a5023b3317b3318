"""Story representations and article-to-story matching (pure).

A story is represented as a whole, never by one member: the centroid of its
members' tf-idf vectors (weights frozen when a member joins, pruned to the
strongest terms), how many members name each name, actor, number and title
word, its languages and its time span. A new article is scored against that
representation (``match``), so a story can only grow towards what most of its
members share: an article like the newest member but unlike the story does
not join, which rules out chaining (A like B, B like C, A unlike C).

German and English reports of one event share little vocabulary; across
languages only language-neutral evidence counts (names folded to ASCII,
gazetteer actor ids, numbers, the lexicon tokens of story_similarity) with a
threshold of its own. Thresholds are chosen by cross-validation on labelled
days (docs/dedup.md, scripts/story_cv.py).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from pipeline.enrich import story_background
from pipeline.enrich.story_keys import (
    KEY_NAMES as KEY_NAMES,
)
from pipeline.enrich.story_keys import (
    KEY_NUMBERS as KEY_NUMBERS,
)
from pipeline.enrich.story_keys import (
    KEY_TERMS as KEY_TERMS,
)
from pipeline.enrich.story_keys import (
    actor_key as actor_key,
)
from pipeline.enrich.story_keys import (
    fold_name as fold_name,
)
from pipeline.enrich.story_keys import (
    index_keys as index_keys,
)
from pipeline.enrich.story_keys import (
    key_hash as key_hash,
)
from pipeline.enrich.story_keys import (
    name_key as name_key,
)
from pipeline.enrich.story_keys import (
    number_key as number_key,
)
from pipeline.enrich.story_keys import (
    stat_terms as stat_terms,
)
from pipeline.enrich.story_similarity import StoryFeatures


@dataclass(frozen=True)
class StoryParams:
    """The few numbers that decide story membership (chosen by scripts/story_cv.py)."""

    #: score at or above which an article joins (same language as some member / none shared)
    join: float
    cross: float
    #: profile similarity at or above which a re-clustering merges two stories
    merge: float
    #: a member scoring below this against the rest of its story is split off
    split: float
    #: same-language weights: centroid cosine, names, actors, title words
    terms: float
    names: float
    actors: float
    title: float
    #: cross-language weights: folded names, actor ids, numbers
    x_names: float
    x_actors: float
    x_numbers: float
    #: score lost per day after the first since the story's newest member (floor 0.6)
    decay: float
    #: background articles assumed when few are stored (see idf_from)
    prior_docs: int
    #: cross-language weight of the centroid cosine (prefix keys meet on cognates, see term_key)
    x_terms: float = 0.0
    #: profile similarity at or above which the re-clustering links two stories in no
    #: common language (story_link.merges)
    x_merge: float = 1.0
    #: members the smaller of two stories needs before it is linked across languages: one
    #: article's cross-language evidence is as weak as any single pair's (docs/dedup.md)
    link_min: int = 1
    #: terms scored as the mean similarity to the members (average linkage) instead of the
    #: cosine with the centroid
    average: bool = False
    #: weight of the bundled background pages' counts (story_background; 0 = not used)
    background: float = 1.0


#: join, cross, the weights, x_merge, link_min, the idf prior and the background's weight:
#: chosen by event-grouped cross-validation on the labelled busy day and week
#: (scripts/story_cv.py; procedure and tables in docs/dedup.md, "How thresholds are chosen",
#: rounds 3 and 4; settings within story_cv.TIE of the best count as tied and the strictest
#: of them wins); average linkage was kept because the CV scored it better. merge
#: (same-language story merge) ties with "off" on the labelled days and split and decay
#: were not in the grid: kept from the first round.
PARAMS = StoryParams(
    join=0.3,
    cross=1.0,
    merge=0.35,
    split=0.12,
    terms=0.8,
    names=0.1,
    actors=0.0,
    title=0.1,
    x_names=0.5,
    x_actors=0.4,
    x_numbers=0.1,
    decay=0.2,
    prior_docs=300,
    x_terms=0.0,
    x_merge=0.3,
    average=True,
    background=3.0,
    link_min=2,
)
JOIN_THRESHOLD = PARAMS.join
CROSS_THRESHOLD = PARAMS.cross
MERGE_THRESHOLD = PARAMS.merge
SPLIT_THRESHOLD = PARAMS.split

#: Background articles assumed when few are stored (see idf_from).
PRIOR_DOCS = PARAMS.prior_docs
#: Strongest terms of one article's vector: the rest (boilerplate, long tails) only dilutes.
VECTOR_TERMS = 400
#: Strongest centroid terms (and names, ...) kept per story: bounds the profile's size.
CENTROID_TERMS = 300
PROFILE_ITEMS = 120
Idf = Callable[[str], float]


def idf_from(
    df: Mapping[str, int],
    docs: int,
    prior: int = PRIOR_DOCS,
    background: float = PARAMS.background,
) -> Idf:
    """Smoothed inverse document frequency over the stored articles and the bundled background.

    The background pages count as ``background`` x their number of prior
    articles with their own document frequencies: general words ("Präsident")
    weigh little from the first article on; the beat's own words ("Kim") are
    learnt from the stream, and at 100,000 stored articles the stream decides.
    """
    bg = story_background.table() if background > 0 else story_background.EMPTY
    bg_df = bg.df
    total = max(docs, prior) + background * bg.docs + 1

    # memoised: one assignment looks up the same few hundred keys ~4,000 times
    # (cProfile of bench/bench_stories.py at 1k: 14 % of the assignment time)
    @functools.lru_cache(maxsize=8192)
    def idf(term: str) -> float:
        # no "+1": a term in most stored articles weighs (almost) nothing, which
        # matters for a Korea monitor where every article names Kim and Pyongyang
        # and a prior of PRIOR_DOCS unseen articles lacking the term, so a young
        # database does not call every shared word common
        seen = df.get(term, 0) + background * bg_df.get(term, 0)
        return max(0.05, math.log(total / (seen + 0.5)))

    return idf


def vector(f: StoryFeatures, idf: Idf) -> dict[str, float]:
    """Unit-length log-tf x idf vector of an article's terms."""
    raw = _top({t: (1 + math.log(c)) * idf(t) for t, c in f.terms.items() if c > 0}, VECTOR_TERMS)
    norm = math.sqrt(sum(w * w for w in raw.values()))
    return {t: w / norm for t, w in raw.items()} if norm else {}


def _top(counts: Mapping[str, float], n: int) -> dict[str, float]:
    if len(counts) <= n:
        return dict(counts)
    return dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:n])


@dataclass(frozen=True)
class Profile:
    """A story's stored representation; ``centroid`` holds sums of member vectors."""

    members: int = 0
    centroid: Mapping[str, float] = field(default_factory=dict)
    names: Mapping[str, float] = field(default_factory=dict)
    actors: Mapping[str, float] = field(default_factory=dict)
    numbers: Mapping[str, float] = field(default_factory=dict)
    title: Mapping[str, float] = field(default_factory=dict)
    langs: Mapping[str, float] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """The profile as stored in story.profile (weights rounded: JSON, not floats' noise)."""
        return {
            "members": self.members,
            "centroid": {k: round(v, 5) for k, v in self.centroid.items()},
            "names": dict(self.names),
            "actors": dict(self.actors),
            "numbers": dict(self.numbers),
            "title": dict(self.title),
            "langs": dict(self.langs),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any] | None) -> Profile:
        """A stored profile back; an empty one for a story stored before profiles existed."""
        if not data:
            return cls()
        return cls(
            members=int(data.get("members", 0)),
            centroid=dict(data.get("centroid", {})),
            names=dict(data.get("names", {})),
            actors=dict(data.get("actors", {})),
            numbers=dict(data.get("numbers", {})),
            title=dict(data.get("title", {})),
            langs=dict(data.get("langs", {})),
        )


def _bump(counts: Mapping[str, float], items: Iterable[str], n: int) -> dict[str, float]:
    out = dict(counts)
    for item in items:
        out[item] = out.get(item, 0) + 1
    return _top(out, n)


def add(p: Profile, f: StoryFeatures, vec: Mapping[str, float]) -> Profile:
    """The profile with one more member (its vector frozen with today's idf)."""
    centroid = dict(p.centroid)
    for t, w in vec.items():
        centroid[t] = centroid.get(t, 0.0) + w
    return Profile(
        members=p.members + 1,
        centroid=_top(centroid, CENTROID_TERMS),
        names=_bump(p.names, {fold_name(n) for n in f.names}, PROFILE_ITEMS),
        actors=_bump(p.actors, f.actors, PROFILE_ITEMS),
        numbers=_bump(p.numbers, f.numbers, PROFILE_ITEMS),
        title=_bump(p.title, f.title, PROFILE_ITEMS),
        langs=_bump(p.langs, [f.lang or "?"], 16),
    )


def build(members: Iterable[tuple[StoryFeatures, Mapping[str, float]]]) -> Profile:
    """The profile of a story with these members (features and weighted vectors)."""
    p = Profile()
    for f, vec in members:
        p = add(p, f, vec)
    return p


@dataclass(frozen=True)
class Match:
    """How well an article fits a story as a whole, with the part each feature played."""

    score: float
    parts: Mapping[str, float]
    cross_language: bool
    threshold: float = PARAMS.join

    @property
    def joins(self) -> bool:
        """True if the article is close enough to the story to join it."""
        return self.score >= self.threshold


def _cos(a: Mapping[str, float], b: Mapping[str, float]) -> float:
    if not a or not b:
        return 0.0
    small, large = (a, b) if len(a) <= len(b) else (b, a)
    dot = sum(w * large[t] for t, w in small.items() if t in large)
    na = math.sqrt(sum(w * w for w in a.values()))
    nb = math.sqrt(sum(w * w for w in b.values()))
    return dot / (na * nb) if na and nb else 0.0


def _mean_dot(vec: Mapping[str, float], p: Profile) -> float:
    """Mean cosine of a unit vector with the story's members (their vectors sum to the centroid).

    Unlike the cosine with the centroid it does not grow with the story: a sum
    of many different members points at the beat's common words, which every
    new article shares a little, so a big story would draw in unrelated events.
    """
    dot = sum(w * p.centroid[t] for t, w in vec.items() if t in p.centroid)
    return dot / max(p.members, 1)


@dataclass(frozen=True)
class Side:
    """An article's idf-weighted name, actor and title sets, computed once per assignment."""

    names: Mapping[str, float]
    actors: Mapping[str, float]
    title: Mapping[str, float]


def side(f: StoryFeatures, idf: Idf) -> Side:
    """The article's half of ``match``, shared by all the candidates it is matched against."""
    names = {fold_name(n) for n in f.names}
    return Side(
        names={k: idf(k) for k in (name_key(n) for n in names)},
        actors={k: idf(k) for k in (actor_key(a) for a in f.actors)},
        title={k: idf(k) for k in f.title},
    )


def _share(
    a: Mapping[str, float], theirs: Mapping[str, float], members: int, idf: Idf, prefix: str = ""
) -> float:
    """Idf-weighted cosine of a binary set against the story's member fractions.

    ``a`` holds the article's keys with their idf; the story's keys are ``prefix`` + its
    stored keys. The same sums in the same order as ``_cos`` of the two weighted dicts, without
    building the story's (the largest part of an assignment's cost under cProfile).
    """
    if not a or not theirs:
        return 0.0
    m = max(members, 1)
    n = len(prefix)
    if len(a) <= len(theirs):
        dot = sum(
            w * (idf(t) * theirs[t[n:]] / m)
            for t, w in a.items()
            if t.startswith(prefix) and t[n:] in theirs
        )
    else:
        dot = sum(
            w * a[t]
            for t, w in ((prefix + k, idf(prefix + k) * c / m) for k, c in theirs.items())
            if t in a
        )
    na = math.sqrt(sum(w * w for w in a.values()))
    nb = math.sqrt(sum(w * w for w in (idf(prefix + k) * c / m for k, c in theirs.items())))
    return dot / (na * nb) if na and nb else 0.0


def match(
    f: StoryFeatures,
    vec: Mapping[str, float],
    p: Profile,
    idf: Idf,
    params: StoryParams = PARAMS,
    mine: Side | None = None,
) -> Match:
    """How well one article fits a story as a whole (``mine``: ``side(f, idf)`` if known)."""
    mine = mine or side(f, idf)
    members = max(p.members, 1)
    shared_numbers = sum(1 for n in f.numbers if p.numbers.get(n, 0) > 0)
    shared_actors = sum(1 for a in f.actors if p.actors.get(a, 0) > 0)
    parts = {
        "terms": _mean_dot(vec, p) if params.average else _cos(vec, p.centroid),
        "names": _share(mine.names, p.names, members, idf, "^"),  # stored folded
        "actors": _share(mine.actors, p.actors, members, idf, actor_key(""))
        * min(1.0, shared_actors / 3),
        "numbers": min(1.0, shared_numbers / 3),
        # title words weighted by their rarity: "Kim" in a title says nothing on this beat
        "title": _share(mine.title, p.title, members, idf),
    }
    cross = bool(p.langs) and (f.lang or "?") not in p.langs
    weights = weights_for(params, cross)
    if not f.actors or not p.actors:
        spare = weights.pop("actors")
        weights = {k: w / (1 - spare) for k, w in weights.items()} if spare < 1 else weights
    score = sum(w * parts[k] for k, w in weights.items())
    return Match(
        round(score, 4),
        {k: round(v, 4) for k, v in parts.items()},
        cross,
        params.cross if cross else params.join,
    )


def weights_for(params: StoryParams, cross: bool) -> dict[str, float]:
    """The feature weights of a score within one language or across languages."""
    if cross:
        # across languages the words differ; names, actor ids and numbers are what meet
        return {
            "names": params.x_names,
            "actors": params.x_actors,
            "numbers": params.x_numbers,
            "terms": params.x_terms,
        }
    return {
        "terms": params.terms,
        "names": params.names,
        "actors": params.actors,
        "title": params.title,
    }


def time_factor(days_after_last: float, params: StoryParams = PARAMS) -> float:
    """Full weight within a day of the story's newest member, fading after."""
    if days_after_last <= 1:
        return 1.0
    return max(0.6, 1 - params.decay * (days_after_last - 1))
