"""Tagging throughput: full gazetteer, 10x and 100x synthetic aliases, vs a plain `re` scan
and vs trafilatura extraction of the same texts (wrapped in minimal HTML).

Run: .venv/bin/python bench/bench_actors.py   (prints figures, asserts nothing)
"""

from __future__ import annotations

import json
import random
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import trafilatura

from pipeline.enrich.actors import Gazetteer, discover_candidates, tag

ROOT = Path(__file__).resolve().parent.parent
FIX = ROOT / "tests" / "fixtures" / "actors"
# Optional: real pages for a realistic extraction cost (not needed to run).
REAL_PAGES = (
    Path(__file__).resolve().parents[2] / "shared" / "corpus" / "trafilatura-eval" / "cache"
)


def texts() -> list[str]:
    out = [p.read_text(encoding="utf-8") for p in sorted((ROOT / "seeds").glob("*.txt"))]
    for p in sorted((FIX / "articles").glob("*.json")):
        art = json.loads(p.read_text(encoding="utf-8"))
        out.append(art["title"] + "\n\n" + art["text"])
    return out


def inflate(gaz: Gazetteer, factor: int) -> Gazetteer:
    rng = random.Random(factor)
    actors = []
    for actor in gaz.actors.values():
        fake = tuple(
            f"{a} {rng.choice('BCDFGHKLMNPRST')}{rng.randrange(10**6):06d}"
            for a in actor.aliases
            for _ in range(factor - 1)
        )
        actors.append(replace(actor, aliases=actor.aliases + fake))
    return Gazetteer.from_actors(actors, gaz.blockers)


def rate(fn: Callable[[Any], object], docs: Sequence[Any], rounds: int = 5) -> float:
    t0 = time.perf_counter()
    for _ in range(rounds):
        for d in docs:
            fn(d)
    return rounds * len(docs) / (time.perf_counter() - t0)


def main() -> None:
    docs = texts()
    base = Gazetteer.load(ROOT / "seeds" / "actors.yaml")
    n_alias = sum(len(a.aliases) for a in base.actors.values())
    print(f"{len(docs)} texts, {sum(map(len, docs)) / len(docs):.0f} chars avg")
    results = {}
    for factor in (1, 10, 100):
        gaz = base if factor == 1 else inflate(base, factor)
        t0 = time.perf_counter()
        tag(gaz, "warm-up")
        build = time.perf_counter() - t0

        def full(d: str, g: Gazetteer = gaz) -> object:
            return discover_candidates(g, d, tag(g, d))

        results[factor] = rate(full, docs)
        print(
            f"x{factor:<3d} aliases={n_alias * factor:7d} build={build:6.2f}s "
            f"tag+discover={results[factor]:8.0f} articles/s"
        )
    words = sorted({a for act in base.actors.values() for a in act.aliases}, key=len, reverse=True)
    plain = re.compile(r"\b(?:" + "|".join(map(re.escape, words)) + r")\b")
    print(
        f"plain re alternation scan (no inflection/disambiguation): "
        f"{rate(plain.findall, docs):8.0f} articles/s"
    )
    tag_only = rate(lambda d: tag(base, d), docs)
    print(f"tag only (full gazetteer):                               {tag_only:8.0f} articles/s")
    html = [
        "<html><body><article><h1>x</h1>"
        + "".join(f"<p>{p}</p>" for p in d.split("\n") if p)
        + "</article></body></html>"
        for d in docs
    ]
    ex = rate(trafilatura.extract, html, rounds=2)
    print(f"trafilatura.extract, same texts as minimal HTML:         {ex:8.0f} articles/s")
    if REAL_PAGES.is_dir():
        pages = [p.read_bytes() for p in sorted(REAL_PAGES.iterdir())[:40] if p.is_file()]
        ex = rate(trafilatura.extract, pages, rounds=1)
        print(f"trafilatura.extract, {len(pages)} real news pages (corpus):   {ex:8.0f} articles/s")
    print(
        f"tag / extraction cost: {ex / tag_only:.1%}; tag+discover / extraction: "
        f"{ex / results[1]:.1%} (target < 10%)"
    )


if __name__ == "__main__":
    main()
