"""Render a DailyDigest as plain text, HTML (Jinja2) and JSON, in German or English.

Words come from gettext catalogs through Jinja2's i18n extension (newstyle
gettext: ``_()`` and ``ngettext()`` in the templates, pipeline.digest.i18n),
numbers and dates from Babel, and the sentences that depend on the day's data
(subject, opening lines, health, errors) from pipeline.digest.wording.

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
from pipeline.digest.i18n import LANGUAGES, Formats, check_language, translations
from pipeline.digest.model import DailyDigest
from pipeline.digest.wording import Words, error_sentence, failure_lines, opening, subject

__all__ = ["LANGUAGES", "digest_to_json", "render_html", "render_text", "safe_href", "subject"]

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"

#: Quiet-feed threshold shown in the text (kept in step with pipeline.digest.collect).
QUIET_DAYS = 3


@lru_cache(maxsize=len(LANGUAGES))
def _environment(language: str) -> Environment:
    env = Environment(
        loader=FileSystemLoader(str(TEMPLATES_DIR)),
        autoescape=select_autoescape(enabled_extensions=("html.j2", "html"), default=False),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        extensions=["jinja2.ext.i18n"],
    )
    env.install_gettext_translations(translations(language), newstyle=True)  # type: ignore[attr-defined]
    return env


def _context(d: DailyDigest, language: str) -> dict[str, Any]:
    fmt = Formats(check_language(language))
    zone = ZoneInfo(d.timezone)

    def local(when: datetime) -> str:
        loc = when.astimezone(zone)
        return fmt.time(loc) if loc.date() == d.day else fmt.when(loc)

    words = Words.of(language, d.timezone)
    return {
        "d": d,
        "fmt": fmt,
        "lang": language,
        "date_long": fmt.date_long(d.day),
        "subject": subject(d, language),
        "opening": opening(d, language),
        "warn": d.health.failed or d.health.not_started,
        "health_failures": failure_lines(d, words),
        "error": lambda p: error_sentence(p, language),
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
    """The plain-text part: reads on its own, URLs on their own lines."""
    return _environment(language).get_template("digest.txt.j2").render(**_context(d, language))


def render_html(d: DailyDigest, language: str = "de") -> str:
    """The HTML part: mail-client safe, light and dark, no external resources."""
    return _environment(language).get_template("digest.html.j2").render(**_context(d, language))


def digest_to_json(d: DailyDigest, language: str = "de") -> dict[str, Any]:
    """A stable JSON form of the digest (dates as ISO strings; error classes kept here)."""
    payload = dataclasses.asdict(d)
    payload["language"] = language
    payload["subject"] = subject(d, language)
    payload["opening"] = opening(d, language)
    payload["story_count"] = d.story_count
    payload["quiet"] = d.quiet
    payload["state"] = d.health.state
    return json.loads(json.dumps(payload, default=_json_default))


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")
