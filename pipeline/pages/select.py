"""Choosing among candidate texts by signals (docs/extraction.md, "Choosing a candidate").

The base is trafilatura (fast path). Two signals decide whether another candidate is needed:
how long the base is, and how much of the page's own summary (meta description) and title it
contains, since a news page's description restates its lead. Then:

- *lead repair*: paragraphs that another candidate places before the base's first paragraph
  and that restate the description are put in front of the base (trafilatura often drops a
  teaser set in its own container);
- *switch*: a base that is a stub (shorter than ``STUB_CHARS``) next to a candidate several
  times longer with as much of the title is replaced by that candidate.

Every constant here was chosen on the development half of the corpus only
(tests/fixtures/extraction/split.csv) and is scored on the held-out half.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from pipeline.pages.candidates import Candidate

#: A base shorter than this may be a teaser, a gallery caption or the wrong block.
STUB_CHARS = 1000
#: ... and is replaced by a candidate at least this many times longer.
SWITCH_RATIO = 3.0
#: A base that covers less of the description than this is checked for a missing lead.
LEAD_DOUBT = 0.8
#: A paragraph restates the description when it holds this share of its words.
LEAD_MATCH = 0.6
#: At most this many lead paragraphs are put back.
MAX_LEAD_BLOCKS = 2

_WORD = re.compile(r"\w{4,}")


def words(text: str | None) -> set[str]:
    """Lower-cased words of four letters or more (stop words are mostly shorter)."""
    return {w.lower() for w in _WORD.findall(text or "")}


def coverage(reference: set[str], text: str) -> float | None:
    """Share of ``reference`` words found in ``text``; None without a reference."""
    if not reference:
        return None
    return len(reference & words(text)) / len(reference)


@dataclass(frozen=True)
class Signals:
    """What the selection looked at, kept for the record and the tests."""

    base_chars: int
    description_coverage: float | None
    title_coverage: float | None

    def doubtful(self) -> bool:
        """True when the base may have lost its lead or be a stub."""
        low_lead = self.description_coverage is not None and self.description_coverage < LEAD_DOUBT
        return self.base_chars < STUB_CHARS or low_lead


def signals_of(base: str, description: str | None, title: str | None) -> Signals:
    """The base candidate's signals."""
    return Signals(len(base), coverage(words(description), base), coverage(words(title), base))


def choose(
    base: Candidate, others: list[Candidate], description: str | None, title: str | None
) -> Candidate:
    """The base, a repaired base, or another candidate (see the module docstring)."""
    title_words = words(title)
    base_title = coverage(title_words, base.text) or 0.0
    if len(base.text) < STUB_CHARS:
        for other in others:
            other_title = coverage(title_words, other.text) or 0.0
            if (
                len(other.text) >= SWITCH_RATIO * max(len(base.text), 1)
                and other_title >= base_title
            ):
                return other
    repaired = _repair_lead(base, others, words(description))
    return repaired or base


def _repair_lead(base: Candidate, others: list[Candidate], described: set[str]) -> Candidate | None:
    if not described or not base.text:
        return None
    have = coverage(described, base.text) or 0.0
    if have >= LEAD_DOUBT:
        return None
    base_lines = [line.strip() for line in base.text.splitlines() if line.strip()]
    base_set = set(base_lines)
    for other in others:
        lines = [line.strip() for line in other.text.splitlines() if line.strip()]
        first_shared = next((i for i, line in enumerate(lines) if line in base_set), None)
        if first_shared is None:
            continue
        lead = [
            line
            for line in lines[:first_shared]
            if (coverage(described, line) or 0.0) >= LEAD_MATCH and line not in base.text
        ][-MAX_LEAD_BLOCKS:]
        if lead:
            return Candidate(f"{base.method}+lead", "\n".join([*lead, *base_lines]))
    return None
