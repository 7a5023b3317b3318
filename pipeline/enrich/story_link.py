"""Story-to-story similarity and the linking of one event's stories across languages (pure).

Online, a German report and an English report of one event share too little
for one article to be matched safely against a story in the other language
(docs/dedup.md: single cross-language pairs score no higher than different
Korea events). Whole stories do better: the cognates, names and actors that
several members share add up in the centroids while each member's noise
does not. So, as Europe Media Monitor and Miranda et al. (EMNLP 2018) do,
stories are grown within a language and then linked across languages when
their profiles agree (``merges``, run by the re-clustering).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta

from pipeline.enrich.story_profile import (
    CENTROID_TERMS,
    PARAMS,
    PROFILE_ITEMS,
    Idf,
    Profile,
    StoryParams,
    _cos,
    _top,
    actor_key,
    weights_for,
)

#: Stories whose spans are further apart are not linked (the quiet time of story_assign).
LINK_GAP = timedelta(days=2)


def near(a: tuple[datetime, datetime] | None, b: tuple[datetime, datetime] | None) -> bool:
    """True if two stories' (first, last) spans come within LINK_GAP of each other."""
    if a is None or b is None:
        return True
    return max(a[0], b[0]) - min(a[1], b[1]) <= LINK_GAP


def profile_similarity(a: Profile, b: Profile, idf: Idf, params: StoryParams = PARAMS) -> float:
    """Same-event score of two whole stories (used by the re-clustering to merge)."""
    parts = {
        "terms": _mean_dot(a, b) if params.average else _cos(a.centroid, b.centroid),
        "names": _cos(
            {k: idf(f"^{k}") * v / max(a.members, 1) for k, v in a.names.items()},
            {k: idf(f"^{k}") * v / max(b.members, 1) for k, v in b.names.items()},
        ),
        "actors": _cos(
            {k: idf(actor_key(k)) * v / max(a.members, 1) for k, v in a.actors.items()},
            {k: idf(actor_key(k)) * v / max(b.members, 1) for k, v in b.actors.items()},
        ),
        "numbers": min(1.0, len(set(a.numbers) & set(b.numbers)) / 3),
        "title": _cos(
            {k: idf(k) * v / max(a.members, 1) for k, v in a.title.items()},
            {k: idf(k) * v / max(b.members, 1) for k, v in b.title.items()},
        ),
    }
    weights = weights_for(params, not set(a.langs) & set(b.langs))
    return round(sum(w * parts[k] for k, w in weights.items()), 4)


def _mean_dot(a: Profile, b: Profile) -> float:
    """Mean cosine over the pairs of members (average linkage; member vectors are unit)."""
    small, large = (a, b) if len(a.centroid) <= len(b.centroid) else (b, a)
    dot = sum(w * large.centroid[t] for t, w in small.centroid.items() if t in large.centroid)
    return dot / max(a.members * b.members, 1)


def _sum(a: Mapping[str, float], b: Mapping[str, float], n: int) -> dict[str, float]:
    out = dict(a)
    for k, v in b.items():
        out[k] = out.get(k, 0) + v
    return _top(out, n)


def combine(a: Profile, b: Profile) -> Profile:
    """The profile of the union of two stories' members."""
    return Profile(
        members=a.members + b.members,
        centroid=_sum(a.centroid, b.centroid, CENTROID_TERMS),
        names=_sum(a.names, b.names, PROFILE_ITEMS),
        actors=_sum(a.actors, b.actors, PROFILE_ITEMS),
        numbers=_sum(a.numbers, b.numbers, PROFILE_ITEMS),
        title=_sum(a.title, b.title, PROFILE_ITEMS),
        langs=_sum(a.langs, b.langs, 16),
    )


def merges(
    stories: Mapping[int, Profile],
    idf: Idf,
    params: StoryParams = PARAMS,
    pairs: Iterable[tuple[int, int]] | None = None,
) -> list[tuple[int, int, float]]:
    """Merges (older, newer, score) of stories that report one event, best pair first.

    Greedy average linkage: the pair whose score clears its threshold by the
    widest margin merges (the lower id, the older story, survives), its
    profile becomes the union, and the search repeats. Stories sharing a
    language need ``params.merge``; stories in no common language need
    ``params.x_merge`` on the language-neutral evidence and ``link_min``
    members each. ``pairs`` limits the candidates (the SQL key index);
    default all pairs.
    """
    live = dict(stories)
    cands = {
        (min(p), max(p))
        for p in (pairs if pairs is not None else itertools.combinations(live, 2))
        if p[0] != p[1]
    }
    scores: dict[tuple[int, int], float] = {}
    links: list[tuple[int, int, float]] = []
    while True:
        best: tuple[float, int, int] | None = None
        for a, b in sorted(cands):
            mono = bool(set(live[a].langs) & set(live[b].langs))
            if not mono and min(live[a].members, live[b].members) < params.link_min:
                continue
            if (a, b) not in scores:
                scores[(a, b)] = profile_similarity(live[a], live[b], idf, params)
            margin = scores[(a, b)] - (params.merge if mono else params.x_merge)
            if margin >= 0 and (best is None or margin > best[0]):
                best = (margin, a, b)
        if best is None:
            return links
        _, older, newer = best
        s = scores[(older, newer)]
        live[older] = combine(live[older], live.pop(newer))
        links.append((older, newer, s))
        redirected = {(older if x == newer else x, older if y == newer else y) for x, y in cands}
        cands = {(min(p), max(p)) for p in redirected if p[0] != p[1]}
        scores = {p: v for p, v in scores.items() if older not in p and newer not in p}
