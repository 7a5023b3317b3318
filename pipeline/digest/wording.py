"""The digest's sentences that depend on the data: subject, opening, health, errors.

Kept apart from the templates so the subject line, the first line of both
parts and the JSON say exactly the same thing. Every string goes through the
gettext catalog of the digest's language (pipeline.digest.i18n); error class
names never reach the reader, only a sentence saying what went wrong.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from babel.support import Translations

from pipeline.digest.build import clean_line
from pipeline.digest.i18n import Formats, translations
from pipeline.digest.model import DailyDigest, FeedProblem

#: Words a failed or not-started digest must never contain (tests check them).
CALM_WORDS = ("ruhig", "quiet", "Alle Feeds antworten", "All feeds answered")


@dataclass(frozen=True)
class Words:
    """gettext, ngettext and formats of one language, with the digest's time zone."""

    tr: Translations
    fmt: Formats
    zone: ZoneInfo

    @classmethod
    def of(cls, language: str, timezone: str) -> Words:
        """The words of ``language``, with times shown in ``timezone``."""
        return cls(translations(language), Formats(language), ZoneInfo(timezone))

    def n(self, singular: str, plural: str, n: int) -> str:
        """A count with its noun in the right plural form ("1 Lauf", "2 Läufe")."""
        return self.tr.ngettext(singular, plural, n) % {"num": self.fmt.number(n)}

    def at(self, when: datetime | None) -> str:
        """A time in the digest's zone, date included; "never" for None."""
        if when is None:
            return self.tr.gettext("never")
        return self.fmt.when(when.astimezone(self.zone))


def subject(d: DailyDigest, language: str = "de", max_len: int = 160) -> str:
    """Warnings first; then date and counts, then the top headline as room allows."""
    w = Words.of(language, d.timezone)
    _ = w.tr.gettext
    values = {"brand": _("Korea briefing"), "date": w.fmt.date_short(d.day)}
    if d.health.not_started:
        return _("%(brand)s %(date)s: no report – newsmon was not running yet") % values
    if d.health.failed:
        values["problem"] = failure_summary(d, w)
        base = _("WARNING: %(brand)s %(date)s incomplete – %(problem)s") % values
        return clean_line(base, max_len=max_len)
    if d.quiet:
        return _("%(brand)s %(date)s: quiet day, no stories") % values
    values["stories"] = w.n("%(num)s story", "%(num)s stories", d.story_count)
    values["articles"] = w.n("%(num)s article", "%(num)s articles", d.full_articles)
    base = _("%(brand)s %(date)s: %(stories)s, %(articles)s") % values
    top = clean_line(d.top_headline or "", max_len=max(0, max_len - len(base) - 3))
    return f"{base} – {top}" if top and len(top) > 10 else base


def failure_summary(d: DailyDigest, w: Words) -> str:
    """The gravest failure in a few words, with since when (for the subject line)."""
    _ = w.tr.gettext
    h = d.health
    since = {"since": w.at(h.last_success)}
    # "since never" reads as a glitch to an editor: a monitor that never reached a feed says so.
    never = h.last_success is None
    if "outage" in h.failures:
        if never:
            return _("local network outage, no feed reached yet")
        return _("local network outage, no feed reachable since %(since)s") % since
    if "no-poll" in h.failures:
        if never:
            return _("no feed has been read yet")
        return _("no feed could be read since %(since)s") % since
    if "no-ingest" in h.failures:
        if never:
            return _("the feeds were not polled (never successfully)")
        return _("the feeds were not polled (last success %(since)s)") % since
    if "database" in h.failures:
        return _("database errors")
    counts = {"failing": w.fmt.number(h.feeds_failing), "polled": w.fmt.number(h.feeds_polled)}
    return _("%(failing)s of %(polled)s feeds failing") % counts


def opening(d: DailyDigest, language: str) -> list[str]:
    """The first lines of the digest: a warning on a failed day, never calm words then."""
    w = Words.of(language, d.timezone)
    _ = w.tr.gettext
    h = d.health
    if h.not_started:
        first = _("newsmon was not running yet on this day: there is no report for it.")
        when = _("The first feed poll that succeeded was at %(when)s.") % {
            "when": w.at(h.first_success)
        }
        return [first, when if h.first_success else _("No feed has been read successfully yet.")]
    if h.failed:
        lines = [_("WARNING: monitoring failed on this day – this report is incomplete.")]
        lines += failure_lines(d, w)
        if d.story_count:
            lines.append(_("Stories below are what did arrive; more may have been missed."))
        return lines
    if d.quiet:
        lines = [_("A quiet day: newsmon ran, the feeds answered, no new stories about Korea.")]
    else:
        lines = [intro(d, w)]
    if h.first_success and h.first_success.astimezone(w.zone).date() == d.day:
        lines.append(
            _("newsmon started at %(when)s; the hours before are not covered.")
            % {"when": w.at(h.first_success)}
        )
    return lines


def intro(d: DailyDigest, w: Words) -> str:
    """The opening line of a normal day: stories, full articles and any teasers counted."""
    stories = w.n("%(num)s story", "%(num)s stories", d.story_count)
    articles = w.n("from %(num)s article", "from %(num)s articles", d.full_articles)
    line = f"{stories} {articles}"
    if d.teasers:
        line += " " + w.n("(and %(num)s teaser only)", "(and %(num)s teasers only)", d.teasers)
    return line + "."


def failure_lines(d: DailyDigest, w: Words) -> list[str]:
    """One sentence per failure, saying what failed and since when."""
    _ = w.tr.gettext
    h = d.health
    since = w.at(h.last_success)
    out = []
    for code in h.failures:
        if code == "outage":
            out.append(
                _(
                    "Local network outage: every feed was unreachable at once (no name server "
                    "or no connection). No feed was disabled for it."
                )
            )
        elif code == "no-poll":
            out.append(
                _("No feed could be read. Last successful poll: %(since)s.") % {"since": since}
            )
        elif code == "no-ingest":
            out.append(_("The feed polling did not run on this day."))
        elif code == "most-feeds":
            out.append(
                _("%(failing)s of %(polled)s polled feeds failed.")
                % {"failing": w.fmt.number(h.feeds_failing), "polled": w.fmt.number(h.feeds_polled)}
            )
        elif code == "database":
            out.append(_("The database reported errors; some articles may not have been stored."))
    return out


def error_sentence(p: FeedProblem, language: str) -> str:
    """What went wrong, as a reader understands it ("Server nicht gefunden")."""
    _ = translations(language).gettext
    kind, status = p.error or "", p.http_status
    code = {"status": status}
    if kind == "HostNotFound":
        return _("server not found (no such name)")
    if kind == "FetchTimeout":
        return _("the server did not answer in time")
    if kind == "BlockedAddress":
        return _("address refused by the security policy")
    if kind == "ResponseTooLarge":
        return _("the response was too large")
    if kind == "TooManyRedirects":
        return _("too many redirects")
    if kind == "UnsupportedContent":
        return _("not a readable page or feed")
    if kind == "RobotsDisallowed":
        return _("the site's robots.txt forbids fetching it")
    if kind in ("FeedParseError", "MalformedFeed"):
        return _("not a valid feed")
    if kind == "ExtractionError":
        return _("no article text found on the page")
    if status in (404, 410):
        return _("page no longer there (HTTP %(status)s)") % code
    if status in (401, 403):
        return _("access denied (HTTP %(status)s)") % code
    if status == 429:
        return _("too many requests, the site asks us to wait (HTTP %(status)s)") % code
    if status is not None and status >= 500:
        return _("server error (HTTP %(status)s)") % code
    if status is not None:
        return _("the site refused the request (HTTP %(status)s)") % code
    if kind in ("TransientFetchError", "LocalOutage"):
        return _("no connection to the server")
    if kind == "gave-up" or kind == "failed":
        return _("the page could not be fetched")
    return _("unknown error")
