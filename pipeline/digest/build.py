"""Choose and rank one day's stories: plain dataclasses in, plain dataclasses out.

Nothing here touches the database, the clock or the network; pipeline.digest.collect
collects a :class:`DayInput` and pipeline.digest.render turns the resulting
:class:`DailyDigest` into text and HTML. Ranking is deliberately explainable
(docs/digest.md): a story's score is its number of independent sources, plus
half a point for the prominence of its actors, plus a quarter point for recency.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime

from pipeline.digest.model import (
    ActorCount,
    ActorLine,
    ActorRef,
    ArticleItem,
    DailyDigest,
    DayInput,
    KnownRef,
    SourceLink,
    StoryBlock,
)

#: Sources shown by name per story (one per independent outlet); the rest are "n more".
TOP_SOURCES = 4
#: Score factor of a story that continues one already reported (novelty first).
FOLLOW_UP_FACTOR = 0.8
#: How many stories, actors and candidates the digest shows at most.
MAX_STORIES = 25
MAX_ACTORS = 10
MAX_CANDIDATES = 10
#: A lead is two or three sentences, never longer than this.
LEAD_MAX_CHARS = 480


# --- building ----------------------------------------------------------------------


def build_digest(data: DayInput, *, language: str = "de") -> DailyDigest:
    """Group the day's articles into stories, rank them and add the side sections."""
    by_id = {a.id: a for a in data.articles}
    groups: dict[str, list[ArticleItem]] = defaultdict(list)
    for art in data.articles:
        groups[_group_key(art, by_id)].append(art)

    prominence = _prominence(data.actors)
    blocks: list[StoryBlock] = []
    repeats = 0
    for key, members in groups.items():
        primary = [a for a in members if a.duplicate_of is None]
        if not primary:
            # Only copies of articles from before the day: nothing new to report.
            repeats += len(members)
            continue
        blocks.append(_story_block(key, members, primary, data, prominence, language))
    blocks.sort(key=lambda b: (-b.score, b.latest, b.key))
    blocks = blocks[:MAX_STORIES]
    stories = tuple(b for b in blocks if b.follow_up is None)
    follow_ups = tuple(b for b in blocks if b.follow_up is not None)
    links = [x for b in blocks for x in (*b.sources, *b.also_ran)]
    shown = len(links)
    return DailyDigest(
        day=data.day,
        timezone=data.timezone,
        stories=stories,
        follow_ups=follow_ups,
        actors=actor_lines(data.actors),
        candidates=tuple(sorted(data.candidates, key=lambda c: (-c.mentions, c.name)))[
            :MAX_CANDIDATES
        ],
        health=data.health,
        articles=shown,
        repeats_hidden=repeats,
        baseline_days=data.baseline_days,
        teasers=sum(1 for x in links if x.teaser),
    )


def _group_key(art: ArticleItem, by_id: Mapping[int, ArticleItem]) -> str:
    # A copy joins its original's group when the original is part of the day.
    root = _root(art, by_id)
    if root.story_id is not None:
        return f"s{root.story_id}"
    if art.story_id is not None:
        return f"s{art.story_id}"
    return f"a{root.id}"


def _root(art: ArticleItem, by_id: Mapping[int, ArticleItem]) -> ArticleItem:
    seen = {art.id}
    cur = art
    while cur.duplicate_of is not None and cur.duplicate_of in by_id:
        nxt = by_id[cur.duplicate_of]
        if nxt.id in seen:
            break
        seen.add(nxt.id)
        cur = nxt
    return cur


def _independence_key(art: ArticleItem) -> str:
    # Ten outlets printing the same agency copy are one source, not ten.
    if art.wire_agencies:
        return "wire:" + art.wire_agencies[0].lower()
    return "outlet:" + art.source.lower()


def _prominence(actors: Iterable[ActorCount]) -> dict[str, float]:
    counts = {a.actor.id: a.today for a in actors}
    top = max(counts.values(), default=0)
    return {k: v / top for k, v in counts.items()} if top else {}


def _story_block(
    key: str,
    members: Sequence[ArticleItem],
    primary: Sequence[ArticleItem],
    data: DayInput,
    prominence: Mapping[str, float],
    language: str,
) -> StoryBlock:
    rep = _representative(primary, language)
    primary_sorted = _order_sources(primary)
    top = _top_sources(primary_sorted)
    copies = sorted((a for a in members if a not in primary), key=lambda a: (a.when, a.id))
    independent = len({_independence_key(a) for a in primary})
    actor_hits: Counter[str] = Counter()
    actor_ref: dict[str, ActorRef] = {}
    for a in members:
        for ref in a.actors:
            actor_hits[ref.id] += 1
            actor_ref.setdefault(ref.id, ref)
    actors = tuple(actor_ref[i] for i, _ in actor_hits.most_common(6))
    prom = max((prominence.get(a.id, 0.0) for a in actors), default=0.0)
    latest = max(a.when for a in members)
    span = (data.end - data.start).total_seconds() or 1.0
    recency = min(1.0, max(0.0, (latest - data.start).total_seconds() / span))
    follow_up = _known_for(members, data)
    # novelty: a development of a story already told ranks below an equally sourced new one
    score = (independent + 0.5 * prom + 0.25 * recency) * (FOLLOW_UP_FACTOR if follow_up else 1.0)
    return StoryBlock(
        key=key,
        headline=clean_line(rep.title) or rep.url,
        lead=lead_of(rep),
        actors=actors,
        sources=tuple(_link(a) for a in primary_sorted),
        also_ran=tuple(_link(a, kind=a.duplicate_kind or "wire") for a in copies),
        independent_sources=independent,
        score=round(score, 4),
        latest=latest,
        follow_up=follow_up,
        top_sources=tuple(_link(a) for a in top),
        more_sources=len(primary_sorted) - len(top),
        representative_id=rep.id,
    )


def _order_sources(primary: Sequence[ArticleItem]) -> list[ArticleItem]:
    """Independent outlets first (the earliest article of each), then the rest by time."""
    by_time = sorted(primary, key=lambda a: (a.when, a.id))
    seen: set[str] = set()
    first: list[ArticleItem] = []
    rest: list[ArticleItem] = []
    for a in by_time:
        key = _independence_key(a)
        (rest if key in seen else first).append(a)
        seen.add(key)
    # agency copies rank after original reporting among the independent ones
    first.sort(key=lambda a: (bool(a.wire_agencies), a.when, a.id))
    return first + rest


def _top_sources(ordered: Sequence[ArticleItem]) -> list[ArticleItem]:
    seen: set[str] = set()
    out: list[ArticleItem] = []
    for a in ordered:
        key = _independence_key(a)
        if key not in seen and len(out) < TOP_SOURCES:
            out.append(a)
            seen.add(key)
    return out


def _words(a: ArticleItem) -> frozenset[str]:
    return frozenset(w for w in re.findall(r"\w{4,}", f"{a.title} {lead_of(a)}".lower()))


def _representative(primary: Sequence[ArticleItem], language: str) -> ArticleItem:
    """The most central member (its headline and lead share most with the others).

    In the digest's language when there is one; an original report before an
    agency copy; then the earliest.
    """
    words = {a.id: _words(a) for a in primary}

    def centrality(a: ArticleItem) -> float:
        mine = words[a.id]
        # within its language: word overlap across languages says nothing
        others = [words[b.id] for b in primary if b.id != a.id and b.language == a.language]
        if not mine or not others:
            return 0.0
        return sum(len(mine & w) / len(mine | w) for w in others if w) / len(others)

    def rank(a: ArticleItem) -> tuple[int, int, float, float, datetime, int]:
        return (
            0 if (a.language or "").startswith(language) else 1,
            0 if a.title.strip() else 1,
            -round(centrality(a), 3),
            -a.relevance_score,
            a.when,
            a.id,
        )

    return min(primary, key=rank)


def _known_for(members: Sequence[ArticleItem], data: DayInput) -> KnownRef | None:
    refs: list[KnownRef] = []
    for a in members:
        if a.story_id is not None and a.story_id in data.known_stories:
            refs.append(data.known_stories[a.story_id])
        if a.duplicate_of is not None and a.duplicate_of in data.known_articles:
            refs.append(data.known_articles[a.duplicate_of])
    return min(refs, key=lambda r: (r.when, r.article_id)) if refs else None


def _link(a: ArticleItem, kind: str | None = None) -> SourceLink:
    return SourceLink(
        outlet=clean_line(a.source) or "?",
        when=a.when,
        url=a.url,
        title=clean_line(a.title),
        language=a.language,
        kind=kind,
        article_id=a.id,
        teaser=a.teaser,
    )


# --- actors ---------------------------------------------------------------------------


def trend_of(today: int, baseline: float) -> str:
    """Today's count against the usual level; add-one smoothing keeps small numbers calm."""
    if baseline == 0:
        return "new" if today > 0 else "steady"
    ratio = (today + 1) / (baseline + 1)
    if ratio >= 3 and today >= 3:
        return "spike"
    if ratio >= 1.5:
        return "up"
    if ratio <= 0.5:
        return "down"
    return "steady"


def actor_lines(counts: Iterable[ActorCount]) -> tuple[ActorLine, ...]:
    """The actors named today, most articles first, ties by name; at most MAX_ACTORS."""
    present = [c for c in counts if c.today > 0]
    present.sort(key=lambda c: (-c.today, c.actor.name))
    return tuple(
        ActorLine(c.actor, c.today, round(c.baseline, 2), trend_of(c.today, c.baseline))
        for c in present[:MAX_ACTORS]
    )


# --- text helpers -----------------------------------------------------------------------

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2066-\u2069\ufeff]+")
_SPACES = re.compile(r"\s+")
_SEED_DATELINE = re.compile(r"^\s*date \d{4}-\d{2}\b[^\n.]*?(?=\s[A-ZÄÖÜ\"„]|\n|$)")
_SENTENCE_END = re.compile(r"(?:(?<=[.!?…])|(?<=[.!?…][\"“”'»]))\s+(?=[\"„“«'(]?[A-ZÄÖÜÀ-Þ0-9])")
_ABBREV = re.compile(
    r"(?:\b(?:Dr|Prof|Mr|Mrs|Ms|St|Nr|Jan|Feb|Aug|Sept|Okt|Nov|Dez|bzw|z\.B|u\.a|"
    r"etc|ca|vgl|Dec|Oct|Sep|Mar|Apr|Jun|Jul|Gov|Sen|Rep|Inc|Corp|Jr|vs|U\.S|U\.N|N|S))\.$|(?<![\d.])\d{1,2}\.$"
)
_ENDS_SENTENCE = re.compile(r"[.!?…][\"“”'»]?$")
_LAST_STOP = re.compile(r"[.!?…][\"“”'»]?(?=\s|$|[A-ZÄÖÜ])")
_CAPTION = re.compile(r"^\(?(?:Foto|Photo|Bild|Image)\b.*|^.*\((?:Foto|Photo):[^)]*\)$", re.I)


def clean_line(value: str | None, max_len: int = 300) -> str:
    """One line of display text: control characters and runs of space collapsed, capped."""
    if not value:
        return ""
    out = _SPACES.sub(" ", _CONTROL.sub(" ", value)).strip()
    if len(out) > max_len:
        out = out[: max_len - 1].rstrip() + "…"
    return out


def sentences(text: str) -> list[str]:
    """Split prose into sentences; abbreviations like "U.S." do not end one."""
    parts = _SENTENCE_END.split(text)
    out: list[str] = []
    for part in parts:
        if out and _ABBREV.search(out[-1]):
            out[-1] = f"{out[-1]} {part}"
        else:
            out.append(part)
    return [p.strip() for p in out if p.strip()]


def lead_of(a: ArticleItem, max_chars: int = LEAD_MAX_CHARS) -> str:
    """Two or three sentences of lead from the text (or description / feed summary)."""
    for source in (a.text, a.description or "", a.feed_summary or ""):
        prose = _prose(source)
        if not prose:
            continue
        picked: list[str] = []
        for sent in sentences(prose):
            if picked and len(" ".join([*picked, sent])) > max_chars:
                break
            picked.append(sent)
            if len(picked) == 3:
                break
        lead = clean_line(" ".join(picked), max_len=max_chars)
        if lead:
            return lead
    return ""


def _prose(text: str) -> str:
    """Paragraphs that read as running text: datelines, captions and menu bits dropped."""
    text = _SEED_DATELINE.sub("", text, count=1)
    keep: list[str] = []
    for para in re.split(r"\n\s*\n|\n", text):
        para = clean_line(para, max_len=10_000).lstrip("•·-–* ").strip()
        if len(para) < 60 or _CAPTION.match(para):
            continue
        if not _ENDS_SENTENCE.search(para):
            # A cut-off paragraph still has whole sentences before the cut.
            ends = [m.end() for m in _LAST_STOP.finditer(para)]
            ends = [e for e in ends if not _ABBREV.search(para[:e].rstrip("\"“”'»"))]
            if not ends or ends[-1] < 60:
                continue
            para = para[: ends[-1]]
        keep.append(para)
        if sum(len(p) for p in keep) > 2000:
            break
    return " ".join(keep)


def change_factor(today: int, baseline: float) -> float:
    """today / usual level with add-one smoothing (shown as "×n")."""
    return round((today + 1) / (max(baseline, 0.0) + 1), 1)
