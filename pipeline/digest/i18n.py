"""The digest's languages: gettext catalogs (Babel) and locale-aware numbers and dates.

Catalogs live as .po files in pipeline/digest/locale/<lang>/LC_MESSAGES/digest.po
and are compiled in memory when first used (Babel's read_po + write_mo), so a
fresh clone needs no compile step and the .po stays the one source. msgids are
the English text; the English catalog only carries the plural rule. To add or
change a string: edit the template or pipeline/digest/wording.py, then run
scripts/i18n.sh (extract + update) and translate the new entries.
"""

from __future__ import annotations

from datetime import date, datetime
from functools import lru_cache
from io import BytesIO
from pathlib import Path

from babel import Locale
from babel.dates import format_date
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal
from babel.support import Translations

LOCALE_DIR = Path(__file__).resolve().parent / "locale"
DOMAIN = "digest"
LANGUAGES = ("de", "en")
#: The Babel locale behind each digest language (British English: day before month).
_LOCALES = {"de": "de_DE", "en": "en_GB"}
#: Long and short date patterns (CLDR syntax): German "Mittwoch, 1. Januar 2020",
#: "01.01.2020"; English "Wednesday, 1 January 2020", "2020-01-01" (ISO: unambiguous).
_LONG = {"de": "full", "en": "EEEE, d MMMM y"}
_SHORT = {"de": "dd.MM.y", "en": "y-MM-dd"}


def check_language(language: str) -> str:
    """Return ``language`` if it is a digest language, else raise ValueError."""
    if language not in LANGUAGES:
        raise ValueError(f"digest language must be one of {LANGUAGES}, got {language!r}")
    return language


@lru_cache(maxsize=len(LANGUAGES))
def translations(language: str) -> Translations:
    """The compiled catalog of ``language`` (cached per process)."""
    check_language(language)
    po = LOCALE_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po"
    with po.open("rb") as fh:
        catalog = read_po(fh, locale=_LOCALES[language], domain=DOMAIN)
    buf = BytesIO()
    write_mo(buf, catalog, use_fuzzy=False)
    buf.seek(0)
    return Translations(buf, domain=DOMAIN)


class Formats:
    """Numbers, dates and times as a reader of ``language`` writes them."""

    def __init__(self, language: str) -> None:
        self.language = check_language(language)
        self.locale = Locale.parse(_LOCALES[language])

    def number(self, n: float) -> str:
        """A number with the locale's grouping and decimal signs."""
        return format_decimal(n, locale=self.locale)

    def decimal1(self, x: float) -> str:
        """A number with exactly one decimal place, in the locale's notation."""
        return format_decimal(x, format="0.0", locale=self.locale)

    def date_long(self, day: date) -> str:
        """The day written out with its weekday ("Mittwoch, 1. Januar 2020")."""
        return format_date(day, _LONG[self.language], locale=self.locale)

    def date_short(self, when: date | datetime) -> str:
        """The day in short numeric form (German dd.MM.y, English ISO); a time is dropped."""
        day = when.date() if isinstance(when, datetime) else when
        return format_date(day, _SHORT[self.language], locale=self.locale)

    def time(self, when: datetime) -> str:
        """Hours and minutes on the 24-hour clock, in the zone ``when`` already carries."""
        return when.strftime("%H:%M")  # 24-hour clock in both languages

    def when(self, when: datetime) -> str:
        """Date and time, for instants outside the digest's own day."""
        return f"{self.date_short(when)} {self.time(when)}"
