"""``newsmon doctor``: is this installation able to run tonight? One line per check.

Checks, in the order a run needs them: settings, NEWSMON_HOME, disk space, the digest
directory, the database (reachable, schema at the newest migration, integrity), SMTP
(connect, TLS, login; nothing is sent), the feed list (parses, not empty) and the actor
list. Every check reads only: doctor creates no database, directory or mail. Each
check catches its own failure, so one bad part never hides the state of the others.
The CLI prints the lines and exits 1 when one failed; the newsmon_doctor DAG logs them
and fails its task (CheckFailed, a permanent error: not retried).
"""

from __future__ import annotations

import os
import shutil
import smtplib
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from email.headerregistry import Address
from pathlib import Path

from pipeline.config import Settings
from pipeline.errors import CheckFailed, NewsmonError


@dataclass(frozen=True)
class Check:
    """The outcome of one check: its name, whether it passed, and what was found."""

    name: str
    ok: bool
    detail: str

    def line(self) -> str:
        """The check as one report line: ``ok`` or ``FAIL``, name, detail."""
        return f"{'ok  ' if self.ok else 'FAIL'}  {self.name:<9} {self.detail}"


def _settings_check(settings: Settings) -> str:
    from pipeline.digest.mailer import parse_smtp_url

    addresses = [("NEWSMON_DIGEST_FROM", settings.digest_from or "")]
    addresses += [("NEWSMON_DIGEST_TO", r) for r in settings.digest_to]
    for label, value in addresses:
        if value:
            try:
                Address(addr_spec=value)
            except Exception as exc:  # email raises several parser errors
                raise CheckFailed(f"{label}: not an e-mail address: {value!r}") from exc
    if settings.smtp_url:
        parse_smtp_url(settings.smtp_url)
        if not settings.digest_to:
            return "SMTP configured but NEWSMON_DIGEST_TO is empty: nothing will be sent"
    return (
        f"time zone {settings.timezone}, {len(settings.digest_to)} recipient(s), "
        f"delivery budget {settings.smtp_budget_seconds:g} s"
    )


def _home_check(settings: Settings) -> str:
    home = settings.home
    if not home.is_dir():
        raise CheckFailed(f"NEWSMON_HOME={home} does not exist: run 'newsmon init'")
    _probe_writable(home, "NEWSMON_HOME")
    return f"{home.resolve()} writable"


def _disk_check(settings: Settings) -> str:
    where = next((p for p in (settings.home, *settings.home.parents) if p.exists()), Path("/"))
    free_mb = shutil.disk_usage(where).free // (1024 * 1024)
    if free_mb < settings.min_free_mb:
        raise CheckFailed(
            f"{free_mb} MB free at {where}, below NEWSMON_MIN_FREE_MB={settings.min_free_mb}"
        )
    return f"{free_mb} MB free at {where}"


def _digests_check(settings: Settings) -> str:
    out = settings.digests_dir
    if out.is_dir():
        _probe_writable(out, "the digest directory")
        return f"{out} writable"
    if out.exists():
        raise CheckFailed(f"{out} is a file, not a directory")
    if settings.home.is_dir():
        _probe_writable(settings.home, "NEWSMON_HOME")
        return f"{out} will be created at the first digest"
    raise CheckFailed(f"{out}: NEWSMON_HOME does not exist: run 'newsmon init'")


def _probe_writable(path: Path, what: str) -> None:
    try:
        fd, probe = tempfile.mkstemp(dir=path, prefix=".newsmon-doctor-")
    except OSError as exc:
        raise CheckFailed(f"{what} {path} is not writable ({exc.strerror or exc})") from exc
    os.close(fd)
    Path(probe).unlink(missing_ok=True)


def _database_check(settings: Settings) -> str:
    from sqlalchemy.engine import make_url

    from storage.db import (
        check_connection,
        integrity_check,
        make_engine,
        schema_status,
        sqlite_file,
    )

    try:
        path = sqlite_file(make_url(settings.database_url))
    except Exception:  # make_engine below gives the one-line reason
        path = None
    if path is not None and not path.exists():
        raise CheckFailed(f"no database at {path}: run 'newsmon init'")
    engine = make_engine(settings.database_url)
    try:
        check_connection(engine)
        current, heads = schema_status(engine)
        if not current:
            raise CheckFailed("database has no newsmon schema: run 'newsmon init'")
        if set(current) != set(heads):
            raise CheckFailed(
                f"schema at {', '.join(current)}, newest is {', '.join(heads)}: "
                "run 'newsmon init' to migrate"
            )
        integrity = integrity_check(engine)
        shown = engine.url.render_as_string(hide_password=True)
        return f"{shown}: schema {', '.join(current)} (newest), {integrity}"
    finally:
        engine.dispose()


def _smtp_check(settings: Settings) -> str:
    from pipeline.digest.smtp_conn import describe_error, parse_smtp_url, probe

    if not settings.smtp_url:
        return "not configured (NEWSMON_SMTP_URL): digests are written, not sent"
    cfg = parse_smtp_url(settings.smtp_url)
    try:
        found = probe(cfg)
    except smtplib.SMTPAuthenticationError as exc:
        raise CheckFailed(f"{cfg.redacted()}: login failed: {describe_error(exc)}") from exc
    except (smtplib.SMTPException, OSError) as exc:
        raise CheckFailed(f"{cfg.redacted()}: {describe_error(exc, cfg.timeout)}") from exc
    return f"{cfg.redacted()}: {found}; nothing sent"


def _feeds_check(settings: Settings) -> str:
    from pipeline.feeds.feedlist import load_feed_list

    sources = load_feed_list(settings.feeds_path)
    return f"{len(sources)} feeds in {settings.feeds_path}"


def _actors_check(settings: Settings) -> str:
    from pipeline.enrich.gazetteer import Gazetteer

    Gazetteer.load(settings.actors_path)
    return f"{settings.actors_path} parses"


CHECKS: Mapping[str, Callable[[Settings], str]] = {
    "settings": _settings_check,
    "home": _home_check,
    "disk": _disk_check,
    "digests": _digests_check,
    "database": _database_check,
    "smtp": _smtp_check,
    "feeds": _feeds_check,
    "actors": _actors_check,
}


def run_checks(settings: Settings) -> list[Check]:
    """Run every check; never raises for a failing one (it becomes a FAIL line)."""
    results: list[Check] = []
    for name, check in CHECKS.items():
        try:
            results.append(Check(name, True, check(settings)))
        except (NewsmonError, OSError) as exc:
            message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            results.append(Check(name, False, message))
    return results


def raise_for_failures(results: list[Check]) -> None:
    """CheckFailed naming the failed checks, when there are any."""
    failed = [c for c in results if not c.ok]
    if failed:
        names = ", ".join(c.name for c in failed)
        raise CheckFailed(f"doctor: {len(failed)} of {len(results)} checks failed: {names}")
