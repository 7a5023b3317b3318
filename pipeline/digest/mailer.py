"""Build the digest's MIME message and hand it to an SMTP server.

The SMTP URL carries the whole delivery configuration, so the CLI
(NEWSMON_SMTP_URL) and the Airflow connection helper produce the same thing::

    smtp://user:pass@host:587?starttls=1      plain connection upgraded with STARTTLS
    smtps://user:pass@host:465                TLS from the first byte
    smtp://host:25                            no TLS, no login (local relay)

Query options: ``starttls=1``, ``timeout`` (seconds per SMTP operation, 30),
``retries`` (attempts after the first on a transient failure, 2), ``retry_delay``
(seconds before the first retry, doubled each time; 2), ``cafile`` (a CA bundle
to trust instead of the system's, for a private relay). Transient failures
(connection refused or dropped, timeouts, 4xx replies) are retried; 5xx replies
are not. The final failure raises DeliveryFailed (DeliveryRejected for 5xx),
whose ``reason`` is the short cause. A ``deadline`` bounds one message's
attempts and pauses together (deliver.py gives every recipient of a digest the
same one, NEWSMON_SMTP_BUDGET_SECONDS from the start of delivery).
"""

from __future__ import annotations

import hashlib
import logging
import re
import smtplib
import ssl
import time
from collections.abc import Callable
from datetime import date, datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime
from typing import TYPE_CHECKING

from pipeline.digest.smtp_conn import (
    BudgetExhausted,
    Clock,
    SmtpConfig,
    describe_error,
    parse_smtp_url,
    session,
)
from pipeline.errors import DeliveryFailed, DeliveryRejected

if TYPE_CHECKING:
    from pipeline.config import Settings

log = logging.getLogger(__name__)

#: Header values longer than this are cut (RFC 5322 allows 998 per line; readers want less).
SUBJECT_MAX = 200
_HEADER_BAD = re.compile(r"[\x00-\x1f\x7f\u0085\u2028\u2029]+")


def sanitize_header(value: str, max_len: int = SUBJECT_MAX) -> str:
    """One safe header line: no CR/LF or other controls (no header injection), capped."""
    out = " ".join(_HEADER_BAD.sub(" ", value).split())
    if len(out) > max_len:
        out = out[: max_len - 1].rstrip() + "…"
    return out


def message_id(day: date, recipient: str, send_count: int, domain: str) -> str:
    """Deterministic per (day, recipient, send number): a retried send reuses it."""
    who = hashlib.sha256(recipient.strip().lower().encode()).hexdigest()[:16]
    return f"<digest.{day.isoformat()}.{who}.{send_count}@{sanitize_header(domain, 200)}>"


def domain_of(address: str | None) -> str:
    """The domain part of an address, or ``newsmon.invalid`` when there is none."""
    if address and "@" in address:
        return address.rsplit("@", 1)[1].strip(" >") or "newsmon.invalid"
    return "newsmon.invalid"


def build_message(
    *,
    subject: str,
    text: str,
    html: str,
    sender: str,
    recipient: str,
    msg_id: str,
    list_id: str,
    date_: datetime,
    archive_url: str | None = None,
) -> EmailMessage:
    """multipart/alternative: text first, HTML last (the part clients prefer)."""
    msg = EmailMessage()
    msg["Subject"] = sanitize_header(subject)
    msg["From"] = _address(sender)
    msg["To"] = _address(recipient)
    msg["Date"] = format_datetime(date_)
    msg["Message-ID"] = sanitize_header(msg_id, 300)
    msg["List-Id"] = sanitize_header(list_id, 300)
    msg["Auto-Submitted"] = "auto-generated"
    msg["Precedence"] = "list"
    if archive_url:
        msg["List-Archive"] = f"<{sanitize_header(archive_url, 500)}>"
    msg.set_content(text, subtype="plain", charset="utf-8", cte="quoted-printable")
    msg.add_alternative(html, subtype="html", charset="utf-8", cte="quoted-printable")
    return msg


def _address(value: str) -> Address:
    clean = sanitize_header(value, 320)
    try:
        return Address(addr_spec=clean)
    except Exception as exc:  # email raises several parser errors for bad addresses
        raise DeliveryRejected(
            f"not an e-mail address: {clean!r}", reason="not an e-mail address"
        ) from exc


def _is_transient(exc: BaseException) -> bool:
    """4xx replies and network trouble are worth another try; 5xx and TLS trust are not."""
    if isinstance(exc, BudgetExhausted):
        return True  # a later task run has a fresh budget
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return all(400 <= code < 500 for code, _ in exc.recipients.values())
    if isinstance(exc, smtplib.SMTPResponseException):
        return 400 <= exc.smtp_code < 500
    if isinstance(exc, smtplib.SMTPServerDisconnected):
        return True
    if isinstance(exc, smtplib.SMTPException | ssl.SSLCertVerificationError):
        return False  # e.g. AUTH or STARTTLS not offered: retrying cannot help
    return isinstance(exc, OSError)


def send_message(
    msg: EmailMessage,
    cfg: SmtpConfig,
    *,
    context: ssl.SSLContext | None = None,
    sleep: Callable[[float], None] = time.sleep,
    deadline: float | None = None,
    clock: Clock = time.monotonic,
) -> int:
    """Send ``msg``; returns the number of attempts it took. Raises DeliveryError.

    ``deadline`` (a ``clock()`` value) bounds everything, retries and their pauses
    included: each attempt's socket timeout is the smaller of the URL's ``timeout``
    and the time left, and no pause outlasts the deadline. The error's ``reason``
    is the short cause (timeout, 535 ..., 550 ...).
    """
    attempts = cfg.retries + 1
    delay = cfg.retry_delay
    reason = "not attempted"
    attempt = 0
    for attempt in range(1, attempts + 1):
        timeout = cfg.timeout if deadline is None else min(cfg.timeout, deadline - clock())
        try:
            with session(cfg, context=context, deadline=deadline, clock=clock) as smtp:
                refused = smtp.send_message(msg)
            if refused:  # only possible with several recipients; we send one per message
                raise DeliveryRejected(
                    f"recipients refused by {cfg.redacted()}: {refused}", reason=str(refused)
                )
            return attempt
        except (smtplib.SMTPException, OSError) as exc:
            reason = describe_error(exc, timeout)
            if isinstance(exc, smtplib.SMTPAuthenticationError):
                raise DeliveryRejected(
                    f"SMTP login failed at {cfg.redacted()}: {reason}", reason=reason
                ) from exc
            if not _is_transient(exc):
                raise DeliveryRejected(
                    f"{cfg.redacted()} refused the digest: {reason}", reason=reason
                ) from exc
            if isinstance(exc, BudgetExhausted):
                break
            if attempt < attempts:
                if deadline is not None and clock() + delay >= deadline:
                    break  # the pause alone would outlast the budget
                sleep(delay)
                delay *= 2
    raise DeliveryFailed(
        f"{cfg.redacted()}: {reason} (gave up after {attempt} attempts)", reason=reason
    )


def send_alert(settings: Settings, subject: str, body: str) -> bool:
    """Email a short operational alert (a failed task, a missed deadline); True if sent.

    Recipients are ``settings.alert_to`` (NEWSMON_ALERT_TO, else the digest's). Sent
    through the digest's own SMTP settings, TLS and retries; without SMTP or
    recipients nothing is sent and False comes back.
    """
    if not settings.smtp_url or not settings.alert_to:
        log.info("alert not emailed (no SMTP or no recipients): %s", subject)
        return False
    msg = EmailMessage()
    msg["Subject"] = sanitize_header(f"[newsmon] {subject}")
    msg["From"] = settings.digest_from or "newsmon@localhost"
    msg["To"] = ", ".join(settings.alert_to)
    msg.set_content(body)
    send_message(msg, parse_smtp_url(settings.smtp_url))
    log.info("alert emailed to %d recipient(s): %s", len(settings.alert_to), subject)
    return True
