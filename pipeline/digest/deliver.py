"""Build, write and (optionally) send one day's digest: the unit CLI and DAG call.

Delivery guarantee per (day, recipient), kept in the digest table:

* a recipient whose row is ``sent`` is skipped (a retried task never sends twice);
* before sending, the row is claimed with one guarded UPDATE (status -> ``sending``),
  so of two concurrent tasks only one gets to send;
* a claim that never finished (the worker died mid-send, outcome unknown) is taken
  over after CLAIM_LEASE, so that recipient gets the digest at least once, possibly
  twice; the retry reuses the Message-ID, so mail clients can fold the copies. Until
  the lease runs out such a recipient is "busy": the task fails (transient) and is
  retried, it never passes as sent;
* ``resend=True`` sends again on purpose and increments send_count (new Message-ID).

Recipients are claimed first, then sent in parallel (NEWSMON_SMTP_PARALLEL at a time)
under one deadline for the whole digest (NEWSMON_SMTP_BUDGET_SECONDS, at most 10 of
the lease's 15 minutes); a recipient whose turn comes after the deadline fails with
that reason and keeps its Message-ID for the retry.

See docs/digest.md.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

from sqlalchemy import and_, case, or_, update
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from pipeline.config import Settings
from pipeline.digest.build import build_digest
from pipeline.digest.collect import collect_day
from pipeline.digest.mailer import (
    build_message,
    domain_of,
    message_id,
    parse_smtp_url,
    send_message,
)
from pipeline.digest.model import DailyDigest
from pipeline.digest.render import digest_to_json, render_html, render_text, subject
from pipeline.errors import DeliveryError, DeliveryFailed, DeliveryInDoubt, DeliveryRejected
from pipeline.windows import day_window
from storage.db import session_scope
from storage.models import Digest
from storage.repo import digest_record
from storage.statuses import DigestStatus

log = logging.getLogger(__name__)

#: A "sending" claim older than this is presumed dead and may be taken over.
CLAIM_LEASE = timedelta(minutes=15)
FEED_ENTRIES = 30
ATOM_NS = "http://www.w3.org/2005/Atom"
NO_SMTP = "SMTP not configured (NEWSMON_SMTP_URL): digest written, not sent"


@dataclass(frozen=True)
class DigestReport:
    """What run_digest did for one day: the files written and each recipient's outcome."""

    day: date
    stories: int
    articles: int
    written: tuple[Path, ...]
    sent_to: tuple[str, ...]
    skipped: tuple[str, ...]  # already sent
    failed: tuple[str, ...]
    notes: tuple[str, ...] = ()
    #: claimed by another task whose lease has not run out: sent or not, we cannot know yet
    busy: tuple[str, ...] = ()
    #: (recipient, short reason, transient) of every failed recipient
    reasons: tuple[tuple[str, str, bool], ...] = ()

    def raise_for_failures(self) -> None:
        """Raise if any recipient failed or is still in doubt, naming each with its reason.

        DeliveryFailed (retried) when any failure may pass (timeout, 4xx), DeliveryRejected
        (not retried) when every one was refused for good (535, 550, a bad address); a
        worker that died mid-send must not pass as "already sent" (DeliveryInDoubt).
        """
        if self.failed:
            line = f"digest {self.day}: delivery failed for {self._failures_by_reason()}"
            if self.reasons and not any(transient for _, _, transient in self.reasons):
                raise DeliveryRejected(line + "; fix the address or the SMTP settings, then rerun")
            raise DeliveryFailed(line)
        if self.busy:
            raise DeliveryInDoubt(
                f"digest {self.day}: another run is sending to {', '.join(self.busy)}; "
                f"retry after its lease ({CLAIM_LEASE}) runs out",
                retry_after=CLAIM_LEASE.total_seconds(),
            )

    def _failures_by_reason(self) -> str:
        """``a, b (timeout ...); c (550 ...)``: recipients grouped by their reason, in order."""
        why = {r: reason for r, reason, _ in self.reasons}
        groups: dict[str, list[str]] = {}
        for rcpt in self.failed:
            groups.setdefault(why.get(rcpt, ""), []).append(rcpt)
        return "; ".join(
            ", ".join(rcpts) + (f" ({reason})" if reason else "")
            for reason, rcpts in groups.items()
        )


def run_digest(
    settings: Settings,
    engine: Engine,
    day: date,
    *,
    send: bool = False,
    recipients: Sequence[str] | None = None,
    resend: bool = False,
    out_dir: Path | None = None,
    smtp_url: str | None = None,
) -> DigestReport:
    """Build one day's digest, write its files and the Atom feed, and send it if asked.

    Delivery failures are reported, not raised: call DigestReport.raise_for_failures to fail.
    Nothing is sent for a day newsmon was not yet running on, without recipients or SMTP URL,
    or on a quiet day unless NEWSMON_SEND_EMPTY_DIGEST; the notes say which.
    """
    language = settings.digest_language
    with session_scope(engine) as session:
        data = collect_day(session, day, settings.timezone, language=language)
    digest = build_digest(data, language=language)
    subj = subject(digest, language)
    text = render_text(digest, language)
    html = render_html(digest, language)
    out = out_dir or settings.digests_dir
    mode = settings.digest_file_mode
    written = write_digest_files(out, day, text, html, digest_to_json(digest, language), mode=mode)
    written += (write_atom_feed(out, settings.timezone, mode=mode),)
    with session_scope(engine) as session:
        _mark_written(session, day, "", digest, note=None)

    def report(
        sent: Sequence[str] = (),
        skipped: Sequence[str] = (),
        failed: Sequence[str] = (),
        notes: Sequence[str] = (),
        busy: Sequence[str] = (),
        failures: Sequence[tuple[str, DeliveryError]] = (),
    ) -> DigestReport:
        return DigestReport(
            day,
            digest.story_count,
            digest.articles,
            written,
            tuple(sent),
            tuple(skipped),
            tuple(failed),
            tuple(notes),
            tuple(busy),
            tuple((r, e.reason, e.transient) for r, e in failures),
        )

    if not send:
        return report()
    if digest.health.not_started:
        # A first start builds yesterday's digest at once: no email for a day newsmon missed.
        return report(notes=["newsmon was not running yet on that day: written, not sent"])
    to = [r.strip() for r in (recipients if recipients is not None else settings.digest_to)]
    to = [r for r in dict.fromkeys(to) if r]
    if not to:
        return report(notes=["no recipients (NEWSMON_DIGEST_TO or --to): nothing sent"])
    url = smtp_url or settings.smtp_url
    if not url:
        with session_scope(engine) as session:
            for r in to:
                _mark_written(session, day, r, digest, note=NO_SMTP)
        return report(notes=[NO_SMTP])
    if digest.quiet and not settings.send_empty_digest:
        return report(notes=["quiet day and NEWSMON_SEND_EMPTY_DIGEST=0: written, not sent"])

    cfg = parse_smtp_url(url)
    sender = settings.digest_from or f"newsmon@{domain_of(None)}"
    sent: list[str] = []
    skipped: list[str] = []
    busy: list[str] = []
    claimed: list[tuple[str, int]] = []
    for rcpt in to:
        send_count = _claim(engine, day, rcpt, digest, resend=resend)
        if send_count == SENT:
            skipped.append(rcpt)
        elif send_count == BUSY:
            busy.append(rcpt)
        else:
            claimed.append((rcpt, send_count))

    def deliver_one(rcpt: str, send_count: int) -> tuple[str, str, DeliveryError | None]:
        msg_id = message_id(day, rcpt, send_count, domain_of(sender))
        try:
            msg = build_message(
                subject=subj,
                text=text,
                html=html,
                sender=sender,
                recipient=rcpt,
                msg_id=msg_id,
                list_id=f"newsmon digest <digest.{domain_of(sender)}>",
                # RFC 5322: the time the message was ready to go, not the day it covers
                date_=datetime.now(UTC),
            )
            send_message(msg, cfg, deadline=deadline)
        except DeliveryError as exc:
            return rcpt, msg_id, exc
        return rcpt, msg_id, None

    # One deadline for the whole digest: 20 recipients behind a server that never
    # answers cost the budget once, not 20 times the retries' timeouts.
    deadline = time.monotonic() + settings.smtp_budget_seconds
    failures: list[tuple[str, DeliveryError]] = []
    if claimed:
        workers = min(settings.smtp_parallel, len(claimed))
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="smtp") as pool:
            futures = [pool.submit(deliver_one, r, n) for r, n in claimed]
            for future in as_completed(futures):
                rcpt, msg_id, error = future.result()
                if error is None:
                    _finish(engine, day, rcpt, status="sent", msg_id=msg_id, error=None)
                    sent.append(rcpt)
                    continue
                log.warning("digest %s not delivered to %s: %s", day, rcpt, error)
                _finish(engine, day, rcpt, status="failed", msg_id=msg_id, error=str(error))
                failures.append((rcpt, error))
    order = {r: i for i, r in enumerate(to)}
    sent.sort(key=order.__getitem__)
    failures.sort(key=lambda f: order[f[0]])
    failed = [r for r, _ in failures]
    notes = [f"{r}: {e}" for r, e in failures]
    return report(sent, skipped, failed, notes, busy, failures)


def _mark_written(
    session: Session, day: date, recipient: str, digest: DailyDigest, note: str | None
) -> None:
    row = digest_record(session, day, recipient)
    row.stories, row.articles = digest.story_count, digest.articles
    if row.status in ("pending", "written", "failed"):
        row.status = DigestStatus.WRITTEN
        row.last_error = note
    session.add(row)


SENT = -1  # _claim: the day's digest already went to this recipient
BUSY = -2  # _claim: another task holds a live claim (sending now, or died recently)


def _claim(engine: Engine, day: date, rcpt: str, digest: DailyDigest, *, resend: bool) -> int:
    """Take the (day, recipient) row for sending: the send number, else SENT or BUSY."""
    now = datetime.now(UTC)
    with session_scope(engine) as session:
        row = digest_record(session, day, rcpt)
        open_states = ["pending", "written", "failed", *(["sent"] if resend else [])]
        status = col(Digest.status)
        stmt = (
            update(Digest)
            .where(
                col(Digest.id) == row.id,
                or_(
                    status.in_(open_states),
                    and_(status == "sending", col(Digest.sent_at) < now - CLAIM_LEASE),
                ),
            )
            .values(
                status="sending",
                # A retry of a failed or abandoned send keeps its number (and Message-ID).
                send_count=case(
                    (status.in_(("failed", "sending")), col(Digest.send_count)),
                    else_=col(Digest.send_count) + 1,
                ),
                sent_at=now,  # while "sending": when the claim was made (the lease)
                stories=digest.story_count,
                articles=digest.articles,
            )
            .execution_options(synchronize_session=False)
        )
        if session.execute(stmt).rowcount != 1:  # type: ignore[attr-defined]
            current = session.exec(select(Digest.status).where(Digest.id == row.id)).one()
            return BUSY if current == "sending" else SENT
        count = session.exec(select(Digest.send_count).where(Digest.id == row.id)).one()
        return max(int(count), 1)


def _finish(
    engine: Engine, day: date, rcpt: str, *, status: str, msg_id: str, error: str | None
) -> None:
    with session_scope(engine) as session:
        session.execute(
            update(Digest)
            .where(
                col(Digest.day) == day,
                col(Digest.recipient) == rcpt,
                col(Digest.status) == "sending",
            )
            .values(
                status=status,
                message_id=msg_id,
                sent_at=datetime.now(UTC),
                last_error=(error or "")[:2000] or None,
            )
            .execution_options(synchronize_session=False)
        )


# --- files ---------------------------------------------------------------------------------


def _atomic_write(path: Path, data: str, mode: int = 0o644) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        # mkstemp creates 0600; readers (a web server serving feed.atom) need the configured mode
        os.fchmod(fd, mode)
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def write_digest_files(
    out: Path, day: date, text: str, html: str, payload: dict[str, Any], *, mode: int = 0o644
) -> tuple[Path, ...]:
    """Write the day's .html, .txt and .json into ``out``, each replaced atomically."""
    stem = day.isoformat()
    body = json.dumps(payload, ensure_ascii=False, indent=1)
    return (
        _atomic_write(out / f"{stem}.html", html, mode),
        _atomic_write(out / f"{stem}.txt", text, mode),
        _atomic_write(out / f"{stem}.json", body, mode),
    )


def write_atom_feed(
    out: Path, timezone: str, limit: int = FEED_ENTRIES, *, mode: int = 0o644
) -> Path:
    """Regenerate digests/feed.atom from the newest ``limit`` written digests."""
    ET.register_namespace("", ATOM_NS)
    days: list[date] = []
    for p in out.glob("????-??-??.json"):
        try:
            days.append(date.fromisoformat(p.stem))
        except ValueError:
            continue
    days = sorted(days, reverse=True)[:limit]

    def el(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
        node = ET.SubElement(parent, f"{{{ATOM_NS}}}{tag}", attrs)
        node.text = text
        return node

    feed = ET.Element(f"{{{ATOM_NS}}}feed")
    el(feed, "id", "urn:newsmon:digests")
    el(feed, "title", "newsmon digests")
    el(feed, "link", rel="self", href="feed.atom")
    newest = day_window(days[0], timezone)[1] if days else datetime(1970, 1, 1, tzinfo=UTC)
    el(feed, "updated", newest.isoformat())
    el(el(feed, "author"), "name", "newsmon")
    for d in days:
        payload = json.loads((out / f"{d.isoformat()}.json").read_text(encoding="utf-8"))
        html_path = out / f"{d.isoformat()}.html"
        entry = el(feed, "entry")
        el(entry, "id", f"urn:newsmon:digest:{d.isoformat()}")
        el(entry, "title", str(payload.get("subject") or d.isoformat()))
        el(entry, "updated", day_window(d, timezone)[1].isoformat())
        el(entry, "link", rel="alternate", type="text/html", href=html_path.name)
        if html_path.exists():
            el(entry, "content", html_path.read_text(encoding="utf-8"), type="html")
    data = ET.tostring(feed, encoding="unicode", xml_declaration=False)
    return _atomic_write(out / "feed.atom", '<?xml version="1.0" encoding="utf-8"?>\n' + data, mode)
