"""Bundled background document frequencies for story term weights (read-only data).

The stored term statistics (term_stat) learn which words the beat uses in
every article ("Kim", "Nordkorea") as the stream grows; they cannot know on
day one that "Präsident" or "reporters" are common words of any news page.
This table can: document frequencies of the story keys over 100 general
news pages (73 German, 27 English) of trafilatura's evaluation set, built
by scripts/build_story_background.py (provenance in its docstring). The
counts act as that many prior articles in story_profile.idf_from; at
100,000 stored articles they no longer matter.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources


@dataclass(frozen=True)
class Table:
    """Document frequency per key over ``docs`` background pages."""

    df: Mapping[str, int] = field(default_factory=dict)
    docs: int = 0


EMPTY = Table()


@functools.cache
def table() -> Table:
    """The bundled table (parsed once per process)."""
    text = (
        resources.files("pipeline.enrich")
        .joinpath("data/story_background.tsv")
        .read_text(encoding="utf-8")
    )
    df: dict[str, int] = {}
    for line in text.splitlines():
        if not line or line.startswith("# "):
            continue
        key, _, n = line.rpartition("\t")
        df[key] = int(n)
    return Table(df, df.pop("", 0))
