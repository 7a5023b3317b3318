"""Same-story similarity across German and English (pure).

Two articles written independently about one event share its actors, its
places, its numbers and its rarer words, and appear within days of each
other. Each of these is a feature; ``similarity`` combines them into one score
in [0, 1] and ``SAME_STORY_THRESHOLD`` (chosen on the SemEval-2022 pairs, see
docs/dedup.md) decides.

Across languages only language-neutral evidence can match: actor ids from the
gazetteer (pipeline.enrich.actors), numbers, and a small bilingual lexicon that maps
the few words every Korea story uses ("Nordkorea" / "North Korea",
"Pjöngjang" / "Pyongyang", "Gipfel" / "summit") to one token.

Word weights are inverse document frequencies over a background: in
assign_story, the articles of the same time window, so the words every
article of the week uses ("Nordkorea", "Trump") count little.
"""

from __future__ import annotations

import functools
import math
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

#: Score at or above which two articles are on the same story.
SAME_STORY_THRESHOLD = 0.1

WEIGHTS: Mapping[str, float] = {
    "terms": 0.5,
    "names": 0.2,
    "actors": 0.1,
    "numbers": 0.1,
    "title": 0.1,
}

# Phrase -> language-neutral token. Applied to lower-cased text before tokenising; every
# phrase starts at a word boundary (the one \b in front of the whole alternation).
_LEXICON_PAIRS: list[tuple[str, str]] = [
    (
        r"nord[- ]?korea\w*|north[- ]korea\w*|n\. ?korea\w*|dprk\b|nk\b",
        " xnorthkorea ",
    ),
    (r"s(?:ü|ue|u)d[- ]?korea\w*|south[- ]korea\w*|s\. ?korea\w*", " xsouthkorea "),
    (r"pj(?:ö|oe)ngjang\w*|pyongyang\w*", " xpyongyang "),
    (r"kim jong[- ]?un\w*", " xkimjongun "),
    (r"moon jae[- ]?in\w*", " xmoonjaein "),
    (r"wei(?:ß|ss)e[nms]? haus\w*|white house\b", " xwhitehouse "),
    (r"vereinigten? staaten\b|united states\b|usa\b|u\.s\.a?\b|us\b", " xusa "),
    (r"vereinten? nationen\b|united nations\b|uno?\b", " xun "),
    (r"peking\w*|beijing\w*", " xbeijing "),
    (r"t(?:o|ō)kio\b|tokyo\b", " xtokyo "),
    (r"ru(?:ss|ß)land\w*|russia\w*", " xrussia "),
    (r"gipfel\w*|summit\w*", " xsummit "),
    (r"sanktion\w*|sanction\w*", " xsanction "),
    (r"atom\w*|nuklear\w*|nuclear\w*", " xnuclear "),
    (r"rakete\w*|missile\w*", " xmissile "),
    (r"corona\w*|covid\w*", " xcovid "),
    (r"rassis\w*|racis\w*", " xracism "),
    (r"waffenstillstand\w*|ceasefire\w*|armistice\w*", " xarmistice "),
    (r"grenze\w*|border\w*", " xborder "),
    (r"verbindungsbüro\w*|liaison office\w*", " xliaisonoffice "),
]
# One alternation, one pass over the text (twenty separate passes dominated the cost), and
# one word-boundary test per position in front of it: with a \b heading each of the
# alternatives, the engine tried all of them at every position inside a word (4x the time).
_LEXICON = re.compile(
    r"\b(?:" + "|".join(f"(?P<g{i}>{p})" for i, (p, _) in enumerate(_LEXICON_PAIRS)) + ")"
)
_LEXICON_TOKENS = {f"g{i}": t for i, (_, t) in enumerate(_LEXICON_PAIRS)}

_STOPWORDS = """
    aber alle allem allen aller alles als also am an ander andere anderen auch auf aus bei beim
    bereits bin bis bisher bist da dabei dafür damit dann darauf darum das dass davon dazu dein dem
    den denen denn der deren des dessen die dies diese diesem diesen dieser dieses doch dort du
    durch ein eine einem einen einer eines einige er es etwa euch für gab gegen gibt habe haben hat
    hatte hatten hier hin hinter ich ihm ihn ihnen ihr ihre ihrem ihren ihrer im immer in ins ist
    jede jedem jeden jeder jedoch jetzt kann kein keine keinen können könnte man mehr mein mit muss
    nach nicht nichts noch nun nur ob oder ohne sehr sei seien sein seine seinem seinen seiner seit
    sich sie sind so soll sollen sollte sondern sowie über um und uns unter vom von vor wann war
    waren was weil weiter welche wenn wer werde werden wie wieder will wir wird wo worden wurde
    wurden zu zum zur zwei zwischen heute sagte sagt laut erklärte hieß heißt jahr jahre jahren
    a about after again against all also an and any are as at be been before being between both
    but by can could did do does during each few for from further had has have having he her here
    him his how i if in into is it its just me more most my no nor not now of off on once only or
    other our out over own said same says she should so some such than that the their them then
    there these they this those through to too under until up very was we were what when where
    which while who whom why will with would you your new one two year years told according also
    mr mrs ms would could last first week monday tuesday wednesday thursday friday saturday sunday
    montag dienstag mittwoch donnerstag freitag samstag sonntag
    """
_STOP = frozenset(_STOPWORDS.split())
# Other languages (the French KBS and Polish pages of a Korea stream): jusText's
# frequency lists. Without them two French articles on different events matched
# on "les", "des", "pour" (rare words in a German/English stream, so high idf).
# Not used for German and English: those lists hold content words ("Armee").
_JUSTEXT_LANGS = {
    "fr": "French",
    "pl": "Polish",
    "es": "Spanish",
    "it": "Italian",
    "nl": "Dutch",
    "pt": "Portuguese",
    "ru": "Russian",
    "tr": "Turkish",
    "sv": "Swedish",
    "da": "Danish",
    "no": "Norwegian_Bokmal",
    "cs": "Czech",
}


@functools.cache
def _stoplist(lang: str | None) -> frozenset[str]:
    name = _JUSTEXT_LANGS.get((lang or "").split("-")[0].lower())
    if name is None:
        return _STOP
    import justext  # only for the few non-German/English articles

    try:
        return _STOP | frozenset(justext.get_stoplist(name))
    except ValueError:  # a jusText without that list
        return _STOP


_TOKEN = re.compile(r"[^\W\d_][\w'-]*|\d+(?:[.,]\d+)?", re.UNICODE)
_YEAR = re.compile(r"(19|20)\d\d")


@dataclass(frozen=True)
class StoryFeatures:
    """What one article contributes to story matching."""

    terms: Mapping[str, int]  # content-word counts (stopwords removed, lexicon applied)
    names: frozenset[str]  # capitalised words and lexicon tokens
    numbers: frozenset[str]  # numbers other than years
    title: frozenset[str]
    actors: frozenset[str] = frozenset()
    when: datetime | None = None
    lang: str | None = None


@dataclass(frozen=True)
class Background:
    """Inverse document frequencies of terms over a set of articles."""

    weights: Mapping[str, float] = field(default_factory=dict)
    docs: int = 0

    def idf(self, term: str) -> float:
        """The term's inverse document frequency; an unseen term counts as rarest."""
        w = self.weights.get(term)
        return w if w is not None else math.log(self.docs + 1) + 1.0


def background(items: Iterable[StoryFeatures]) -> Background:
    """Document frequencies over ``items``, the window an article is compared within."""
    df: Counter[str] = Counter()
    n = 0
    for f in items:
        df.update(set(f.terms) | {_actor_key(a) for a in f.actors})
        n += 1
    # precomputed once: similarity() looks terms up millions of times per window
    return Background({t: math.log((n + 1) / (c + 1)) + 1.0 for t, c in df.items()}, n)


def _actor_key(actor_id: str) -> str:
    return f"@{actor_id}"


def _fold(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).replace("\u00ad", "")
    return _LEXICON.sub(lambda m: _LEXICON_TOKENS[m.lastgroup or ""], text.lower())


_LEXICON_SET = frozenset(t.strip() for _, t in _LEXICON_PAIRS)
#: Word keys keep this many letters (see term_key).
TERM_PREFIX = 6


@functools.lru_cache(maxsize=200_000)
def term_key(word: str) -> str:
    """The key a content word counts under: ASCII-folded, German k/z written c, cut to 6 letters.

    Cutting words to a fixed prefix is a language-independent stemmer
    (Mayfield & McNamee, "Single N-gram Stemming", SIGIR 2003): "Raketentests"
    and "Raketentest", "sanctions" and "sanctioned" meet. Folding German k and
    z to c (the regular German/English cognate spelling: Konflikt/conflict,
    Sanktion/sanction, Zentral/central) lets the cognates of a German and an
    English report of one event meet too ("moratorium", "strategische"/
    "strategic", "Interkontinental"/"intercontinental"). Lexicon tokens stay.
    """
    if word in _LEXICON_SET or word[0].isdigit():
        return word
    text = unicodedata.normalize("NFKD", word.replace("ß", "ss"))
    text = "".join(c for c in text if not unicodedata.combining(c))
    return text.replace("k", "c").replace("z", "c")[:TERM_PREFIX]


def _tokens(text: str, stop: frozenset[str] = _STOP) -> list[str]:
    return [
        term_key(t)
        for t in _TOKEN.findall(_fold(text))
        # two-digit numbers (ages, "Covid-19", days) match by accident too often
        if t not in stop and len(t) > 2
    ]


def features(
    title: str | None,
    text: str,
    *,
    lang: str | None = None,
    when: datetime | None = None,
    actor_ids: Iterable[str] = (),
) -> StoryFeatures:
    """The article's story features: weighted content words, names, numbers, title words,
    actors and time; computed once and stored."""
    body = f"{title or ''}\n{text}"
    stop = _stoplist(lang)
    toks = _tokens(body, stop)
    words = Counter(t for t in toks if not t[0].isdigit())
    numbers = frozenset(
        t.replace(",", ".") for t in toks if t[0].isdigit() and not _YEAR.fullmatch(t)
    )
    # Capitalised words (names in English, names and nouns in German) and lexicon tokens.
    caps = {
        w.lower()
        for w in re.findall(r"\b[A-ZÄÖÜ][\w-]{2,}", unicodedata.normalize("NFKC", body))
        if w.lower() not in stop
    }
    names = frozenset({t for t in words if t.startswith("x") and t[1:].isalpha()} | caps)
    title_terms = frozenset(t for t in _tokens(title or "", stop) if not t[0].isdigit())
    return StoryFeatures(
        terms=dict(words),
        names=names,
        numbers=numbers,
        title=title_terms,
        actors=frozenset(actor_ids),
        when=when,
        lang=lang,
    )


def _cosine(a: Mapping[str, int], b: Mapping[str, int], bg: Background) -> float:
    if not a or not b:
        return 0.0
    idf = bg.idf
    wa = {t: (1 + math.log(c)) * idf(t) for t, c in a.items()}
    wb = {t: (1 + math.log(c)) * idf(t) for t, c in b.items()}
    dot = sum(w * wb[t] for t, w in wa.items() if t in wb)
    na = math.sqrt(sum(w * w for w in wa.values()))
    nb = math.sqrt(sum(w * w for w in wb.values()))
    return dot / (na * nb) if na and nb else 0.0


def _weighted_jaccard(a: frozenset[str], b: frozenset[str], bg: Background) -> float:
    union = a | b
    if not union:
        return 0.0
    return sum(bg.idf(t) for t in a & b) / sum(bg.idf(t) for t in union)


def _jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    return len(a & b) / len(a | b) if a and b else 0.0


@dataclass(frozen=True)
class StorySimilarity:
    """Same-story score of two articles, with the contribution of each feature."""

    score: float
    parts: Mapping[str, float]

    @property
    def same_story(self) -> bool:
        """True if the score says the two articles report one event."""
        return self.score >= SAME_STORY_THRESHOLD


def similarity(
    a: StoryFeatures, b: StoryFeatures, bg: Background | None = None, *, window_days: int = 3
) -> StorySimilarity:
    """Same-story score of two articles with the contribution of each feature."""
    bg = bg or Background()
    parts = {
        "terms": _cosine(a.terms, b.terms, bg),
        "names": _weighted_jaccard(a.names, b.names, bg),
        # One shared actor (a country, "Kim Jong Un") is weak evidence on its
        # own: full weight needs three, however small the two sets are.
        "actors": _weighted_jaccard(
            frozenset(map(_actor_key, a.actors)), frozenset(map(_actor_key, b.actors)), bg
        )
        * min(1.0, len(a.actors & b.actors) / 3),
        "numbers": min(1.0, len(a.numbers & b.numbers) / 3),
        "title": _jaccard(a.title, b.title),
    }
    weights = dict(WEIGHTS)
    if not a.actors or not b.actors:
        # no tagger output on one side: the actor share goes to the other evidence
        spare = weights.pop("actors")
        weights = {k: w / (1 - spare) for k, w in weights.items()}
    score = sum(weights[k] * parts[k] for k in weights)
    if a.when is not None and b.when is not None:
        days = abs((a.when - b.when).total_seconds()) / 86400
        # full weight within a day, fading to half at the window's edge and beyond
        parts["days"] = round(days, 2)
        score *= 1.0 if days <= 1 else max(0.5, 1 - 0.5 * (days - 1) / max(window_days - 1, 1))
    return StorySimilarity(round(score, 4), {k: round(v, 4) for k, v in parts.items()})


def features_to_json(f: StoryFeatures) -> dict[str, Any]:
    """Story features as JSON (stored once per article, never recomputed per call)."""
    return {
        "terms": dict(f.terms),
        "names": sorted(f.names),
        "numbers": sorted(f.numbers),
        "title": sorted(f.title),
        "actors": sorted(f.actors),
        "when": f.when.isoformat() if f.when else None,
        "lang": f.lang,
    }


def features_from_json(data: Mapping[str, Any]) -> StoryFeatures:
    """Stored story features back as a value."""
    when = data.get("when")
    return StoryFeatures(
        terms=dict(data.get("terms", {})),
        names=frozenset(data.get("names", ())),
        numbers=frozenset(data.get("numbers", ())),
        title=frozenset(data.get("title", ())),
        actors=frozenset(data.get("actors", ())),
        when=datetime.fromisoformat(when) if when else None,
        lang=data.get("lang"),
    )
