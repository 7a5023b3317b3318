"""Render a DailyDigest as plain text, HTML (Jinja2) and JSON, in German or English.

Every string that came from the web (titles, outlets, leads, names) reaches the
HTML only through Jinja2's autoescaping; the text part gets the same values
with control characters already flattened by pipeline.digest.build.clean_line. The
subject line is built here but sanitised again by pipeline.digest.mailer before it
becomes a header.
"""

from __future__ import annotations

import dataclasses
import json
from datetime import date, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from pipeline.digest.build import change_factor, clean_line
from pipeline.digest.model import DailyDigest

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"
LANGUAGES = ("de", "en")

STRINGS: dict[str, dict[str, Any]] = {
    "de": {
        "brand": "Korea-Lage",
        "title": "Korea-Lage vom {date}",
        "intro": "{stories} Meldungen aus {articles} Artikeln.",
        "stories": "Die Meldungen des Tages",
        "follow_ups": "Fortsetzungen",
        "follow_up_intro": "Geschichten, die an Bekanntes anschließen.",
        "continues": "Schließt an",
        "seed": "Seed-Korpus",
        "earlier": {"one": "{n} früherer Artikel", "other": "{n} frühere Artikel"},
        "sources": "Quellen",
        "independent": {"one": "{n} unabhängige Quelle", "other": "{n} unabhängige Quellen"},
        "also_ran": "Außerdem (Agenturkopien und Duplikate)",
        "kinds": {
            "url": "gleiche URL",
            "exact": "gleicher Text",
            "near": "fast gleich",
            "wire": "Agentur",
        },
        "actors": "Akteure des Tages",
        "actor_col": "Akteur",
        "actors_label": "Akteure",
        "today_col": "Artikel",
        "usual_col": "üblich (Ø {days} Tage)",
        "trend_col": "Trend",
        "trends": {
            "new": "neu",
            "spike": "starker Anstieg",
            "up": "mehr als üblich",
            "steady": "wie üblich",
            "down": "weniger als üblich",
        },
        "no_actors": "Keine bekannten Akteure genannt.",
        "candidates": "Neue Namen (noch nicht im Verzeichnis)",
        "mentions": {"one": "{n} Nennung", "other": "{n} Nennungen"},
        "health": "Zustand der Pipeline",
        "health_counts": "{seen} Artikel gesehen, {kept} zum Thema behalten, {dups} Duplikate.",
        "runs": "{runs} Läufe, {errors} Fehler.",
        "failed_feeds": "Feeds mit Fehlern",
        "quiet_feeds": "Stille Feeds (seit {days} Tagen nichts Neues)",
        "last_new": "zuletzt neu",
        "not_extracted": "Seiten nicht extrahiert: {n}",
        "backlog": "Seiten in der Abrufwarteschlange: {n}",
        "all_well": "Alle Feeds antworten, alle Seiten wurden gelesen.",
        "quiet": "Ein ruhiger Tag: keine neuen Meldungen zum Thema Korea.",
        "repeats_hidden": "{n} Wiederholungen älterer Artikel ohne Neues nicht gezeigt.",
        "footer": "Erstellt von newsmon. Zeiten in {tz}.",
        "subject": "{brand} {date}: {stories} Meldungen, {articles} Artikel",
        "subject_quiet": "{brand} {date}: ruhiger Tag, keine Meldungen",
        "weekdays": [
            "Montag",
            "Dienstag",
            "Mittwoch",
            "Donnerstag",
            "Freitag",
            "Samstag",
            "Sonntag",
        ],
        "months": [
            "Januar",
            "Februar",
            "März",
            "April",
            "Mai",
            "Juni",
            "Juli",
            "August",
            "September",
            "Oktober",
            "November",
            "Dezember",
        ],
        "date_long": "{weekday}, {d}. {month} {y}",
        "date_short": "{d:02d}.{m:02d}.{y}",
    },
    "en": {
        "brand": "Korea briefing",
        "title": "Korea briefing for {date}",
        "intro": "{stories} stories from {articles} articles.",
        "stories": "Today's stories",
        "follow_ups": "Follow-ups",
        "follow_up_intro": "Stories that continue something already known.",
        "continues": "Continues",
        "seed": "seed corpus",
        "earlier": {"one": "{n} earlier article", "other": "{n} earlier articles"},
        "sources": "Sources",
        "independent": {"one": "{n} independent source", "other": "{n} independent sources"},
        "also_ran": "Also ran (wire copies and duplicates)",
        "kinds": {"url": "same URL", "exact": "same text", "near": "near copy", "wire": "wire"},
        "actors": "Actors of the day",
        "actor_col": "Actor",
        "actors_label": "Actors",
        "today_col": "Articles",
        "usual_col": "usual (mean of {days} days)",
        "trend_col": "Trend",
        "trends": {
            "new": "new",
            "spike": "spike",
            "up": "above usual",
            "steady": "as usual",
            "down": "below usual",
        },
        "no_actors": "No known actors named.",
        "candidates": "New names (not in the gazetteer yet)",
        "mentions": {"one": "{n} mention", "other": "{n} mentions"},
        "health": "Pipeline health",
        "health_counts": "{seen} articles seen, {kept} kept as on topic, {dups} duplicates.",
        "runs": "{runs} runs, {errors} errors.",
        "failed_feeds": "Feeds that failed",
        "quiet_feeds": "Quiet feeds (nothing new for {days} days)",
        "last_new": "last new",
        "not_extracted": "Pages not extracted: {n}",
        "backlog": "Pages waiting to be fetched: {n}",
        "all_well": "All feeds answered, all pages were read.",
        "quiet": "A quiet day: no new stories about Korea.",
        "repeats_hidden": "{n} repeats of older articles with nothing new not shown.",
        "footer": "Made by newsmon. Times in {tz}.",
        "subject": "{brand} {date}: {stories} stories, {articles} articles",
        "subject_quiet": "{brand} {date}: quiet day, no stories",
        "weekdays": ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"],
        "months": [
            "January",
            "February",
            "March",
            "April",
            "May",
            "June",
            "July",
            "August",
            "September",
            "October",
            "November",
            "December",
        ],
        "date_long": "{weekday}, {d} {month} {y}",
        "date_short": "{y}-{m:02d}-{d:02d}",
    },
}

#: Quiet-feed threshold shown in the text (kept in step with pipeline.digest.collect).
QUIET_DAYS = 3


class Texts:
    """The digest's own words in one language, with plural forms."""

    def __init__(self, language: str) -> None:
        if language not in STRINGS:
            raise ValueError(f"digest language must be one of {LANGUAGES}, got {language!r}")
        self.language = language
        self._s = STRINGS[language]

    def __call__(self, key: str, n: int | None = None, **kw: Any) -> str:
        value = self._s[key]
        if isinstance(value, dict):
            value = value["one" if n == 1 else "other"]
        return str(value).format(n=n, **kw)

    def word(self, group: str, key: str) -> str:
        return str(self._s[group].get(key, key))

    def date_long(self, day: date) -> str:
        return str(self._s["date_long"]).format(
            weekday=self._s["weekdays"][day.weekday()],
            d=day.day,
            month=self._s["months"][day.month - 1],
            y=day.year,
        )

    def date_short(self, when: date | datetime) -> str:
        return str(self._s["date_short"]).format(d=when.day, m=when.month, y=when.year)


@lru_cache(maxsize=1)
def _environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(str(TEMPLATES_DIR)),
        autoescape=select_autoescape(enabled_extensions=("html.j2", "html"), default=False),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    return env


def _context(d: DailyDigest, language: str) -> dict[str, Any]:
    t = Texts(language)
    zone = ZoneInfo(d.timezone)

    def local(when: datetime) -> str:
        loc = when.astimezone(zone)
        if loc.date() == d.day:
            return loc.strftime("%H:%M")
        return f"{t.date_short(loc)} {loc.strftime('%H:%M')}"

    return {
        "d": d,
        "t": t,
        "lang": language,
        "date_long": t.date_long(d.day),
        "subject": subject(d, language),
        "local": local,
        "factor": change_factor,
        "quiet_days": QUIET_DAYS,
        "href": safe_href,
    }


def safe_href(url: str | None) -> str:
    """Only http(s) links reach a reader; anything else (javascript:, data:) becomes "#"."""
    value = clean_line(url, max_len=4000)
    return value if value.lower().startswith(("https://", "http://")) else "#"


def render_text(d: DailyDigest, language: str = "de") -> str:
    return _environment().get_template("digest.txt.j2").render(**_context(d, language))


def render_html(d: DailyDigest, language: str = "de") -> str:
    return _environment().get_template("digest.html.j2").render(**_context(d, language))


def subject(d: DailyDigest, language: str = "de", max_len: int = 160) -> str:
    """Date and counts first, then the top headline as long as room allows."""
    t = Texts(language)
    day = t.date_short(d.day)
    if d.quiet:
        return t("subject_quiet", brand=t("brand"), date=day)
    base = t("subject", brand=t("brand"), date=day, stories=d.story_count, articles=d.articles)
    top = clean_line(d.top_headline or "", max_len=max(0, max_len - len(base) - 3))
    return f"{base} – {top}" if top and len(top) > 10 else base


def digest_to_json(d: DailyDigest, language: str = "de") -> dict[str, Any]:
    """A stable JSON form of the digest (dates as ISO strings)."""
    payload = dataclasses.asdict(d)
    payload["language"] = language
    payload["subject"] = subject(d, language)
    payload["story_count"] = d.story_count
    payload["quiet"] = d.quiet
    return json.loads(json.dumps(payload, default=_json_default))


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")
