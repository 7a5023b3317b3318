"""Actor tagging: alias matching, short-form disambiguation, new-name discovery.

One Aho-Corasick automaton holds every alias and its inflected forms (German genitive -s,
German adjective endings from the gazetteer, Korean particles after Hangul names), so the cost
per article is linear in the text, not in the number of aliases. Matches are kept only at word
boundaries and resolved leftmost-longest, which lets "Kim Jong Un" beat "Kim" and
"Washington Post" (a blocker) beat "Washington".
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import ahocorasick

from pipeline.enrich.gazetteer import Actor, Gazetteer, Role

__all__ = [
    "Actor",
    "ActorMatch",
    "Gazetteer",
    "NameCandidate",
    "Role",
    "discover_candidates",
    "tag",
]


@dataclass(frozen=True)
class ActorMatch:
    """One actor mention: its span in the text, the text there, and how the actor was chosen."""

    actor_id: str
    start: int
    end: int
    surface: str
    method: str  # "alias" | "short-form" | "title-pattern"


@dataclass(frozen=True)
class NameCandidate:
    """A name that looks like an actor but is not in the gazetteer, and why it was picked up."""

    name: str
    start: int
    end: int
    evidence: str  # "title:Außenminister", "korean-name", "repeated:3"


# Korean particles/endings glued to a noun (김정은은, 북한의, 미국과의 ...).
HANGUL_SUFFIXES = (
    "은",
    "는",
    "이",
    "가",
    "을",
    "를",
    "의",
    "에",
    "에서",
    "에게",
    "에게서",
    "와",
    "과",
    "와의",
    "과의",
    "도",
    "만",
    "로",
    "으로",
    "께서",
    "이다",
    "이며",
    "에는",
    "에서는",
    "에도",
    "까지",
    "부터",
    "보다",
    "처럼",
    "측",
    "측은",
    "측이",
    "측의",
    "이라고",
    "라고",
    "이라며",
    "라며",
    "로서",
    "으로서",
    "하고",
    "랑",
    "이랑",
    "위원장",
    "위원장은",
    "위원장이",
    "위원장의",
    "대통령",
    "대통령은",
    "대통령이",
    "대통령의",
    "대통령과",
    "대통령을",
    "국무위원장",
    "국무위원장은",
    "국무위원장이",
    "국무위원장의",
    "장관",
    "장관은",
    "장관이",
    "장관의",
    "부부장",
    "부부장은",
    "부부장이",
    "부부장의",
    "총비서",
    "총비서는",
    "총비서가",
    "총비서의",
)

# Titles before a name. German nouns are matched as the end of a compound token
# ("US-Präsident", "Vize-Außenminister"), English ones as whole words.
TITLE_ROLES: dict[str, tuple[str, ...]] = {
    "Präsident": ("president",),
    "Präsidenten": ("president",),
    "Präsidentin": ("president",),
    "President": ("president",),
    "Staatschef": ("president", "supreme leader"),
    "Machthaber": ("supreme leader",),
    "Leader": ("supreme leader",),
    "Chairman": ("chairman", "supreme leader"),
    "Vorsitzende": ("chairman",),
    "Außenminister": ("foreign minister",),
    "Außenministerin": ("foreign minister",),
    "Aussenminister": ("foreign minister",),
    "Foreign Minister": ("foreign minister",),
    "Secretary of State": ("secretary of state",),
    "Außenamtschef": ("foreign minister",),
    "Vereinigungsminister": ("unification minister",),
    "Vereinigungsministerin": ("unification minister",),
    "Unification Minister": ("unification minister",),
    "Verteidigungsminister": ("defence minister", "defence secretary"),
    "Defense Secretary": ("defence secretary",),
    "Defence Secretary": ("defence secretary",),
    "Defense Minister": ("defence minister",),
    "Defence Minister": ("defence minister",),
    "Premierminister": ("prime minister",),
    "Premierministerin": ("prime minister",),
    "Ministerpräsident": ("prime minister", "premier"),
    "Regierungschef": ("prime minister",),
    "Regierungschefin": ("prime minister",),
    "Prime Minister": ("prime minister",),
    "PM": ("prime minister",),
    "Premier": ("premier", "prime minister"),
    "Sprecher": ("spokesperson",),
    "Sprecherin": ("spokesperson",),
    "Spokesman": ("spokesperson",),
    "Spokeswoman": ("spokesperson",),
    "Spokesperson": ("spokesperson",),
    "Generalsekretär": ("secretary-general",),
    "Secretary-General": ("secretary-general",),
    "Sicherheitsberater": ("national security adviser",),
    "Sonderbeauftragte": ("special representative for north korea",),
    "Sonderbeauftragter": ("special representative for north korea",),
    "Envoy": ("special representative for north korea",),
    "Minister": (),
    "Ministerin": (),
    "Botschafter": ("ambassador",),
    "Ambassador": ("ambassador",),
    "Senator": ("senator",),
    "Vizepräsident": ("vice president",),
    "Vice President": ("vice president",),
    "Gen.": (),
    "General": (),
    "Premiere": (),
}
_TITLE_ALT = "|".join(re.escape(t) for t in sorted(TITLE_ROLES, key=len, reverse=True))
_TITLE_BEFORE = re.compile(rf"(?:^|[\s(\"„“'‘-])({_TITLE_ALT})\s+$")
_NAME_TOKEN = r"[A-ZÄÖÜ][a-zäöüßéè]+(?:-[A-Za-zäöü]+)?"
_TITLED_NAME = re.compile(
    rf"(?<![a-zäöüß])({_TITLE_ALT})\s+({_NAME_TOKEN}(?:\s+{_NAME_TOKEN}){{0,2}})"
)
# A short form followed by a romanised Korean given name belongs to another, unknown person
# ("Kim Hong-Ji" is not Kim Jong Un).
_GIVEN_NAME_AFTER = re.compile(
    r"\s+(?:[A-Z][a-z]+-[a-z]+|(?:Jong|Yo|Il|Jae|Yong|Tok|Dong|Hong|Min|Sang|Yeon|Eui|Kyeong|"
    r"Seung|Sung|Ji|Chol|Son|Ryong|Thae|Dae|Kyung|Hyun|Young|Ju|Hye)\b)"
)


def _words(s: str) -> frozenset[str]:
    return frozenset(s.split())


KOREAN_SURNAMES = _words(
    "Kim Lee Park Choi Choe Ri Pak Jung Chung Jeong Kang Cho Jo Yoon Han Jang Lim Shin Ahn "
    "Song Hwang Baek Yoo Hong Ko Ryu Nam Seo Kwon Oh Moon Yun Jon Hyon Kwak"
)
_KOREAN_NAME = re.compile(
    r"(?<![\w])(" + "|".join(sorted(KOREAN_SURNAMES)) + r")\s+([A-Z][a-z]+(?:[- ][A-Za-z][a-z]+)?)"
)
_CAP_SEQ = re.compile(rf"(?<![\w-])({_NAME_TOKEN}(?:\s+{_NAME_TOKEN}){{1,2}})")
# Capitalised words that start sentences or are German nouns, not names.
_STOP = _words(
    "Der Die Das Den Dem Des Ein Eine Einer Im Am An In Auf Aus Bei Mit Nach Vor Von Zum Zur Und "
    "Aber Auch Als Wie Wenn Es Er Sie Wir Ich Man Nun So Da Doch Seit Trotz The A An Of And But "
    "In On At For With From By As It He She We They This That These Those His Her Their Its "
    "Mr Mrs Ms Dr Sir Monday Tuesday Wednesday Thursday Friday Saturday Sunday January February "
    "March April May June July August September October November December Montag Dienstag "
    "Mittwoch Donnerstag Freitag Samstag Sonntag Januar Februar März Juni Juli Oktober Dezember "
    "New Year Christmas Korea Korean North South East West Lesen Foto Photo Read More Click Here "
    "Ortszeit Jahr Jahren Regierung Führung Gipfel Treffen Staatsmedien"
)
_KOREA_TYPES = ("Q423", "Q884")


def _is_hangul(ch: str) -> bool:
    return "\uac00" <= ch <= "\ud7a3"


def _boundary_ok(text: str, start: int, end: int) -> bool:
    before = text[start - 1] if start > 0 else " "
    after = text[end] if end < len(text) else " "
    return not (before.isalnum() or before == "_") and not (after.isalnum() or after == "_")


def _forms(alias: str) -> list[tuple[str, int]]:
    """Surface forms of an alias with the length of the part that names the actor."""
    out = [(alias, len(alias))]
    last = alias[-1]
    if _is_hangul(last):
        out += [(alias + s, len(alias)) for s in HANGUL_SUFFIXES]
    elif last.isalpha():
        # German genitive (Trumps, Nordkoreas, Pjöngjangs); -es only after sibilants.
        if last not in "sßxz":
            out.append((alias + "s", len(alias) + 1))
        else:
            out.append((alias + "es", len(alias) + 2))
    if len(alias) >= 5 and alias.upper() != alias and not _is_hangul(last):
        out.append((alias.upper(), len(alias)))  # datelines and all-caps headlines
    return out


def _build_matcher(gaz: Gazetteer) -> ahocorasick.Automaton:
    # key -> list of (actor_id | None, kind, core_len); kind: alias | short | block
    table: dict[str, list[tuple[str | None, str, int]]] = {}
    for actor in gaz.actors.values():
        for alias in actor.aliases:
            for form, core in _forms(alias):
                table.setdefault(form, []).append((actor.id, "alias", core))
        for short in actor.short_forms:
            for form, core in _forms(short):
                table.setdefault(form, []).append((actor.id, "short", core))
    for phrase in gaz.blockers:
        for form, core in _forms(phrase):
            table.setdefault(form, []).append((None, "block", core))
    automaton = ahocorasick.Automaton()
    for key, entries in table.items():
        # A surface that is a full alias of someone never acts as a short form.
        if any(kind != "short" for _, kind, _ in entries):
            entries = [e for e in entries if e[1] != "short"]
        automaton.add_word(key, (len(key), tuple(dict.fromkeys(entries))))
    automaton.make_automaton()
    return automaton


def _matcher(gaz: Gazetteer) -> ahocorasick.Automaton:
    if gaz._matcher is None:
        gaz._matcher = _build_matcher(gaz)
    return gaz._matcher


def warm_matcher(gaz: Gazetteer) -> Gazetteer:
    """Build the alias automaton now (before caching or forking), return ``gaz``."""
    _matcher(gaz)
    return gaz


def _raw_matches(
    gaz: Gazetteer, text: str
) -> list[tuple[int, int, tuple[tuple[str | None, str, int], ...]]]:
    found = []
    for end_idx, (length, entries) in _matcher(gaz).iter(text):
        start, end = end_idx - length + 1, end_idx + 1
        if _boundary_ok(text, start, end):
            found.append((start, end, entries))
    # Leftmost-longest, non-overlapping.
    found.sort(key=lambda m: (m[0], -(m[1] - m[0])))
    chosen, last_end = [], 0
    for m in found:
        if m[0] >= last_end:
            chosen.append(m)
            last_end = m[1]
    return chosen


def _title_roles(text: str, start: int) -> tuple[str, tuple[str, ...]] | None:
    m = _TITLE_BEFORE.search(text, max(0, start - 40), start)
    if m is None:
        return None
    return m.group(1), TITLE_ROLES[m.group(1)]


def _has_role(actor: Actor, titles: tuple[str, ...], current: bool = False) -> bool:
    return any(r.title in titles and (not current or r.end is None) for r in actor.roles)


def tag(gazetteer: Gazetteer, text: str) -> list[ActorMatch]:
    """All actor mentions in `text`, sorted by start; offsets index into `text`."""
    mentions: list[ActorMatch] = []
    introduced: dict[str, int] = {}  # person id -> start of its first full mention
    for start, end, entries in _raw_matches(gazetteer, text):
        kind = entries[0][1]
        if kind == "block":
            continue
        if kind == "alias":
            actor_id, _, core = entries[0]
            assert actor_id is not None
            if len({e[0] for e in entries}) > 1:
                continue  # one surface, several actors: not ours to guess
            mentions.append(
                ActorMatch(actor_id, start, start + core, text[start : start + core], "alias")
            )
            introduced.setdefault(actor_id, start)
            continue
        if _GIVEN_NAME_AFTER.match(text, end):
            continue
        core = entries[0][2]
        ids: list[str] = [e[0] for e in entries if e[0] is not None]
        named = sorted((introduced[i], i) for i in ids if i in introduced)
        method, chosen = "short-form", None
        if named:
            # Several people of that name introduced: the first one is the protagonist.
            chosen = named[0][1]
        else:
            title = _title_roles(text, start)
            if title is not None and title[1]:
                fits = [i for i in ids if _has_role(gazetteer.actors[i], title[1])]
                if len(fits) > 1:
                    # News speaks of the incumbent: "Präsident Lee" is the sitting president,
                    # not a predecessor of the same surname.
                    fits = [
                        i for i in fits if _has_role(gazetteer.actors[i], title[1], current=True)
                    ]
                if len(fits) == 1:
                    method, chosen = "title-pattern", fits[0]
        if chosen is not None:
            mentions.append(
                ActorMatch(chosen, start, start + core, text[start : start + core], method)
            )
    return mentions


def _overlaps(start: int, end: int, mentions: Sequence[ActorMatch]) -> bool:
    return any(m.start < end and start < m.end for m in mentions)


def _trim(name: str) -> str:
    tokens = name.split()
    while tokens and tokens[-1] in _STOP:
        tokens.pop()
    return " ".join(tokens)


def discover_candidates(
    gazetteer: Gazetteer, text: str, mentions: Sequence[ActorMatch]
) -> list[NameCandidate]:
    """Names that look like actors but are not in the gazetteer, for a human to review."""
    found: dict[str, NameCandidate] = {}

    def add(name: str, start: int, evidence: str) -> None:
        name = _trim(name)
        if not name or name.split()[0] in _STOP or _overlaps(start, start + len(name), mentions):
            return
        if name not in found:
            found[name] = NameCandidate(name, start, start + len(name), evidence)

    for m in _TITLED_NAME.finditer(text):
        add(m.group(2), m.start(2), f"title:{m.group(1)}")
    korea = any(m.actor_id in _KOREA_TYPES for m in mentions)
    if korea:
        for m in _KOREAN_NAME.finditer(text):
            if _overlaps(m.start(), m.end(), mentions):
                continue
            add(m.group(0), m.start(), "korean-name")
        counts: dict[str, list[int]] = {}
        for m in _CAP_SEQ.finditer(text):
            counts.setdefault(m.group(1), []).append(m.start())
        for name, starts in counts.items():
            if len(starts) >= 2 and not any(t in _STOP for t in name.split()):
                add(name, starts[0], f"repeated:{len(starts)}")
    return sorted(found.values(), key=lambda c: c.start)
