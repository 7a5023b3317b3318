"""Is an article about the Korean peninsula? A weighted-term scorer that explains itself.

Terms, weights and the threshold live in YAML (seeds/relevance.yaml); see the comment there
for the formula. The evidence (which term, where, how often, with what weight) is returned
with every score so the digest and ``newsmon export`` can say why an article was kept.
"""

from __future__ import annotations

import itertools
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import ahocorasick
import yaml

from pipeline.errors import ConfigError

_FIELDS = ("threshold", "title_weight", "lead_chars", "lead_weight", "count_cap", "min_coverage")
_SENTENCE = re.compile(r"(?<=[.!?。])\s+|\n+")
#: Fragments shorter than this (datelines, credits, "Foto: dpa") are not sentences.
MIN_SENTENCE_CHARS = 20


@dataclass(frozen=True)
class Term:
    """One concept with its spellings in every language."""

    term: str
    weight: float
    patterns: tuple[str, ...]


@dataclass(frozen=True)
class RelevanceRules:
    """Compiled relevance rules: the terms, the scoring parameters and one matcher for all terms."""

    terms: tuple[Term, ...]
    threshold: float
    title_weight: float
    lead_chars: int
    lead_weight: float
    count_cap: int
    min_coverage: float
    #: All patterns in one alternation, longest first, so that "North Korea" is one match
    #: and not also a "Korea" match. Group i belongs to ``terms[group_terms[i]]``.
    matcher: re.Pattern[str]
    group_terms: tuple[int, ...]
    #: Literal (lower-cased) beginnings of every pattern, or None when some pattern has
    #: none: a match can only start where one of them occurs (see ``_matches``).
    prefixes: Any = None


@dataclass(frozen=True)
class Relevance:
    """An article's score, whether it is relevant, and the evidence behind the score."""

    score: float
    relevant: bool
    #: JSON-serialisable: {"term", "field" ("title"|"lead"|"text"), "count", "weight", "points"}
    evidence: tuple[dict[str, object], ...]
    #: Share of the text's sentences that name a term (0..1).
    coverage: float = 0.0


def _needs_word_start(pattern: str) -> bool:
    # Latin-script stems must start a word ("Korea" but not "Nordkoreaner" twice);
    # Hangul has no such boundary worth demanding.
    return pattern[:1].isascii() and pattern[:1].isalnum()


def build_rules(raw: Any, path: str) -> RelevanceRules:
    """Validate and compile a parsed rules document."""
    if not isinstance(raw, dict):
        raise ConfigError("top level must be a mapping", path=path)
    values: dict[str, float] = {}
    for key in _FIELDS:
        value = raw.get(key)
        if not isinstance(value, int | float) or isinstance(value, bool) or value < 0:
            raise ConfigError(f"{key} must be a non-negative number", path=path)
        values[key] = float(value)
    raw_terms = raw.get("terms")
    if not isinstance(raw_terms, list) or not raw_terms:
        raise ConfigError("terms must be a non-empty list", path=path)
    terms: list[Term] = []
    for index, entry in enumerate(raw_terms):
        where = f"terms[{index}]"
        if not isinstance(entry, dict) or not isinstance(entry.get("term"), str):
            raise ConfigError(f"{where} needs a 'term' name", path=path)
        weight = entry.get("weight")
        if not isinstance(weight, int | float) or isinstance(weight, bool) or weight <= 0:
            raise ConfigError(f"{where} weight must be a positive number", path=path)
        patterns = entry.get("patterns")
        if (
            not isinstance(patterns, list)
            or not patterns
            or not all(isinstance(p, str) and p for p in patterns)
        ):
            raise ConfigError(f"{where} patterns must be a non-empty list of strings", path=path)
        for pattern in patterns:
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ConfigError(f"{where}: bad regex {pattern!r}: {exc}", path=path) from exc
            if re.compile(pattern).groups:
                raise ConfigError(f"{where}: use (?:...) not (...) in {pattern!r}", path=path)
        terms.append(Term(entry["term"], float(weight), tuple(patterns)))

    pairs = [(pattern, i) for i, term in enumerate(terms) for pattern in term.patterns]
    latin = sorted((p for p in pairs if _needs_word_start(p[0])), key=lambda p: -len(p[0]))
    other = sorted((p for p in pairs if not _needs_word_start(p[0])), key=lambda p: -len(p[0]))
    ordered = latin + other
    # One shared look-behind in front of the Latin alternatives: most text positions are
    # inside a word and fail there once instead of once per pattern.
    alternatives = [f"(?<!\\w)(?:{'|'.join(f'({p})' for p, _ in latin)})"] if latin else []
    alternatives += [f"({p})" for p, _ in other]
    matcher = re.compile("|".join(alternatives), re.IGNORECASE)
    starts = [_literal_prefix(pattern) for pattern, _ in ordered]
    prefixes = None
    if all(len(p) >= 2 for p in starts):
        prefixes = ahocorasick.Automaton()
        for p in set(starts):
            prefixes.add_word(p, p)
        prefixes.make_automaton()
    return RelevanceRules(
        terms=tuple(terms),
        threshold=values["threshold"],
        title_weight=values["title_weight"],
        lead_chars=int(values["lead_chars"]),
        lead_weight=values["lead_weight"],
        count_cap=int(values["count_cap"]),
        min_coverage=values["min_coverage"],
        matcher=matcher,
        group_terms=tuple(i for _, i in ordered),
        prefixes=prefixes,
    )


_META = set("\\.^$*+?{}[]|()")


def _literal_prefix(pattern: str) -> str:
    """The lower-cased literal characters a pattern must start with ("" if none)."""
    out: list[str] = []
    i = 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\" and i + 1 < len(pattern) and not pattern[i + 1].isalnum():
            ch, i = pattern[i + 1], i + 1  # an escaped literal such as "\\."
        elif ch in _META:
            if ch in "*?{" and out:
                out.pop()  # the character before a quantifier is optional
            break
        elif i + 1 < len(pattern) and pattern[i + 1] in "*?{":
            break
        out.append(ch)
        i += 1
    return "".join(out).lower()


def parse_rules(source: str, path: str = "<relevance rules>") -> RelevanceRules:
    """Rules from YAML text; ConfigError(path=, line=) when it is malformed or invalid."""
    try:
        raw = yaml.safe_load(source)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        raise ConfigError(f"malformed YAML: {exc}", path=path, line=line) from exc
    return build_rules(raw, path)


def load_rules(path: Path) -> RelevanceRules:
    """Rules from a YAML file; ConfigError(path=, line=) when it is unreadable or malformed."""
    try:
        source = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read relevance rules: {exc}", path=str(path)) from exc
    return parse_rules(source, str(path))


def _matches(text: str, rules: RelevanceRules) -> list[tuple[int, int]]:
    """(start offset, term index) of every non-overlapping term match.

    Same result as ``matcher.finditer(text)``, but the big alternation is only
    tried where a pattern's literal beginning occurs (found in one Aho-Corasick
    pass): trying ~100 alternatives at every character was most of the
    per-article cost of relevance scoring.
    """
    lowered = text.lower()
    if rules.prefixes is None or len(lowered) != len(text):
        return [(m.start(), _term_of(m, rules)) for m in rules.matcher.finditer(text)]
    candidates = sorted({end - len(p) + 1 for end, p in rules.prefixes.iter(lowered)})
    out: list[tuple[int, int]] = []
    resume = 0
    for pos in candidates:
        if pos < resume:
            continue
        m = rules.matcher.match(text, pos)
        if m is not None and m.end() > m.start():
            out.append((m.start(), _term_of(m, rules)))
            resume = m.end()
    return out


def _term_of(m: re.Match[str], rules: RelevanceRules) -> int:
    return rules.group_terms[(m.lastindex or 1) - 1]


def _tally(matches: list[tuple[int, int]]) -> dict[int, int]:
    counts: dict[int, int] = {}
    for _, index in matches:
        counts[index] = counts.get(index, 0) + 1
    return counts


def score_relevance(title: str | None, text: str, rules: RelevanceRules) -> Relevance:
    """Score ``title`` + ``text`` against ``rules``; see seeds/relevance.yaml for the formula."""
    evidence: list[dict[str, object]] = []
    title_points = lead_points = text_points = 0.0
    found = _matches(text, rules)
    fields = (
        ("title", _tally(_matches(title or "", rules)), rules.title_weight),
        ("lead", _tally([m for m in found if m[0] < rules.lead_chars]), rules.lead_weight),
    )
    for field, counts, factor in fields:
        for index, count in sorted(counts.items()):
            term = rules.terms[index]
            points = factor * term.weight
            if field == "title":
                title_points += points
            else:
                lead_points += points
            evidence.append(_evidence(term, field, count, points))
    for index, count in sorted(_tally(found).items()):
        term = rules.terms[index]
        points = term.weight * min(count, rules.count_cap)
        text_points += points
        evidence.append(_evidence(term, "text", count, points))

    score = round(title_points + lead_points + text_points, 3)
    coverage = _coverage(text, [start for start, _ in found]) if found else 0.0
    # Without the title naming Korea, Korea has to run through the text: a lead that
    # calls a film "South Korean" or a roundup's two Seoul sentences is not enough.
    relevant = score >= rules.threshold and (title_points > 0 or coverage >= rules.min_coverage)
    return Relevance(score=score, relevant=relevant, evidence=tuple(evidence), coverage=coverage)


def _coverage(text: str, starts: list[int]) -> float:
    """Share of sentences (of at least MIN_SENTENCE_CHARS) containing a match start."""
    bounds = [0] + [m.end() for m in _SENTENCE.finditer(text)] + [len(text) + 1]
    sentences = hits = 0
    pointer = 0
    for begin, end in itertools.pairwise(bounds):
        if len(text[begin:end].strip()) < MIN_SENTENCE_CHARS:
            while pointer < len(starts) and starts[pointer] < end:
                pointer += 1
            continue
        sentences += 1
        hit = False
        while pointer < len(starts) and starts[pointer] < end:
            hit = True
            pointer += 1
        hits += hit
    return round(hits / sentences, 3) if sentences else 0.0


def _evidence(term: Term, field: str, count: int, points: float) -> dict[str, object]:
    return {
        "term": term.term,
        "field": field,
        "count": count,
        "weight": term.weight,
        "points": round(points, 3) if math.isfinite(points) else 0.0,
    }
