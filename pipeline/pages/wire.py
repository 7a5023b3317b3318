"""Wire-agency attribution: which news agencies an article credits.

The attribution feeds duplicate detection (agency copy is reprinted by many
outlets) and the digest. Credits take a handful of shapes: a parenthesised
list at the end ("(Tsp, AFP, dpa)"), a byline ("Von dpa/tap/RND"), a source
line ("Quelle: Agenturen"), or a dateline ("SEOUL, Jan. 3 (Yonhap) --",
"(AP) —"). Agency names are only trusted inside such a credit, never as
bare words in running text, so an article *about* Reuters is not credited
to it.
"""

from __future__ import annotations

import re

#: Canonical spelling -> regex fragment matching one agency token.
AGENCIES: dict[str, str] = {
    "dpa": r"dpa",
    "AFP": r"AFP|afp",
    "Reuters": r"Reuters|REUTERS|rtr|Rtr",
    "AP": r"AP|ap",
    "KNA": r"KNA|kna",
    "epd": r"epd",
    "Yonhap": r"Yonhap|YONHAP|yonhap",
    "Agenturen": r"Agenturen|agenturen",
}
_TOKEN = "|".join(f"(?P<{name}>{pattern})" for name, pattern in AGENCIES.items())
_ANY = rf"(?:{'|'.join(AGENCIES.values())})"
# Other credit tokens that may share a credit list with agencies
# (newspaper abbreviations, author initials, "AP Photo").
_OTHER = r"[\w\-\.]{1,12}"
_SEP = r"(?:\s*[,/;+&]\s*|\s+(?:und|and|mit|with)\s+)"
_LIST = rf"(?:{_OTHER}{_SEP})*{_ANY}(?:{_SEP}{_OTHER})*"

_CREDITS = [
    # (Tsp, AFP, dpa) / (dpa) / (AP) — / (Yonhap) --
    re.compile(rf"\(\s*({_LIST})\s*\)"),
    # Von dpa/tap/RND ; Mit Material von dpa und AFP
    re.compile(rf"\b(?:[Vv]on|[Mm]aterial von|[Bb]y)\s+({_LIST})\s*$", re.MULTILINE),
    # Quelle: Agenturen ; Quellen: dpa, AFP
    re.compile(rf"\b(?:Quellen?|Source|Sources)\s*:\s*({_LIST})", re.IGNORECASE),
    # a line that is only the credit: "dpa/tap" or "AFP" at the end of a text
    re.compile(rf"^\s*({_LIST})\s*$", re.MULTILINE),
    # datelines: "BERLIN (dpa) -", "Seoul/Berlin (dpa/AFP) -" are covered above;
    # "SEOUL, Jan. 3 (Yonhap) --" too; "Foto: dpa" photo credits are not
    # attribution of the text and are deliberately not matched.
]
_TOKEN_RE = re.compile(rf"(?<![\w-])(?:{_TOKEN})(?![\w-])")
_PHOTO = re.compile(r"(?:Foto|Fotos|Photo|Bild|Bilder|Image)s?\s*:?\s*$", re.IGNORECASE)


def detect_wire_agencies(text: str) -> tuple[str, ...]:
    """Agencies credited in ``text``, in canonical spelling and first-seen order."""
    found: dict[str, int] = {}
    for pattern in _CREDITS:
        for match in pattern.finditer(text):
            prefix = text[max(0, match.start() - 12) : match.start()]
            if _PHOTO.search(prefix):
                continue
            span = match.group(1)
            for token in _TOKEN_RE.finditer(span):
                name = token.lastgroup
                if name and name not in found:
                    found[name] = match.start(1) + token.start()
    return tuple(sorted(found, key=found.__getitem__))
