"""Language identification of extracted article text.

py3langid (a maintained, dependency-light fork of langid.py) covers 97
languages including de, en and ko. Articles in other languages are still
stored; the caller records whatever code comes back.
"""

from __future__ import annotations

import re

import py3langid

#: Below this many letters the classifier guesses more than it knows.
MIN_LETTERS = 20
#: The opening of an article identifies its language as well as the whole
#: text does, at a fraction of the cost.
SAMPLE_CHARS = 3000

_HANGUL = re.compile(r"[\uac00-\ud7a3\u1100-\u11ff\u3130-\u318f]")
_LETTER = re.compile(r"[^\W\d_]")


def detect_language(text: str) -> str | None:
    """ISO 639-1 code of ``text``'s language, or None when the text is too short."""
    sample = text[:SAMPLE_CHARS]
    letters = len(_LETTER.findall(sample))
    if letters < MIN_LETTERS:
        return None
    # langid's byte n-grams under-weight Hangul in mixed Korean/Latin text
    # (bylines, English names); a majority of Hangul letters settles it.
    if len(_HANGUL.findall(sample)) * 2 > letters:
        return "ko"
    lang, _score = py3langid.classify(sample)
    return str(lang)


def load_model() -> None:
    """Load the language model now instead of at the first classification."""
    py3langid.classify("load the model")
