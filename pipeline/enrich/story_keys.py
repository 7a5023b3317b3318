"""The keys of story matching: how names, actors and numbers count, and the index keys (pure).

Split from pipeline.enrich.story_profile (which re-exports them) to keep modules small.
"""

from __future__ import annotations

import functools
import hashlib
import unicodedata
from collections.abc import Callable, Mapping

from pipeline.enrich.story_similarity import StoryFeatures

#: Keys per article in the candidate index (rarest first).
KEY_TERMS = 8
KEY_NAMES = 8
KEY_NUMBERS = 6

Idf = Callable[[str], float]


@functools.lru_cache(maxsize=200_000)
def fold_name(name: str) -> str:
    """ASCII-fold a name so 'Pjöngjang', 'Jong-un' and 'Jong Un' variants meet."""
    text = unicodedata.normalize("NFKD", name)
    text = "".join(c for c in text if not unicodedata.combining(c))
    return text.lower().replace("-", "").replace("'", "").replace("ß", "ss")


def actor_key(actor_id: str) -> str:
    """The term under which an actor id counts in document frequencies."""
    return f"@{actor_id}"


def number_key(number: str) -> str:
    """The term under which a number counts (language-independent evidence)."""
    return f"#{number}"


def name_key(name: str) -> str:
    """The term under which a name counts, folded to ASCII so spellings across languages meet."""
    return f"^{fold_name(name)}"


def stat_terms(f: StoryFeatures) -> set[str]:
    """Everything whose document frequency is kept (term_stat): one entry per article."""
    return (
        set(f.terms)
        | {name_key(n) for n in f.names}
        | {actor_key(a) for a in f.actors}
        | {number_key(n) for n in f.numbers}
    )


def index_keys(f: StoryFeatures, vec: Mapping[str, float], idf: Idf) -> list[str]:
    """The article's most distinctive keys for the candidate index (rarest first)."""
    terms = sorted(vec, key=lambda t: (-vec[t], t))[:KEY_TERMS]
    names = sorted((name_key(n) for n in f.names), key=lambda k: (-idf(k), k))[:KEY_NAMES]
    numbers = sorted((number_key(n) for n in f.numbers), key=lambda k: (-idf(k), k))
    return [
        *terms,
        *names,
        *numbers[:KEY_NUMBERS],
        *sorted(actor_key(a) for a in f.actors),
    ]


def key_hash(key: str) -> int:
    """Signed 64-bit key of the SQL index (stable across processes and machines)."""
    digest = hashlib.blake2b(key.encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)
