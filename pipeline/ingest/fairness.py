"""Fair order of the due queue: round robin over hosts, and over feeds within a host.

Strict queue order let one feed that publishes thousands of links a poll hold
back every other feed for as long as its backlog lasts. Here each host gets a
turn in every round (its feeds in turn within it), and each feed brings at
most its per-pass budget (cut in SQL, see storage.queue.due_candidates), so a
flood delays only the feed that floods. Hosts matter separately from feeds:
several feeds of one site share that site's politeness limits, and ten pages
of one slow host in a row would leave the fetch slots idle.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from urllib.parse import urlsplit

from storage.queue import Candidate


def host_of(url: str) -> str:
    """The host part of ``url`` (lower case), "" if it has none."""
    try:
        return (urlsplit(url).hostname or "").lower()
    except ValueError:
        return ""


def fair_order(candidates: Sequence[Candidate]) -> list[Candidate]:
    """Interleave ``candidates``: one page per host per round, feeds in turn within a host.

    Within a feed the queue order (oldest first) is kept. The result is
    deterministic: hosts take their turns in the order they first appear.
    """
    by_host: dict[str, dict[int | None, list[Candidate]]] = defaultdict(lambda: defaultdict(list))
    for c in sorted(candidates, key=lambda c: (c.rank, c.feed_id or 0, c.id)):
        by_host[host_of(c.url)][c.feed_id].append(c)
    # each host's own sequence: its feeds round robin
    sequences: list[list[Candidate]] = []
    for feeds in by_host.values():
        queues = list(feeds.values())
        seq: list[Candidate] = []
        depth = max(len(q) for q in queues)
        for i in range(depth):
            seq.extend(q[i] for q in queues if i < len(q))
        sequences.append(seq)
    out: list[Candidate] = []
    depth = max((len(s) for s in sequences), default=0)
    for i in range(depth):
        out.extend(s[i] for s in sequences if i < len(s))
    return out
