"""One SMTP session under a deadline, the short reason of a failure, and a no-send probe.

smtplib bounds each socket operation by its ``timeout``, not the session: a
server that drips a byte every few seconds, or a TLS handshake that stalls,
keeps a blocking call alive indefinitely. A session opened here therefore gets
its per-operation timeout from the time left (never more than the URL's
``timeout``), and a watchdog shuts the socket down when the deadline passes,
which makes the blocked call return at once. ``newsmon doctor`` uses
:func:`probe` (connect, TLS, AUTH, NOOP, QUIT; no MAIL FROM).
"""

from __future__ import annotations

import smtplib
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from urllib.parse import parse_qs, unquote, urlsplit

from pipeline.errors import ConfigError

Clock = Callable[[], float]
#: How long after the deadline the watchdog closes a session that is still busy.
WATCHDOG_GRACE = 0.25


@dataclass(frozen=True)
class SmtpConfig:
    """Where and how to send mail, as read from NEWSMON_SMTP_URL."""

    host: str
    port: int
    username: str | None = None
    password: str | None = None
    security: str = "none"  # none | tls | starttls
    timeout: float = 30.0
    retries: int = 2
    retry_delay: float = 2.0
    cafile: str | None = None

    def redacted(self) -> str:
        """The URL without the password, fit for logs and messages (query options left out)."""
        who = f"{self.username}:***@" if self.username else ""
        scheme = "smtps" if self.security == "tls" else "smtp"
        return f"{scheme}://{who}{self.host}:{self.port}"


def parse_smtp_url(url: str) -> SmtpConfig:
    """Read smtp:// or smtps:// URLs; raises ConfigError naming the problem."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("smtp", "smtps"):
        raise ConfigError(f"SMTP URL must start with smtp:// or smtps://, got {parts.scheme!r}")
    if not parts.hostname:
        raise ConfigError("SMTP URL has no host")
    query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
    starttls = query.get("starttls", "0").lower() in ("1", "true", "yes")
    security = "tls" if parts.scheme == "smtps" else "starttls" if starttls else "none"
    try:
        port = parts.port or (465 if security == "tls" else 587 if starttls else 25)
        timeout = float(query.get("timeout", 30))
        retries = int(query.get("retries", 2))
        retry_delay = float(query.get("retry_delay", 2))
    except ValueError as exc:
        raise ConfigError(f"SMTP URL: bad number: {exc}") from exc
    if timeout <= 0 or retries < 0 or retries > 10 or retry_delay < 0:
        raise ConfigError("SMTP URL: timeout must be > 0, retries 0..10, retry_delay >= 0")
    return SmtpConfig(
        host=parts.hostname,
        port=port,
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
        security=security,
        timeout=timeout,
        retries=retries,
        retry_delay=retry_delay,
        cafile=query.get("cafile"),
    )


class BudgetExhausted(TimeoutError):
    """The digest's delivery time budget ran out during (or before) a session."""


def describe_error(exc: BaseException, timeout: float | None = None) -> str:
    """The short, human cause of an SMTP failure: "timeout ...", "535 ...", "connection refused"."""
    if isinstance(exc, BudgetExhausted):
        return str(exc)
    if isinstance(exc, smtplib.SMTPRecipientsRefused) and exc.recipients:
        code, text = next(iter(exc.recipients.values()))
        return _reply(code, text)
    if isinstance(exc, smtplib.SMTPResponseException):
        return _reply(exc.smtp_code, exc.smtp_error)
    # smtplib reports a read that timed out as "Connection unexpectedly closed"
    timed_out = isinstance(exc.__context__, TimeoutError) and isinstance(
        exc, smtplib.SMTPServerDisconnected
    )
    if isinstance(exc, TimeoutError) or timed_out:
        return "timeout: no answer" + (f" within {_seconds(timeout)}" if timeout else "")
    if isinstance(exc, smtplib.SMTPServerDisconnected):
        return "connection closed by the server"
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, ssl.SSLCertVerificationError):
        return f"TLS certificate not trusted: {exc.verify_message or exc}"
    if isinstance(exc, ssl.SSLError):
        return f"TLS failed: {exc.reason or exc}"
    if isinstance(exc, socket.gaierror):
        return f"host not found: {exc.strerror or exc}"
    if isinstance(exc, OSError):
        return exc.strerror or str(exc) or type(exc).__name__
    return " ".join(str(exc).split())[:200] or type(exc).__name__


def _seconds(value: float) -> str:
    return f"{value:.0f} s" if value >= 1 else f"{value:.1f} s"


def _reply(code: int, text: bytes | str) -> str:
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    return f"{code} {' '.join(text.split())}"[:200]


@contextmanager
def session(
    cfg: SmtpConfig,
    *,
    context: ssl.SSLContext | None = None,
    deadline: float | None = None,
    clock: Clock = time.monotonic,
) -> Iterator[smtplib.SMTP]:
    """An EHLO'd (STARTTLS'd, logged-in) SMTP session that ends by ``deadline`` at the latest.

    Raises BudgetExhausted when no time is left, smtplib/OSError otherwise; QUITs on exit.
    """
    timeout = cfg.timeout
    if deadline is not None:
        left = deadline - clock()
        if left <= 0:
            raise BudgetExhausted("timeout: the delivery time budget was used up before this try")
        timeout = min(timeout, left)
    ctx = context or ssl.create_default_context(cafile=cfg.cafile)
    smtp: smtplib.SMTP = (
        smtplib.SMTP_SSL(timeout=timeout, context=ctx)
        if cfg.security == "tls"
        else smtplib.SMTP(timeout=timeout)
    )
    # connect() after construction, so that the watchdog also covers the greeting and
    # the smtps handshake; smtplib takes the TLS server name from _host, which only its
    # constructor sets when it connects itself
    smtp._host = cfg.host  # type: ignore[attr-defined]
    # a hair after the socket timeout: a server that is merely silent gets the plainer
    # "no answer within N s"; the watchdog is for one that keeps a call alive byte by byte
    guard = _Watchdog(smtp, timeout + WATCHDOG_GRACE) if deadline is not None else None
    try:
        try:
            smtp.connect(cfg.host, cfg.port)
            smtp.ehlo()
            if cfg.security == "starttls":
                smtp.starttls(context=ctx)
                smtp.ehlo()
            if cfg.username:
                smtp.login(cfg.username, cfg.password or "")
            yield smtp
        except (smtplib.SMTPException, OSError) as exc:
            if guard is not None and guard.fired:
                raise BudgetExhausted("timeout: the delivery time budget ran out") from exc
            raise
        with suppress(smtplib.SMTPException, OSError):
            smtp.quit()
    finally:
        if guard is not None:
            guard.cancel()
        smtp.close()


class _Watchdog:
    """Shuts the session's socket down after ``seconds``, unblocking any pending call."""

    def __init__(self, smtp: smtplib.SMTP, seconds: float) -> None:
        self.fired = False
        self._smtp = smtp
        self._timer = threading.Timer(seconds, self._fire)
        self._timer.daemon = True
        self._timer.start()

    def _fire(self) -> None:
        self.fired = True
        sock = getattr(self._smtp, "sock", None)
        if sock is not None:
            with suppress(OSError):  # already closed
                sock.shutdown(socket.SHUT_RDWR)

    def cancel(self) -> None:
        self._timer.cancel()


def probe(cfg: SmtpConfig, *, context: ssl.SSLContext | None = None) -> str:
    """Connect, TLS and AUTH as configured, NOOP, QUIT; never sends. Returns what was checked.

    Raises smtplib/OSError (see :func:`describe_error`) on the first failing step.
    """
    with session(cfg, context=context, deadline=time.monotonic() + cfg.timeout) as smtp:
        code, text = smtp.noop()
        if code != 250:
            raise smtplib.SMTPResponseException(code, text)
        offered = smtp.esmtp_features.get("auth", "").split()
    steps = [{"tls": "TLS", "starttls": "STARTTLS", "none": "no TLS"}[cfg.security]]
    if cfg.username:
        steps.append(f"logged in as {cfg.username}")
    elif offered:
        steps.append("no login configured (server offers AUTH " + " ".join(offered) + ")")
    else:
        steps.append("no login")
    return ", ".join(steps)
