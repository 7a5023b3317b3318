"""Labelled story days (tests/fixtures/stories) run through the real assignment, and scores.

Used by tests/enrich/test_story_days.py and scripts/story_cv.py. Each article
of the fixture gets a timestamp (busy day: spread over 20 hours in a fixed
shuffled order; week: each event on its labelled days), goes through actor
tagging, duplicate detection and story assignment exactly as enrich_article
runs them, then the window is re-clustered.
"""

from __future__ import annotations

import csv
import functools
import json
import random
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import combinations
from typing import Any

from sqlalchemy.engine import Engine

from pipeline.enrich import duplicates, story_assign, story_recluster
from pipeline.enrich.actors import Gazetteer
from pipeline.enrich.steps import store_mentions
from storage.db import make_engine, migrate, session_scope
from storage.models import Article, Story
from tests.support.paths import FIXTURES, SEEDS

START = datetime(2020, 1, 1, 4, tzinfo=UTC)


@functools.cache
def gazetteer() -> Gazetteer:
    return Gazetteer.load(SEEDS / "actors.yaml")


def fixture(name: str = "events.json") -> dict[str, Any]:
    """A labelled day of tests/fixtures/stories: the Korea day (default) or controls.json."""
    data: dict[str, Any] = json.loads((FIXTURES / "stories" / name).read_text("utf-8"))
    return data


def labels(fx: Mapping[str, Any]) -> tuple[dict[str, str], list[tuple[str, str]]]:
    """A labelled day's gold (article id -> event) and its ambiguous event pairs."""
    gold = {a["id"]: a["event"] for a in fx["articles"]}
    amb = [(x["events"][0], x["events"][1]) for x in fx.get("ambiguous", ())]
    return gold, amb


def texts() -> dict[str, dict[str, Any]]:
    rows = json.loads((FIXTURES / "dedup" / "articles.json").read_text("utf-8"))
    return {d["id"]: d for d in rows}


def feed_day(fx: Mapping[str, Any]) -> tuple[dict[str, dict[str, Any]], dict[str, datetime]]:
    """The loaded feedday.json's docs (id -> title, text, lang) and published times."""
    arts = fx["articles"]
    docs = {a["id"]: a for a in arts}
    when = {a["id"]: datetime.fromisoformat(a["published"]).astimezone(UTC) for a in arts}
    return docs, when


def busy_day_times(ids: list[str]) -> dict[str, datetime]:
    order = random.Random(13).sample(sorted(ids), len(ids))
    step = timedelta(hours=20) / max(len(order), 1)
    return {key: START + i * step for i, key in enumerate(order)}


def week_times(events: Mapping[str, str], days: Mapping[str, list[int]]) -> dict[str, datetime]:
    by_event: dict[str, list[str]] = {}
    for key in sorted(events):
        by_event.setdefault(events[key], []).append(key)
    out: dict[str, datetime] = {}
    for event, keys in by_event.items():
        first, last = days[event]
        span = timedelta(days=last - first, hours=12)
        for i, key in enumerate(keys):
            out[key] = START + timedelta(days=first) + span * i / max(len(keys), 1)
    return out


def semeval_pairs() -> list[tuple[str, str, str, bool]]:
    """SemEval pairs (a, b, language group, same story); "in between" ratings left out."""
    out = []
    for r in csv.DictReader((FIXTURES / "dedup" / "pairs.csv").open(encoding="utf-8")):
        overall = float(r["Overall"])
        if 1.5 < overall < 3:
            continue
        a, b = (f"sem:{x}" for x in r["pair_id"].split("_"))
        out.append((a, b, "-".join(sorted((r["url1_lang"], r["url2_lang"]))), overall <= 1.5))
    return out


def semeval_times(
    keys: Iterable[str],
    docs: Mapping[str, Mapping[str, Any]],
    pairs: Iterable[tuple[str, str, str, bool]],
) -> dict[str, datetime]:
    """Publication dates; an undated article takes its pair partner's date (or 2020-01-01)."""
    known = {
        i: datetime.fromisoformat(str(d["date"])).replace(tzinfo=UTC)
        for i, d in docs.items()
        if d["date"]
    }
    when = dict(known)
    for a, b, _, _ in pairs:
        for x, y in ((a, b), (b, a)):
            if x not in when and y in known:
                when[x] = known[y]
    return {k: when.get(k, datetime(2020, 1, 1, 12, tzinfo=UTC)) for k in keys}


@dataclass(frozen=True)
class Run:
    story: dict[str, int]  # fixture id -> story id
    follow_up_of: dict[int, int | None]  # story id -> the story it follows up
    merged: int
    split: int


def run(
    times: Mapping[str, datetime],
    *,
    engine: Engine | None = None,
    db_url: str | None = None,
    recluster: bool = True,
    docs: Mapping[str, Mapping[str, Any]] | None = None,
) -> Run:
    """Feed the articles in time order through tagging, dedup and assignment; re-cluster.

    ``docs`` (id -> title, text, lang) defaults to the labelled days' articles.
    """
    docs = texts() if docs is None else docs
    own = engine is None
    engine = engine or make_engine(db_url or "sqlite://")
    migrate(engine)
    ids: dict[str, int] = {}
    rules = story_assign.StoryRules()
    for key in sorted(times, key=lambda k: (times[k], k)):
        d = docs[key]
        with session_scope(engine) as s:
            a = Article(
                url=f"https://semeval.example/{key}",
                canonical_url=f"https://semeval.example/{key}",
                title=d["title"],
                text=str(d["text"]),
                language=d["lang"],
                published_at=times[key],
                fetched_at=times[key],
                relevant=True,
            )
            s.add(a)
            s.flush()
            assert a.id is not None
            store_mentions(s, gazetteer(), a.id, a.text)
            v = duplicates.find_duplicate(s, a)
            a.duplicate_of, a.duplicate_kind = v.of, v.kind
            duplicates.index_article(s, a)
            story_assign.assign_story(s, a, rules=rules)
            ids[key] = a.id
    merged = split = 0
    if recluster:
        lo, hi = min(times.values()), max(times.values()) + timedelta(seconds=1)
        with session_scope(engine) as s:
            rep = story_recluster.recluster(s, lo, hi, hi)
            merged, split = rep.merged, rep.split
    with session_scope(engine) as s:
        story = {k: s.get(Article, i).story_id for k, i in ids.items()}  # type: ignore[union-attr]
        follow = {
            sid: s.get(Story, sid).follow_up_of  # type: ignore[union-attr]
            for sid in set(story.values())
            if sid is not None
        }
    if own:
        engine.dispose()
    return Run({k: v for k, v in story.items() if v is not None}, follow, merged, split)


@dataclass(frozen=True)
class Scores:
    precision: float
    recall: float
    bcubed_f1: float
    mixed: list[tuple[str, str]]  # labelled events (not declared ambiguous) sharing a story

    def line(self) -> str:
        return (
            f"pairwise P={self.precision:.3f} R={self.recall:.3f} "
            f"B-cubed F1={self.bcubed_f1:.3f} mixed={self.mixed}"
        )


def score(
    predicted: Mapping[str, int],
    gold: Mapping[str, str],
    ambiguous: Iterable[tuple[str, str]] = (),
) -> Scores:
    """Pairwise precision/recall (ambiguous event pairs not scored) and B-cubed F1."""
    skip = {frozenset(p) for p in ambiguous}
    keys = sorted(k for k in gold if k in predicted)
    tp = fp = fn = 0
    mixed: set[tuple[str, str]] = set()
    for a, b in combinations(keys, 2):
        same_gold = gold[a] == gold[b]
        if not same_gold and frozenset((gold[a], gold[b])) in skip:
            continue
        same_pred = predicted[a] == predicted[b]
        tp += same_gold and same_pred
        fp += same_pred and not same_gold
        fn += same_gold and not same_pred
        if same_pred and not same_gold:
            mixed.add(tuple(sorted((gold[a], gold[b]))))  # type: ignore[arg-type]
    by_pred = Counter(predicted[k] for k in keys)
    by_gold = Counter(gold[k] for k in keys)
    both = Counter((predicted[k], gold[k]) for k in keys)
    p_b = sum(both[(predicted[k], gold[k])] / by_pred[predicted[k]] for k in keys) / len(keys)
    r_b = sum(both[(predicted[k], gold[k])] / by_gold[gold[k]] for k in keys) / len(keys)
    f1 = 2 * p_b * r_b / (p_b + r_b) if p_b + r_b else 0.0
    return Scores(
        precision=tp / (tp + fp) if tp + fp else 1.0,
        recall=tp / (tp + fn) if tp + fn else 1.0,
        bcubed_f1=f1,
        mixed=sorted(mixed),
    )
